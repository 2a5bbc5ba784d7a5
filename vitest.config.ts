import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Promise.withResolvers for libp2p on Node 20 (no-op on Node 22+).
    setupFiles: ['packages/p2p/src/polyfill.ts'],
  },
});
