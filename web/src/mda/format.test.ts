import { describe, expect, it } from 'vitest';
import { closeRing, durationParts, polygonValid, toMs, trackPhases, visibleEvents } from './format';
import type { MdaEvent } from './types';

const ev = (id: string, type: MdaEvent['type'], status: MdaEvent['status'], start: string): MdaEvent =>
  ({ id, type, status, start, end: null, vessels: ['431876543'], position: { lat: 0, lon: 0 }, evidence: [], detail: {}, verdicts: [], covered_by: [] }) as unknown as MdaEvent;

describe('MDA list', () => {
  const events = [
    ev('a', 'gap', 'closed', '2026-01-01T00:00:00Z'),
    ev('b', 'spoofing', 'open', '2026-01-03T00:00:00Z'),
    ev('c', 'gap', 'retracted', '2026-01-02T00:00:00Z'),
    ev('d', 'zone', 'open', '2026-01-04T00:00:00Z'),
  ];
  it('filters by type and status, newest start first', () => {
    const all = visibleEvents(events, { types: new Set(['gap', 'spoofing', 'zone']), statuses: new Set(['open', 'closed', 'retracted']) });
    expect(all.map((e) => e.id)).toEqual(['d', 'b', 'c', 'a']);
    const gaps = visibleEvents(events, { types: new Set(['gap']), statuses: new Set(['open', 'closed']) });
    expect(gaps.map((e) => e.id)).toEqual(['a']);
  });
  it('reads ISO text and UNIX seconds', () => {
    expect(toMs('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1));
    expect(toMs(1767225600)).toBe(Date.UTC(2026, 0, 1));
    expect(Number.isNaN(toMs(null))).toBe(true);
  });
  it('formats durations', () => {
    expect(durationParts(7 * 3600_000 + 5 * 60_000)).toEqual({ h: 7, m: 5 });
  });
});

describe('track phases', () => {
  const t0 = Date.UTC(2026, 0, 1);
  const iso = (min: number) => new Date(t0 + min * 60_000).toISOString();
  const history = [0, 10, 20, 440, 450].map((m, i) => ({ lat: 30 + i * 0.01, lon: 130 + i * 0.01, observed_at: iso(m) }));
  it('splits a gap into before, a bridge across the silence, and after', () => {
    const p = trackPhases(history, [], t0 + 20 * 60_000 + 1, t0 + 440 * 60_000 - 1);
    expect(p.before).toHaveLength(3);
    expect(p.during).toHaveLength(0);
    expect(p.after).toHaveLength(2);
    expect(p.bridge).toEqual([p.before[2], p.after[0]]);
  });
  it('a gap whose evidence sits on its start and end is a bridge, not a during line', () => {
    const evidence = [
      { mmsi: '1', t: iso(20), lat: 30.02, lon: 130.02 },
      { mmsi: '1', t: iso(440), lat: 30.03, lon: 130.03 },
    ];
    const p = trackPhases(history, evidence, t0 + 20 * 60_000, t0 + 440 * 60_000, '1');
    expect(p.before).toEqual([[130, 30], [130.01, 30.01], [130.02, 30.02]]);
    expect(p.during).toHaveLength(0);
    expect(p.bridge).toEqual([[130.02, 30.02], [130.03, 30.03]]);
    expect(p.after).toEqual([[130.03, 30.03], [130.04, 30.04]]);
  });
  it('merges evidence, joins phases and skips other vessels', () => {
    const evidence = [
      { mmsi: '1', t: iso(30), lat: 31, lon: 131 },
      { mmsi: '2', t: iso(31), lat: 40, lon: 140 },
    ];
    const p = trackPhases(history, evidence, t0 + 25 * 60_000, t0 + 445 * 60_000, '1');
    expect(p.evidence).toHaveLength(1);
    expect(p.during[0]).toEqual(p.before[p.before.length - 1]); // continuous line
    expect(p.during).toContainEqual([131, 31]);
    expect(p.after[0]).toEqual(p.during[p.during.length - 1]);
  });
  it('an open event has no after', () => {
    const p = trackPhases(history, [], t0 + 15 * 60_000, null);
    expect(p.after).toHaveLength(0);
    expect(p.during.length).toBeGreaterThan(0);
  });
});

describe('zone drawing', () => {
  it('needs three distinct points and closes the ring', () => {
    expect(polygonValid([[1, 1], [2, 2]])).toBe(false);
    expect(polygonValid([[1, 1], [2, 2], [1, 1]])).toBe(false);
    expect(polygonValid([[1, 1], [2, 2], [3, 1]])).toBe(true);
    expect(closeRing([[1, 1], [2, 2], [3, 1]])).toEqual([[1, 1], [2, 2], [3, 1], [1, 1]]);
  });
});
