/**
 * The facilities map: training areas, ranges, airspace and sea areas as polygons, reference
 * facilities as points; a place reserved in the week on screen is green, red when one of its
 * reservations conflicts. Clicking a place picks it for the reservation form.
 */
import { useEffect, useRef } from 'react';
import { Map as MLMap, type GeoJSONSource, type MapLayerMouseEvent } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import type { FeatureCollection } from 'geojson';
import { basemapStyle } from '../../map/basemap';

interface Props {
  data: FeatureCollection;
  visible: boolean;
  onPick: (placeId: string) => void;
}

const LAYERS = ['fac-fill', 'fac-line', 'fac-points'];
const COLOUR = ['match', ['get', 'reserved'], 2, '#e53935', 1, '#43a047', '#5c8fd6'] as unknown as string;

export function AreasMap({ data, visible, onPick }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<MLMap | null>(null);
  const loaded = useRef(false);
  const dataRef = useRef(data);
  dataRef.current = data;
  const pickRef = useRef(onPick);
  pickRef.current = onPick;

  useEffect(() => {
    const map = new MLMap({
      container: container.current!,
      style: basemapStyle(),
      center: [138.5, 35.4],
      zoom: 6,
      attributionControl: false,
      maxPitch: 0,
      dragRotate: false,
      renderWorldCopies: false,
      fadeDuration: 0,
    });
    mapRef.current = map;
    map.on('load', () => {
      map.addSource('fac-places', { type: 'geojson', data: dataRef.current });
      map.addLayer({
        id: 'fac-fill',
        type: 'fill',
        source: 'fac-places',
        filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': COLOUR, 'fill-opacity': 0.3 },
      });
      map.addLayer({
        id: 'fac-line',
        type: 'line',
        source: 'fac-places',
        filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'line-color': COLOUR, 'line-width': 2 },
      });
      map.addLayer({
        id: 'fac-points',
        type: 'circle',
        source: 'fac-places',
        filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-radius': 5, 'circle-color': COLOUR, 'circle-stroke-color': '#111', 'circle-stroke-width': 1 },
      });
      loaded.current = true;
    });
    const click = (e: MapLayerMouseEvent) => {
      const id = e.features?.[0]?.properties?.id;
      if (id) pickRef.current(String(id));
    };
    for (const l of LAYERS) {
      map.on('click', l, click);
      map.on('mouseenter', l, () => (map.getCanvas().style.cursor = 'pointer'));
      map.on('mouseleave', l, () => (map.getCanvas().style.cursor = ''));
    }
    (window as unknown as { __kizuna?: object }).__kizuna = {
      ...((window as unknown as { __kizuna?: object }).__kizuna ?? {}),
      facilitiesMap: map,
    };
    return () => {
      loaded.current = false;
      map.remove();
      mapRef.current = null;
    };
  }, []);

  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const apply = () => (map.getSource('fac-places') as GeoJSONSource | undefined)?.setData(data);
    if (loaded.current) apply();
    else map.once('load', apply);
  }, [data]);

  useEffect(() => {
    if (visible) mapRef.current?.resize();
  }, [visible]);

  return <div className="fac-map" ref={container} data-testid="fac-map" />;
}
