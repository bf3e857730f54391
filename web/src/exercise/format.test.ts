import { describe, expect, it } from 'vitest';
import { activeOverride, mayDeclare, pick, progress, timeline } from './format';
import { exercise, inject, override } from './fixtures';

describe('exercise timeline', () => {
  it('orders milestones, STARTEX, injects by time and sequence, ENDEX', () => {
    const entries = timeline(exercise(), [inject(2, '2030-02-01T00:00:00.000Z'), inject(1, '2030-02-01T00:00:00.000Z'), inject(3, '2030-01-31T00:00:00.000Z')]);
    expect(entries.map((e) => (e.kind === 'inject' ? `i${e.inject?.seq}` : e.kind))).toEqual(['i3', 'milestone', 'startex', 'i1', 'i2', 'endex']);
  });
  it('picks the reader language and falls back', () => {
    expect(pick({ en: 'A', ja: 'あ' }, 'ja')).toBe('あ');
    expect(pick({ en: 'A', ja: '' }, 'ja')).toBe('A');
    expect(pick(null, 'en')).toBe('');
  });
  it('shows the newest active override', () => {
    const ex = exercise({ overrides: [override('a', 'ACTIVE', '2030-02-01T01:00:00Z'), override('b', 'ACTIVE', '2030-02-01T02:00:00Z'), override('c', 'LIFTED', '2030-02-01T03:00:00Z')] });
    expect(activeOverride(ex)?.id).toBe('b');
    expect(activeOverride(exercise())).toBeNull();
  });
  it('lets participants declare while running only', () => {
    expect(mayDeclare(exercise(), 'aus')).toBe(true);
    expect(mayDeclare(exercise(), 'usfj')).toBe(true);
    expect(mayDeclare(exercise(), 'nato')).toBe(false);
    expect(mayDeclare(exercise({ status: 'FINISHED' }), 'aus')).toBe(false);
  });
  it('places an instant between STARTEX and ENDEX', () => {
    expect(progress(exercise(), '2030-02-06T00:00:00.000Z')).toBeCloseTo(0.5);
    expect(progress(exercise(), '2031-01-01T00:00:00.000Z')).toBe(1);
  });
});
