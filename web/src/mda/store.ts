/**
 * MDA state shared by the map layer and the panel: events, zones and watchlist entries.
 * Fed by REST and by the node's push bus (topic mda_event, and mda_zone / mda_watch when the
 * node pushes them) through LiveStore.onPush; reloaded after a reconnect.
 */
import type { LiveStore } from '../live';
import { mdaApi } from './api';
import { MDA_TOPICS, type MdaEvent, type WatchEntry, type Zone } from './types';

type Listener = () => void;
type Kind = 'events' | 'zones' | 'watchlist';

export class MdaStore {
  readonly events = new Map<string, MdaEvent>();
  readonly zones = new Map<string, Zone>();
  readonly watchlist = new Map<string, WatchEntry>();
  version = 0;
  /** Last load failure per list. */
  errors: Partial<Record<Kind, unknown>> = {};
  /** Ids of the events that arrived by push since the page loaded (the live marker). */
  readonly pushed = new Set<string>();
  private listeners = new Set<Listener>();

  attach(live: LiveStore): () => void {
    const offs = [live.onPush((m) => this.handle(m)), live.onReconnect(() => void this.loadAll())];
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

  handle(msg: { type: string; item?: unknown; id?: unknown }): void {
    const item = msg.item as { id?: string; deleted?: boolean } | undefined;
    const id = typeof item?.id === 'string' ? item.id : typeof msg.id === 'string' ? msg.id : null;
    if (!id) return;
    const map =
      msg.type === MDA_TOPICS.event
        ? this.events
        : msg.type === MDA_TOPICS.zone || msg.type === `${MDA_TOPICS.zone}_removed`
          ? this.zones
          : msg.type === MDA_TOPICS.watch || msg.type === `${MDA_TOPICS.watch}_removed`
            ? this.watchlist
            : null;
    if (!map) return;
    if (msg.type.endsWith('_removed') || item?.deleted) map.delete(id);
    else {
      (map as Map<string, object>).set(id, { ...(map.get(id) ?? {}), ...(item as object) });
      if (msg.type === MDA_TOPICS.event) this.pushed.add(id);
    }
    this.changed();
  }

  private async load<T>(kind: Kind, fn: () => Promise<T>, apply: (v: T) => void): Promise<void> {
    try {
      apply(await fn());
      delete this.errors[kind];
    } catch (e) {
      this.errors[kind] = e;
    }
    this.changed();
  }

  private replace<T extends { id: string }>(map: Map<string, T>, items: T[]): void {
    map.clear();
    for (const it of items ?? []) map.set(it.id, it);
  }

  loadEvents = () => this.load('events', () => mdaApi.events(), (v) => this.replace(this.events, v));
  loadZones = () => this.load('zones', mdaApi.zones, (v) => this.replace(this.zones, v));
  loadWatchlist = () => this.load('watchlist', mdaApi.watchlist, (v) => this.replace(this.watchlist, v));

  async loadAll(): Promise<void> {
    await Promise.all([this.loadEvents(), this.loadZones(), this.loadWatchlist()]);
  }

  put<K extends Kind>(kind: K, item: K extends 'events' ? MdaEvent : K extends 'zones' ? Zone : WatchEntry): void {
    const map = (kind === 'events' ? this.events : kind === 'zones' ? this.zones : this.watchlist) as Map<string, typeof item>;
    map.set(item.id, item);
    this.changed();
  }

  remove(kind: Kind, id: string): void {
    (kind === 'events' ? this.events : kind === 'zones' ? this.zones : this.watchlist).delete(id);
    this.changed();
  }
}
