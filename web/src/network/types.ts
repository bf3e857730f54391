/**
 * The network view's shapes: GET /api/v1/network and the pushes on the bus topic "network"
 * (the same body), as the node's OpenAPI document gives them (src/generated/api.ts). The
 * option lists the view iterates over are checked against the generated enums below.
 */
import type { Schema } from '../types';

export type NetworkStatus = Schema<'NetworkStatus'>;
export type PeerStatus = Schema<'PeerStatus'>;
export type QueueStatus = Schema<'QueueStatus'>;
export type DigestStatus = Schema<'DigestStatus'>;
export type NetworkAlert = Schema<'NetworkAlert'>;

export const PRECEDENCES = ['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'] as const;
export type Precedence = (typeof PRECEDENCES)[number];

/** ACP 121 handling-time objectives, seconds (the node sends its own in objective_s). */
export const OBJECTIVE_S: Record<Precedence, number> = { FLASH: 600, IMMEDIATE: 1800, PRIORITY: 10_800, ROUTINE: 21_600 };

/** Peer states (catalog keys network.state.*), digest results (network.digest.*), alerts (network.alert.*). */
export const PEER_STATES = ['connected', 'cut', 'refusing', 'backoff'] as const;
export type PeerState = (typeof PEER_STATES)[number];
export const DIGEST_STATES = ['agree', 'differ', 'not_yet'] as const;
export type DigestState = (typeof DIGEST_STATES)[number];
export const ALERT_KINDS = ['flash_overdue', 'link_cut', 'digest_differ'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

// The lists name exactly the values the node's schemas allow (a compile error if not).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
export type NetworkChecks = [
  Expect<Same<Precedence, QueueStatus['precedence']>>,
  Expect<Same<PeerState, PeerStatus['state']>>,
  Expect<Same<DigestState, DigestStatus['state']>>,
  Expect<Same<AlertKind, NetworkAlert['kind']>>,
];
