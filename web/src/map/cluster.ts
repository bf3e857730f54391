/**
 * Level of detail for the live map at low zoom: points are grouped by a grid in world
 * pixels (so a cluster does not jump while the map pans), each group drawn at the mean
 * position of its members. Pure: unit-tested without a map.
 */

/** Web Mercator world pixels at zoom `z` (512-pixel tiles, as MapLibre). */
export function worldSize(z: number): number {
  return 512 * 2 ** z;
}

export function mercX(lon: number, ws: number): number {
  return ((lon + 180) / 360) * ws;
}

export function mercY(lat: number, ws: number): number {
  const l = Math.max(-85.051129, Math.min(85.051129, lat));
  return ((180 - (180 / Math.PI) * Math.log(Math.tan(Math.PI / 4 + (l * Math.PI) / 360))) / 360) * ws;
}

export interface Cluster {
  x: number;
  y: number;
  /** Indices of the members in the input arrays. */
  members: number[];
}

/**
 * Group points (world-pixel coordinates xs/ys, `n` of them) into grid cells of `cell` pixels.
 * A cell of one point stays that point; larger cells become one cluster at the members' mean.
 */
export function gridCluster(xs: Float64Array, ys: Float64Array, n: number, cell: number): Cluster[] {
  const cells = new Map<number, Cluster>();
  const out: Cluster[] = [];
  for (let i = 0; i < n; i++) {
    // Cell keys: column and row packed in one number (world pixels stay below 2^26 at zoom 17).
    const key = Math.floor(xs[i] / cell) * 67_108_864 + Math.floor(ys[i] / cell);
    let c = cells.get(key);
    if (!c) {
      c = { x: 0, y: 0, members: [] };
      cells.set(key, c);
      out.push(c);
    }
    c.x += xs[i];
    c.y += ys[i];
    c.members.push(i);
  }
  for (const c of out) {
    c.x /= c.members.length;
    c.y /= c.members.length;
  }
  return out;
}

/** A cluster's count as its badge shows it (as supercluster abbreviates: 950, 1.2k, 12k). */
export function abbreviate(count: number): string {
  if (count >= 10_000) return `${Math.round(count / 1000)}k`;
  if (count >= 1000) return `${Math.round(count / 100) / 10}k`;
  return String(count);
}
