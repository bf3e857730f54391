/**
 * Facilities view state: facilities, training areas, reservations and arrangements, the
 * week on screen. Loaded by REST; a push on the reservation or training_area topic (or a
 * reconnect) reloads, since a reservation's conflicts are computed per reader.
 */
import type { LiveStore } from '../live';
import { facilitiesApi } from './api';
import { isoWeek, shiftWeek } from './format';
import { FACILITY_TOPICS, type Arrangement, type Facility, type Reservation, type TrainingArea } from './types';

type Listener = () => void;

export class FacilitiesStore {
  facilities: Facility[] = [];
  areas: TrainingArea[] = [];
  reservations: Reservation[] = [];
  arrangements: Arrangement[] = [];
  week: string;
  error: unknown = null;
  version = 0;
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    now: number = Date.now(),
    private api: typeof facilitiesApi = facilitiesApi,
  ) {
    this.week = isoWeek(now);
  }

  attach(live: LiveStore): () => void {
    const offs = [
      live.onPush((m) => this.handle(m)),
      live.onReconnect(() => void this.load()),
    ];
    return () => offs.forEach((f) => f());
  }

  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.version++;
    this.listeners.forEach((l) => l());
  }

  /** A push of ours: reload soon (several pushes in a burst make one reload). */
  handle(msg: { type: string }): boolean {
    const topic = msg.type.replace(/_removed$/, '');
    if (!(FACILITY_TOPICS as readonly string[]).includes(topic)) return false;
    if (this.timer) return true;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.load();
    }, 150);
    return true;
  }

  async load(): Promise<void> {
    try {
      const [facilities, areas, reservations, arrangements] = await Promise.all([
        this.api.facilities(),
        this.api.areas(),
        this.api.reservations(),
        this.api.arrangements(),
      ]);
      Object.assign(this, { facilities, areas, reservations, arrangements, error: null });
    } catch (e) {
      this.error = e;
    }
    this.changed();
  }

  setWeek(week: string): void {
    this.week = week;
    this.changed();
  }

  moveWeek(by: number): void {
    this.setWeek(shiftWeek(this.week, by));
  }

  /** A place's name by id (a facility or an area), from what the store holds. */
  placeName(id: string): { en: string; ja: string } | null {
    const a = this.areas.find((x) => x.id === id);
    if (a) return a.name;
    const f = this.facilities.find((x) => x.id === id);
    return f ? f.name : null;
  }

  put(r: Reservation): void {
    this.reservations = [...this.reservations.filter((x) => x.id !== r.id), r];
    this.changed();
  }
}
