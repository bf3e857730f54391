/**
 * The ORBAT view's state: the tree as of the chosen instant (null: now), reloaded when the
 * node pushes a unit or unit_relation change (LiveStore.onPush) or after a reconnect.
 */
import type { LiveStore } from '../live';
import { orbatApi } from './api';
import { ORBAT_TOPICS, type Tree } from './types';

type Listener = () => void;
type Loader = (at: string | null) => Promise<Tree>;

export class OrbatStore {
  tree: Tree | null = null;
  at: string | null = null;
  error: unknown = null;
  loading = false;
  version = 0;
  /** Pushes seen since the page loaded (the view shows that the tree is live). */
  pushes = 0;
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private request = 0;

  constructor(
    private load: Loader = (at) => orbatApi.tree(at),
    private debounceMs = 250,
  ) {}

  attach(live: LiveStore): () => void {
    const offs = [live.onPush((m) => this.handle(m)), live.onReconnect(() => void this.reload())];
    return () => {
      offs.forEach((f) => f());
      if (this.timer) clearTimeout(this.timer);
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

  /** A push on one of the ORBAT's topics: reload the tree shortly (pushes come in bursts). */
  handle(msg: { type: string }): boolean {
    if (msg.type !== ORBAT_TOPICS.unit && msg.type !== ORBAT_TOPICS.relation) return false;
    this.pushes++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload();
    }, this.debounceMs);
    return true;
  }

  setAt(at: string | null): Promise<void> {
    this.at = at;
    return this.reload();
  }

  async reload(): Promise<void> {
    const mine = ++this.request;
    this.loading = true;
    this.changed();
    try {
      const tree = await this.load(this.at);
      if (mine !== this.request) return; // a newer request is on its way
      this.tree = tree;
      this.error = null;
    } catch (e) {
      if (mine !== this.request) return;
      this.error = e;
    }
    this.loading = false;
    this.changed();
  }
}
