import { defineConfig } from 'vitest/config';

/**
 * Tests that time real consensus under attack run alone, after the rest (`npm test` ends with
 * `npm run test:alone`): sharing 2 cores with the other suites' node processes made their liveness
 * bounds meaningless. `ROAMCHAIN_TEST_ALONE=1` selects them; without it they are left out.
 */
const ALONE = ['packages/node/test/byzantine.test.ts'];
const alone = process.env.ROAMCHAIN_TEST_ALONE === '1';

export default defineConfig({
  test: {
    include: alone ? ALONE : ['packages/*/test/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: alone ? [] : [...ALONE, '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Promise.withResolvers for libp2p on Node 20 (no-op on Node 22+).
    setupFiles: ['packages/p2p/src/polyfill.ts'],
  },
});
