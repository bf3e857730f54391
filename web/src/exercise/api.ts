/** The node's exercise routes (issue 14): exercises, their MSEL, real-world overrides. */
import { call } from '../api';
import type { Exercise, Inject, Override } from './types';

const enc = encodeURIComponent;

export const exerciseApi = {
  list: () => call<Exercise[]>('GET', '/api/v1/exercises'),
  get: (id: string) => call<Exercise>('GET', `/api/v1/exercises/${enc(id)}`),
  injects: (id: string) => call<Inject[]>('GET', `/api/v1/exercises/${enc(id)}/injects`),
  declare: (id: string, reason: { en: string; ja: string }) =>
    call<Override>('POST', `/api/v1/exercises/${enc(id)}/overrides`, { reason }),
  lift: (overrideId: string) => call<Override>('POST', `/api/v1/overrides/${enc(overrideId)}/lift`),
  act: (id: string, action: string) => call<Exercise>('POST', `/api/v1/exercises/${enc(id)}/state`, { action }),
};
