import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // `.tsx`: the HubSpot UI extension tests (Deal card, settings page).
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/setup/global-setup.ts'],
    // Each test file gets its own database cloned from a migrated template, so files run in
    // parallel and no test depends on another's rows or on order.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
