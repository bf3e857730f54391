import { describe, expect, it } from 'vitest';
import { band, byDay, clock, fromLocalInput, isoWeek, placesGeoJSON, reservedPlaces, shiftWeek, weekDays, weekStart } from './format';
import type { Reservation, TrainingArea } from './types';

function res(id: string, start: string, end: string, extra: Partial<Reservation> = {}): Reservation {
  return {
    id,
    start,
    end,
    status: 'active',
    conflicts: [],
    place: { id: 'p1', kind: 'range', name: { en: 'Range', ja: '射場' }, basis: 'other', lat: 35, lon: 138, polygon: [] },
    ...extra,
  } as unknown as Reservation;
}

describe('weeks in Japan', () => {
  it('starts a week on Monday 00:00 JST', () => {
    expect(new Date(weekStart('2026-W10')).toISOString()).toBe('2026-03-01T15:00:00.000Z');
    expect(isoWeek(Date.parse('2026-03-01T15:00:00Z'))).toBe('2026-W10');
    expect(isoWeek(Date.parse('2026-03-01T14:59:59Z'))).toBe('2026-W09'); // Sunday 23:59 JST
    expect(isoWeek(Date.parse('2021-01-03T00:00:00Z'))).toBe('2020-W53');
    expect(Number.isNaN(weekStart('2026-10'))).toBe(true);
  });
  it('moves across years', () => {
    expect(shiftWeek('2026-W01', -1)).toBe('2025-W52');
    expect(shiftWeek('2020-W53', 1)).toBe('2021-W01');
  });
  it('gives seven Japan dates', () => {
    const days = weekDays('2026-W10');
    expect(days.map((d) => d.date)).toEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08']);
  });
});

describe('the calendar', () => {
  it('puts each reservation on every day it spans, active only by default', () => {
    const days = weekDays('2026-W10');
    const a = res('a', '2026-03-02T00:00:00Z', '2026-03-02T06:00:00Z'); // Monday JST
    const b = res('b', '2026-03-02T14:00:00Z', '2026-03-03T02:00:00Z'); // Monday 23:00 to Tuesday 11:00 JST
    const c = res('c', '2026-03-02T01:00:00Z', '2026-03-02T02:00:00Z', { status: 'cancelled' });
    const got = byDay([b, a, c], days);
    expect(got[0].map((r) => r.id)).toEqual(['a', 'b']);
    expect(got[1].map((r) => r.id)).toEqual(['b']);
    expect(got.slice(2).every((d) => d.length === 0)).toBe(true);
    expect(byDay([c], days, true)[0].map((r) => r.id)).toEqual(['c']);
  });
  it('flags places with reservations that week, and conflicts', () => {
    const a = res('a', '2026-03-02T00:00:00Z', '2026-03-02T06:00:00Z');
    const b = res('b', '2026-03-20T00:00:00Z', '2026-03-20T06:00:00Z', {
      place: { ...a.place, id: 'p2' },
      conflicts: [{ id: 'x' } as Reservation['conflicts'][number]],
    });
    expect([...reservedPlaces([a, b], '2026-W10')]).toEqual([['p1', { conflict: false }]]);
    expect([...reservedPlaces([a, b], '2026-W12')]).toEqual([['p2', { conflict: true }]]);
  });
  it('formats bands and clocks, reads datetime inputs', () => {
    expect(band(0, 3048)).toBe('0–3048 m');
    expect(band(1000, null)).toBe('1000 m–∞');
    expect(clock('2026-03-02T00:30:00Z', 'JST')).toBe('09:30');
    expect(clock('2026-03-02T00:30:00Z', 'UTC')).toBe('00:30');
    expect(fromLocalInput('2026-03-02T09:30', 'JST')).toBe('2026-03-02T00:30:00Z');
    expect(fromLocalInput('2026-03-02T09:30', 'UTC')).toBe('2026-03-02T09:30:00Z');
    expect(fromLocalInput('tomorrow', 'UTC')).toBeNull();
  });
});

describe('the map', () => {
  it('draws areas as closed [lon, lat] rings in the UI language, reserved ones marked', () => {
    const area = {
      id: 'p1',
      name: { en: 'North Fuji range', ja: '北富士演習場' },
      kind: 'range',
      basis: 'sofa_ii_4b',
      exercise: false,
      polygon: [
        [35.4, 138.8],
        [35.4, 138.9],
        [35.46, 138.9],
      ],
    } as unknown as TrainingArea;
    const fc = placesGeoJSON([area], [], new Map([['p1', { conflict: true }]]), 'ja');
    const f = fc.features[0];
    expect(f.geometry).toEqual({ type: 'Polygon', coordinates: [[[138.8, 35.4], [138.9, 35.4], [138.9, 35.46], [138.8, 35.4]]] });
    expect(f.properties).toMatchObject({ name: '北富士演習場', reserved: 2 });
  });
});
