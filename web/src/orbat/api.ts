/** The node's ORBAT routes (issue 15): the tree as of an instant, units, relations. */
import { call } from '../api';
import type { Relation, Tree, Unit } from './types';

const enc = encodeURIComponent;

export const orbatApi = {
  tree: (at?: string | null) => call<Tree>('GET', `/api/v1/orbat/tree${at ? `?at=${enc(at)}` : ''}`),
  units: () => call<Unit[]>('GET', '/api/v1/orbat/units'),
  relations: (unit?: string) => call<Relation[]>('GET', `/api/v1/orbat/relations${unit ? `?unit=${enc(unit)}` : ''}`),
};
