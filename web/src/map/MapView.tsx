import { useEffect, useLayoutEffect, useRef } from 'react';
import { Map as MLMap, Marker, setWorkerUrl, type GeoJSONSource } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import type { FeatureCollection, Point, LineString } from 'geojson';
import { addBasemap, addDetailedBasemap, DETAIL_ZOOM, seaStyle } from './basemap';
import { addPmtilesOverlay } from './pmtiles';
import { TrackOverlay } from './trackOverlay';
import type { Bbox, LiveStore } from '../live';
import type { Facility, HistoryPoint, Labelled } from '../types';
import type { Lang } from '../i18n';

setWorkerUrl(workerUrl);

/** Longest wait for the first picture before the land is added anyway (ADR 0024). */
const SETTLE_MS = 3000;

/** Counters read by the performance test (window.__kizuna.mapStats). */
export const mapStats = {
  pushes: 0,
  lastPushCount: 0,
  lastPushMs: 0,
  renderedCount: 0,
  renderedAt: 0,
  lastLatencyMs: 0,
  createdAt: 0,
  /** When the land and borders were first drawn (the first 'idle' after they were added). */
  loadedAt: 0,
  /** Last draws of the track overlay: [performance.now() drawn, tracks, change-to-draw latency ms]. */
  log: [] as [number, number, number][],
  /** Each draw that showed more tracks than any before: [performance.now() drawn, tracks]. */
  peaks: [] as [number, number][],
};

interface Props {
  store: LiveStore;
  facilities: Facility[];
  lang: Lang;
  visible: boolean;
  selectedId: string | null;
  history: HistoryPoint[];
  pmtilesUrl: string | null;
  onSelect: (id: string | null) => void;
  /** Everything labelled that is on screen now (tracks and facilities in view). */
  onScreenItems: (items: Labelled[]) => void;
  /** The map once its style has loaded (null when it is removed): overlays such as MDA draw on it. */
  onMapReady?: (map: MLMap | null) => void;
}

function inBounds(lon: number, lat: number, b: Bbox): boolean {
  return lat >= b[1] && lat <= b[3] && (b[0] <= b[2] ? lon >= b[0] && lon <= b[2] : lon >= b[0] || lon <= b[2]);
}

function viewBbox(map: MLMap, pad = 0): Bbox {
  const b = map.getBounds();
  const w = b.getWest();
  const e = b.getEast();
  const s = b.getSouth();
  const n = b.getNorth();
  const dx = (e - w) * pad;
  const dy = (n - s) * pad;
  const clampLon = (x: number) => Math.max(-180, Math.min(180, x));
  const clampLat = (y: number) => Math.max(-90, Math.min(90, y));
  if (e - w + 2 * dx >= 360) return [-180, clampLat(s - dy), 180, clampLat(n + dy)];
  return [clampLon(w - dx), clampLat(s - dy), clampLon(e + dx), clampLat(n + dy)];
}

/** Hide facility labels that would overlap one already shown (greedy, in list order). */
function declutterLabels(map: MLMap, markers: Marker[]): void {
  const placed: { x0: number; y0: number; x1: number; y1: number }[] = [];
  for (const m of markers) {
    const el = m.getElement();
    const p = map.project(m.getLngLat());
    const w = el.offsetWidth || 80;
    const box = { x0: p.x + 6, y0: p.y - 8, x1: p.x + 10 + w, y1: p.y + 8 };
    const hit = placed.some((b) => box.x0 < b.x1 && box.x1 > b.x0 && box.y0 < b.y1 && box.y1 > b.y0);
    el.style.visibility = hit ? 'hidden' : 'visible';
    if (!hit) placed.push(box);
  }
}

