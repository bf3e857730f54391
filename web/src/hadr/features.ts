/** The node's incident features (GeoJSON), prepared for drawing on the HADR map. Pure. */
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { circleRing, intensityColour, magnitudeRadius, TSUNAMI_COLOURS } from './intensity';
import type { IncidentFeatureCollection, IncidentFeatureProps } from './types';

/** The node's features, prepared for drawing: colours, radii, circles as polygons. */
export function prepareFeatures(fc: IncidentFeatureCollection, selectedId: string | null): FeatureCollection {
  const out: Feature[] = [];
  for (const f of fc.features ?? []) {
    const p = (f.properties ?? {}) as IncidentFeatureProps;
    const g = f.geometry as unknown as Geometry | null;
    if (!g) continue;
    const selected = !selectedId || p.incident_id === selectedId;
    const base = {
      incident_id: p.incident_id,
      role: p.role,
      exercise: !!p.exercise,
      cancelled: p.state === 'cancelled',
      dim: selected ? 0 : 1,
    };
    if (p.role === 'cap_circle' && g.type === 'Point' && typeof p.radius_km === 'number') {
      const [lon, lat] = g.coordinates as [number, number];
      out.push({
        type: 'Feature',
        geometry: { type: 'Polygon', coordinates: [circleRing(lat, lon, p.radius_km)] },
        properties: { ...base, shape: 1, colour: '#ff9800' },
      });
      continue;
    }
    if (p.role === 'hypocentre') {
      out.push({
        type: 'Feature',
        geometry: g,
        properties: { ...base, radius: magnitudeRadius(p.magnitude ?? null), magnitude: p.magnitude ?? null },
      });
      continue;
    }
    if (p.role === 'area' && g.type === 'Point') {
      out.push({
        type: 'Feature',
        geometry: g,
        properties: { ...base, intensity: p.intensity ?? null, colour: intensityColour(p.intensity), name: p.name ?? '' },
      });
      continue;
    }
    // CAP polygons, tsunami forecast areas (coast segments or polygons), anything else drawn as a shape.
    const colour = String(p.role).startsWith('tsunami') ? (TSUNAMI_COLOURS[p.category ?? ''] ?? '#faf500') : '#ff9800';
    out.push({ type: 'Feature', geometry: g, properties: { ...base, shape: 1, colour } });
  }
  return { type: 'FeatureCollection', features: out };
}
