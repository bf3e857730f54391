import { describe, expect, it, vi } from 'vitest';
import type { LiveStore } from '../live';
import { ApiError } from '../api';
import { peer, status } from './fixtures';
import { NetworkStore, POLL_MS } from './store';
import type { NetworkStatus } from './types';

function store(answer: () => Promise<NetworkStatus>, now = { t: 1_000_000 }) {
  let calls = 0;
  const s = new NetworkStore(
    {
      status: () => {
        calls++;
        return answer();
      },
    },
    () => now.t,
  );
  return { s, calls: () => calls, now };
}

describe('NetworkStore', () => {
  it('loads the status and follows pushes on the network topic', async () => {
    const { s, now } = store(async () => status());
    let changes = 0;
    s.subscribe(() => changes++);
    await s.load();
    expect(s.access).toBe('allowed');
    expect(s.status?.peers.map((p) => p.state)).toEqual(['connected']);
    expect(s.receivedAt).toBe(1_000_000);
    now.t = 1_002_000;
    const cut = status({ now: '2026-12-01T10:00:02Z', peers: [peer('jjoc', { state: 'cut', cut_since: '2026-12-01T10:00:01Z' })] });
    expect(s.handlePush({ type: 'network', item: cut })).toBe(true);
    expect(s.status?.peers[0].state).toBe('cut');
    expect(s.receivedAt).toBe(1_002_000);
    expect(s.handlePush({ type: 'request', item: { id: 'x' } })).toBe(false);
    expect(changes).toBe(2);
  });

  it('never rolls back to an older status (a slow answer after a push)', async () => {
    let answer: (v: NetworkStatus) => void = () => undefined;
    const { s } = store(() => new Promise<NetworkStatus>((r) => (answer = r)));
    const pending = s.load();
    s.handlePush({ type: 'network', item: status({ now: '2026-12-01T10:00:00Z', peers: [peer('jjoc', { state: 'cut' })] }) });
    answer(status({ now: '2026-12-01T09:59:59Z' }));
    await pending;
    expect(s.status?.now).toBe('2026-12-01T10:00:00Z');
    expect(s.status?.peers[0].state).toBe('cut');
  });

  it('follows the node clock when it steps back (a correction, or a test clock reset)', async () => {
    const { s } = store(async () => status({ now: '2026-12-01T09:00:00Z' }));
    s.handlePush({ type: 'network', item: status({ now: '2026-12-01T10:00:00Z' }) });
    s.handlePush({ type: 'network', item: status({ now: '2026-12-01T09:50:00Z', peers: [peer('jjoc', { state: 'cut' })] }) });
    expect(s.status?.peers[0].state).toBe('cut');
    await s.load();
    expect(s.status?.now).toBe('2026-12-01T09:00:00Z');
  });

  it('hides itself for a user the node answers 403, and ignores pushes then', async () => {
    const { s, calls } = store(async () => {
      throw new ApiError(403, 'Forbidden', 'operators only');
    });
    await s.load();
    expect(s.access).toBe('forbidden');
    expect(s.status).toBeNull();
    s.handlePush({ type: 'network', item: status() });
    expect(s.status).toBeNull();
    await s.load();
    expect(calls()).toBe(1);
  });

  it('keeps the last status and reports a failed request', async () => {
    let fail = false;
    const { s } = store(async () => {
      if (fail) throw new ApiError(0, 'network', 'connection refused');
      return status();
    });
    await s.load();
    fail = true;
    await s.load();
    expect(s.access).toBe('allowed');
    expect(s.status?.node).toBe('usfj');
    expect(s.error).toContain('connection refused');
  });

  it('drops a malformed push', () => {
    const { s } = store(async () => status());
    expect(s.handlePush({ type: 'network', item: { node: 'usfj' } })).toBe(true);
    expect(s.status).toBeNull();
  });
});

describe('NetworkStore.attach', () => {
  it('follows the bus, reloads after a reconnect and polls only while the bus is down', async () => {
    vi.useFakeTimers();
    try {
      const { s, calls } = store(async () => status());
      const pushes = new Set<(m: { type: string; item?: unknown }) => void>();
      const reconnects = new Set<() => void>();
      const live = {
        conn: 'open' as 'open' | 'closed' | 'connecting',
        onPush: (l: (m: { type: string; item?: unknown }) => void) => (pushes.add(l), () => pushes.delete(l)),
        onReconnect: (l: () => void) => (reconnects.add(l), () => reconnects.delete(l)),
      };
      const detach = s.attach(live as unknown as LiveStore);
      await vi.advanceTimersByTimeAsync(0);
      expect(calls()).toBe(1);
      pushes.forEach((l) => l({ type: 'network', item: status({ now: '2026-12-01T10:00:05Z' }) }));
      expect(s.status?.now).toBe('2026-12-01T10:00:05Z');
      await vi.advanceTimersByTimeAsync(POLL_MS * 2);
      expect(calls()).toBe(1); // the bus is up: no polling
      live.conn = 'closed';
      await vi.advanceTimersByTimeAsync(POLL_MS);
      expect(calls()).toBe(2);
      reconnects.forEach((l) => l());
      await vi.advanceTimersByTimeAsync(0);
      expect(calls()).toBe(3);
      detach();
      expect(pushes.size + reconnects.size).toBe(0);
      await vi.advanceTimersByTimeAsync(POLL_MS * 3);
      expect(calls()).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
