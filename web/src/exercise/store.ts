/**
 * The exercise view's state: the exercises the caller may see and the MSEL of the one
 * selected, reloaded when the node pushes on the ``exercise`` topic or after a reconnect.
 */
import type { LiveStore } from '../live';
import { exerciseApi } from './api';
import { EXERCISE_TOPIC, type Exercise, type Inject } from './types';

type Listener = () => void;

export interface ExerciseLoader {
  list: () => Promise<Exercise[]>;
  injects: (id: string) => Promise<Inject[]>;
}

export class ExerciseStore {
  exercises: Exercise[] = [];
  injects: Inject[] = [];
  selected: string | null = null;
  error: unknown = null;
  version = 0;
  pushes = 0;
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private request = 0;

  constructor(
    private load: ExerciseLoader = exerciseApi,
    private debounceMs = 200,
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

  get current(): Exercise | null {
    return this.exercises.find((e) => e.id === this.selected) ?? null;
  }

  /** A push on the exercise topic: reload shortly (pushes come in bursts). */
  handle(msg: { type: string }): boolean {
    if (msg.type !== EXERCISE_TOPIC) return false;
    this.pushes++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload();
    }, this.debounceMs);
    return true;
  }

  select(id: string | null): Promise<void> {
    this.selected = id;
    this.injects = [];
    this.changed();
    return this.reload();
  }

  async reload(): Promise<void> {
    const mine = ++this.request;
    try {
      const exercises = await this.load.list();
      if (mine !== this.request) return;
      let selected = this.selected;
      if (!selected || !exercises.some((e) => e.id === selected)) selected = exercises[0]?.id ?? null;
      const injects = selected ? await this.load.injects(selected) : [];
      if (mine !== this.request) return;
      this.exercises = exercises;
      this.selected = selected;
      this.injects = injects;
      this.error = null;
    } catch (e) {
      if (mine !== this.request) return;
      this.error = e;
    }
    this.changed();
  }
}
