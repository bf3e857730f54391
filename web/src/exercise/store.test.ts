import { describe, expect, it, vi } from 'vitest';
import { ExerciseStore } from './store';
import { exercise, inject } from './fixtures';

describe('ExerciseStore', () => {
  it('selects the first exercise and loads its MSEL', async () => {
    const load = { list: vi.fn(async () => [exercise(), exercise({ id: 'e2' })]), injects: vi.fn(async (id: string) => (id === 'e1' ? [inject(1, '2030-02-01T00:00:00Z')] : [])) };
    const store = new ExerciseStore(load, 0);
    await store.reload();
    expect(store.selected).toBe('e1');
    expect(store.injects.map((i) => i.seq)).toEqual([1]);
    await store.select('e2');
    expect(store.current?.id).toBe('e2');
    expect(store.injects).toEqual([]);
  });
  it('reloads on exercise pushes only', async () => {
    vi.useFakeTimers();
    const load = { list: vi.fn(async () => [exercise()]), injects: vi.fn(async () => []) };
    const store = new ExerciseStore(load, 50);
    expect(store.handle({ type: 'request' })).toBe(false);
    expect(store.handle({ type: 'exercise' })).toBe(true);
    expect(store.handle({ type: 'exercise' })).toBe(true);
    await vi.advanceTimersByTimeAsync(60);
    expect(load.list).toHaveBeenCalledTimes(1);
    vi.useRealTimers();
  });
  it('keeps the error of a failed load', async () => {
    const store = new ExerciseStore({ list: async () => Promise.reject(new Error('down')), injects: async () => [] }, 0);
    await store.reload();
    expect(String(store.error)).toContain('down');
  });
});
