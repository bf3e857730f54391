import { describe, expect, it, vi } from 'vitest';
import { LiveStore } from '../live';
import { HadrStore } from './store';
import type { Incident, Rfa } from './types';

describe('HadrStore follows the push bus', () => {
  it('files pushed incidents and RFAs, merges updates, ignores other topics, and stops when detached', () => {
    vi.useFakeTimers();
    const live = new LiveStore('t');
    const hadr = new HadrStore();
    const detach = hadr.attach(live);
    let changes = 0;
    hadr.on(() => changes++);
    live.handle({ type: 'incident', item: { id: 'i1', state: 'active', max_intensity: '4' } as Incident } as never);
    live.handle({ type: 'incident', item: { id: 'i1', state: 'cancelled' } as Incident } as never);
    live.handle({ type: 'rfa', item: { id: 'r1', status: 'OPEN' } as Rfa } as never);
    live.handle({ type: 'tracks', items: [] });
    expect(hadr.incidents.get('i1')).toMatchObject({ state: 'cancelled', max_intensity: '4' });
    expect(hadr.rfas.get('r1')?.status).toBe('OPEN');
    expect(changes).toBe(3);
    detach();
    live.handle({ type: 'rfa', item: { id: 'r2', status: 'DRAFT' } as Rfa } as never);
    expect(hadr.rfas.has('r2')).toBe(false);
    vi.useRealTimers();
  });
});
