import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The node serves web/dist at "/"; during development `npm run dev` proxies the API
// to a node given by KIZUNA_URL (default http://127.0.0.1:8080).
const target = process.env.KIZUNA_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 4000,
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': { target, ws: true, changeOrigin: false },
    },
  },
});