export function MapView(props: Props) {
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<MLMap | null>(null);
  const propsRef = useRef(props);
  propsRef.current = props;
  const facilityMarkers = useRef<Marker[]>([]);
  const selectedMarker = useRef<Marker | null>(null);
  const loaded = useRef(false);
  const overlayRef = useRef<TrackOverlay | null>(null);
  /** Work that waits for the map to be ready (its land, trail and facility layers). */
  const whenLoaded = useRef<(() => void)[]>([]);
  const onceLoaded = (apply: () => void) => {
    if (loaded.current) apply();
    else whenLoaded.current.push(apply);
  };

  // Create the map once; a layout effect, so that the view's subscription is known before the
  // workspace (a parent: its layout effects run after this one) opens the live socket.
  useLayoutEffect(() => {
    const { store } = propsRef.current;
    mapStats.createdAt = performance.now();
    const map = new MLMap({
      container: container.current!,
      // The sea only: the land is added once the first picture is drawn (ready(), below).
      style: seaStyle(),
      center: [136, 34],
      zoom: 4.2,
      attributionControl: false,
      maxPitch: 0,
      dragRotate: false,
      renderWorldCopies: false,
      fadeDuration: 0,
    });
    mapRef.current = map;
    map.touchZoomRotate.disableRotation();
    // The track overlay projects without bearing or pitch (trackOverlay.ts).
    map.keyboard.disableRotation();
    const onDrawn = () => {
      const st = overlay.stats;
      mapStats.pushes = st.draws;
      mapStats.lastPushCount = st.drawnTracks;
      mapStats.lastPushMs = st.drawMs;
      mapStats.renderedCount = st.drawnTracks;
      mapStats.renderedAt = st.drawnAt;
      mapStats.lastLatencyMs = st.latencyMs;
      mapStats.log.push([Math.round(st.drawnAt), st.drawnTracks, Math.round(st.latencyMs)]);
      if (mapStats.log.length > 30) mapStats.log.shift();
      const peak = mapStats.peaks[mapStats.peaks.length - 1]?.[1] ?? 0;
      if (st.drawnTracks > peak && mapStats.peaks.length < 100) mapStats.peaks.push([st.drawnAt, st.drawnTracks]);
      const sel = propsRef.current.selectedId;
      if (sel && selectedMarker.current) {
        const t = store.tracks.get(sel);
        if (t) selectedMarker.current.setLngLat([t.lon, t.lat]);
      }
      if (st.drawnTracks > 0 || store.stats.snapshotAt) settle();
    };
    // Tracks are drawn as soon as they arrive, while the basemap's style, tiles and shaders
    // still load (with software WebGL the first full map frame comes 1-2 s after navigation).
    const overlay = new TrackOverlay(map, store, (id) => propsRef.current.onSelect(id));
    overlay.onDraw = onDrawn;
    overlayRef.current = overlay;
    // Subscribe for the initial view right away: the snapshot then arrives while the
    // style and its workers are still loading, instead of after them.
    let subscribed: Bbox | null = viewBbox(map, 0.25);
    store.subscribe(subscribed);

    let screenTimer: ReturnType<typeof setTimeout> | null = null;
    const reportScreen = () => {
      screenTimer = null;
      if (!loaded.current) return;
      const b = viewBbox(map);
      const items: Labelled[] = [];
      for (const t of store.tracks.values()) if (inBounds(t.lon, t.lat, b)) items.push(t);
      for (const f of propsRef.current.facilities) if (inBounds(f.lon, f.lat, b)) items.push(f);
      propsRef.current.onScreenItems(items);
    };
    const scheduleScreen = (delay = 500) => {
      if (!screenTimer) screenTimer = setTimeout(reportScreen, delay);
    };
    const offTracks = store.onTracks(() => scheduleScreen(1000));

    // With software WebGL, tiling the land competes for both CPUs with the first picture's
    // snapshot (socket, decode, draw): the map starts with the sea alone and adds the land
    // once the tracks are drawn, or after SETTLE_MS (ADR 0024).
    let styleLoaded = false;
    let settled = false;
    const ready = () => {
      if (loaded.current || !styleLoaded || !settled) return;
      addBasemap(map);
      map.addSource('trail', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
      map.addSource('facilities', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
      map.addLayer({
        id: 'trail-line',
        type: 'line',
        source: 'trail',
        paint: { 'line-color': '#ffd84d', 'line-width': 2, 'line-dasharray': [2, 1] },
      });
      map.addLayer({
        id: 'facilities-circle',
        type: 'circle',
        source: 'facilities',
        paint: {
          'circle-radius': 5,
          'circle-color': '#f5f5f5',
          'circle-stroke-color': '#1d2b36',
          'circle-stroke-width': 2,
        },
      });
      loaded.current = true;
      map.once('idle', () => (mapStats.loadedAt = performance.now()));
      // Warm the 1:10m chunk in the background so zooming in finds it ready.
      setTimeout(() => void import('world-atlas/countries-10m.json').catch(() => undefined), 5000);
      const pm = propsRef.current.pmtilesUrl;
      if (pm) void addPmtilesOverlay(map, pm);
      scheduleScreen(0);
      propsRef.current.onMapReady?.(map);
      for (const apply of whenLoaded.current.splice(0)) apply();
      onViewChanged();
    };
    function settle() {
      if (settled) return;
      settled = true;
      clearTimeout(settleTimer);
      ready();
    }
    const settleTimer = setTimeout(settle, SETTLE_MS);
    map.once('load', () => {
      styleLoaded = true;
      ready();
    });

    const onViewChanged = () => {
      declutterLabels(map, facilityMarkers.current);
      if (loaded.current && map.getZoom() >= DETAIL_ZOOM - 0.5) void addDetailedBasemap(map, 'trail-line').catch((e: unknown) => console.warn('1:10m basemap unavailable', e));
      // Each subscribe costs a full snapshot: re-subscribe only when the view has left the
      // subscribed (padded) box, or the box is far larger than the view (zoomed well in).
      const v = viewBbox(map);
      const area = (b: Bbox) => Math.max(1e-9, (b[2] - b[0]) * (b[3] - b[1]));
      const inside = subscribed && v[0] >= subscribed[0] && v[1] >= subscribed[1] && v[2] <= subscribed[2] && v[3] <= subscribed[3];
      if (!inside || area(subscribed!) > 16 * area(v)) {
        subscribed = viewBbox(map, 0.25);
        store.subscribe(subscribed);
      }
      scheduleScreen(100);
    };
    map.on('moveend', onViewChanged);

    const pruneTimer = setInterval(() => store.pruneStale(), 15_000);

    (window as unknown as { __kizuna?: object }).__kizuna = {
      ...((window as unknown as { __kizuna?: object }).__kizuna ?? {}),
      map,
      mapStats,
    };

    return () => {
      overlay.remove();
      overlayRef.current = null;
      clearInterval(pruneTimer);
      clearTimeout(settleTimer);
      if (screenTimer) clearTimeout(screenTimer);
      offTracks();
      propsRef.current.onMapReady?.(null);
      map.remove();
      mapRef.current = null;
      loaded.current = false;
    };
  }, []);

  // Resize when the map tab becomes visible again.
  useEffect(() => {
    if (props.visible) mapRef.current?.resize();
  }, [props.visible]);

  // Facilities: points in a GeoJSON layer, names as DOM labels in the current language.
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const apply = () => {
      const fc: FeatureCollection<Point> = {
        type: 'FeatureCollection',
        features: props.facilities.map((f) => ({
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [f.lon, f.lat] },
          properties: { id: f.id },
        })),
      };
      (map.getSource('facilities') as GeoJSONSource | undefined)?.setData(fc);
      facilityMarkers.current.forEach((m) => m.remove());
      facilityMarkers.current = props.facilities.map((f) => {
        const el = document.createElement('div');
        el.className = 'facility-label';
        el.dataset.facility = f.id;
        el.textContent = props.lang === 'ja' ? f.name.ja || f.name.en : f.name.en || f.name.ja;
        el.title = `${f.name.en} / ${f.name.ja} — ${props.lang === 'ja' ? f.label_ja : f.label}`;
        return new Marker({ element: el, anchor: 'left', offset: [8, 0] }).setLngLat([f.lon, f.lat]).addTo(map);
      });
      declutterLabels(map, facilityMarkers.current);
    };
    onceLoaded(apply);
  }, [props.facilities, props.lang]);

  // Selected track: highlight ring and a DOM callsign label.
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const apply = () => {
      const id = props.selectedId ?? '';
      overlayRef.current?.setSelected(id || null);
      selectedMarker.current?.remove();
      selectedMarker.current = null;
      const t = id ? props.store.tracks.get(id) : undefined;
      if (t) {
        const el = document.createElement('div');
        el.className = 'track-callout';
        el.textContent = t.callsign || t.name || t.id;
        selectedMarker.current = new Marker({ element: el, anchor: 'bottom', offset: [0, -18] })
          .setLngLat([t.lon, t.lat])
          .addTo(map);
      }
    };
    onceLoaded(apply);
  }, [props.selectedId, props.store]);

  // History trail of the selected track.
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const apply = () => {
      const coords = props.history.map((p) => [p.lon, p.lat]);
      const fc: FeatureCollection<LineString> = {
        type: 'FeatureCollection',
        features:
          coords.length >= 2
            ? [{ type: 'Feature', geometry: { type: 'LineString', coordinates: coords }, properties: {} }]
            : [],
      };
      (map.getSource('trail') as GeoJSONSource | undefined)?.setData(fc);
    };
    onceLoaded(apply);
  }, [props.history]);

  return <div ref={container} className="map" data-testid="map" />;
}
