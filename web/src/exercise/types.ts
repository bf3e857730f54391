/** The node's exercise answers (GET /api/v1/exercises/…), as the browser uses them. */
import type { Schema } from '../types';

export type Exercise = Schema<'ExerciseOut'>;
export type Inject = Schema<'InjectOut'>;
export type Override = Schema<'OverrideOut'>;
export type ExerciseState = Exercise['state'];

/** The bus topic the node pushes exercise changes on. */
export const EXERCISE_TOPIC = 'exercise';
