/**
 * The MDA layer on the main track map (MapView hands its map over once loaded): event markers
 * (one image per type, faded when retracted), the selected event's vessel track before, during
 * and after it with its evidence positions, the zones, and the polygon being drawn. Renders
 * no DOM of its own; clicks on a marker select the event, clicks on the map add a vertex while
 * drawing.
 */
import { useEffect, useRef } from 'react';
import type { GeoJSONSource, Map as MLMap, MapLayerMouseEvent, MapMouseEvent } from 'maplibre-gl';
import type { Feature, FeatureCollection } from 'geojson';
import { IMAGE_PIXEL_RATIO } from './symbols';
import { MDA_COLOURS, mdaEventImage, mdaImageId } from './mdaSymbols';
import { boundsOf, closeRing, type TrackPhases } from '../mda/format';
import { EVENT_TYPES, type MdaEvent, type Zone } from '../mda/types';

interface Props {
  map: MLMap | null;
  events: MdaEvent[];
  selectedId: string | null;
  /** The selected event's vessel tracks (one per vessel). */
  phases: TrackPhases[];
  zones: Zone[];
  draft: [number, number][] | null;
  onSelect: (id: string) => void;
  onDraftPoint: (lngLat: [number, number]) => void;
}

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };
const SOURCES = ['mda-events', 'mda-track', 'mda-zones', 'mda-draft'] as const;
export const MDA_EVENT_LAYER = 'mda-events';

function eventFeatures(events: MdaEvent[]): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: events
      .filter((e) => e.position && Number.isFinite(e.position.lat) && Number.isFinite(e.position.lon))
      .map((e) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [e.position.lon, e.position.lat] },
        properties: { id: e.id, type: e.type, status: e.status },
      })),
  };
}

function trackFeatures(tracks: TrackPhases[]): FeatureCollection {
  const features: Feature[] = [];
  for (const p of tracks) {
    for (const phase of ['before', 'during', 'after', 'bridge'] as const) {
      const coords = p[phase];
      if (coords.length >= 2) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: coords }, properties: { phase } });
    }
    for (const e of p.evidence) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [e.lon, e.lat] }, properties: { phase: 'evidence' } });
  }
  return { type: 'FeatureCollection', features };
}

function zoneFeatures(zones: Zone[]): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: zones
      .filter((z) => Array.isArray(z.polygon) && z.polygon.length >= 3)
      .map((z) => ({
        type: 'Feature',
        geometry: { type: 'Polygon', coordinates: [closeRing(z.polygon.map(([lat, lon]) => [lon, lat] as [number, number]))] },
        properties: { id: z.id },
      })),
  };
}

function draftFeatures(d: [number, number][] | null): FeatureCollection {
  if (!d || !d.length) return EMPTY;
  const features: Feature[] = d.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
  if (d.length >= 2) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: d.length >= 3 ? closeRing(d) : d }, properties: {} });
  return { type: 'FeatureCollection', features };
}

function setData(map: MLMap, id: (typeof SOURCES)[number], fc: FeatureCollection): void {
  (map.getSource(id) as GeoJSONSource | undefined)?.setData(fc);
}

