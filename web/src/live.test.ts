import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveStore } from './live';
import type { Track } from './types';

const tr = (id: string, observed = '2026-11-22T10:00:00Z', lat = 35): Track =>
  ({ id, lat, lon: 139, observed_at: observed, stale_at: '2099-01-01T00:00:00Z', sidc: '10033000001211000000' }) as Track;

describe('LiveStore', () => {
  afterEach(() => vi.useRealTimers());

  it('never rolls a track back to an older observation', () => {
    const s = new LiveStore('t');
    s.handle({ type: 'tracks', items: [tr('a', '2026-11-22T10:00:05Z', 36)] });
    s.handle({ type: 'tracks', items: [tr('a', '2026-11-22T10:00:01Z', 30)] });
    expect(s.tracks.get('a')!.lat).toBe(36);
  });

  it('makes the tracks of a compact frame whole: label fields by number, usual values restored', () => {
    const s = new LiveStore('t');
    const secret = {
      label: 'SECRET//REL TO USA, JPN', label_fgi: 'SECRET//REL TO USA, JPN', label_ja: '秘//米国、日本に公開可',
      classification: 'SECRET', rel_to: ['USA', 'JPN'], noforn: false, exercise: false, originator: 'USA',
    };
    const u = { ...secret, label: 'UNCLASSIFIED', label_fgi: 'UNCLASSIFIED', label_ja: '指定なし', classification: 'UNCLASSIFIED', rel_to: [] };
    const frame = JSON.stringify({
      type: 'tracks',
      snapshot: true,
      labels: { '3': secret, '7': u },
      items: [
        { ...tr('a'), l: 3, mmsi: 431000001, name: 'SHIP' },
        { ...tr('b'), l: 7 },
      ],
    });
    s.handle(JSON.parse(frame));
    const a = s.tracks.get('a')!;
    const b = s.tracks.get('b')!;
    expect([a.label, a.rel_to, a.classification, a.mmsi, a.name, a.callsign, a.stale]).toEqual([secret.label, ['USA', 'JPN'], 'SECRET', 431000001, 'SHIP', '', false]);
    expect([b.label, b.label_ja, b.rel_to, b.mmsi, b.course, b.remarks]).toEqual(['UNCLASSIFIED', '指定なし', [], null, null, '']);
    // A frame naming a label it does not give is refused whole and counted.
    s.handle(JSON.parse(JSON.stringify({ type: 'tracks', labels: {}, items: [{ ...tr('c'), l: 1 }] })));
    expect(s.tracks.has('c')).toBe(false);
    expect(s.stats.badFrames).toBe(1);
  });

  it('a snapshot replaces the picture once its chunks have arrived, without clearing first', () => {
    vi.useFakeTimers();
    const s = new LiveStore('t');
    s.handle({ type: 'tracks', items: [tr('a'), tr('c')] });
    s.handle({ type: 'tracks', snapshot: true, items: [tr('a', '2026-11-22T10:01:00Z')] });
    expect(s.tracks.has('c')).toBe(true); // still shown while the snapshot streams in
    s.handle({ type: 'tracks', items: [tr('b')] });
    vi.advanceTimersByTime(2000);
    expect([...s.tracks.keys()].sort()).toEqual(['a', 'b']);
  });

  it('removes tracks and merges request summaries into full records', () => {
    const s = new LiveStore('t');
    s.handle({ type: 'tracks', items: [tr('a')] });
    s.handle({ type: 'track_removed', id: 'a' });
    expect(s.tracks.size).toBe(0);
    const full = { id: 'r1', status: 'SUBMITTED', comments: [{ id: 'c' }], allowed_transitions: ['CANCELLED'] };
    s.upsertRequest(full as never);
    s.handle({ type: 'request', item: { id: 'r1', status: 'ACKNOWLEDGED' } as never });
    const r = s.requests.get('r1')!;
    expect(r.status).toBe('ACKNOWLEDGED');
    expect(r.comments).toHaveLength(1);
    s.handle({ type: 'overdue', item: { id: 'r1', status: 'ACKNOWLEDGED' } as never });
    expect(s.requests.get('r1')!.overdue).toBe(true);
  });
});

/** A stand-in WebSocket: records the URL and what is sent; the test opens and closes it. */
class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  static last: FakeSocket | null = null;
  readyState = FakeSocket.CONNECTING;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.readyState = FakeSocket.CLOSED;
  }
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
}

describe('LiveStore socket', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  const setup = () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    vi.stubGlobal('location', { protocol: 'http:', host: '127.0.0.1:8080' });
    const fetches = vi.fn(async () => new Response('[]', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetches);
    vi.stubGlobal('sessionStorage', { getItem: () => null, setItem: () => undefined, removeItem: () => undefined });
    return fetches;
  };
  const trackFetches = (f: ReturnType<typeof vi.fn>) => f.mock.calls.filter(([u]) => String(u).includes('/api/v1/tracks')).length;
  /** A store that subscribed to a view, then connected; its socket (not yet open). */
  const connected = () => {
    const s = new LiveStore('tok');
    s.subscribe([130, 30, 140, 40]);
    s.connect();
    return { s, ws: FakeSocket.last! };
  };

  it('carries the first subscription in the handshake, and asks no REST snapshot as well', () => {
    const fetches = setup();
    const { s, ws } = connected();
    const url = new URL(ws.url);
    expect(url.pathname).toBe('/api/v1/ws');
    expect(url.searchParams.get('token')).toBe('tok');
    expect(JSON.parse(url.searchParams.get('msg')!)).toEqual({ type: 'subscribe', bbox: [130, 30, 140, 40], compact: true });
    ws.open();
    expect(ws.sent).toEqual([]); // the handshake said it already
    expect(trackFetches(fetches)).toBe(0);
    s.close();
  });

  it('subscribes on open to a view that moved while connecting, by frame once open', () => {
    const fetches = setup();
    const { s, ws } = connected();
    s.subscribe([131, 31, 141, 41]); // connecting: neither sent nor fetched
    expect(trackFetches(fetches)).toBe(0);
    ws.open();
    expect(ws.sent.map((t) => JSON.parse(t))).toEqual([{ type: 'subscribe', bbox: [131, 31, 141, 41], compact: true }]);
    s.subscribe([132, 32, 142, 42]);
    expect(JSON.parse(ws.sent[1])).toEqual({ type: 'subscribe', bbox: [132, 32, 142, 42], compact: true });
    s.close();
  });

  it('falls back to REST at once when the socket closes', () => {
    vi.useFakeTimers();
    const fetches = setup();
    const { s, ws } = connected();
    ws.onclose?.();
    expect(s.conn).toBe('closed');
    expect(trackFetches(fetches)).toBe(1);
    s.close();
    vi.useRealTimers();
  });
});
