/**
 * MDA shapes: the node's OpenAPI schemas (src/generated/api.ts) for events, verdicts, zones
 * and the watchlist (issue 13 part 2); the option lists the filters and forms iterate over
 * are checked against the generated enums below.
 */
import type { Labelled, Schema } from '../types';

export type MdaEvent = Schema<'EventOut'>;
export type EvidencePoint = Schema<'EvidenceOut'>;
export type Cover = Schema<'CoverOut'>;
export type Verdict = Schema<'VerdictOut'>;
export type Zone = Schema<'ZoneOut'>;
export type WatchEntry = Schema<'WatchOut'>;

/** Request bodies: fields with a server default may be left out. */
type Body<T, Required extends keyof T> = Partial<T> & Pick<T, Required>;
export type VerdictCreate = Body<Schema<'VerdictIn'>, 'verdict'>;
/** polygon: [[lat, lon], …] (the node's order, not GeoJSON's). */
export type ZoneCreate = Body<Schema<'ZoneIn'>, 'label' | 'name' | 'polygon'>;
export type WatchCreate = Body<Schema<'WatchIn'>, 'label'>;

/** A time as the node writes it: ISO 8601 text (UNIX seconds accepted too). */
export type When = string | number;

export const EVENT_TYPES = ['gap', 'loitering', 'encounter', 'spoofing', 'zone'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const EVENT_STATUSES = ['open', 'closed', 'retracted'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
export const VERDICTS = ['confirmed', 'false_positive', 'interference'] as const;
export type VerdictKind = (typeof VERDICTS)[number];
export const ZONE_KINDS = ['area', 'territorial_sea', 'contiguous_zone', 'eez', 'port', 'exercise'] as const;
export type ZoneKind = (typeof ZONE_KINDS)[number];

/** Pushes on the node's bus ({"type": topic, "item": record}; a removal: {id, deleted: true}). */
export const MDA_TOPICS = { event: 'mda_event', zone: 'mda_zone', watch: 'mda_watch' } as const;

// Every MDA record carries the label fields the banner reads, and the lists name exactly
// the values the node's schemas allow (a compile error if not).
type IsLabelled<T extends Labelled> = T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
export type MdaChecks = [
  IsLabelled<MdaEvent>,
  IsLabelled<Verdict>,
  IsLabelled<Zone>,
  IsLabelled<WatchEntry>,
  Expect<Same<EventType, MdaEvent['type']>>,
  Expect<Same<EventStatus, MdaEvent['status']>>,
  Expect<Same<VerdictKind, Verdict['verdict']>>,
  Expect<Same<ZoneKind, Zone['kind']>>,
];
