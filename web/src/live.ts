/**
 * Live state shared by the map and the board: tracks and coordination requests,
 * fed by REST snapshots and the node's WebSocket. Kept outside React so that
 * 10,000 tracks updating at 1,000/s never go through React rendering.
 */
import { api, wsUrl } from './api';
import type { CompactDefaults, CompactTrack, CoordRequest, LabelFields, ServerMessage, Track } from './types';

/** What a compact item leaves out (the node's picture/shown.py COMPACT_DEFAULTS). */
const COMPACT_DEFAULTS: CompactDefaults = {
  callsign: '',
  name: '',
  course: null,
  speed: null,
  hae: null,
  stale: false,
  ship_type: null,
  mmsi: null,
  remarks: '',
};

const DEFAULT_KEYS = Object.keys(COMPACT_DEFAULTS) as (keyof CompactDefaults)[];

/**
 * The tracks of a compact frame made whole, in place (10,000 of them at a first render: no
 * copies): the label's fields from `labels`, each left-out field at its usual value.
 */
export function expandCompact(items: CompactTrack[], labels: Record<string, LabelFields>): Track[] {
  // `l` stays on each object: deleting a property can turn an object into a slow dictionary,
  // and the map reads every track's position on every draw.
  for (const item of items) {
    const label = labels[item.l];
    if (!label) throw new Error(`tracks frame: no label ${item.l}`);
    const t = item as unknown as Record<string, unknown>;
    for (const key of DEFAULT_KEYS) if (t[key] === undefined) t[key] = COMPACT_DEFAULTS[key];
    Object.assign(t, label);
  }
  return items as unknown as Track[];
}

/** The subscribe message: compact frames (a third of the bytes of full ones). */
const subscribeMessage = (bbox: Bbox) => ({ type: 'subscribe', bbox, compact: true });

type Listener = () => void;
export type Bbox = [number, number, number, number];
export type ConnState = 'connecting' | 'open' | 'closed';

export class LiveStore {
  readonly tracks = new Map<string, Track>();
  readonly requests = new Map<string, CoordRequest>();
  /** Incremented on every track change; consumers poll it once per frame. */
  trackVersion = 0;
  requestVersion = 0;
  conn: ConnState = 'closed';
  /** Counters for diagnostics and the performance test. */
  stats = { messages: 0, badFrames: 0, trackUpdates: 0, lastMessageAt: 0, openedAt: 0, firstTracksAt: 0, snapshotAt: 0 };

  private trackListeners = new Set<Listener>();
  private requestListeners = new Set<Listener>();
  private connListeners = new Set<Listener>();
  /** Every push, whatever its topic (the HADR view listens for its own topics here). */
  private reconnectListeners = new Set<Listener>();
  private pushListeners = new Set<(msg: { type: string; item?: unknown }) => void>();
  private ws: WebSocket | null = null;
  private bbox: Bbox | null = null;
  /** The subscription the current socket was opened with (its handshake carried it). */
  private sentBbox: Bbox | null = null;
  private started = false;
  private closed = false;
  private retry = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private everOpened = false;
  private unconfirmed: Set<string> | null = null;
  private snapshotDeadline = 0;
  private sweepTimer: ReturnType<typeof setTimeout> | null = null;

