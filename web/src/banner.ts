/**
 * Classification banner for what is on screen: the highest classification,
 * and what the screen as a whole is releasable to (the intersection of the
 * REL TO lists; NOFORN if any item is NOFORN), plus the exercise marking.
 */
import type { Labelled } from './types';

const RANK: Record<string, number> = {
  UNCLASSIFIED: 0,
  CONFIDENTIAL: 1,
  SECRET: 2,
  'TOP SECRET': 3,
  TOP_SECRET: 3,
};

export const CLASS_NAMES = ['UNCLASSIFIED', 'CONFIDENTIAL', 'SECRET', 'TOP SECRET'] as const;
export type ClassName = (typeof CLASS_NAMES)[number];

/** U.S. banner colours; text colour chosen for contrast. */
export const BANNER_COLOURS: Record<ClassName, { bg: string; fg: string }> = {
  UNCLASSIFIED: { bg: '#007a33', fg: '#ffffff' },
  CONFIDENTIAL: { bg: '#0033a0', fg: '#ffffff' },
  SECRET: { bg: '#c8102e', fg: '#ffffff' },
  'TOP SECRET': { bg: '#ff8c00', fg: '#000000' },
};

/** Japanese secrecy levels of the U.S.–Japan MDA (glossary.csv), as the backend renders them. */
export const CLASS_JA: Record<ClassName, string> = {
  UNCLASSIFIED: '指定なし',
  CONFIDENTIAL: '秘',
  SECRET: '極秘',
  'TOP SECRET': '機密',
};

/** Group tetragraphs every node knows (see kizuna.core.labels.STANDARD_GROUPS). */
const NATO = 'ALB BEL BGR CAN HRV CZE DNK EST FIN FRA DEU GRC HUN ISL ITA LVA LTU LUX MNE NLD MKD NOR POL PRT ROU SVK SVN ESP SWE TUR GBR USA'.split(
  ' ',
);
export const GROUPS: Record<string, string[]> = {
  FVEY: ['USA', 'GBR', 'CAN', 'AUS', 'NZL'],
  NATO,
};

export function rankOf(classification: string | undefined | null): number {
  if (!classification) return 0;
  const key = classification.trim().toUpperCase();
  return RANK[key] ?? 0;
}

export function sortRelTo(codes: Iterable<string>): string[] {
  return [...codes].sort((a, b) => {
    const ka = [a !== 'USA' ? 1 : 0, a.length !== 3 ? 1 : 0];
    const kb = [b !== 'USA' ? 1 : 0, b.length !== 3 ? 1 : 0];
    if (ka[0] !== kb[0]) return ka[0] - kb[0];
    if (ka[1] !== kb[1]) return ka[1] - kb[1];
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

export interface BannerState {
  classification: ClassName;
  /** null: no REL TO line (nothing restricts, or a classified item carries no REL TO). */
  relTo: string[] | null;
  noforn: boolean;
  exercise: boolean;
  count: number;
}

type LabelLike = Pick<Labelled, 'classification' | 'rel_to' | 'noforn' | 'exercise'>;

function expand(codes: string[]): Set<string> {
  const out = new Set<string>();
  for (const c of codes) {
    const g = GROUPS[c];
    if (g) g.forEach((n) => out.add(n));
    else out.add(c);
  }
  return out;
}

export function computeBanner(items: Iterable<Partial<LabelLike> | null | undefined>): BannerState {
  let rank = 0;
  let noforn = false;
  let exercise = false;
  let count = 0;
  let classifiedWithoutRel = false;
  // Intersection of the REL TO lists, tracked both as expanded nations and as raw tokens
  // (so that a group shared by every item stays a group in the banner).
  let nations = null as Set<string> | null;
  let tokens = null as Set<string> | null;
  for (const item of items) {
    if (!item) continue;
    count++;
    const r = rankOf(item.classification as string | undefined);
    if (r > rank) rank = r;
    if (item.noforn) noforn = true;
    if (item.exercise) exercise = true;
    const rel = item.rel_to ?? [];
    if (rel.length === 0) {
      if (r > 0) classifiedWithoutRel = true;
      continue; // unclassified with no REL TO restricts nothing
    }
    const exp = expand(rel);
    nations = nations === null ? exp : new Set([...nations].filter((n) => exp.has(n)));
    const raw = new Set(rel);
    tokens = tokens === null ? raw : new Set([...tokens].filter((n) => raw.has(n)));
  }
  const classification = CLASS_NAMES[rank];
  let relTo: string[] | null = null;
  if (!noforn && !classifiedWithoutRel && nations !== null) {
    // Keep group tetragraphs common to all lists; list remaining nations individually.
    const groups = [...(tokens ?? [])].filter((t) => GROUPS[t]);
    const covered = new Set<string>();
    groups.forEach((g) => GROUPS[g].forEach((n) => covered.add(n)));
    const rest = [...nations].filter((n) => !covered.has(n));
    relTo = sortRelTo([...rest, ...groups]);
  }
  // An intersection that leaves only the USA is effectively NOFORN for a U.S. screen.
  return { classification, relTo, noforn, exercise, count };
}

export function bannerText(state: BannerState, lang: 'en' | 'ja'): string {
  if (lang === 'ja') {
    const parts: string[] = [CLASS_JA[state.classification]];
    if (state.noforn) parts.push('外国提供不可');
    else if (state.relTo && state.relTo.length > 0 && state.classification !== 'UNCLASSIFIED')
      parts.push('提供可能範囲 ' + state.relTo.join('・'));
    else if (state.relTo && state.relTo.length === 0 && state.classification !== 'UNCLASSIFIED')
      parts.push('外国提供不可');
    return parts.join('//');
  }
  const parts: string[] = [state.classification];
  if (state.noforn) parts.push('NOFORN');
  else if (state.relTo && state.relTo.length > 0 && state.classification !== 'UNCLASSIFIED')
    parts.push('REL TO ' + state.relTo.join(', '));
  else if (state.relTo && state.relTo.length === 0 && state.classification !== 'UNCLASSIFIED')
    parts.push('NOFORN');
  return parts.join('//');
}

const CLASS_ALIASES: Record<string, ClassName> = {
  U: 'UNCLASSIFIED',
  UNCLASSIFIED: 'UNCLASSIFIED',
  C: 'CONFIDENTIAL',
  CONFIDENTIAL: 'CONFIDENTIAL',
  S: 'SECRET',
  SECRET: 'SECRET',
  TS: 'TOP SECRET',
  'TOP SECRET': 'TOP SECRET',
  TOP_SECRET: 'TOP SECRET',
};

/**
 * Label fields from a rendered marking ("SECRET//REL TO USA, JPN//EXERCISE"), for records
 * (such as comments) that carry only the marking string. Unknown markings count as
 * TOP SECRET//NOFORN so that a banner never understates what is on screen.
 */
export function parseMarking(marking: string): LabelLike {
  const [head, ...rest] = marking.split('//').map((s) => s.trim().toUpperCase().replace(/\s+/g, ' '));
  const classification = CLASS_ALIASES[head ?? ''];
  if (!classification) return { classification: 'TOP SECRET', rel_to: [], noforn: true, exercise: false };
  const out: LabelLike = { classification, rel_to: [], noforn: false, exercise: false };
  for (const seg of rest) {
    if (seg === 'NOFORN' || seg === 'NF') out.noforn = true;
    else if (seg === 'EXERCISE') out.exercise = true;
    else if (seg.startsWith('REL TO ')) out.rel_to.push(...seg.slice(7).split(/[\s,]+/).filter(Boolean));
  }
  return out;
}
