/**
 * Pure helpers of the network view: ordering, the clock between pushes, queue ages against
 * their handling-time objectives, durations and rates as catalog keys with parameters.
 */
import { OBJECTIVE_S, PEER_STATES, PRECEDENCES, type NetworkStatus, type PeerStatus, type Precedence, type QueueStatus } from './types';

/** A catalog key and its parameters (the view translates it). */
export interface Msg {
  key: string;
  params?: Record<string, string | number>;
}

/**
 * The node's clock now, estimated from the status it sent (its ``now``) plus the time since
 * it arrived: ages and durations stay right between pushes whatever the browser's clock says.
 */
export function serverNow(status: Pick<NetworkStatus, 'now'>, receivedAt: number, clientNow: number): number {
  const base = Date.parse(status.now);
  const drift = Math.max(0, clientNow - receivedAt);
  return (Number.isNaN(base) ? receivedAt : base) + drift;
}

/** Seconds from ``iso`` to ``nowMs`` (null if there is no such time). Never negative. */
export function secondsSince(iso: string | null | undefined, nowMs: number): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return Math.max(0, (nowMs - t) / 1000);
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h" as a catalog message. */
export function duration(seconds: number): Msg {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return { key: 'network.dur.s', params: { n: s } };
  if (s < 3600) return { key: 'network.dur.min', params: { n: Math.floor(s / 60) } };
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? { key: 'network.dur.hmin', params: { h, m } } : { key: 'network.dur.h', params: { n: h } };
  }
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  return { key: 'network.dur.dh', params: { d, h } };
}

/** A queue's oldest item's age now (it kept ageing since the status was taken); null when empty. */
export function queueAge(q: QueueStatus, driftS: number): number | null {
  if (q.depth <= 0 || q.oldest_age_s === null || q.oldest_age_s === undefined) return null;
  return q.oldest_age_s + Math.max(0, driftS);
}

/** Past its handling-time objective: as the node judged it, or since then by the clock. */
export function queueOverdue(q: QueueStatus, driftS: number): boolean {
  if (q.depth <= 0) return false;
  const age = queueAge(q, driftS);
  return q.overdue || (age !== null && age > objectiveOf(q));
}

/** How much of the objective the oldest item has used, 0..1 (the bar's length). */
export function queueFill(q: QueueStatus, driftS: number): number {
  const age = queueAge(q, driftS);
  if (age === null) return 0;
  return Math.min(1, age / objectiveOf(q));
}

export function objectiveOf(q: QueueStatus): number {
  if (q.objective_s > 0) return q.objective_s;
  return OBJECTIVE_S[q.precedence as Precedence] ?? OBJECTIVE_S.ROUTINE;
}

/** The four precedences in order, FLASH first; a precedence the node left out shows empty. */
export function orderedQueues(queues: QueueStatus[]): QueueStatus[] {
  const by = new Map(queues.map((q) => [q.precedence, q]));
  const known = PRECEDENCES.map(
    (p) => by.get(p) ?? { precedence: p, depth: 0, oldest_age_s: null, objective_s: OBJECTIVE_S[p], overdue: false },
  );
  const extra = queues.filter((q) => !(PRECEDENCES as readonly string[]).includes(q.precedence));
  return [...known, ...extra];
}

/** Total items queued for a peer. */
export function queuedTotal(peer: PeerStatus): number {
  return peer.queues.reduce((n, q) => n + Math.max(0, q.depth), 0);
}

/** Peers in a stable order (by id), so rows do not jump while the watch reads them. */
export function sortPeers(peers: PeerStatus[]): PeerStatus[] {
  return [...peers].sort((a, b) => a.id.localeCompare(b.id));
}

/** The catalog key of a peer's state (an unknown state reads as itself). */
export function stateKey(state: string): string {
  return (PEER_STATES as readonly string[]).includes(state) ? `network.state.${state}` : '';
}

/** Which way a refusal went: refused at receipt from the peer, or withheld from it at send. */
export type RefusalDirection = 'in' | 'out' | '';

export interface Refusal {
  direction: RefusalDirection;
  reason: string;
  count: number;
}

const byCount = (a: Refusal, b: Refusal) => b.count - a.count || a.direction.localeCompare(b.direction) || a.reason.localeCompare(b.reason);

/**
 * Refusals, most frequent first; reasons with no count left out. A key ``in:<reason>`` or
 * ``out:<reason>`` names its direction; a bare reason has none.
 */
export function refusalList(refusals: Record<string, number> | null | undefined, direction: RefusalDirection = ''): Refusal[] {
  return Object.entries(refusals ?? {})
    .filter(([, n]) => n > 0)
    .map(([key, n]): Refusal => {
      const m = /^(in|out):(.+)$/.exec(key);
      return m ? { direction: m[1] as RefusalDirection, reason: m[2], count: n } : { direction, reason: key, count: n };
    })
    .sort(byCount);
}

/**
 * A peer's refusals by direction: ``refusals_in`` (items from the peer refused at receipt)
 * and ``refusals_out`` (withheld at send; ``refused_by_peer``: batches the peer
 * refused); the summed ``refusals`` when the node sends no split.
 */
export function peerRefusals(peer: Pick<PeerStatus, 'refusals' | 'refusals_in' | 'refusals_out'>): Refusal[] {
  if (!peer.refusals_in && !peer.refusals_out) return refusalList(peer.refusals);
  return [...refusalList(peer.refusals_in, 'in'), ...refusalList(peer.refusals_out, 'out')].sort(byCount);
}

/** Items per second for reading: "0", "0.4", "12", "1,250". */
export function rate(perS: number | null | undefined): string {
  const v = Number(perS ?? 0);
  if (!Number.isFinite(v) || v <= 0) return '0';
  if (v < 10) return (Math.round(v * 10) / 10).toString();
  return Math.round(v).toLocaleString('en-US');
}

export function count(n: number | null | undefined): string {
  return Math.max(0, Math.round(Number(n ?? 0))).toLocaleString('en-US');
}

/** A round-trip time in ms for reading (null: none measured). */
export function rttText(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return null;
  return ms < 10 ? (Math.round(ms * 10) / 10).toString() : Math.round(ms).toString();
}

/** The alert's title in the reader's language, else the other one. */
export function alertTitle(title: { en: string; ja: string }, lang: 'en' | 'ja'): string {
  const own = lang === 'ja' ? title.ja : title.en;
  return own?.trim() ? own : (lang === 'ja' ? title.en : title.ja) ?? '';
}

/** Alerts by severity (FLASH overdue, then cut links, then digests), then oldest first. */
export function sortAlerts<T extends { kind: string; since: string; peer: string }>(alerts: T[]): T[] {
  const rank = (k: string) => (k === 'flash_overdue' ? 0 : k === 'link_cut' ? 1 : k === 'digest_differ' ? 2 : 3);
  return [...alerts].sort((a, b) => rank(a.kind) - rank(b.kind) || a.since.localeCompare(b.since) || a.peer.localeCompare(b.peer));
}
