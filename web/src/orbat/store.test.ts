import { describe, expect, it } from 'vitest';
import { OrbatStore } from './store';
import type { Tree } from './types';

const tree = (at: string): Tree => ({ at, units: [], coordination: [], historical_units: false });

describe('OrbatStore', () => {
  it('loads the tree as of the chosen instant', async () => {
    const asked: (string | null)[] = [];
    const s = new OrbatStore(async (at) => {
      asked.push(at);
      return tree(at ?? 'now');
    });
    await s.reload();
    await s.setAt('2026-03-01T23:59:59.000Z');
    expect(asked).toEqual([null, '2026-03-01T23:59:59.000Z']);
    expect(s.tree?.at).toBe('2026-03-01T23:59:59.000Z');
  });
  it('reloads once for a burst of unit pushes and ignores other topics', async () => {
    let loads = 0;
    const s = new OrbatStore(async () => {
      loads++;
      return tree('now');
    }, 5);
    expect(s.handle({ type: 'unit' })).toBe(true);
    expect(s.handle({ type: 'unit_relation' })).toBe(true);
    expect(s.handle({ type: 'mda_event' })).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect(loads).toBe(1);
    expect(s.pushes).toBe(2);
  });
  it('keeps the newest answer when an older one arrives late', async () => {
    const resolvers: ((t: Tree) => void)[] = [];
    const s = new OrbatStore(() => new Promise<Tree>((r) => resolvers.push(r)));
    const first = s.setAt('2026-01-01T00:00:00Z');
    const second = s.setAt(null);
    resolvers[1](tree('now'));
    resolvers[0](tree('old'));
    await Promise.all([first, second]);
    expect(s.tree?.at).toBe('now');
  });
  it('keeps the error of a failed load', async () => {
    const s = new OrbatStore(async () => {
      throw new Error('boom');
    });
    await s.reload();
    expect(String(s.error)).toContain('boom');
    expect(s.loading).toBe(false);
  });
});
