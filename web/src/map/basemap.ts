/**
 * Offline basemap: Natural Earth countries (world-atlas, 1:50m) served with the app as GeoJSON
 * files made at build time (vite.config.ts), 1:10m loaded on demand.
 * No tile server, no glyphs, no sprite: every label is drawn in the DOM or as an image.
 */
import type { LayerSpecification, Map as MLMap, SourceSpecification, StyleSpecification } from 'maplibre-gl';
import { feature, mesh } from 'topojson-client';
import type { Topology, GeometryCollection } from 'topojson-specification';
import { BORDERS_URL, LAND_URL } from 'virtual:basemap';

// URLs, not objects: MapLibre's worker fetches and parses them, off the page's main thread.
// Land and borders keep a source each: each source is tiled by a worker of its own (ADR 0023).
const LAND_SOURCES: Record<string, SourceSpecification> = {
  land: { type: 'geojson', data: LAND_URL, maxzoom: 8 },
  borders: { type: 'geojson', data: BORDERS_URL, maxzoom: 8 },
};

const SEA_LAYER: LayerSpecification = { id: 'sea', type: 'background', paint: { 'background-color': '#0e2233' } };

const LAND_LAYERS: LayerSpecification[] = [
  // The fill's outline draws the coastline: one source fewer for the workers to tile.
  { id: 'land', type: 'fill', source: 'land', paint: { 'fill-color': '#2a3a33', 'fill-outline-color': '#4f6b5d' } },
  {
    id: 'borders',
    type: 'line',
    source: 'borders',
    paint: { 'line-color': '#8aa397', 'line-width': 0.7, 'line-dasharray': [3, 2] },
  },
];

/** The whole offline basemap in one style: sea, land and borders. */
export function basemapStyle(): StyleSpecification {
  return { version: 8, name: 'kizuna-offline', sources: { ...LAND_SOURCES }, layers: [SEA_LAYER, ...LAND_LAYERS] };
}

/**
 * The sea alone: a style that loads at once, so the first picture spends the start-up
 * CPU on the tracks; `addBasemap` adds the land once they are drawn (ADR 0024).
 */
export function seaStyle(): StyleSpecification {
  return { version: 8, name: 'kizuna-offline', sources: {}, layers: [SEA_LAYER] };
}

/** Add the land and borders of `basemapStyle` to a map started with `seaStyle` (once). */
export function addBasemap(map: MLMap): void {
  for (const [id, source] of Object.entries(LAND_SOURCES)) map.addSource(id, source);
  for (const layer of LAND_LAYERS) map.addLayer(layer);
}

/** Zoom from which the 1:10m coastline and borders replace the 1:50m ones. */
export const DETAIL_ZOOM = 5.5;

/**
 * Natural Earth 1:10m, loaded on demand (a separate chunk served by the node) the
 * first time the user zooms in past DETAIL_ZOOM. Layers are inserted below `before`.
 */
export async function addDetailedBasemap(map: MLMap, before?: string): Promise<void> {
  if (map.getSource('land10')) return;
  const mod = (await import('world-atlas/countries-10m.json')) as unknown as { default: unknown };
  if (map.getSource('land10')) return;
  const topo = mod.default as Topology<{ countries: GeometryCollection; land: GeometryCollection }>;
  map.addSource('land10', { type: 'geojson', data: feature(topo, topo.objects.land) });
  map.addSource('borders10', { type: 'geojson', data: mesh(topo, topo.objects.countries, (a, b) => a !== b) });
  map.addLayer(
    {
      id: 'land10',
      type: 'fill',
      source: 'land10',
      minzoom: DETAIL_ZOOM,
      paint: { 'fill-color': '#2a3a33', 'fill-outline-color': '#4f6b5d' },
    },
    before,
  );
  map.addLayer(
    {
      id: 'borders10',
      type: 'line',
      source: 'borders10',
      minzoom: DETAIL_ZOOM,
      paint: { 'line-color': '#8aa397', 'line-width': 0.8, 'line-dasharray': [3, 2] },
    },
    before,
  );
  for (const id of ['land', 'borders']) map.setLayerZoomRange(id, 0, DETAIL_ZOOM);
}
