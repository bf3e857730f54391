/** Network statuses for the unit tests (the shapes GET /api/v1/network answers). */
import type { NetworkStatus, PeerStatus, Precedence, QueueStatus } from './types';

export function queue(precedence: Precedence, over: Partial<QueueStatus> = {}): QueueStatus {
  const objective = { FLASH: 600, IMMEDIATE: 1800, PRIORITY: 10_800, ROUTINE: 21_600 }[precedence] ?? 21_600;
  return { precedence, depth: 0, oldest_age_s: null, objective_s: objective, overdue: false, ...over };
}

export function peer(id: string, over: Partial<PeerStatus> = {}): PeerStatus {
  return {
    id,
    nation: 'JPN',
    transport: 'https',
    state: 'connected',
    backoff_until: null,
    last_contact: '2026-12-01T10:00:00Z',
    cut_since: null,
    rtt_ms: 12.5,
    queues: (['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'] as const).map((p) => queue(p)),
    sent_per_s: 0,
    received_per_s: 0,
    sent_total: 0,
    received_total: 0,
    refusals: {},
    digest: { state: 'agree', checked_at: '2026-12-01T10:00:00Z' },
    error: '',
    ...over,
  };
}

export function status(over: Partial<NetworkStatus> = {}): NetworkStatus {
  return { node: 'usfj', nation: 'USA', now: '2026-12-01T10:00:00Z', peers: [peer('jjoc')], alerts: [], ...over };
}
