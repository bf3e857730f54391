/**
 * HADR shapes: the node's OpenAPI schemas (src/generated/api.ts) for incidents, assistance
 * (RFAs, offers, tasks) and relief; the option lists the forms iterate over are checked
 * against the generated enums below.
 */
import type { Labelled, Schema } from '../types';

export type Incident = Schema<'IncidentOut'>;
export type IntensityArea = Schema<'IntensityAreaOut'>;
export type TsunamiArea = Schema<'incidents_models_TsunamiAreaOut'>;
export type IncidentTimelineEntry = Schema<'TimelineEntryOut'>;
export type IncidentFeatureCollection = Schema<'IncidentFeatures'>;
export type IncidentFeatureProps = Schema<'FeatureProps'> & { category?: string | null };

export type Capability = Schema<'CapabilityOut'>;
export type Shelter = Schema<'ShelterOut'>;
export type Stock = Schema<'StockOut'>;
export type NeedsOut = Schema<'NeedsOut'>;
export type DraftLine = Schema<'DraftLine'>;
export type Catalogue = Schema<'CatalogueOut'>;

export type Coverage = 'NONE' | 'PARTIAL' | 'COMPLETE';
export type Priority = 'critical' | 'high' | 'medium' | 'low';
export const PRIORITIES: Priority[] = ['critical', 'high', 'medium', 'low'];
export type Advantage = 'capability' | 'availability' | 'timeliness';
export const ADVANTAGES: Advantage[] = ['capability', 'availability', 'timeliness'];

/** Request bodies: fields with a server default may be left out. */
type Body<T, Required extends keyof T> = Partial<T> & Pick<T, Required>;
export type LineIn = Body<Schema<'LineIn'>, 'item' | 'kind' | 'description' | 'quantity' | 'unit'>;
export type Oslo = Schema<'Oslo'>;
export type Closing = Schema<'Closing'>;
export type RfaLine = Schema<'assistance_models_LineOut'>;
export type Rfa = Schema<'RfaOut'>;
export type OfferLineOut = Schema<'OfferLineOut'>;
export type Offer = Schema<'OfferOut'>;
export type Task = Schema<'TaskOut'>;
export type RfaCreate = Omit<Body<Schema<'RfaIn'>, 'site' | 'label'>, 'lines'> & { lines: LineIn[] };
export type OfferCreate = Omit<Body<Schema<'OfferIn'>, 'label'>, 'lines'> & { lines: LineIn[] };

/** RFA, offer and task statuses (catalog keys hadr.rfaStatus.*, hadr.offerStatus.*, hadr.taskStatus.*). */
export const RFA_STATUSES = ['DRAFT', 'SUBMITTED', 'VALIDATED', 'OPEN', 'COMMITTED', 'COMPLETED', 'DECLINED', 'CANCELLED', 'SUPERSEDED'] as const;
export const OFFER_STATUSES = ['OFFERED', 'ACCEPTED', 'IN_TRANSIT', 'DELIVERED', 'DECLINED', 'WITHDRAWN'] as const;
export const TASK_STATUSES = ['PLANNED', 'IN_PROGRESS', 'DONE', 'CANCELLED'] as const;

/** Reason codes per target status (kizuna/assistance/rules.py); names: hadr.reason.<code>. */
export const REASONS: Record<string, string[]> = {
  'rfa:DECLINED': ['duplicate', 'outside_scope', 'handled_domestically', 'insufficient_information', 'other'],
  'rfa:CANCELLED': ['need_met', 'need_changed', 'duplicate', 'entered_in_error', 'other'],
  'rfa:SUPERSEDED': ['replaced_by_new_request', 'need_changed', 'other'],
  'offer:DECLINED': [
    'need_met',
    'not_suitable',
    'timing_not_feasible',
    'civilian_alternative_available',
    'conditions_unacceptable',
    'handled_domestically',
    'other',
  ],
  'offer:WITHDRAWN': ['asset_unavailable', 'need_met', 'timing_not_feasible', 'security_situation', 'other'],
  'task:CANCELLED': ['asset_unavailable', 'need_met', 'security_situation', 'offer_withdrawn', 'other'],
};

/** Pushes on the node's bus for the HADR topics ({"type": topic, "item": record}). */
export const HADR_TOPICS = ['incident', 'rfa', 'offer', 'task', 'shelter', 'capability', 'stock'] as const;

// Every HADR record carries the label fields the banner reads, and the lists name exactly
// the values the node's schemas allow (a compile error if not).
type IsLabelled<T extends Labelled> = T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
export type HadrChecks = [
  IsLabelled<Incident>,
  IsLabelled<Rfa>,
  IsLabelled<Offer>,
  IsLabelled<Task>,
  IsLabelled<Capability>,
  IsLabelled<Shelter>,
  IsLabelled<Stock>,
  Expect<Same<Priority, NonNullable<Rfa['priority']>>>,
  Expect<Same<Advantage, Oslo['unique_advantage']>>,
  Expect<Same<Coverage, Rfa['coverage']>>,
];
