import { describe, expect, it } from 'vitest';
import { MdaStore } from './store';

describe('MdaStore pushes', () => {
  it('takes mda_event pushes, merges updates, ignores other topics', () => {
    const s = new MdaStore();
    let calls = 0;
    s.on(() => calls++);
    s.handle({ type: 'mda_event', item: { id: 'mda-gap-1', status: 'open', type: 'gap' } });
    s.handle({ type: 'mda_event', item: { id: 'mda-gap-1', status: 'closed' } });
    s.handle({ type: 'incident', item: { id: 'x' } });
    s.handle({ type: 'tracks', items: [] } as never);
    expect(s.events.size).toBe(1);
    expect(s.events.get('mda-gap-1')).toMatchObject({ type: 'gap', status: 'closed' });
    expect(s.pushed.has('mda-gap-1')).toBe(true);
    expect(calls).toBe(2);
  });
  it('zones and watchlist entries come and go', () => {
    const s = new MdaStore();
    s.handle({ type: 'mda_zone', item: { id: 'z1' } });
    s.handle({ type: 'mda_watch', item: { id: 'w1' } });
    expect(s.zones.size + s.watchlist.size).toBe(2);
    s.handle({ type: 'mda_zone', item: { id: 'z1', deleted: true } });
    expect(s.zones.size).toBe(0);
  });
});
