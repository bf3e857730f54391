/** Pure helpers of the exercise view: the timeline, names, the override on show. */
import type { Exercise, Inject, Override } from './types';

type Lang = 'en' | 'ja';

export interface TimelineEntry {
  key: string;
  kind: 'milestone' | 'startex' | 'endex' | 'inject';
  at: string;
  stage?: string;
  inject?: Inject;
  name?: { en: string; ja: string };
}

/** A bilingual text in the reader's language, falling back to the other. */
export function pick(text: { en: string; ja: string } | null | undefined, lang: Lang): string {
  if (!text) return '';
  return lang === 'ja' ? text.ja || text.en : text.en || text.ja;
}

/** Milestones, STARTEX, ENDEX and the injects (at STARTEX + offset), in time order;
 * at equal times milestones first, then STARTEX, injects by sequence, ENDEX last. */
export function timeline(ex: Exercise, injects: Inject[]): TimelineEntry[] {
  const order = { milestone: 0, startex: 1, inject: 2, endex: 3 } as const;
  const out: TimelineEntry[] = [
    ...ex.milestones.map((m, i) => ({ key: `m${i}`, kind: 'milestone' as const, at: m.at, stage: m.stage, name: m.name })),
    { key: 'startex', kind: 'startex', at: ex.startex },
    { key: 'endex', kind: 'endex', at: ex.endex },
    ...injects.map((inj) => ({ key: `i-${inj.id}`, kind: 'inject' as const, at: inj.due_at, inject: inj })),
  ];
  return out.sort(
    (a, b) =>
      Date.parse(a.at) - Date.parse(b.at) ||
      order[a.kind] - order[b.kind] ||
      (a.inject?.seq ?? 0) - (b.inject?.seq ?? 0),
  );
}

/** The override that explains a pause: the newest active one, if any. */
export function activeOverride(ex: Exercise): Override | null {
  const active = ex.overrides.filter((o) => o.status === 'ACTIVE');
  active.sort((a, b) => Date.parse(b.declared_at) - Date.parse(a.declared_at));
  return active[0] ?? null;
}

/** Whether this node's user may declare a real-world emergency now. */
export function mayDeclare(ex: Exercise, nodeId: string): boolean {
  return ex.status === 'RUNNING' && (ex.lead_node === nodeId || ex.participants.some((p) => p.node === nodeId));
}

/** Position of an instant between STARTEX and ENDEX, 0..1 (clamped), for the bar. */
export function progress(ex: Exercise, at: string): number {
  const a = Date.parse(ex.startex);
  const b = Date.parse(ex.endex);
  if (!(b > a)) return 0;
  return Math.min(1, Math.max(0, (Date.parse(at) - a) / (b - a)));
}
