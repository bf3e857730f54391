/** The node's ORBAT answers (GET /api/v1/orbat/…), as the browser uses them. */
import type { Labelled } from '../types';

export const ORBAT_TOPICS = { unit: 'unit', relation: 'unit_relation' } as const;
export const KINDS = ['ORGANIC', 'ATTACHED', 'OPCON', 'TACON', 'ADCON', 'COORDINATION'] as const;
export type Kind = (typeof KINDS)[number];

export interface Name {
  en: string;
  ja: string;
}

export interface Holding {
  kind: 'equipment' | 'personnel';
  item: string;
  count: number;
  on_hand: number;
}

export interface Commander {
  person_id: string;
  name: Name;
  post: Name;
}

export interface Unit extends Labelled {
  id: string;
  origin: string;
  name: Name;
  nation: string;
  sidc: string;
  echelon: string;
  hq: boolean;
  task_force: boolean;
  holdings: Holding[];
  location: { lat: number; lon: number } | null;
  home_facility: string | null;
  commanders: Commander[];
}

export interface Relation extends Labelled {
  id: string;
  origin: string;
  from_unit: string;
  to_unit: string;
  kind: Kind;
  command: boolean;
  valid_from: string;
  valid_to: string | null;
}

export interface TreeUnit {
  unit: Unit;
  parent: string | null;
  relation: Relation | null;
  depth: number;
  children: string[];
  other: Relation[];
}

export interface Tree {
  at: string;
  units: TreeUnit[];
  coordination: Relation[];
  historical_units: boolean;
}
