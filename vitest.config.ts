import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Tests run from the TypeScript sources: workspace imports (`@roamchain/*`) resolve through the
 * "@roamchain/source" export condition, here and in every process a test starts (`node --import tsx …`
 * inherits NODE_OPTIONS), without `npm run build`.
 */
const SOURCE = '@roamchain/source';
if (!(process.env.NODE_OPTIONS ?? '').includes(`--conditions=${SOURCE}`)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=${SOURCE}`.trim();
}

/**
 * Tests that time real consensus under attack run alone, after the rest (`npm test` ends with
 * `npm run test:alone`): sharing 2 cores with the other suites' node processes made their liveness
 * bounds meaningless. `ROAMCHAIN_TEST_ALONE=1` selects them; without it they are left out.
 */
const ALONE = ['packages/node/test/byzantine.test.ts'];
const alone = process.env.ROAMCHAIN_TEST_ALONE === '1';

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions] } },
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
