import { describe, expect, it, vi } from 'vitest';
import { FacilitiesStore } from './store';
import type { facilitiesApi } from './api';

function fakeApi(calls: string[]): typeof facilitiesApi {
  const ok = <T>(name: string, v: T) => () => {
    calls.push(name);
    return Promise.resolve(v);
  };
  return {
    facilities: ok('facilities', [{ id: 'yokota', name: { en: 'Yokota Air Base', ja: '横田飛行場' } }]),
    areas: ok('areas', [{ id: 'a1', name: { en: 'Range', ja: '射場' } }]),
    reservations: ok('reservations', [{ id: 'r1' }]),
    arrangements: ok('arrangements', []),
  } as unknown as typeof facilitiesApi;
}

describe('FacilitiesStore', () => {
  it('loads everything and names places', async () => {
    const calls: string[] = [];
    const s = new FacilitiesStore(Date.parse('2026-03-04T00:00:00Z'), fakeApi(calls));
    expect(s.week).toBe('2026-W10');
    await s.load();
    expect(calls.sort()).toEqual(['areas', 'arrangements', 'facilities', 'reservations']);
    expect(s.placeName('yokota')?.ja).toBe('横田飛行場');
    expect(s.placeName('a1')?.en).toBe('Range');
    expect(s.placeName('nope')).toBeNull();
    s.moveWeek(-1);
    expect(s.week).toBe('2026-W09');
  });

  it('reloads once for a burst of its pushes, ignores other topics', async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const s = new FacilitiesStore(0, fakeApi(calls));
    expect(s.handle({ type: 'mda_event' })).toBe(false);
    expect(s.handle({ type: 'reservation' })).toBe(true);
    expect(s.handle({ type: 'training_area' })).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.filter((c) => c === 'reservations')).toHaveLength(1);
    vi.useRealTimers();
  });
});
