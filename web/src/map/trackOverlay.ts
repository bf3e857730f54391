/**
 * The live tracks, drawn on a 2D canvas laid over the MapLibre canvas.
 *
 * Why not a MapLibre layer: every change of a GeoJSON source re-tiles it in the workers and
 * repaints the whole WebGL map. With software WebGL (SwiftShader, as on this project's test
 * machines) one full map frame at 1600x950 costs 80-170 ms whatever the layers, so 1,000
 * updates/s kept the page at 6-14 fps (bench/web_map.py). Here the basemap is repainted only
 * when the camera moves; a track update redraws this canvas alone, at most once per
 * animation frame and every MIN_REDRAW_MS:
 *   - each SIDC is rendered once by milsymbol into a cached canvas (symbols.ts);
 *   - below CLUSTER_MAX_ZOOM + 1 tracks are grouped by a grid of CLUSTER_CELL world pixels
 *     (cluster.ts), as the GeoJSON source's clustering did;
 *   - positions are projected with Web Mercator arithmetic (the map never rotates or pitches).
 * Clicks and the pointer cursor are hit-tested against what was drawn last.
 */
import type { Map as MLMap, MapMouseEvent } from 'maplibre-gl';
import type { LiveStore } from '../live';
import { abbreviate, gridCluster, mercX, mercY, worldSize } from './cluster';
import { clusterCanvas, IMAGE_PIXEL_RATIO, symbolCanvas } from './symbols';

export const CLUSTER_MAX_ZOOM = 7;
const CLUSTER_CELL = 48;
const MIN_REDRAW_MS = 100;
const DEFAULT_SIDC = '10012500001100000000';

export interface OverlayStats {
  /** Tracks with a position when the overlay last drew (shown as symbols or in clusters). */
  drawnTracks: number;
  /** performance.now() after the last draw, and its cost in ms. */
  drawnAt: number;
  drawMs: number;
  /** ms from the first store change a draw covered to the end of that draw. */
  latencyMs: number;
  draws: number;
}

interface Hit {
  x: number;
  y: number;
  half: number;
  /** A track id, or null for a cluster (a click zooms in on it). */
  id: string | null;
}

export class TrackOverlay {
  readonly canvas: HTMLCanvasElement;
  readonly stats: OverlayStats = { drawnTracks: 0, drawnAt: 0, drawMs: 0, latencyMs: 0, draws: 0 };
  onDraw: (() => void) | null = null;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly sprites = new Map<string, HTMLCanvasElement>();
  private hits: Hit[] = [];
  private selected: string | null = null;
  private dirtySince = 0;
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastDraw = 0;
  private width = 0;
  private height = 0;
  private readonly off: (() => void)[] = [];

  constructor(
    private readonly map: MLMap,
    private readonly store: LiveStore,
    private readonly onSelect: (id: string) => void,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'track-overlay';
    Object.assign(this.canvas.style, { position: 'absolute', left: '0', top: '0', pointerEvents: 'none' });
    // Above the map's canvas, below its DOM markers (facility labels, the selected callout).
    const gl = map.getCanvas();
    gl.parentElement!.insertBefore(this.canvas, gl.nextSibling);
    this.ctx = this.canvas.getContext('2d')!;
    this.resize();

    // Camera changes: draw in the same frame as the map, so symbols never lag the basemap.
    const onRender = () => {
      if (this.cameraKey() !== this.drawnCamera) this.draw();
    };
    const onResize = () => {
      this.resize();
      this.draw();
    };
    const onClick = (e: MapMouseEvent) => this.click(e);
    const onMove = (e: MapMouseEvent) => {
      const over = this.hitAt(e.point.x, e.point.y) !== null;
      if (over) this.map.getCanvas().style.cursor = 'pointer';
      else if (this.pointer) this.map.getCanvas().style.cursor = '';
      this.pointer = over;
    };
    map.on('render', onRender);
    map.on('resize', onResize);
    map.on('click', onClick);
    map.on('mousemove', onMove);
    this.off.push(
      () => map.off('render', onRender),
      () => map.off('resize', onResize),
      () => map.off('click', onClick),
      () => map.off('mousemove', onMove),
      store.onTracks(() => this.invalidate()),
    );
    this.invalidate();
  }

  private pointer = false;
  private drawnCamera = '';

  private cameraKey(): string {
    const c = this.map.getCenter();
    return `${c.lng},${c.lat},${this.map.getZoom()},${this.width},${this.height}`;
  }

  setSelected(id: string | null): void {
    this.selected = id;
    this.draw();
  }

  /** Tracks changed: redraw on a coming animation frame, no sooner than MIN_REDRAW_MS after the last. */
  invalidate(): void {
    if (!this.dirtySince) this.dirtySince = performance.now();
    if (this.frame || this.timer) return;
    const wait = this.lastDraw + MIN_REDRAW_MS - performance.now();
    const request = () => {
      this.timer = null;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    };
    if (wait > 0) this.timer = setTimeout(request, wait);
    else request();
  }

