/** What the liaison view holds: working groups, meetings, action items, the log, today's desk. */
import { liaisonApi, type ActionItem, type LiaisonEntry, type Meeting, type Today, type WorkingGroup } from './api';

export interface Alert {
  id: string;
  kind: 'reminder' | 'escalation';
  item: ActionItem;
}

type Api = Pick<typeof liaisonApi, 'groups' | 'meetings' | 'items' | 'entries' | 'today'>;

export class LiaisonStore {
  groups = new Map<string, WorkingGroup>();
  meetings = new Map<string, Meeting>();
  items = new Map<string, ActionItem>();
  entries: LiaisonEntry[] = [];
  today: Today | null = null;
  /** Reminders and escalations addressed to this user, newest first. */
  alerts: Alert[] = [];
  version = 0;
  error: string | null = null;
  private listeners = new Set<() => void>();

  constructor(
    private me: string,
    private api: Api = liaisonApi,
  ) {}

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  async loadAll(): Promise<void> {
    try {
      const [groups, meetings, items, entries, today] = await Promise.all([
        this.api.groups(),
        this.api.meetings(),
        this.api.items(),
        this.api.entries(),
        this.api.today(),
      ]);
      this.groups = new Map(groups.map((g) => [g.id, g]));
      this.meetings = new Map(meetings.map((m) => [m.id, m]));
      this.items = new Map(items.map((i) => [i.id, i]));
      this.entries = entries;
      this.today = today;
      this.error = null;
    } catch (e) {
      this.error = String((e as Error).message ?? e);
    }
    this.changed();
  }

  async refreshToday(): Promise<void> {
    try {
      this.today = await this.api.today();
      this.changed();
    } catch {
      /* the desk keeps what it had */
    }
  }

  /** An item as an answer or a push gives it. A push carries no caller's transitions: keep the last known. */
  upsertItem(item: ActionItem, fromPush = false): void {
    const old = this.items.get(item.id);
    const merged = fromPush && old ? { ...item, allowed_transitions: old.allowed_transitions, may_concur: old.may_concur, may_edit: old.may_edit } : item;
    this.items.set(item.id, merged);
    this.changed();
  }

  addEntry(entry: LiaisonEntry): void {
    this.entries = [entry, ...this.entries.filter((e) => e.id !== entry.id)];
    this.changed();
  }

  /** A message of the node's push bus; returns whether it was ours. */
  handlePush(msg: { type: string; item?: unknown }): boolean {
    if (msg.type === 'action_item' && msg.item) {
      this.upsertItem(msg.item as ActionItem, true);
      return true;
    }
    if (msg.type === 'action_item_alert' && msg.item) {
      const a = msg.item as { id: string; kind: Alert['kind']; to: string; item: ActionItem };
      this.upsertItem(a.item, true);
      const mine = a.to === this.me || (a.kind === 'escalation' && a.item.chair?.user === this.me);
      if (mine && !this.alerts.some((x) => x.id === a.id)) {
        this.alerts = [{ id: a.id, kind: a.kind, item: a.item }, ...this.alerts];
        this.changed();
      }
      return true;
    }
    return false;
  }
}