export function MdaOverlay(props: Props) {
  const propsRef = useRef(props);
  propsRef.current = props;
  const { map } = props;
  const ready = useRef<MLMap | null>(null);

  // Sources, layers, images and handlers, once per map.
  useEffect(() => {
    if (!map) return;
    for (const t of EVENT_TYPES) if (!map.hasImage(mdaImageId(t))) map.addImage(mdaImageId(t), mdaEventImage(t), { pixelRatio: IMAGE_PIXEL_RATIO });
    for (const s of SOURCES) if (!map.getSource(s)) map.addSource(s, { type: 'geojson', data: EMPTY });
    const phaseColour = ['match', ['get', 'phase'], 'before', '#8fb8de', 'during', '#ff5a4e', 'after', '#7ddc84', 'bridge', '#ff5a4e', '#ffffff'];
    map.addLayer({ id: 'mda-zones-fill', type: 'fill', source: 'mda-zones', paint: { 'fill-color': MDA_COLOURS.zone, 'fill-opacity': 0.12 } });
    map.addLayer({ id: 'mda-zones-line', type: 'line', source: 'mda-zones', paint: { 'line-color': MDA_COLOURS.zone, 'line-width': 1.5 } });
    map.addLayer({
      id: 'mda-draft-line',
      type: 'line',
      source: 'mda-draft',
      filter: ['==', ['geometry-type'], 'LineString'],
      paint: { 'line-color': '#ffffff', 'line-width': 2, 'line-dasharray': [2, 2] },
    });
    map.addLayer({
      id: 'mda-draft-points',
      type: 'circle',
      source: 'mda-draft',
      filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 4, 'circle-color': '#ffffff', 'circle-stroke-color': MDA_COLOURS.zone, 'circle-stroke-width': 2 },
    });
    map.addLayer({
      id: 'mda-track-line',
      type: 'line',
      source: 'mda-track',
      filter: ['all', ['==', ['geometry-type'], 'LineString'], ['!=', ['get', 'phase'], 'bridge']],
      paint: { 'line-color': phaseColour as unknown as string, 'line-width': 3 },
    });
    map.addLayer({
      id: 'mda-track-bridge',
      type: 'line',
      source: 'mda-track',
      filter: ['==', ['get', 'phase'], 'bridge'],
      paint: { 'line-color': phaseColour as unknown as string, 'line-width': 2.5, 'line-dasharray': [1.5, 1.5] },
    });
    map.addLayer({
      id: 'mda-track-evidence',
      type: 'circle',
      source: 'mda-track',
      filter: ['==', ['get', 'phase'], 'evidence'],
      paint: { 'circle-radius': 4.5, 'circle-color': '#ffffff', 'circle-stroke-color': '#ff5a4e', 'circle-stroke-width': 2 },
    });
    map.addLayer({
      id: 'mda-events-selected',
      type: 'circle',
      source: 'mda-events',
      filter: ['==', ['get', 'id'], ''],
      paint: { 'circle-radius': 18, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2.5 },
    });
    map.addLayer({
      id: MDA_EVENT_LAYER,
      type: 'symbol',
      source: 'mda-events',
      layout: {
        'icon-image': ['concat', 'mda-', ['get', 'type']],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
      },
      paint: { 'icon-opacity': ['case', ['==', ['get', 'status'], 'retracted'], 0.35, 1] },
    });
    const onEvent = (e: MapLayerMouseEvent) => {
      if (propsRef.current.draft) return;
      const id = e.features?.[0]?.properties?.id;
      if (id) propsRef.current.onSelect(String(id));
    };
    const onClick = (e: MapMouseEvent) => {
      if (propsRef.current.draft) propsRef.current.onDraftPoint([e.lngLat.lng, e.lngLat.lat]);
    };
    const enter = () => (map.getCanvas().style.cursor = 'pointer');
    const leave = () => (map.getCanvas().style.cursor = propsRef.current.draft ? 'crosshair' : '');
    map.on('click', MDA_EVENT_LAYER, onEvent);
    map.on('click', onClick);
    map.on('mouseenter', MDA_EVENT_LAYER, enter);
    map.on('mouseleave', MDA_EVENT_LAYER, leave);
    ready.current = map;
    apply();
    return () => {
      map.off('click', MDA_EVENT_LAYER, onEvent);
      map.off('click', onClick);
      map.off('mouseenter', MDA_EVENT_LAYER, enter);
      map.off('mouseleave', MDA_EVENT_LAYER, leave);
      ready.current = null;
      // The map may already be gone (MapView unmounted first).
      try {
        for (const l of ['mda-zones-fill', 'mda-zones-line', 'mda-draft-line', 'mda-draft-points', 'mda-track-line', 'mda-track-bridge', 'mda-track-evidence', 'mda-events-selected', MDA_EVENT_LAYER])
          if (map.getLayer(l)) map.removeLayer(l);
        for (const s of SOURCES) if (map.getSource(s)) map.removeSource(s);
      } catch {
        // removed with its map
      }
    };
  }, [map]);

  function apply(): void {
    const m = ready.current;
    if (!m) return;
    const p = propsRef.current;
    setData(m, 'mda-events', eventFeatures(p.events));
    setData(m, 'mda-track', trackFeatures(p.phases));
    setData(m, 'mda-zones', zoneFeatures(p.zones));
    setData(m, 'mda-draft', draftFeatures(p.draft));
    m.setFilter('mda-events-selected', ['==', ['get', 'id'], p.selectedId ?? '']);
    m.getCanvas().style.cursor = p.draft ? 'crosshair' : '';
  }

  useEffect(apply, [props.events, props.phases, props.zones, props.draft, props.selectedId, map]);

  // Bring the selected event (and its track) into view.
  const fitted = useRef<string | null>(null);
  useEffect(() => {
    const m = ready.current;
    if (!m || !props.selectedId) {
      fitted.current = null;
      return;
    }
    const ev = props.events.find((e) => e.id === props.selectedId);
    const pts: [number, number][] = [];
    if (ev?.position) pts.push([ev.position.lon, ev.position.lat]);
    for (const p of props.phases) pts.push(...p.before.slice(-60), ...p.during, ...p.bridge, ...p.after.slice(0, 60), ...p.evidence.map((e) => [e.lon, e.lat] as [number, number]));
    const b = boundsOf(pts);
    const key = `${props.selectedId}:${pts.length > 1 ? 'track' : 'point'}`;
    if (!b || fitted.current === key) return;
    fitted.current = key;
    if (pts.length > 1) m.fitBounds(b, { padding: 80, maxZoom: 10, duration: 0 });
    else m.jumpTo({ center: b[0], zoom: Math.max(m.getZoom(), 7) });
  }, [props.selectedId, props.phases, props.events, map]);

  return null;
}
