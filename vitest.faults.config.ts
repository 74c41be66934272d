import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the fault drills under test/faults, named `*.drill.ts` so the main
 * config (which includes `*.test.ts`) leaves them out of `npm test`. SIGKILLed sync workers,
 * a Postgres restart under webhook load, HubSpot 429/5xx/hangs/outage, token expiry across
 * processes, a revoked portal, SIGTERM under load, a worker killed at each step of an import,
 * `npm start` restarted on the same data. Files run one after another: each drill
 * loads the 2-core machine on its own and asserts recovery deadlines.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.drill.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 420_000,
    hookTimeout: 120_000,
  },
});
