// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.data/**',
      '.test-artifacts/**',
      'bench-results/**',
      'hubspot-app/**/node_modules/**',
      // The UI extension folders' own ESLint configs (HubSpot's template, run by `hs project lint`).
      'hubspot-app/**/eslint.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Fastify plugins and handlers are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Server code logs through Fastify's pino logger, never the console.
    files: ['server/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The contract domain stays free of HubSpot: it must work for any CRM source.
    files: ['server/src/core/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/hubspot/**', '**/sandbox/**', '@hubspot/*'] },
      ],
    },
  },
  {
    // Plain JavaScript outside the TypeScript project (node-check.mjs runs on any Node).
    files: ['eslint.config.js', 'scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
