/**
 * The ORBAT's map: units with a location drawn as MIL-STD-2525D symbols (milsymbol, the
 * images of map/symbols.ts) on the bundled basemap; clicking one selects it in the tree.
 */
import { useEffect, useRef } from 'react';
import { Map as MLMap, type GeoJSONSource, type MapLayerMouseEvent } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import type { FeatureCollection, Point } from 'geojson';
import { basemapStyle } from '../../map/basemap';
import { IMAGE_PIXEL_RATIO, symbolImage } from '../../map/symbols';

interface Props {
  features: FeatureCollection<Point>;
  visible: boolean;
  selected: string | null;
  onSelect: (unitId: string) => void;
}

export function OrbatMap(props: Props) {
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<MLMap | null>(null);
  const loaded = useRef(false);
  const propsRef = useRef(props);
  propsRef.current = props;

  const apply = () => {
    const map = mapRef.current;
    if (!map || !loaded.current) return;
    (map.getSource('orbat') as GeoJSONSource).setData(propsRef.current.features);
  };

  useEffect(() => {
    const map = new MLMap({
      container: container.current!,
      style: basemapStyle(),
      center: [134, 32],
      zoom: 4.2,
      attributionControl: false,
      maxPitch: 0,
      dragRotate: false,
      renderWorldCopies: false,
      fadeDuration: 0,
    });
    mapRef.current = map;
    map.touchZoomRotate.disableRotation();
    map.setMissingStyleImageResolver((id: string) => {
      if (!map.hasImage(id) && id.startsWith('sidc-')) {
        map.addImage(id, symbolImage(id.slice(5), 26), { pixelRatio: IMAGE_PIXEL_RATIO });
      }
    });
    map.on('load', () => {
      map.addSource('orbat', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
      map.addLayer({
        id: 'orbat-selected',
        type: 'circle',
        source: 'orbat',
        filter: ['==', ['get', 'selected'], 1],
        paint: { 'circle-radius': 22, 'circle-color': 'rgba(255, 212, 0, 0.25)', 'circle-stroke-color': '#ffd400', 'circle-stroke-width': 2 },
      });
      map.addLayer({
        id: 'orbat-units',
        type: 'symbol',
        source: 'orbat',
        layout: { 'icon-image': ['get', 'icon'], 'icon-allow-overlap': true, 'icon-ignore-placement': true },
      });
      loaded.current = true;
      apply();
    });
    const onClick = (e: MapLayerMouseEvent) => {
      const id = e.features?.[0]?.properties?.id;
      if (id) propsRef.current.onSelect(String(id));
    };
    map.on('click', 'orbat-units', onClick);
    map.on('mouseenter', 'orbat-units', () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', 'orbat-units', () => (map.getCanvas().style.cursor = ''));
    const w = window as unknown as { __kizuna?: object };
    w.__kizuna = { ...(w.__kizuna ?? {}), orbatMap: map };
    return () => {
      map.remove();
      mapRef.current = null;
      loaded.current = false;
    };
  }, []);

  useEffect(apply, [props.features]);

  useEffect(() => {
    if (props.visible) mapRef.current?.resize();
  }, [props.visible]);

  return <div ref={container} className="map orbat-map" data-testid="orbat-map" />;
}
