import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// The node serves web/dist at "/"; during development `npm run dev` proxies the API
// to a node given by KIZUNA_URL (default http://127.0.0.1:8080).
const target = process.env.KIZUNA_URL ?? 'http://127.0.0.1:8080';

// The detailed basemap is a dynamic import (the app starts on a coarse one); ask the
// browser to fetch it at once, beside the app's own chunks, rather than after they run.
function preloadBasemap(): Plugin {
  return {
    name: 'kizuna-preload-basemap',
    apply: 'build',
    transformIndexHtml(_html, ctx) {
      const chunk = Object.keys(ctx.bundle ?? {}).find((f) => /assets\/countries-10m-[^/]+\.js$/.test(f));
      return chunk
        ? [{ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${chunk}` }, injectTo: 'head' }]
        : [];
    },
  };
}

export default defineConfig({
  plugins: [react(), preloadBasemap()],
  base: '/',
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 4000,
    sourcemap: false,
    // The map library, the symbol library and React in chunks of their own: the browser
    // fetches them (and the basemap, a dynamic import) in parallel, and a change to the
    // app's own code leaves their cached copies valid.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'maplibre', test: /[\\/]node_modules[\\/](maplibre-gl|pmtiles)[\\/]/, priority: 3 },
            { name: 'milsymbol', test: /[\\/]node_modules[\\/]milsymbol[\\/]/, priority: 2 },
            { name: 'react', test: /[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target, ws: true, changeOrigin: false },
    },
  },
});
