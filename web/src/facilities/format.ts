/**
 * Pure helpers of the facilities view: ISO weeks in Japan time, the calendar's days and the
 * reservations on each, altitude bands, and the areas as GeoJSON for the map.
 */
import type { FeatureCollection } from 'geojson';
import type { Facility, Reservation, TrainingArea } from './types';

const DAY = 86_400_000;
const JST = 9 * 3_600_000;

/** The ISO week (in Japan) holding the instant ``ms``: "2026-W10". */
export function isoWeek(ms: number): string {
  const d = new Date(ms + JST);
  const day = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3));
  const year = thursday.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const week1Monday = jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * DAY;
  const week = Math.floor((thursday.getTime() - week1Monday) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Monday 00:00 JST of an ISO week, as UNIX milliseconds (NaN for a bad week). */
export function weekStart(week: string): number {
  const m = /^(\d{4})-W(\d{2})$/.exec(week);
  if (!m) return NaN;
  const year = Number(m[1]);
  const jan4 = Date.UTC(year, 0, 4);
  const monday1 = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY;
  return monday1 + (Number(m[2]) - 1) * 7 * DAY - JST;
}

export function shiftWeek(week: string, by: number): string {
  return isoWeek(weekStart(week) + by * 7 * DAY + DAY);
}

export interface Day {
  /** The date in Japan, YYYY-MM-DD. */
  date: string;
  start: number;
  end: number;
}

export function weekDays(week: string): Day[] {
  const s = weekStart(week);
  return Array.from({ length: 7 }, (_, i) => ({
    date: new Date(s + i * DAY + JST).toISOString().slice(0, 10),
    start: s + i * DAY,
    end: s + (i + 1) * DAY,
  }));
}

/** The reservations overlapping each day, by start (a cancelled one only when asked). */
export function byDay(reservations: Reservation[], days: Day[], withCancelled = false): Reservation[][] {
  return days.map((d) =>
    reservations
      .filter((r) => withCancelled || r.status === 'active')
      .filter((r) => Date.parse(r.start) < d.end && Date.parse(r.end) > d.start)
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.id.localeCompare(b.id)),
  );
}

/** "0–3048 m", "1000 m–∞". */
export function band(floor: number, ceiling: number | null | undefined): string {
  const f = Math.round(floor);
  return ceiling === null || ceiling === undefined ? `${f} m–∞` : `${f}–${Math.round(ceiling)} m`;
}

/** "HH:MM" of an instant, in Japan or UTC. */
export function clock(iso: string, tz: 'UTC' | 'JST'): string {
  const ms = Date.parse(iso) + (tz === 'JST' ? JST : 0);
  return new Date(ms).toISOString().slice(11, 16);
}

/** Active reservations of ``week`` per place id (for the map's highlight). */
export function reservedPlaces(reservations: Reservation[], week: string): Map<string, { conflict: boolean }> {
  const s = weekStart(week);
  const e = s + 7 * DAY;
  const out = new Map<string, { conflict: boolean }>();
  for (const r of reservations) {
    if (r.status !== 'active' || Date.parse(r.start) >= e || Date.parse(r.end) <= s) continue;
    const prev = out.get(r.place.id);
    out.set(r.place.id, { conflict: (prev?.conflict ?? false) || r.conflicts.length > 0 });
  }
  return out;
}

/** Areas (polygons, [lon, lat] rings closed) and facilities (points) for the map. */
export function placesGeoJSON(
  areas: TrainingArea[],
  facilities: Facility[],
  reserved: Map<string, { conflict: boolean }>,
  lang: 'en' | 'ja',
): FeatureCollection {
  const name = (t: { en: string; ja: string }) => (lang === 'ja' ? t.ja || t.en : t.en || t.ja);
  const state = (id: string) => (reserved.get(id)?.conflict ? 2 : reserved.has(id) ? 1 : 0);
  return {
    type: 'FeatureCollection',
    features: [
      ...areas.map((a) => {
        const ring = a.polygon.map(([lat, lon]) => [lon, lat]);
        if (ring.length) ring.push(ring[0]);
        return {
          type: 'Feature' as const,
          id: a.id,
          geometry: { type: 'Polygon' as const, coordinates: [ring] },
          properties: { id: a.id, kind: a.kind, basis: a.basis, name: name(a.name), reserved: state(a.id), exercise: a.exercise },
        };
      }),
      ...facilities.map((f) => ({
        type: 'Feature' as const,
        id: f.id,
        geometry: { type: 'Point' as const, coordinates: [f.lon, f.lat] },
        properties: { id: f.id, kind: 'facility', basis: f.basis, name: name(f.name), reserved: state(f.id), exercise: false },
      })),
    ],
  };
}

/** A datetime-local input's value (Japan or UTC wall time) as ISO 8601 UTC. */
export function fromLocalInput(value: string, tz: 'UTC' | 'JST'): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return null;
  const ms = Date.parse(`${value}:00Z`) - (tz === 'JST' ? JST : 0);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().replace('.000Z', 'Z');
}
