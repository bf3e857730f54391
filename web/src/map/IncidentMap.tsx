/**
 * The HADR map: incidents from GET /api/v1/incidents.geojson (refetched on live pushes).
 * Hypocentres are circles sized by magnitude, intensity areas are points coloured by their
 * JMA class, CAP polygons / circles and tsunami forecast areas are shapes. No glyphs: the
 * hypocentre's label is a DOM marker in the UI language.
 */
import { useEffect, useRef } from 'react';
import { Map as MLMap, Marker, type GeoJSONSource, type MapLayerMouseEvent, type LngLatBoundsLike } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import type { FeatureCollection } from 'geojson';
import { basemapStyle } from './basemap';
import { prepareFeatures } from '../hadr/features';
import type { IncidentFeatureCollection } from '../hadr/types';

interface Props {
  features: IncidentFeatureCollection;
  selectedId: string | null;
  visible: boolean;
  /** Text of the hypocentre label for an incident (magnitude and max intensity, translated). */
  hypoLabel: (incidentId: string, magnitude: number | null) => string;
  onSelect: (incidentId: string) => void;
}

const LAYERS = ['hadr-fill', 'hadr-line', 'hadr-areas', 'hadr-hypocentre'];

function boundsOf(fc: FeatureCollection, id: string): LngLatBoundsLike | null {
  let w = 180, s = 90, e = -180, n = -90;
  const add = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [x, y] = c as [number, number];
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    } else if (Array.isArray(c)) c.forEach(add);
  };
  for (const f of fc.features) if (f.properties?.incident_id === id && 'coordinates' in f.geometry) add(f.geometry.coordinates);
  if (w > e) return null;
  return [[w, s], [e, n]];
}

export function IncidentMap(props: Props) {
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<MLMap | null>(null);
  const loaded = useRef(false);
  const propsRef = useRef(props);
  propsRef.current = props;
  const labels = useRef<Marker[]>([]);
  const prepared = useRef<FeatureCollection>({ type: 'FeatureCollection', features: [] });

  useEffect(() => {
    const map = new MLMap({
      container: container.current!,
      style: basemapStyle(),
      center: [138, 37],
      zoom: 4.3,
      attributionControl: false,
      maxPitch: 0,
      dragRotate: false,
      renderWorldCopies: false,
      fadeDuration: 0,
    });
    mapRef.current = map;
    map.touchZoomRotate.disableRotation();
    map.on('load', () => {
      map.addSource('hadr', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
      const op = (a: number, b: number) => ['case', ['==', ['get', 'dim'], 1], b, a] as unknown as number;
      map.addLayer({
        id: 'hadr-fill',
        type: 'fill',
        source: 'hadr',
        filter: ['all', ['==', ['get', 'shape'], 1], ['==', ['geometry-type'], 'Polygon']],
        paint: { 'fill-color': ['get', 'colour'], 'fill-opacity': op(0.25, 0.08) },
      });
      map.addLayer({
        id: 'hadr-line',
        type: 'line',
        source: 'hadr',
        filter: ['==', ['get', 'shape'], 1],
        paint: { 'line-color': ['get', 'colour'], 'line-width': ['case', ['==', ['geometry-type'], 'LineString'], 4, 1.5], 'line-opacity': op(0.95, 0.3) },
      });
      map.addLayer({
        id: 'hadr-areas',
        type: 'circle',
        source: 'hadr',
        filter: ['==', ['get', 'role'], 'area'],
        paint: {
          'circle-radius': 6,
          'circle-color': ['get', 'colour'],
          'circle-stroke-color': '#111',
          'circle-stroke-width': 1,
          'circle-opacity': op(0.95, 0.3),
          'circle-stroke-opacity': op(1, 0.3),
        },
      });
      map.addLayer({
        id: 'hadr-hypocentre',
        type: 'circle',
        source: 'hadr',
        filter: ['==', ['get', 'role'], 'hypocentre'],
        paint: {
          'circle-radius': ['get', 'radius'],
          'circle-color': ['case', ['get', 'cancelled'], 'rgba(120,120,120,0.25)', 'rgba(229,57,53,0.35)'],
          'circle-stroke-color': ['case', ['get', 'exercise'], '#ffd400', '#ffffff'],
          'circle-stroke-width': 2.5,
          'circle-opacity': op(1, 0.3),
        },
      });
      loaded.current = true;
      apply();
    });
    const onClick = (e: MapLayerMouseEvent) => {
      const id = e.features?.[0]?.properties?.incident_id;
      if (id) propsRef.current.onSelect(String(id));
    };
    for (const l of LAYERS) {
      map.on('click', l, onClick);
      map.on('mouseenter', l, () => (map.getCanvas().style.cursor = 'pointer'));
      map.on('mouseleave', l, () => (map.getCanvas().style.cursor = ''));
    }
    (window as unknown as { __kizuna?: object }).__kizuna = {
      ...((window as unknown as { __kizuna?: object }).__kizuna ?? {}),
      hadrMap: map,
    };
    return () => {
      labels.current.forEach((m) => m.remove());
      map.remove();
      mapRef.current = null;
      loaded.current = false;
    };
  }, []);

  const apply = () => {
    const map = mapRef.current;
    if (!map || !loaded.current) return;
    const { features, selectedId, hypoLabel } = propsRef.current;
    prepared.current = prepareFeatures(features, selectedId);
    (map.getSource('hadr') as GeoJSONSource).setData(prepared.current);
    labels.current.forEach((m) => m.remove());
    labels.current = prepared.current.features
      .filter((f) => f.properties?.role === 'hypocentre' && f.geometry.type === 'Point')
      .map((f) => {
        const el = document.createElement('div');
        const id = String(f.properties!.incident_id);
        el.className = `hypo-label ${selectedId && id !== selectedId ? 'dim' : ''}`;
        el.dataset.testid = 'hypocentre-label';
        el.dataset.incident = id;
        el.textContent = hypoLabel(id, (f.properties!.magnitude as number | null) ?? null);
        const r = Number(f.properties!.radius) || 10;
        return new Marker({ element: el, anchor: 'left', offset: [r + 4, 0] })
          .setLngLat((f.geometry as unknown as { coordinates: [number, number] }).coordinates)
          .addTo(map);
      });
  };

  // Features, selection or language (labels) changed.
  useEffect(apply, [props.features, props.selectedId, props.hypoLabel]);

  // Bring the selected incident into view.
  useEffect(() => {
    const map = mapRef.current;
    if (!map || !props.selectedId) return;
    const go = () => {
      const b = boundsOf(prepareFeatures(propsRef.current.features, null), props.selectedId!);
      if (b) map.fitBounds(b, { padding: 80, maxZoom: 7.5, duration: 0 });
    };
    if (loaded.current) go();
    else map.once('load', go);
  }, [props.selectedId, props.features.features.length]);

  useEffect(() => {
    if (props.visible) mapRef.current?.resize();
  }, [props.visible]);

  return <div ref={container} className="map hadr-map" data-testid="hadr-map" />;
}
