/**
 * JMA seismic intensity classes (震度階級) and magnitude sizing for the HADR map and panels.
 * Pure: no DOM, no catalogs (labels are catalog keys `hadr.intensity.<class>`).
 */

/** JMA classes weakest first, as the node writes them ("5-" is 震度5弱, "6+" is 震度6強). */
export const INTENSITIES = ['0', '1', '2', '3', '4', '5-', '5+', '6-', '6+', '7'] as const;
export type Intensity = (typeof INTENSITIES)[number];

/** Colours in the spirit of JMA's intensity map legend (cool to hot). */
export const INTENSITY_COLOURS: Record<Intensity, string> = {
  '0': '#9aa6b2',
  '1': '#c3d4e6',
  '2': '#5ba3e0',
  '3': '#3cb371',
  '4': '#f2e03a',
  '5-': '#ffb02e',
  '5+': '#ff7a1a',
  '6-': '#e53935',
  '6+': '#a0142a',
  '7': '#7b1fa2',
};

/** The node may send JMA's own spellings ("5弱", "6強", "５－"): normalise to a class. */
export function normaliseIntensity(v: string | null | undefined): Intensity | null {
  if (v === null || v === undefined) return null;
  const s = String(v)
    .normalize('NFKC')
    .trim()
    .replace('弱', '-')
    .replace('強', '+')
    .replace('－', '-')
    .replace('＋', '+')
    .replace(/^(?:震度|shindo)\s*/i, '')
    .replace(/\s*(lower)$/i, '-')
    .replace(/\s*(upper)$/i, '+');
  return (INTENSITIES as readonly string[]).includes(s) ? (s as Intensity) : null;
}

export function intensityRank(v: string | null | undefined): number {
  const n = normaliseIntensity(v);
  return n === null ? -1 : INTENSITIES.indexOf(n);
}

export function intensityColour(v: string | null | undefined): string {
  const n = normaliseIntensity(v);
  return n ? INTENSITY_COLOURS[n] : '#666f78';
}

/** Catalog key for a class ("hadr.intensity.6+"); null for an unknown value. */
export function intensityKey(v: string | null | undefined): string | null {
  const n = normaliseIntensity(v);
  return n ? `hadr.intensity.${n}` : null;
}

/** Hypocentre marker radius in pixels: M3 → 8 px, M8 → 34 px, unknown → 10 px. */
export function magnitudeRadius(m: number | null | undefined): number {
  if (typeof m !== 'number' || !Number.isFinite(m)) return 10;
  const c = Math.max(2, Math.min(9, m));
  return Math.round(8 + ((c - 3) * 26) / 5);
}

/** The MapLibre expression equivalent of magnitudeRadius, on the feature's `magnitude`. */
export const MAGNITUDE_RADIUS_EXPR = [
  'case',
  ['==', ['typeof', ['get', 'magnitude']], 'number'],
  ['interpolate', ['linear'], ['get', 'magnitude'], 2, 3, 3, 8, 8, 34, 9, 39],
  10,
] as unknown as number;

/** Circle as a closed ring of [lon, lat] (GeoJSON order), `steps` segments, radius in km. */
export function circleRing(lat: number, lon: number, radiusKm: number, steps = 64): [number, number][] {
  const R = 6371.0088;
  const d = radiusKm / R;
  const la = (lat * Math.PI) / 180;
  const lo = (lon * Math.PI) / 180;
  const out: [number, number][] = [];
  for (let i = 0; i <= steps; i++) {
    const b = (2 * Math.PI * i) / steps;
    const la2 = Math.asin(Math.sin(la) * Math.cos(d) + Math.cos(la) * Math.sin(d) * Math.cos(b));
    const lo2 = lo + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(la), Math.cos(d) - Math.sin(la) * Math.sin(la2));
    out.push([(lo2 * 180) / Math.PI, (la2 * 180) / Math.PI]);
  }
  return out;
}

/** Tsunami categories the node derives from JMA kind codes, strongest first. */
export const TSUNAMI_CATEGORIES = ['major_warning', 'warning', 'advisory', 'forecast', 'lifted', 'none'] as const;
export const TSUNAMI_COLOURS: Record<string, string> = {
  major_warning: '#c800ff',
  warning: '#ff2800',
  advisory: '#faf500',
  forecast: '#6fb7ff',
  lifted: '#8a949e',
  none: '#8a949e',
};
