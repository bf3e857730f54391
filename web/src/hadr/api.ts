/** The node's HADR routes (incidents, assistance, relief, sitrep). */
import { ApiError, call, requestHeaders } from '../api';
import type {
  Catalogue,
  Capability,
  Incident,
  IncidentFeatureCollection,
  NeedsOut,
  OfferCreate,
  Priority,
  RfaCreate,
  Offer,
  Rfa,
  Shelter,
  Stock,
  Task,
} from './types';

const enc = encodeURIComponent;
const q = (params: Record<string, string | null | undefined>) => {
  const s = Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${enc(v!)}`)
    .join('&');
  return s ? `?${s}` : '';
};

export const hadrApi = {
  incidents: () => call<Incident[]>('GET', '/api/v1/incidents'),
  incident: (id: string) => call<Incident>('GET', `/api/v1/incidents/${enc(id)}`),
  geojson: () => call<IncidentFeatureCollection>('GET', '/api/v1/incidents.geojson'),
  rfas: (incident?: string | null) => call<Rfa[]>('GET', `/api/v1/rfas${q({ incident })}`),
  rfa: (id: string) => call<Rfa>('GET', `/api/v1/rfas/${enc(id)}`),
  createRfa: (body: RfaCreate) => call<Rfa>('POST', '/api/v1/rfas', body),
  rfaTransition: (id: string, body: { to: string; reason?: string; note?: string; priority?: Priority | null }) =>
    call<Rfa>('POST', `/api/v1/rfas/${enc(id)}/transition`, body),
  offers: (rfa?: string | null) => call<Offer[]>('GET', `/api/v1/offers${q({ rfa })}`),
  createOffer: (body: OfferCreate) => call<Offer>('POST', '/api/v1/offers', body),
  offerTransition: (id: string, body: { to: string; reason?: string; note?: string; rfa_id?: string | null }) =>
    call<Offer>('POST', `/api/v1/offers/${enc(id)}/transition`, body),
  tasks: (incident?: string | null) => call<Task[]>('GET', `/api/v1/tasks${q({ incident })}`),
  needs: (population: number, days: number) => call<NeedsOut>('POST', '/api/v1/needs', { population, days }),
  capabilities: () => call<Capability[]>('GET', '/api/v1/capabilities'),
  shelters: (incident?: string | null) => call<Shelter[]>('GET', `/api/v1/shelters${q({ incident })}`),
  stocks: () => call<Stock[]>('GET', '/api/v1/stocks'),
  catalogue: () => call<Catalogue>('GET', '/api/v1/relief-catalogue'),
};

/** A file from the node (SITREP PDF, 3W CSV): problems are parsed like any other answer. */
export async function fetchFile(path: string): Promise<{ blob: Blob; filename: string | null }> {
  const headers = requestHeaders('*/*');
  let res: Response;
  try {
    res = await fetch(path, { headers });
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  if (!res.ok) {
    const text = await res.text();
    let p: { title?: string; detail?: string } = {};
    try {
      p = JSON.parse(text) as typeof p;
    } catch {
      p = { detail: text };
    }
    throw new ApiError(res.status, p.title ?? res.statusText, p.detail ?? '');
  }
  const cd = res.headers.get('Content-Disposition') ?? '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  return { blob: await res.blob(), filename: m ? decodeURIComponent(m[1]) : null };
}

/** Save a blob through a temporary link (the browser's own download). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const sitrepPath = (incidentId: string, lang: 'en' | 'ja', format: 'pdf' | 'json') =>
  `/api/v1/incidents/${enc(incidentId)}/sitrep${q({ lang, format })}`;
export const threeWPath = (incidentId: string) => `/api/v1/incidents/${enc(incidentId)}/3w.csv`;
