import { describe, expect, it } from 'vitest';
import { abbreviate, gridCluster, mercX, mercY, worldSize } from './cluster';

describe('track clustering for the live map', () => {
  it('projects like Web Mercator on 512-pixel tiles', () => {
    const ws = worldSize(0);
    expect(ws).toBe(512);
    expect(mercX(0, ws)).toBeCloseTo(256, 9);
    expect(mercY(0, ws)).toBeCloseTo(256, 9);
    expect(mercX(-180, ws)).toBeCloseTo(0, 9);
    expect(mercY(85.051129, ws)).toBeCloseTo(0, 3);
    // Tokyo at zoom 4: x = (139.69 + 180) / 360 * 8192
    expect(mercX(139.69, worldSize(4))).toBeCloseTo(7274.9, 0);
    expect(mercY(35.69, worldSize(4))).toBeGreaterThan(mercY(40, worldSize(4)));
  });

  it('groups points of one grid cell at their mean and keeps lone points as they are', () => {
    const xs = Float64Array.from([10, 20, 30, 200, 1000]);
    const ys = Float64Array.from([10, 40, 25, 10, 1000]);
    const out = gridCluster(xs, ys, 5, 48);
    const sizes = out.map((c) => c.members.length).sort();
    expect(sizes).toEqual([1, 1, 3]);
    const big = out.find((c) => c.members.length === 3)!;
    expect(big.members.sort()).toEqual([0, 1, 2]);
    expect(big.x).toBeCloseTo(20, 9);
    expect(big.y).toBeCloseTo(25, 9);
    const lone = out.find((c) => c.members[0] === 4)!;
    expect([lone.x, lone.y]).toEqual([1000, 1000]);
  });

  it('counts every point once, whatever the spread', () => {
    const n = 10_000;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = ((i * 7919) % 10_000) / 10;
      ys[i] = ((i * 104_729) % 10_000) / 12;
    }
    const out = gridCluster(xs, ys, n, 48);
    expect(out.reduce((a, c) => a + c.members.length, 0)).toBe(n);
    expect(new Set(out.flatMap((c) => c.members)).size).toBe(n);
    expect(out.length).toBeLessThan(1000);
  });

  it('abbreviates counts as the badges show them', () => {
    expect(abbreviate(7)).toBe('7');
    expect(abbreviate(999)).toBe('999');
    expect(abbreviate(1234)).toBe('1.2k');
    expect(abbreviate(12_345)).toBe('12k');
  });
});
