import { afterEach, describe, expect, it, vi } from 'vitest';
import { debounce, dueOf, groupNodes, hint, needsReason, pick, reassignBody, sortItems, typed } from './format';
import type { ActionItem } from './api';

describe('liaison format', () => {
  afterEach(() => vi.useRealTimers());

  it('picks the reader language and falls back to the other', () => {
    expect(pick({ en: 'Open', ja: '未着手' }, 'ja')).toBe('未着手');
    expect(pick({ en: 'Only English', ja: '' }, 'ja')).toBe('Only English');
    expect(pick({ en: ' ', ja: '日本語' }, 'en')).toBe('日本語');
    expect(pick(null, 'en')).toBe('');
    expect(typed('同盟', 'ja')).toEqual({ en: '', ja: '同盟' });
  });

  it('skipping needs a reason, nothing else does', () => {
    expect(needsReason('SKIPPED')).toBe(true);
    expect(needsReason('DONE')).toBe(false);
  });

  it('lists open items first, by due date', () => {
    const item = (id: string, status: string, due: string) => ({ id, status, due }) as unknown as ActionItem;
    const out = sortItems([item('a', 'DONE', '2026-01-01'), item('b', 'OPEN', '2026-03-01'), item('c', 'IN_PROGRESS', '2026-02-01')]);
    expect(out.map((i) => i.id)).toEqual(['c', 'b', 'a']);
  });

  it('hints the other language of the term typed', () => {
    const t = { en: 'Alliance Coordination Group', ja: '同盟調整グループ', status: 'official', official: true, matched: 'ja' as const, other: 'Alliance Coordination Group' };
    expect(hint(t)).toEqual({ typed: '同盟調整グループ', other: 'Alliance Coordination Group', official: true });
  });

  it('builds one reassignment for the selected items', () => {
    expect(reassignBody(['a', 'b', 'a'], 'ocr', { office: ' J5 ', node: 'jjoc', nation: 'jpn' })).toEqual({
      ids: ['a', 'b'],
      opr: null,
      ocr: { office: 'J5', node: 'jjoc', nation: 'JPN', user: '' },
    });
  });

  it('offers the nodes of a group once each, with their nation', () => {
    const people = [
      { node: 'usfj', nation: 'USA' },
      { node: 'jjoc', nation: 'JPN' },
      { node: 'usfj', nation: 'JPN' },
    ];
    expect(groupNodes(people)).toEqual([
      { node: 'jjoc', nation: 'JPN' },
      { node: 'usfj', nation: 'USA' },
    ]);
    expect(dueOf('2026-12-24')).toBe('2026-12-24T23:59:59Z');
  });

  it('debounces to the last call', () => {
    vi.useFakeTimers();
    const seen: string[] = [];
    const f = debounce((s: string) => seen.push(s), 300);
    f('A');
    f('Al');
    vi.advanceTimersByTime(299);
    expect(seen).toEqual([]);
    f('All');
    vi.advanceTimersByTime(300);
    expect(seen).toEqual(['All']);
    f('x');
    f.cancel();
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual(['All']);
  });
});
