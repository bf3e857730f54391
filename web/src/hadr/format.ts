/** Small display helpers for HADR records (no literals: words come from the catalogs). */
import type { Lang } from '../i18n';
import type { Bilingual } from '../types';

/** A bilingual text in the UI language, falling back to the other one. */
export function pick(text: Bilingual | null | undefined, lang: Lang): string {
  if (!text) return '';
  return (lang === 'ja' ? text.ja || text.en : text.en || text.ja) ?? '';
}

export function formatQty(n: number | null | undefined, lang: Lang): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  return new Intl.NumberFormat(lang === 'ja' ? 'ja-JP' : 'en-US', { maximumFractionDigits: 1 }).format(n);
}

/** Fractions of the requested quantity for a gap bar (each clamped to 0…1, cumulative order kept). */
export function gapFractions(line: {
  requested: number;
  offered: number;
  committed: number;
  in_transit: number;
  delivered: number;
}): { delivered: number; inTransit: number; committed: number; offered: number; gap: number } {
  const req = line.requested > 0 ? line.requested : 0;
  const f = (x: number) => (req ? Math.max(0, Math.min(1, x / req)) : 0);
  const delivered = f(line.delivered);
  const inTransit = Math.min(1 - delivered, f(line.in_transit));
  const committed = Math.min(1 - delivered - inTransit, Math.max(0, f(line.committed) - delivered - inTransit));
  const offered = Math.min(1 - delivered - inTransit - committed, Math.max(0, f(line.offered) - f(line.committed)));
  const gap = Math.max(0, 1 - delivered - inTransit - committed);
  return { delivered, inTransit, committed, offered, gap };
}
