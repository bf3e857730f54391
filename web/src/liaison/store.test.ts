import { describe, expect, it } from 'vitest';
import { LiaisonStore } from './store';
import type { ActionItem, Today } from './api';

const item = (over: Partial<ActionItem> = {}): ActionItem =>
  ({
    id: 'ai-1',
    status: 'OPEN',
    due: '2026-12-02T00:00:00.000Z',
    allowed_transitions: ['IN_PROGRESS', 'SKIPPED', 'DONE'],
    may_concur: false,
    may_edit: true,
    chair: { user: 'us.chair', node: 'usfj', nation: 'USA' },
    ...over,
  }) as ActionItem;

const today: Today = { date: '2026-12-01', requests: [], rfas: [], action_items: [], injects: [] };

function store(me = 'us.chair') {
  return new LiaisonStore(me, {
    groups: async () => [],
    meetings: async () => [],
    items: async () => [item()],
    entries: async () => [],
    today: async () => today,
  });
}

describe('LiaisonStore', () => {
  it('loads everything and keeps the caller transitions across pushes', async () => {
    const s = store();
    let calls = 0;
    s.subscribe(() => calls++);
    await s.loadAll();
    expect([...s.items.keys()]).toEqual(['ai-1']);
    expect(s.today?.date).toBe('2026-12-01');
    expect(s.handlePush({ type: 'action_item', item: item({ status: 'IN_PROGRESS', allowed_transitions: [] }) })).toBe(true);
    const held = s.items.get('ai-1')!;
    expect(held.status).toBe('IN_PROGRESS');
    expect(held.allowed_transitions).toEqual(['IN_PROGRESS', 'SKIPPED', 'DONE']);
    expect(calls).toBe(2);
    expect(s.handlePush({ type: 'request', item: {} })).toBe(false);
  });

  it('keeps an escalation for the chair once, not for others', () => {
    const chair = store('us.chair');
    const other = store('jp.ao');
    const msg = { type: 'action_item_alert', item: { id: 'ai-1:escalation', kind: 'escalation', to: 'us.chair', item: item() } };
    chair.handlePush(msg);
    chair.handlePush(msg);
    other.handlePush(msg);
    expect(chair.alerts.map((a) => a.id)).toEqual(['ai-1:escalation']);
    expect(other.alerts).toEqual([]);
  });
});
