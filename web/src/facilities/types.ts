/**
 * Facilities, training areas, reservations and access arrangements (issue 14): the node's
 * OpenAPI schemas, and the option lists the forms iterate over (checked against the
 * generated enums below).
 */
import type { Schema } from '../types';

export type Facility = Schema<'FacilityOut'>;
export type TrainingArea = Schema<'TrainingAreaOut'>;
export type Reservation = Schema<'ReservationOut'>;
export type Arrangement = Schema<'ArrangementOut'>;
export type Verdict = Schema<'AccessVerdict'>;
export type Schedule = Schema<'ScheduleOut'>;

type Body<T, Required extends keyof T> = Partial<T> & Pick<T, Required>;
export type ReservationCreate = Body<Schema<'ReservationIn'>, 'label' | 'place_id' | 'start' | 'end' | 'activity'>;
export type AreaCreate = Body<Schema<'TrainingAreaIn'>, 'label' | 'name' | 'polygon'>;

export const ACTIVITIES = ['live_fire', 'flight', 'maritime', 'ground_manoeuvre', 'port_call', 'training'] as const;
export type Activity = (typeof ACTIVITIES)[number];
export const AREA_KINDS = ['training_area', 'range', 'airspace', 'sea_area'] as const;
export type AreaKind = (typeof AREA_KINDS)[number];
export const BASES = ['sofa_ii_1', 'sofa_ii_4a', 'sofa_ii_4b', 'jsdf', 'other'] as const;
export type Basis = (typeof BASES)[number];

/** Push bus topics the node publishes these records on. */
export const FACILITY_TOPICS = ['reservation', 'training_area'] as const;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
export type ListsMatchTheApi = [
  Expect<Same<Activity, Reservation['activity']>>,
  Expect<Same<AreaKind, TrainingArea['kind']>>,
  Expect<Same<Basis, TrainingArea['basis']>>,
];
