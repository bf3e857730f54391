/**
 * The network view's state: the node's peers and network alerts (GET /api/v1/network), kept
 * current by the push bus (topic "network", the same body) and by polling while the bus is
 * down. Whether the user may see it at all is the node's answer: a 403 hides the view.
 */
import type { LiveStore } from '../live';
import { networkApi } from './api';
import type { NetworkStatus } from './types';

/** Not asked yet, shown (the node answered), or not for this user (403). */
export type NetworkAccess = 'unknown' | 'allowed' | 'forbidden';

type Api = Pick<typeof networkApi, 'status'>;
type Push = { type: string; item?: unknown };

export const NETWORK_TOPIC = 'network';
/** While the push bus is down, ask the node this often. */
export const POLL_MS = 5000;
/** With the bus up, ask anyway when no status came for this long (a push missed). */
export const STALE_MS = 20_000;

function isStatus(v: unknown): v is NetworkStatus {
  const s = v as NetworkStatus | null;
  return !!s && typeof s === 'object' && typeof s.node === 'string' && Array.isArray(s.peers) && Array.isArray(s.alerts);
}

export class NetworkStore {
  status: NetworkStatus | null = null;
  /** Date.now() when the status arrived (ages keep counting from there). */
  receivedAt = 0;
  access: NetworkAccess = 'unknown';
  error: string | null = null;
  version = 0;
  private listeners = new Set<() => void>();
  private loading: Promise<void> | null = null;
  /** Pushes received so far: an answer to a request sent before the last push is older than it. */
  private pushes = 0;

  constructor(
    private api: Api = networkApi,
    private clock: () => number = Date.now,
  ) {}

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  private put(status: NetworkStatus): void {
    this.status = status;
    this.receivedAt = this.clock();
    this.access = 'allowed';
    this.error = null;
  }

  /** Ask the node (one request at a time). */
  load(): Promise<void> {
    if (this.access === 'forbidden') return Promise.resolve();
    const pushesBefore = this.pushes;
    this.loading ??= this.api
      .status()
      .then((s) => {
        // A push may overtake a slower answer: never roll the view back to an older status.
        // (By arrival, not by the node's clock, which a correction may step back.)
        if (this.pushes === pushesBefore || !this.status) this.put(s);
      })
      .catch((e: unknown) => {
        const status = (e as { status?: number }).status;
        if (status === 403 || status === 401) {
          this.access = 'forbidden';
          this.status = null;
        } else {
          this.error = String((e as Error).message ?? e);
        }
      })
      .finally(() => {
        this.loading = null;
        this.changed();
      });
    return this.loading;
  }

  /** A message of the node's push bus; returns whether it was ours. */
  handlePush(msg: Push): boolean {
    if (msg.type !== NETWORK_TOPIC) return false;
    if (this.access === 'forbidden' || !isStatus(msg.item)) return true;
    this.pushes++;
    this.put(msg.item);
    this.changed();
    return true;
  }

  /** Follow the push bus; reload after a reconnect and poll while it is down. Returns the detach. */
  attach(live: LiveStore): () => void {
    const offs = [live.onPush((m) => void this.handlePush(m)), live.onReconnect(() => void this.load())];
    const timer = setInterval(() => {
      if (this.access !== 'forbidden' && (live.conn !== 'open' || this.clock() - this.receivedAt > STALE_MS)) void this.load();
    }, POLL_MS);
    void this.load();
    return () => {
      offs.forEach((f) => f());
      clearInterval(timer);
    };
  }
}