  /** Sweep 1.5 s after the last tracks message, or at the latest 10 s after the snapshot began. */
  private scheduleSweep(): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    const delay = Math.max(0, Math.min(1500, this.snapshotDeadline - performance.now()));
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      const gone = this.unconfirmed;
      this.unconfirmed = null;
      if (!gone || gone.size === 0) return;
      for (const id of gone) this.tracks.delete(id);
      this.trackVersion++;
      this.trackListeners.forEach((l) => l());
    }, delay);
  }

  constructor(private token: string) {}

  onTracks(l: Listener): () => void {
    this.trackListeners.add(l);
    return () => this.trackListeners.delete(l);
  }
  onRequests(l: Listener): () => void {
    this.requestListeners.add(l);
    return () => this.requestListeners.delete(l);
  }
  onPush(l: (msg: { type: string; item?: unknown }) => void): () => void {
    this.pushListeners.add(l);
    return () => this.pushListeners.delete(l);
  }
  /** Called when the push bus is back after a drop (pushes may have been missed: reload). */
  onReconnect(l: Listener): () => void {
    this.reconnectListeners.add(l);
    return () => this.reconnectListeners.delete(l);
  }
  onConn(l: Listener): () => void {
    this.connListeners.add(l);
    return () => this.connListeners.delete(l);
  }

  upsertTracks(items: Track[]): void {
    for (const t of items) {
      const prev = this.tracks.get(t.id);
      // Late reports never roll a track back.
      if (prev && prev.observed_at && t.observed_at && Date.parse(t.observed_at) < Date.parse(prev.observed_at)) continue;
      this.tracks.set(t.id, t);
    }
    this.stats.trackUpdates += items.length;
    this.trackVersion++;
    this.trackListeners.forEach((l) => l());
  }

  removeTrack(id: string): void {
    if (this.tracks.delete(id)) {
      this.trackVersion++;
      this.trackListeners.forEach((l) => l());
    }
  }

  /** Merge: a summary (no comments/timeline/allowed_transitions) keeps the parts it lacks. */
  upsertRequest(r: CoordRequest): void {
    const prev = this.requests.get(r.id);
    this.requests.set(r.id, prev ? { ...prev, ...r } : r);
    this.requestVersion++;
    this.requestListeners.forEach((l) => l());
  }

  setRequests(items: CoordRequest[]): void {
    const prev = new Map(this.requests);
    this.requests.clear();
    items.forEach((r) => {
      const p = prev.get(r.id);
      this.requests.set(r.id, p ? { ...p, ...r } : r);
    });
    this.requestVersion++;
    this.requestListeners.forEach((l) => l());
  }

  async loadRequests(): Promise<void> {
    this.setRequests(await api.requests());
  }

  /** Drop tracks whose stale time has passed. */
  pruneStale(now = Date.now()): void {
    let changed = false;
    for (const [id, t] of this.tracks) {
      const s = Date.parse(t.stale_at);
      if (!Number.isNaN(s) && s < now) {
        this.tracks.delete(id);
        changed = true;
      }
    }
    if (changed) {
      this.trackVersion++;
      this.trackListeners.forEach((l) => l());
    }
  }

  subscribe(bbox: Bbox): void {
    this.bbox = bbox;
    const state = this.ws?.readyState;
    if (state === WebSocket.OPEN) this.ws!.send(JSON.stringify(subscribeMessage(bbox)));
    // Before connect() the socket's handshake will carry the subscription, and while it
    // connects its snapshot answers (subscribing on open): a REST answer as well would cost
    // the node and the page the same 10,000 tracks twice.
    else if (this.started && state !== WebSocket.CONNECTING) void this.poll();
  }

  /** REST fallback while the WebSocket is down: fetch the tracks in the current view. */
  async poll(): Promise<void> {
    if (!this.bbox || this.polling) return;
    this.polling = true;
    try {
      const items = await api.tracks(this.bbox);
      if (Array.isArray(items) && items.length) this.upsertTracks(items);
    } catch {
      // the node may be unreachable; the WebSocket retry loop reports the state
    } finally {
      this.polling = false;
    }
  }

  connect(): void {
    this.closed = false;
    if (!this.pollTimer)
      this.pollTimer = setInterval(() => {
        if (this.conn !== 'open') {
          void this.poll();
          void this.loadRequests().catch(() => undefined);
        }
      }, 5000);
    this.setConn('connecting');
    this.started = true;
    // The subscription rides the handshake: the node starts the snapshot at once rather than
    // when this page, busy starting the map, gets round to the socket's open event.
    this.sentBbox = this.bbox;
    const url = wsUrl(this.token, this.bbox ? subscribeMessage(this.bbox) : undefined);
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => this.opened(ws);
    ws.onmessage = (ev) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : '') as ServerMessage;
      } catch {
        this.stats.badFrames++;
        return;
      }
      this.stats.messages++;
      this.stats.lastMessageAt = performance.now();
      this.handle(msg);
    };
    ws.onclose = () => this.lost(ws);
  }

  private opened(ws: WebSocket): void {
    this.retry = 0;
    if (!this.stats.openedAt) this.stats.openedAt = performance.now();
    this.setConn('open');
    if (this.bbox && this.bbox !== this.sentBbox) ws.send(JSON.stringify(subscribeMessage(this.bbox)));
    // Pushes missed while disconnected: reconcile the board once per (re)connect.
    if (this.everOpened) {
      void this.loadRequests().catch(() => undefined);
      this.reconnectListeners.forEach((l) => l());
    }
    this.everOpened = true;
  }

  private lost(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.setConn('closed');
    if (!this.closed) {
      void this.poll(); // the REST fallback at once, then every 5 s while down
      const delay = Math.min(10_000, 500 * 2 ** this.retry++);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    }
  }

  handle(msg: ServerMessage): void {
    if (this.pushListeners.size) this.pushListeners.forEach((l) => l(msg as { type: string; item?: unknown }));
    switch (msg.type) {
      case 'tracks': {
        let items: Track[];
        try {
          items = 'labels' in msg ? expandCompact(msg.items, msg.labels) : msg.items;
        } catch {
          this.stats.badFrames++;
          return;
        }
        if (!this.stats.firstTracksAt) this.stats.firstTracksAt = performance.now();
        if (msg.snapshot) this.stats.snapshotAt = performance.now();
        // The first chunk after a subscribe carries snapshot: true and replaces the picture.
        // Rather than clearing (the map would flicker while the chunks stream in), tracks
        // the snapshot does not confirm are swept once it has finished arriving.
        if (msg.snapshot) {
          this.unconfirmed = new Set(this.tracks.keys());
          this.snapshotDeadline = performance.now() + 10_000;
        }
        if (this.unconfirmed) {
          for (const t of items) this.unconfirmed.delete(t.id);
          this.scheduleSweep();
        }
        this.upsertTracks(items);
        break;
      }
      case 'track_removed':
        this.removeTrack(msg.id);
        break;
      case 'request':
      case 'overdue':
        this.upsertRequest(msg.type === 'overdue' ? { ...msg.item, overdue: true } : msg.item);
        break;
    }
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.ws?.close();
    this.ws = null;
  }

  private setConn(c: ConnState): void {
    this.conn = c;
    this.connListeners.forEach((l) => l());
  }
}
