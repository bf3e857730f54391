/**
 * HADR state shared by the map and the panels: incidents (and their map features), RFAs,
 * offers, tasks, capabilities, shelters and stocks. Fed by REST and by the node's push bus
 * (topics incident, rfa, offer, task, shelter, capability, stock via LiveStore.onPush).
 */
import type { LiveStore } from '../live';
import { hadrApi } from './api';
import type { Catalogue, Capability, Incident, IncidentFeatureCollection, Offer, Rfa, Shelter, Stock, Task } from './types';

type Listener = () => void;
type Kind = 'catalogue' | 'incidents' | 'features' | 'rfas' | 'offers' | 'tasks' | 'capabilities' | 'shelters' | 'stocks';

const EMPTY_FC: IncidentFeatureCollection = { type: 'FeatureCollection', features: [] };

/** Merge a pushed record over the one held (a summary keeps the parts it lacks). */
function upsert<T extends { id: string }>(map: Map<string, T>, item: T): void {
  const prev = map.get(item.id);
  map.set(item.id, prev ? { ...prev, ...item } : item);
}

export class HadrStore {
  readonly incidents = new Map<string, Incident>();
  readonly rfas = new Map<string, Rfa>();
  readonly offers = new Map<string, Offer>();
  readonly tasks = new Map<string, Task>();
  readonly capabilities = new Map<string, Capability>();
  readonly shelters = new Map<string, Shelter>();
  readonly stocks = new Map<string, Stock>();
  features: IncidentFeatureCollection = EMPTY_FC;
  catalogue: Catalogue | null = null;
  version = 0;
  /** Last load failure per list (shown by the panel that reads it). */
  errors: Partial<Record<Kind, unknown>> = {};

  private listeners = new Set<Listener>();
  private featureTimer: ReturnType<typeof setTimeout> | null = null;
  /** Follow the push bus (HADR topics; a reload after a reconnect). Returns the detach. */
  attach(live: LiveStore): () => void {
    const offs = [live.onPush((m) => this.handle(m)), live.onReconnect(() => void this.loadAll())];
    return () => {
      offs.forEach((f) => f());
      if (this.featureTimer) clearTimeout(this.featureTimer);
      this.featureTimer = null;
    };
  }

  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.version++;
    this.listeners.forEach((l) => l());
  }

  handle(msg: { type: string; item?: unknown }): void {
    const item = msg.item as { id?: string } | undefined;
    if (!item || typeof item.id !== 'string') return;
    switch (msg.type) {
      case 'incident':
        upsert(this.incidents, item as Incident);
        this.scheduleFeatures();
        break;
      case 'rfa':
        upsert(this.rfas, item as Rfa);
        break;
      case 'offer':
        upsert(this.offers, item as Offer);
        break;
      case 'task':
        upsert(this.tasks, item as Task);
        break;
      case 'capability':
        upsert(this.capabilities, item as Capability);
        break;
      case 'shelter':
        upsert(this.shelters, item as Shelter);
        break;
      case 'stock':
        upsert(this.stocks, item as Stock);
        break;
      default:
        return;
    }
    this.changed();
  }

  /** A pushed incident changes its shapes too: refetch the features (coalesced). */
  private scheduleFeatures(): void {
    if (this.featureTimer) return;
    this.featureTimer = setTimeout(() => {
      this.featureTimer = null;
      void this.loadFeatures();
    }, 300);
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
    for (const it of items) map.set(it.id, it);
  }

  loadIncidents = () => this.load('incidents', hadrApi.incidents, (v) => this.replace(this.incidents, v));
  loadFeatures = () => this.load('features', hadrApi.geojson, (v) => (this.features = v ?? EMPTY_FC));
  loadRfas = () => this.load('rfas', () => hadrApi.rfas(), (v) => this.replace(this.rfas, v));
  loadOffers = () => this.load('offers', () => hadrApi.offers(), (v) => this.replace(this.offers, v));
  loadTasks = () => this.load('tasks', () => hadrApi.tasks(), (v) => this.replace(this.tasks, v));
  loadCapabilities = () => this.load('capabilities', hadrApi.capabilities, (v) => this.replace(this.capabilities, v));
  loadShelters = () => this.load('shelters', () => hadrApi.shelters(), (v) => this.replace(this.shelters, v));
  loadCatalogue = () => this.load('catalogue', hadrApi.catalogue, (v) => (this.catalogue = v));
  loadStocks = () => this.load('stocks', hadrApi.stocks, (v) => this.replace(this.stocks, v));

  async loadAll(): Promise<void> {
    await Promise.all([
      this.loadIncidents(),
      this.loadFeatures(),
      this.loadRfas(),
      this.loadOffers(),
      this.loadTasks(),
      this.loadCapabilities(),
      this.loadShelters(),
      this.loadStocks(),
      this.catalogue ? Promise.resolve() : this.loadCatalogue(),
    ]);
  }

  putRfa(r: Rfa): void {
    upsert(this.rfas, r);
    this.changed();
  }
  /** An item's or capability's name from the relief catalogue (null if unknown). */
  itemName(code: string): { en: string; ja: string } | null {
    const c = this.catalogue;
    if (!c) return null;
    return c.items.find((i) => i.code === code)?.name ?? c.capabilities.find((i) => i.code === code)?.name ?? null;
  }
  unitName(unit: string): { en: string; ja: string } | null {
    const c = this.catalogue;
    if (!c) return null;
    return c.items.find((i) => i.unit === unit)?.unit_name ?? c.capabilities.find((i) => i.unit === unit)?.unit_name ?? null;
  }

  putOffer(o: Offer): void {
    upsert(this.offers, o);
    this.changed();
  }
}
