/** The node's MDA routes (issue 13 part 2): events, verdicts, zones, watchlist. */
import { call } from '../api';
import type { HistoryPoint } from '../types';
import type { MdaEvent, VerdictCreate, WatchCreate, WatchEntry, Zone, ZoneCreate } from './types';

const enc = encodeURIComponent;
const q = (params: Record<string, string | null | undefined>) => {
  const s = Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${enc(v!)}`)
    .join('&');
  return s ? `?${s}` : '';
};

export interface EventQuery {
  type?: string | null;
  status?: string | null;
  since?: string | null;
  bbox?: [number, number, number, number] | null;
}

export const mdaApi = {
  events: (p: EventQuery = {}) =>
    call<MdaEvent[]>('GET', `/api/v1/mda/events${q({ type: p.type, status: p.status, since: p.since, bbox: p.bbox?.join(',') })}`),
  event: (id: string) => call<MdaEvent>('GET', `/api/v1/mda/events/${enc(id)}`),
  verdict: (id: string, body: VerdictCreate) => call<MdaEvent>('POST', `/api/v1/mda/events/${enc(id)}/verdict`, body),
  zones: () => call<Zone[]>('GET', '/api/v1/mda/zones'),
  createZone: (body: ZoneCreate) => call<Zone>('POST', '/api/v1/mda/zones', body),
  deleteZone: (id: string) => call<unknown>('DELETE', `/api/v1/mda/zones/${enc(id)}`),
  watchlist: () => call<WatchEntry[]>('GET', '/api/v1/mda/watchlist'),
  createWatch: (body: WatchCreate) => call<WatchEntry>('POST', '/api/v1/mda/watchlist', body),
  deleteWatch: (id: string) => call<unknown>('DELETE', `/api/v1/mda/watchlist/${enc(id)}`),
  /** The picture's recent positions of a track (oldest first; 404 once the track has expired). */
  history: (trackId: string) => call<HistoryPoint[]>('GET', `/api/v1/tracks/${enc(trackId)}/history?limit=500`),
};
