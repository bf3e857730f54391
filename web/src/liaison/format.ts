/** Pure helpers of the liaison view: bilingual text, statuses, debouncing, hints. */
import type { ActionItem, Bilingual, Office, ReassignBody, Term } from './api';

export type Lang = 'en' | 'ja';

/** The text in the reader's language, else the other one. */
export function pick(text: Bilingual | null | undefined, lang: Lang): string {
  if (!text) return '';
  const own = (lang === 'ja' ? text.ja : text.en) ?? '';
  return own.trim() ? own : ((lang === 'ja' ? text.en : text.ja) ?? '');
}

/** A bilingual text from what was typed in one language (the other left to translate). */
export function typed(value: string, lang: Lang): Bilingual {
  return lang === 'ja' ? { en: '', ja: value } : { en: value, ja: '' };
}

/** Whether a transition to ``to`` needs a reason (skipping does). */
export function needsReason(to: string): boolean {
  return to === 'SKIPPED';
}

/** Items in the order the board lists them: open ones first, then by due date. */
export function sortItems(items: ActionItem[]): ActionItem[] {
  const closed = (i: ActionItem) => (i.status === 'DONE' || i.status === 'SKIPPED' ? 1 : 0);
  return [...items].sort((a, b) => closed(a) - closed(b) || a.due.localeCompare(b.due) || a.id.localeCompare(b.id));
}

/** The glossary hint for one term: what was typed and the other language's term. */
export function hint(term: Term): { typed: string; other: string; official: boolean } {
  return { typed: term.matched === 'en' ? term.en : term.ja, other: term.other, official: term.official };
}

/** Call ``fn`` once ``ms`` after the last call (typing pauses); ``cancel`` drops a pending one. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = (...args: A) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
  run.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return run;
}

/** The body of a bulk reassignment of the selected items to one office, as OPR or OCR. */
export function reassignBody(
  ids: Iterable<string>,
  role: 'opr' | 'ocr',
  office: { office: string; node: string; nation: string; user?: string },
): ReassignBody {
  // The node checks the nation (422 for one it does not know).
  const o = { office: office.office.trim(), node: office.node.trim(), nation: office.nation.trim().toUpperCase() as Office['nation'], user: (office.user ?? '').trim() };
  return { ids: [...new Set(ids)], opr: role === 'opr' ? o : null, ocr: role === 'ocr' ? o : null };
}

/** The nodes a working group's people are on, each with its nation (the choices of an office). */
export function groupNodes(people: { node: string; nation: string }[]): { node: string; nation: string }[] {
  const seen = new Map<string, string>();
  for (const p of people) if (!seen.has(p.node)) seen.set(p.node, p.nation);
  return [...seen].map(([node, nation]) => ({ node, nation })).sort((a, b) => a.node.localeCompare(b.node));
}

/** A due date picked as a day: the end of that day, UTC. */
export function dueOf(day: string): string {
  return `${day}T23:59:59Z`;
}