  remove(): void {
    this.off.forEach((f) => f());
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.canvas.remove();
  }

  private resize(): void {
    const gl = this.map.getCanvas();
    const dpr = globalThis.devicePixelRatio || 1;
    this.width = gl.clientWidth;
    this.height = gl.clientHeight;
    this.canvas.width = Math.max(1, Math.round(this.width * dpr));
    this.canvas.height = Math.max(1, Math.round(this.height * dpr));
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
  }

  private sprite(key: string, make: () => HTMLCanvasElement): HTMLCanvasElement {
    let s = this.sprites.get(key);
    if (!s) {
      s = make();
      this.sprites.set(key, s);
    }
    return s;
  }

  /** Draw now (synchronously). */
  draw(): void {
    // While the map view is hidden its size is 0: draw when it shows again (map 'resize').
    if (!this.width || !this.height) this.resize();
    if (!this.width || !this.height) return;
    const t0 = performance.now();
    const { ctx, map } = this;
    const zoom = map.getZoom();
    const ws = worldSize(zoom);
    const c = map.getCenter();
    const ox = mercX(c.lng, ws) - this.width / 2;
    const oy = mercY(c.lat, ws) - this.height / 2;
    const dpr = this.canvas.width / Math.max(1, this.width);
    const margin = CLUSTER_CELL;
    // Tracks in view (with a margin), in world pixels.
    const n = this.store.tracks.size;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    const ids: string[] = [];
    const sidcs: string[] = [];
    let positioned = 0;
    let k = 0;
    for (const t of this.store.tracks.values()) {
      if (typeof t.lat !== 'number' || typeof t.lon !== 'number') continue;
      positioned++;
      const x = mercX(t.lon, ws);
      const y = mercY(t.lat, ws);
      const sx = x - ox;
      const sy = y - oy;
      if (sx < -margin || sy < -margin || sx > this.width + margin || sy > this.height + margin) continue;
      xs[k] = x;
      ys[k] = y;
      ids.push(t.id);
      sidcs.push(t.sidc || DEFAULT_SIDC);
      k++;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const hits: Hit[] = [];
    const put = (img: HTMLCanvasElement, x: number, y: number, id: string | null) => {
      const w = img.width / IMAGE_PIXEL_RATIO;
      const h = img.height / IMAGE_PIXEL_RATIO;
      ctx.drawImage(img, x - w / 2, y - h / 2, w, h);
      hits.push({ x, y, half: Math.max(w, h) / 2, id });
    };
    let selectedAt: [number, number] | null = null;
    if (zoom < CLUSTER_MAX_ZOOM + 1) {
      for (const cl of gridCluster(xs, ys, k, CLUSTER_CELL)) {
        if (cl.members.length === 1) {
          const i = cl.members[0];
          put(this.sprite(sidcs[i], () => symbolCanvas(sidcs[i])), xs[i] - ox, ys[i] - oy, ids[i]);
          if (ids[i] === this.selected) selectedAt = [xs[i] - ox, ys[i] - oy];
        } else {
          const text = abbreviate(cl.members.length);
          put(this.sprite(`cluster-${text}`, () => clusterCanvas(text)), cl.x - ox, cl.y - oy, null);
        }
      }
    } else {
      for (let i = 0; i < k; i++) {
        put(this.sprite(sidcs[i], () => symbolCanvas(sidcs[i])), xs[i] - ox, ys[i] - oy, ids[i]);
        if (ids[i] === this.selected) selectedAt = [xs[i] - ox, ys[i] - oy];
      }
    }
    if (selectedAt) {
      ctx.beginPath();
      ctx.arc(selectedAt[0], selectedAt[1], 16, 0, Math.PI * 2);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = '#ffd84d';
      ctx.stroke();
    }
    this.hits = hits;
    this.drawnCamera = this.cameraKey();
    const now = performance.now();
    this.lastDraw = now;
    const s = this.stats;
    s.drawnTracks = positioned;
    s.drawnAt = now;
    s.drawMs = now - t0;
    s.latencyMs = this.dirtySince ? now - this.dirtySince : 0;
    s.draws++;
    this.dirtySince = 0;
    this.onDraw?.();
  }

  /** The topmost item drawn at a point (CSS pixels in the map), or null. */
  private hitAt(x: number, y: number): Hit | null {
    for (let i = this.hits.length - 1; i >= 0; i--) {
      const h = this.hits[i];
      if (Math.abs(h.x - x) <= h.half && Math.abs(h.y - y) <= h.half) return h;
    }
    return null;
  }

  private click(e: MapMouseEvent): void {
    const h = this.hitAt(e.point.x, e.point.y);
    if (!h) return;
    if (h.id) this.onSelect(h.id);
    else this.map.easeTo({ center: this.map.unproject([h.x, h.y]), zoom: Math.min(CLUSTER_MAX_ZOOM + 1, this.map.getZoom() + 2) });
  }
}
