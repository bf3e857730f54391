/**
 * The app's names for the node API's types. The answers are the schemas of the node's OpenAPI
 * document, generated into src/generated/api.ts by `make types` (`make web` and the Python
 * tests fail when that file has drifted from the node). Only what the document cannot hold is
 * written here: the label fields the UI reads as one shape, the push bus's message envelopes,
 * and the option lists the forms iterate over (checked against the generated enums).
 */
import type { components } from './generated/api';

/** A schema of the node's OpenAPI document. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

export type Classification = 'UNCLASSIFIED' | 'CONFIDENTIAL' | 'SECRET' | 'TOP SECRET';

/**
 * The label fields the marking banner and badges read. Not a schema of its own (every
 * labelled answer carries them inline), so passing a generated record where a Labelled is
 * expected is what checks the generated schemas still carry them.
 */
export interface Labelled {
  label: string;
  label_ja: string;
  classification: Classification | string;
  rel_to: string[];
  noforn: boolean;
  exercise: boolean;
}

export type Me = Schema<'UserOut'>;
export type LoginResult = Schema<'LoginOut'>;
export type Meta = Schema<'MetaOut'>;
export type Report = Schema<'ReportOut'>;

export type Bilingual = Schema<'Text'>;
export type Provenance = Schema<'SourceOut'>;
export type Track = Schema<'TrackOut'>;
/** A track's label fields, as a compact frame's `labels` gives them once per label. */
export type LabelFields = Pick<Track, 'label' | 'label_fgi' | 'label_ja' | 'classification' | 'rel_to' | 'noforn' | 'exercise' | 'originator'>;
/** Fields a compact item may leave out (the node's picture/shown.py COMPACT_DEFAULTS). */
export type CompactDefaults = Pick<Track, 'callsign' | 'name' | 'course' | 'speed' | 'hae' | 'stale' | 'ship_type' | 'mmsi' | 'remarks'>;
/** A track in a compact frame: its label by number (`l`), fields at their usual value left out. */
export type CompactTrack = Omit<Track, keyof LabelFields | keyof CompactDefaults> & Partial<CompactDefaults> & { l: number };
export type HistoryPoint = Schema<'HistoryOut'>;
export type Facility = Schema<'FacilityOut'>;

export type RequestComment = Schema<'CommentOut'>;
export type RequestAttachment = Schema<'AttachmentOut'>;
export type TimelineEntry = Schema<'ChangeOut'>;

/** The parts of a full request (GET /requests/{id}) that a summary (a live push) leaves out. */
type RequestDetail = 'attachments' | 'comments' | 'timeline' | 'allowed_transitions';
/** A request as the board holds it: a full record, or a summary pushed live. */
export type CoordRequest = Omit<Schema<'RequestOut'>, RequestDetail> &
  Partial<Pick<Schema<'RequestOut'>, RequestDetail>>;

export const STATUSES = [
  'DRAFT',
  'SUBMITTED',
  'ACKNOWLEDGED',
  'ACCEPTED',
  'DECLINED',
  'IN_PROGRESS',
  'COMPLETED',
  'CANCELLED',
] as const;
export type Status = (typeof STATUSES)[number];

export const KINDS = ['support', 'deconfliction', 'information', 'facility_access', 'movement', 'other'] as const;
export type Kind = (typeof KINDS)[number];

export const PRECEDENCES = ['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'] as const;
export type Precedence = (typeof PRECEDENCES)[number];

// The lists above must name exactly the values the node's schemas allow (a compile error if not).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
export type ListsMatchTheApi = [
  Expect<Same<Status, Schema<'RequestOut'>['status']>>,
  Expect<Same<Kind, Schema<'RequestOut'>['kind']>>,
  Expect<Same<Precedence, Schema<'RequestOut'>['precedence']>>,
];

/** What the node's push bus (/api/v1/ws) sends; a WebSocket is not part of the OpenAPI document. */
export type ServerMessage =
  | { type: 'tracks'; items: Track[]; snapshot?: boolean }
  // A subscription with `compact: true` (live.ts): labels by number, usual values left out.
  | { type: 'tracks'; items: CompactTrack[]; labels: Record<string, LabelFields>; snapshot?: boolean }
  | { type: 'track_removed'; id: string }
  | { type: 'request'; item: CoordRequest }
  | { type: 'overdue'; item: CoordRequest };
