// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The house's arrows (see server/src/README.md), as `no-restricted-imports` zones: one
 * config block per folder, since a later block replaces an earlier block's options for the
 * same rule. Patterns match import specifiers; a folder name matches as a path segment.
 */
function layerRules() {
  const seg = (/** @type {string[]} */ names) => names.map((n) => `**/${n}/**`);
  const roots = ['**/app.ts', '**/main.ts', '**/worker.ts'];
  const features = ['install', 'card', 'settings', 'webhooks', 'workflow', 'decision'];
  const wiring = ['../adapter.ts', '../plugin.ts', '../jobs.ts'];
  const hubspotLayers = {
    base: ['client', 'outbox', 'legal-review'],
    client: ['outbox', 'legal-review'],
    outbox: ['legal-review'],
  };
  /** @param {string[]} files @param {string[]} forbidden @param {string} why */
  const zone = (files, forbidden, why) => ({
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message: why }] }],
    },
  });
  const hubspotOutside = [...seg(['web', 'api', 'health', 'cli', 'sandbox']), ...roots];
  return [
    zone(
      ['server/src/platform/**/*.ts'],
      [
        ...seg(['core', 'crm', 'web', 'api', 'health', 'hubspot', 'cli', 'sandbox']),
        ...roots,
        '@hubspot/*',
      ],
      'platform imports no feature (server/src/README.md).',
    ),
    zone(
      ['server/src/core/**/*.ts'],
      [
        ...seg(['crm', 'web', 'api', 'health', 'hubspot', 'cli', 'sandbox']),
        ...roots,
        '@hubspot/*',
      ],
      'core imports only platform, and knows no CRM (server/src/README.md).',
    ),
    zone(
      ['server/src/crm/**/*.ts'],
      [...seg(['web', 'api', 'health', 'hubspot', 'cli', 'sandbox']), ...roots, '@hubspot/*'],
      'the CRM port imports only core and platform (server/src/README.md).',
    ),
    zone(
      ['server/src/web/**/*.ts', 'server/src/api/**/*.ts', 'server/src/health/**/*.ts'],
      [...seg(['hubspot', 'cli', 'sandbox']), ...roots, '@hubspot/*'],
      'web, api and health ask the CRM registry and never import an adapter (server/src/README.md).',
    ),
    zone(
      ['server/src/cli/**/*.ts'],
      [...seg(['hubspot', 'web', 'api', 'sandbox']), ...roots],
      'the admin CLI works on core and platform (server/src/README.md).',
    ),
    zone(
      ['server/src/hubspot/*.ts'],
      hubspotOutside,
      'the HubSpot adapter never imports web, api, the roots or the sandbox.',
    ),
    zone(
      ['server/src/hubspot/{wire,signature,inbound}/**/*.ts'],
      [
        ...hubspotOutside,
        ...seg(hubspotLayers.base),
        ...features.map((f) => `../${f}/**`),
        ...wiring,
      ],
      'HubSpot layer 0 (wire, signature, inbound) imports nothing above it.',
    ),
    zone(
      ['server/src/hubspot/mapping/**/*.ts'],
      [
        ...hubspotOutside,
        ...seg(hubspotLayers.base),
        ...features.map((f) => `../${f}/**`),
        ...wiring,
      ],
      'the field mapping is pure logic over layer 0 and core: no HTTP, no database, no feature.',
    ),
    zone(
      ['server/src/hubspot/client/**/*.ts'],
      [
        ...hubspotOutside,
        ...seg(hubspotLayers.client),
        ...features.map((f) => `../${f}/**`),
        ...wiring,
      ],
      'the HubSpot client (layer 1) imports only layer 0.',
    ),
    zone(
      ['server/src/hubspot/outbox/**/*.ts'],
      [
        ...hubspotOutside,
        ...seg(hubspotLayers.outbox),
        ...features.map((f) => `../${f}/**`),
        ...wiring,
      ],
      'the HubSpot outbox (layer 2) imports only the client and layer 0.',
    ),
    zone(
      ['server/src/hubspot/legal-review/**/*.ts'],
      [...hubspotOutside, ...features.map((f) => `../${f}/**`), ...wiring],
      'legal-review is the use case the features share: it imports no feature.',
    ),
    ...features.map((feature) =>
      zone(
        [`server/src/hubspot/${feature}/**/*.ts`],
        [
          ...hubspotOutside,
          ...features.filter((f) => f !== feature).map((f) => `../${f}/**`),
          ...wiring,
        ],
        'HubSpot features import only the layers below and legal-review/: never each other, web, api, the roots or the sandbox.',
      ),
    ),
    zone(
      ['sandbox/**/*.ts'],
      ['**/server/**'],
      'the sandbox is an independent witness: it imports nothing from server/.',
    ),
  ];
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.data/**',
      '.test-artifacts/**',
      'bench-results/**',
      'hubspot-app/**/node_modules/**',
      // Static browser scripts served to the pages (plain JS, no build).
      'server/src/web/public/**',
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
  ...layerRules(),
  {
    // Plain JavaScript outside the TypeScript project (node-check.mjs runs on any Node).
    files: ['eslint.config.js', 'scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
