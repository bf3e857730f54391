/**
 * MIL-STD-2525D symbols drawn by milsymbol, one image per SIDC (cached by MapLibre
 * under "sidc-<code>"), padded so the symbol's anchor is the image centre.
 * Cluster badges are images too ("cluster-<count>"), since the style has no glyphs.
 * The live map's track overlay (trackOverlay.ts) draws the same symbols from canvases.
 */
import ms from 'milsymbol';

export interface RasterImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

const PIXEL_RATIO = Math.max(1, Math.min(2, Math.round(globalThis.devicePixelRatio || 1)));
export const IMAGE_PIXEL_RATIO = PIXEL_RATIO;

function toImage(canvas: HTMLCanvasElement): RasterImage {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width: img.width, height: img.height, data: img.data };
}

export function symbolImage(sidc: string, size = 22): RasterImage {
  return toImage(symbolCanvas(sidc, size));
}

/** The symbol of `sidc` on a canvas at IMAGE_PIXEL_RATIO, its anchor at the centre. */
export function symbolCanvas(sidc: string, size = 22): HTMLCanvasElement {
  const sym = new ms.Symbol(sidc, { size, outlineWidth: 2, outlineColor: 'rgba(0,0,0,0.6)' });
  const src = sym.asCanvas(PIXEL_RATIO);
  const anchor = sym.getAnchor();
  const ax = anchor.x * PIXEL_RATIO;
  const ay = anchor.y * PIXEL_RATIO;
  const halfW = Math.ceil(Math.max(ax, src.width - ax));
  const halfH = Math.ceil(Math.max(ay, src.height - ay));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, halfW * 2);
  canvas.height = Math.max(1, halfH * 2);
  canvas.getContext('2d')!.drawImage(src, halfW - ax, halfH - ay);
  return canvas;
}

export function clusterImage(text: string): RasterImage {
  return toImage(clusterCanvas(text));
}

/** A cluster badge ("12", "1.2k") on a canvas at IMAGE_PIXEL_RATIO. */
export function clusterCanvas(text: string): HTMLCanvasElement {
  const r = 17 * PIXEL_RATIO;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = r * 2 + 4;
  const ctx = canvas.getContext('2d')!;
  ctx.beginPath();
  ctx.arc(r + 2, r + 2, r, 0, Math.PI * 2);
  ctx.fillStyle = 'rgba(20, 60, 110, 0.85)';
  ctx.fill();
  ctx.lineWidth = 2 * PIXEL_RATIO;
  ctx.strokeStyle = '#cfe3ff';
  ctx.stroke();
  ctx.fillStyle = '#ffffff';
  ctx.font = `bold ${11 * PIXEL_RATIO}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, r + 2, r + 2);
  return canvas;
}
