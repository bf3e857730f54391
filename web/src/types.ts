export type Classification = 'UNCLASSIFIED' | 'CONFIDENTIAL' | 'SECRET' | 'TOP SECRET';

/** The label fields every labelled record carries. */
export interface Labelled {
  label: string;
  label_ja: string;
  classification: Classification | string;
  rel_to: string[];
  noforn: boolean;
  exercise: boolean;
}

export interface Provenance {
  source: string;
  source_id: string;
  observed_at: string;
  connection?: string;
}

export interface Track extends Labelled {
  id: string;
  source: string;
  source_id: string;
  callsign: string;
  name: string;
  lat: number;
  lon: number;
  course: number | null;
  speed: number | null;
  hae: number | null;
  sidc: string;
  cot_type: string;
  affiliation: string;
  observed_at: string;
  stale_at: string;
  sources: Provenance[];
}

export interface HistoryPoint {
  lat: number;
  lon: number;
  observed_at: string;
  course: number | null;
  speed: number | null;
}

export interface Bilingual {
  en: string;
  ja: string;
}

export interface Facility extends Labelled {
  id: string;
  name: Bilingual;
  nation: string;
  kind: string;
  lat: number;
  lon: number;
}

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

export interface RequestComment extends Partial<Labelled> {
  id: string;
  author: string;
  node: string;
  at: string;
  label: string;
  text: Bilingual;
}

export interface TimelineEntry {
  at: string;
  actor: string;
  node: string;
  action: string;
  from: string | null;
  to: string | null;
  reason: string | null;
}

export interface CoordRequest extends Labelled {
  id: string;
  requester: string;
  addressees: string[];
  kind: string;
  precedence: string;
  status: string;
  due: string | null;
  overdue: boolean;
  title: Bilingual;
  body: Bilingual;
  original_language: 'en' | 'ja' | string;
  /** Present on the full record (GET /requests/{id}); summaries may leave them out. */
  comments?: RequestComment[];
  timeline?: TimelineEntry[];
  allowed_transitions?: string[];
  response?: unknown;
  decline_reason?: string | null;
  created_at?: string;
  updated_at?: string;
}

export interface Me {
  name: string;
  nation: string;
  clearance: string;
  groups: string[];
  roles: string[];
  node_id: string;
}

export interface Meta {
  node_id: string;
  nation: string;
  pmtiles_url: string | null;
}

export type ServerMessage =
  | { type: 'tracks'; items: Track[]; snapshot?: boolean }
  | { type: 'track_removed'; id: string }
  | { type: 'request'; item: CoordRequest }
  | { type: 'overdue'; item: CoordRequest };
