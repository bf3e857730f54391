/** Pure helpers for the MDA view: times, filters, ordering and the phases of a track. */
import type { EventStatus, EventType, MdaEvent, When } from './types';

/** What the phases need of an evidence position. */
export type EvidenceLike = { mmsi: string; t: When; lat: number; lon: number };

/** Epoch milliseconds of a node time (ISO text, or UNIX seconds); NaN if unreadable. */
export function toMs(w: When | null | undefined): number {
  if (w === null || w === undefined || w === '') return NaN;
  if (typeof w === 'number') return w * 1000;
  return Date.parse(w);
}

/** ISO text of a node time (for the time formatter), or null. */
export function toIso(w: When | null | undefined): string | null {
  const ms = toMs(w);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export interface EventFilter {
  types: ReadonlySet<EventType>;
  statuses: ReadonlySet<EventStatus>;
}

/** The events the filter lets through, newest start first (ties: newest end, then id). */
export function visibleEvents(events: Iterable<MdaEvent>, f: EventFilter): MdaEvent[] {
  const out: MdaEvent[] = [];
  for (const e of events) if (f.types.has(e.type) && f.statuses.has(e.status)) out.push(e);
  return out.sort(byStartDesc);
}

export function byStartDesc(a: MdaEvent, b: MdaEvent): number {
  const d = (toMs(b.start) || 0) - (toMs(a.start) || 0);
  if (d) return d;
  const e = (toMs(b.end) || 0) - (toMs(a.end) || 0);
  if (e) return e;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** "7 h 05 min", "42 min", "< 1 min" as catalog parameters (hours, minutes). */
export function durationParts(ms: number): { h: number; m: number } {
  const mins = Math.max(0, Math.round(ms / 60_000));
  return { h: Math.floor(mins / 60), m: mins % 60 };
}

export interface Position {
  t: number; // epoch ms
  lat: number;
  lon: number;
}

export interface TrackPhases {
  before: [number, number][];
  during: [number, number][];
  after: [number, number][];
  /** Across a silence: from the last position before to the first after (no positions in between). */
  bridge: [number, number][];
  /** Evidence positions, as [lon, lat] with their own times. */
  evidence: Position[];
}

/**
 * A vessel's track split around an event: before its start, during it, after its end (an
 * open event has no "after"). The evidence positions are merged in (the history may have
 * been thinned or may not reach back far enough). Times in epoch ms.
 */
export function trackPhases(
  history: { lat: number; lon: number; observed_at: string }[],
  evidence: EvidenceLike[],
  startMs: number,
  endMs: number | null,
  mmsi?: string,
): TrackPhases {
  const pts = new Map<number, Position>();
  for (const p of history) {
    const t = Date.parse(p.observed_at);
    if (!Number.isNaN(t)) pts.set(t, { t, lat: p.lat, lon: p.lon });
  }
  const ev: Position[] = [];
  for (const e of evidence) {
    if (mmsi && e.mmsi && e.mmsi !== mmsi) continue;
    const t = toMs(e.t);
    if (Number.isNaN(t)) continue;
    ev.push({ t, lat: e.lat, lon: e.lon });
    if (!pts.has(t)) pts.set(t, { t, lat: e.lat, lon: e.lon });
  }
  const all = [...pts.values()].sort((a, b) => a.t - b.t);
  const before: [number, number][] = [];
  let during: [number, number][] = [];
  const after: [number, number][] = [];
  let lastSeen: [number, number] | null = null; // the last position at or before the start
  let firstAgain: [number, number] | null = null; // the first at or after the end
  let interior = 0; // positions strictly inside the event (a gap has none)
  for (const p of all) {
    const c: [number, number] = [p.lon, p.lat];
    if (p.t <= startMs) lastSeen = c;
    if (endMs !== null && p.t >= endMs && !firstAgain) firstAgain = c;
    if (p.t < startMs) before.push(c);
    else if (endMs === null || p.t <= endMs) {
      during.push(c);
      if (p.t > startMs && (endMs === null || p.t < endMs)) interior++;
    } else after.push(c);
  }
  let bridge: [number, number][] = [];
  if (interior === 0 && endMs !== null) {
    // A silence: nothing seen inside it, so it is drawn as a bridge from the last position
    // seen to the first seen again; the positions on its start and end join before and after.
    if (lastSeen && firstAgain && lastSeen !== firstAgain) bridge = [lastSeen, firstAgain];
    if (lastSeen && before[before.length - 1] !== lastSeen) before.push(lastSeen);
    if (firstAgain && after[0] !== firstAgain) after.unshift(firstAgain);
    during = [];
  } else {
    // Join the phases so the line is continuous: each starts where the previous ended.
    if (during.length && before.length) during.unshift(before[before.length - 1]);
    if (after.length && during.length) after.unshift(during[during.length - 1]);
  }
  return { before, during, after, bridge, evidence: ev.sort((a, b) => a.t - b.t) };
}

/** Great-circle distance in metres (haversine). */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const r = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Bounds [[w, s], [e, n]] of some [lon, lat] points, or null. */
export function boundsOf(points: [number, number][]): [[number, number], [number, number]] | null {
  if (!points.length) return null;
  let w = 180, s = 90, e = -180, n = -90;
  for (const [x, y] of points) {
    w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
  }
  return [[w, s], [e, n]];
}

/** The track id of an AIS vessel in the picture (sources/ais: "ais-" + MMSI). */
export const aisTrackId = (mmsi: string) => `ais-${mmsi}`;

/** A polygon being drawn is valid with at least three distinct points. */
export function polygonValid(points: [number, number][]): boolean {
  const keys = new Set(points.map(([x, y]) => `${x.toFixed(6)},${y.toFixed(6)}`));
  return keys.size >= 3;
}

/** Close a ring (GeoJSON: first point repeated last). */
export function closeRing(points: [number, number][]): [number, number][] {
  if (!points.length) return [];
  const [f, l] = [points[0], points[points.length - 1]];
  return f[0] === l[0] && f[1] === l[1] ? points : [...points, f];
}
