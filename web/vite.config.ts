import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { feature, mesh } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';

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
      const files = Object.keys(ctx.bundle ?? {});
      const chunk = files.find((f) => /assets\/countries-10m-[^/]+\.js$/.test(f));
      // The start-up basemap's GeoJSON (basemapGeojson below), fetched beside the app's code:
      // MapLibre's worker then finds it in the HTTP cache (hashed assets are cached a year).
      const geojson = files.filter((f) => /assets\/(land|borders)-50m-[^/]+\.json$/.test(f));
      return [
        ...geojson.map((f) => ({
          tag: 'link',
          attrs: { rel: 'preload', as: 'fetch', crossorigin: true, href: `/${f}` },
          injectTo: 'head' as const,
        })),
        ...(chunk ? [{ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${chunk}` }, injectTo: 'head' as const }] : []),
      ];
    },
  };
}

/** Coordinates to 4 decimals (~10 m, finer than 1:50m draws): a third of the bytes. */
function rounded(geojson: unknown): string {
  return JSON.stringify(geojson, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v));
}

/**
 * The start-up basemap (Natural Earth 1:50m land and borders) as GeoJSON files made at build
 * time, `virtual:basemap` exporting their URLs. MapLibre's worker fetches and parses them: given
 * the GeoJSON as objects instead, the page's main thread converted the TopoJSON and then walked
 * every coordinate to post them to the worker, ~200 ms of the first second (bench/web_map.py).
 */
function basemapGeojson(): Plugin {
  const id = 'virtual:basemap';
  const files = (): Record<string, string> => {
    const path = createRequire(import.meta.url).resolve('world-atlas/countries-50m.json');
    const topo = JSON.parse(readFileSync(path, 'utf8')) as Topology<{ countries: GeometryCollection; land: GeometryCollection }>;
    return {
      'land-50m.json': rounded(feature(topo, topo.objects.land)),
      'borders-50m.json': rounded(mesh(topo, topo.objects.countries, (a, b) => a !== b)),
    };
  };
  let served: Record<string, string> | null = null;
  let build = false;
  return {
    name: 'kizuna-basemap-geojson',
    configResolved(config) {
      build = config.command === 'build';
    },
    resolveId: (source) => (source === id ? `\0${id}` : undefined),
    load(loaded) {
      if (loaded !== `\0${id}`) return undefined;
      const out = files();
      if (!build) {
        served = out;
        return `export const LAND_URL = '/@basemap/land-50m.json';\nexport const BORDERS_URL = '/@basemap/borders-50m.json';\n`;
      }
      const ref = (name: string) => this.emitFile({ type: 'asset', name, source: out[name] });
      return (
        `export const LAND_URL = import.meta.ROLLUP_FILE_URL_${ref('land-50m.json')};\n` +
        `export const BORDERS_URL = import.meta.ROLLUP_FILE_URL_${ref('borders-50m.json')};\n`
      );
    },
    configureServer(server) {
      server.middlewares.use('/@basemap/', (req, res, next) => {
        const body = served?.[(req.url ?? '').replace(/^\//, '')];
        if (!body) return next();
        res.setHeader('Content-Type', 'application/json');
        res.end(body);
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), preloadBasemap(), basemapGeojson()],
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
