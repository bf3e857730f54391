/**
 * MDA event markers: one image per event type (the style has no glyphs), drawn on a canvas so
 * each type has its own shape and colour — gap: broken ring, loitering: ring with a curl,
 * encounter: two linked circles, spoofing: crossed diamond, zone: square with an entry mark.
 */
import { IMAGE_PIXEL_RATIO, type RasterImage } from './symbols';
import type { EventType } from '../mda/types';

export const MDA_COLOURS: Record<EventType, string> = {
  gap: '#ff9f1c',
  loitering: '#ffd60a',
  encounter: '#e056fd',
  spoofing: '#ff4d4d',
  zone: '#2ec4f1',
};

export const mdaImageId = (type: EventType) => `mda-${type}`;

export function mdaEventImage(type: EventType, size = 26): RasterImage {
  const px = IMAGE_PIXEL_RATIO;
  const s = size * px;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = s;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const c = s / 2;
  const r = s * 0.36;
  const colour = MDA_COLOURS[type];
  ctx.lineWidth = 3 * px;
  ctx.strokeStyle = colour;
  ctx.fillStyle = 'rgba(10, 16, 24, 0.75)';
  const halo = () => {
    ctx.save();
    ctx.lineWidth = 5.5 * px;
    ctx.strokeStyle = 'rgba(0,0,0,0.7)';
    ctx.stroke();
    ctx.restore();
    ctx.stroke();
  };
  ctx.beginPath();
  switch (type) {
    case 'gap':
      ctx.arc(c, c, r, 0, Math.PI * 2);
      ctx.fill();
      ctx.beginPath();
      ctx.arc(c, c, r, -Math.PI / 2 + 0.7, (3 * Math.PI) / 2 - 0.7);
      halo();
      break;
    case 'loitering':
      ctx.arc(c, c, r, 0, Math.PI * 2);
      ctx.fill();
      halo();
      ctx.beginPath();
      ctx.arc(c, c, r * 0.45, 0, Math.PI * 1.5);
      ctx.stroke();
      break;
    case 'encounter':
      ctx.arc(c - r * 0.45, c, r * 0.6, 0, Math.PI * 2);
      ctx.fill();
      halo();
      ctx.beginPath();
      ctx.arc(c + r * 0.45, c, r * 0.6, 0, Math.PI * 2);
      ctx.fill();
      halo();
      break;
    case 'spoofing':
      ctx.moveTo(c, c - r * 1.15);
      ctx.lineTo(c + r * 1.15, c);
      ctx.lineTo(c, c + r * 1.15);
      ctx.lineTo(c - r * 1.15, c);
      ctx.closePath();
      ctx.fill();
      halo();
      ctx.beginPath();
      ctx.moveTo(c - r * 0.4, c - r * 0.4);
      ctx.lineTo(c + r * 0.4, c + r * 0.4);
      ctx.moveTo(c + r * 0.4, c - r * 0.4);
      ctx.lineTo(c - r * 0.4, c + r * 0.4);
      ctx.stroke();
      break;
    case 'zone':
      ctx.rect(c - r, c - r, 2 * r, 2 * r);
      ctx.fill();
      halo();
      ctx.beginPath();
      ctx.moveTo(c - r * 0.5, c);
      ctx.lineTo(c + r * 0.5, c);
      ctx.moveTo(c + r * 0.1, c - r * 0.4);
      ctx.lineTo(c + r * 0.5, c);
      ctx.lineTo(c + r * 0.1, c + r * 0.4);
      ctx.stroke();
      break;
  }
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width: img.width, height: img.height, data: img.data };
}
