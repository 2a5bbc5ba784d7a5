import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

// The node serves dist/ at `/`; `npm run dev -w @roamchain/web` proxies the API of a running devnet.
export default defineConfig({
  plugins: [react()],
  base: './',
  // The SDK and protocol from their TypeScript sources (the workspace's "@roamchain/source" condition).
  resolve: { conditions: ['@roamchain/source', ...defaultClientConditions] },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/v1': { target: 'http://127.0.0.1:8080', ws: true },
      '/openapi.json': 'http://127.0.0.1:8080',
    },
  },
});
