/** The node's facilities, access and reservations routes. */
import { ApiError, call, requestHeaders } from '../api';
import type { Arrangement, AreaCreate, Facility, Reservation, ReservationCreate, Schedule, TrainingArea } from './types';

const enc = encodeURIComponent;

/** A refused reservation: the problem's detail and what it names (conflicts, needed instrument). */
export class ReservationRefused extends ApiError {
  constructor(
    status: number,
    title: string,
    detail: string,
    public kind: string,
    public conflicts: string[],
    public needed: string | null,
    public detailJa: string | null,
  ) {
    super(status, title, detail);
  }
}

/** POST a reservation; a refusal keeps the problem's members (call() keeps only the detail). */
async function postReservation(body: ReservationCreate): Promise<Reservation> {
  const headers = { ...requestHeaders(), 'Content-Type': 'application/json' };
  let res: Response;
  try {
    res = await fetch('/api/v1/reservations', { method: 'POST', headers, body: JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    throw new ReservationRefused(
      res.status,
      String(data.title ?? res.statusText),
      String(data.detail ?? ''),
      String(data.type ?? '').replace('/problems/', ''),
      Array.isArray(data.conflicts) ? data.conflicts.map(String) : [],
      typeof data.needed === 'string' ? data.needed : null,
      typeof data.detail_ja === 'string' ? data.detail_ja : null,
    );
  }
  return data as unknown as Reservation;
}

export const facilitiesApi = {
  facilities: () => call<Facility[]>('GET', '/api/v1/facilities'),
  areas: () => call<TrainingArea[]>('GET', '/api/v1/training-areas'),
  createArea: (body: AreaCreate) => call<TrainingArea>('POST', '/api/v1/training-areas', body),
  reservations: (after?: string, before?: string) => {
    const q = [after ? `after=${enc(after)}` : '', before ? `before=${enc(before)}` : ''].filter(Boolean).join('&');
    return call<Reservation[]>('GET', `/api/v1/reservations${q ? `?${q}` : ''}`);
  },
  reserve: postReservation,
  cancel: (id: string) => call<Reservation>('POST', `/api/v1/reservations/${enc(id)}/cancel`, {}),
  schedule: (week: string) => call<Schedule>('GET', `/api/v1/reservations/schedule?week=${enc(week)}`),
  /** Fetch the week's schedule CSV with the session's token and hand it to the browser as a file. */
  downloadSchedule: async (week: string): Promise<void> => {
    const res = await fetch(`/api/v1/reservations/schedule.csv?week=${enc(week)}`, {
      headers: requestHeaders('text/csv, application/problem+json'),
    });
    if (!res.ok) throw new ApiError(res.status, res.statusText, await res.text());
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `reservations-${week}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
  arrangements: () => call<Arrangement[]>('GET', '/api/v1/access/arrangements'),
};
