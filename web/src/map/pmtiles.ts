/**
 * Optional basemap detail from a PMTiles archive the node serves (meta.pmtiles_url).
 * Raster archives become a raster layer; vector archives in the Protomaps basemap
 * schema get water/earth/boundary layers. Drawn beneath the tracks, above Natural Earth.
 */
import { addProtocol, type Map as MLMap } from 'maplibre-gl';
import { PMTiles, Protocol, TileType } from 'pmtiles';

let protocol: Protocol | null = null;

export async function addPmtilesOverlay(map: MLMap, url: string): Promise<void> {
  try {
    if (!protocol) {
      protocol = new Protocol();
      addProtocol('pmtiles', protocol.tile);
    }
    const abs = new URL(url, location.href).href;
    const archive = new PMTiles(abs);
    protocol.add(archive);
    const header = await archive.getHeader();
    const before = map.getLayer('trail-line') ? 'trail-line' : undefined;
    if (header.tileType === TileType.Mvt) {
      map.addSource('pmtiles', { type: 'vector', url: `pmtiles://${abs}` });
      map.addLayer(
        { id: 'pm-earth', type: 'fill', source: 'pmtiles', 'source-layer': 'earth', paint: { 'fill-color': '#2a3a33' } },
        before,
      );
      map.addLayer(
        { id: 'pm-water', type: 'fill', source: 'pmtiles', 'source-layer': 'water', paint: { 'fill-color': '#0e2233' } },
        before,
      );
      map.addLayer(
        {
          id: 'pm-boundaries',
          type: 'line',
          source: 'pmtiles',
          'source-layer': 'boundaries',
          paint: { 'line-color': '#8aa397', 'line-width': 0.7 },
        },
        before,
      );
    } else if (header.tileType !== TileType.Unknown) {
      map.addSource('pmtiles', { type: 'raster', url: `pmtiles://${abs}`, tileSize: 256 });
      map.addLayer({ id: 'pm-raster', type: 'raster', source: 'pmtiles' }, before);
    }
  } catch (e) {
    console.warn('PMTiles overlay unavailable', e);
  }
}
