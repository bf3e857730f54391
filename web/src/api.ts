import type { CoordRequest, Facility, HistoryPoint, LoginResult, Me, Meta, Track } from './types';

const TOKEN_KEY = 'kizuna.token';
const LANG_KEY = 'kizuna.lang'; // the UI's language (i18n/index.tsx)

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ME_KEY); // whoever the new token is, setMe says
}

const ME_KEY = 'kizuna.me';

/**
 * Who the session's token belonged to when the node last said (`/api/v1/me`), kept beside
 * the token: a reload shows the workspace at once and asks the node again meanwhile (a
 * token no longer valid logs out on that answer, or on any other).
 */
export function getMe(): Me | null {
  try {
    const raw = sessionStorage.getItem(ME_KEY);
    return raw && getToken() ? (JSON.parse(raw) as Me) : null;
  } catch {
    return null;
  }
}
export function setMe(me: Me | null): void {
  if (me) sessionStorage.setItem(ME_KEY, JSON.stringify(me));
  else sessionStorage.removeItem(ME_KEY);
}

let onUnauthorized: (() => void) | null = null;
/** Called when the node rejects the session token (expired or revoked). */
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

/** An RFC 9457 problem returned by the node, or a transport failure (status 0). */
export class ApiError extends Error {
  constructor(
    public status: number,
    public title: string,
    public detail: string,
  ) {
    super(detail || title);
  }
}

/**
 * The headers of every request: the session token, and the UI's language, so that the
 * node answers problems (title and detail) in the language the user reads.
 */
export function requestHeaders(accept = 'application/json, application/problem+json'): Record<string, string> {
  const headers: Record<string, string> = { Accept: accept };
  const lang = typeof localStorage !== 'undefined' ? localStorage.getItem(LANG_KEY) : null;
  headers['Accept-Language'] = lang === 'ja' ? 'ja, en;q=0.5' : 'en';
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers = requestHeaders();
  const token = getToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && token && !path.endsWith('/login')) onUnauthorized?.();
    const p = (data && typeof data === 'object' ? data : {}) as { title?: string; detail?: string };
    throw new ApiError(res.status, p.title ?? res.statusText, p.detail ?? (typeof data === 'string' ? data : ''));
  }
  return data as T;
}

export const api = {
  login: (name: string, password: string) =>
    call<LoginResult>('POST', '/api/v1/login', { name, password }),
  me: () => call<Me>('GET', '/api/v1/me'),
  meta: () => call<Meta>('GET', '/api/v1/meta'),
  tracks: (bbox: [number, number, number, number]) => call<Track[]>('GET', `/api/v1/tracks?bbox=${bbox.join(',')}`),
  track: (id: string) => call<Track>('GET', `/api/v1/tracks/${encodeURIComponent(id)}`),
  history: (id: string) => call<HistoryPoint[]>('GET', `/api/v1/tracks/${encodeURIComponent(id)}/history`),
  facilities: () => call<Facility[]>('GET', '/api/v1/facilities'),
  requests: () => call<CoordRequest[]>('GET', '/api/v1/requests'),
  request: (id: string) => call<CoordRequest>('GET', `/api/v1/requests/${encodeURIComponent(id)}`),
  createRequest: (body: {
    addressees: string[];
    kind: string;
    precedence: string;
    label: string;
    title: { en: string; ja: string };
    body: { en: string; ja: string };
  }) => call<CoordRequest>('POST', '/api/v1/requests', body),
  transition: (id: string, to: string, reason: string) =>
    call<CoordRequest>('POST', `/api/v1/requests/${encodeURIComponent(id)}/transitions`, { to, reason }),
  comment: (id: string, label: string, text: { en: string; ja: string }) =>
    call<CoordRequest>('POST', `/api/v1/requests/${encodeURIComponent(id)}/comments`, { label, text }),
};

/** The node's WebSocket; `first` is a client message carried by the handshake (`&msg=`). */
export function wsUrl(token: string, first?: object): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const msg = first ? `&msg=${encodeURIComponent(JSON.stringify(first))}` : '';
  return `${proto}//${location.host}/api/v1/ws?token=${encodeURIComponent(token)}${msg}`;
}
