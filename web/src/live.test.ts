import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveStore } from './live';
import type { Track } from './types';

const tr = (id: string, observed = '2026-11-22T10:00:00Z', lat = 35): Track =>
  ({ id, lat, lon: 139, observed_at: observed, stale_at: '2099-01-01T00:00:00Z', sidc: '10033000001211000000' }) as Track;

describe('LiveStore', () => {
  afterEach(() => vi.useRealTimers());

  it('never rolls a track back to an older observation', () => {
    const s = new LiveStore('t');
    s.handle({ type: 'tracks', items: [tr('a', '2026-11-22T10:00:05Z', 36)] });
    s.handle({ type: 'tracks', items: [tr('a', '2026-11-22T10:00:01Z', 30)] });
    expect(s.tracks.get('a')!.lat).toBe(36);
  });

  it('a snapshot replaces the picture once its chunks have arrived, without clearing first', () => {
    vi.useFakeTimers();
    const s = new LiveStore('t');
    s.handle({ type: 'tracks', items: [tr('a'), tr('c')] });
    s.handle({ type: 'tracks', snapshot: true, items: [tr('a', '2026-11-22T10:01:00Z')] });
    expect(s.tracks.has('c')).toBe(true); // still shown while the snapshot streams in
    s.handle({ type: 'tracks', items: [tr('b')] });
    vi.advanceTimersByTime(2000);
    expect([...s.tracks.keys()].sort()).toEqual(['a', 'b']);
  });

  it('removes tracks and merges request summaries into full records', () => {
    const s = new LiveStore('t');
    s.handle({ type: 'tracks', items: [tr('a')] });
    s.handle({ type: 'track_removed', id: 'a' });
    expect(s.tracks.size).toBe(0);
    const full = { id: 'r1', status: 'SUBMITTED', comments: [{ id: 'c' }], allowed_transitions: ['CANCELLED'] };
    s.upsertRequest(full as never);
    s.handle({ type: 'request', item: { id: 'r1', status: 'ACKNOWLEDGED' } as never });
    const r = s.requests.get('r1')!;
    expect(r.status).toBe('ACKNOWLEDGED');
    expect(r.comments).toHaveLength(1);
    s.handle({ type: 'overdue', item: { id: 'r1', status: 'ACKNOWLEDGED' } as never });
    expect(s.requests.get('r1')!.overdue).toBe(true);
  });
});
