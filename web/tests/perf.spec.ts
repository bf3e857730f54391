/**
 * Performance of the live map against a real node (`npm run perf`; not part of `npm test`).
 * 10,000 tracks arrive through the node's CoT TCP ingest; we measure
 *   - time to first render: page navigation start → all 10,000 tracks rendered by MapLibre;
 *   - frame time (requestAnimationFrame deltas, p50/p95) with the map idle (reference)
 *     and while 1,000 tracks/s are updated through the node;
 * prints a table and writes bench/results/web_map.json (repo root).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { cotConnect, cotWrite, cotXml, loginWithPassword, nodeState, type CotTrack } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS = resolve(here, '../../bench/results/web_map.json');
const N = Number(process.env.PERF_TRACKS ?? 10_000);
const RATE = Number(process.env.PERF_RATE ?? 1_000); // track updates per second
const SECONDS = Number(process.env.PERF_SECONDS ?? 10);
const TYPES = ['a-f-S-C', 'a-h-S', 'a-n-S', 'a-u-S', 'a-f-A-M-F', 'a-f-G-U-C', 'a-h-A', 'a-f-S-C-L'];

function fleet(i: number, jitter = 0): CotTrack {
  // Spread over the seas around Japan: lon 123–149, lat 24–45 (deterministic).
  const lon = 123 + ((i * 7919) % 10_000) / 10_000 * 26 + jitter;
  const lat = 24 + ((i * 104_729) % 10_000) / 10_000 * 21 + jitter;
  return {
    uid: `PERF-${i}`,
    type: TYPES[i % TYPES.length],
    lat,
    lon,
    callsign: `P${i}`,
    course: (i * 37) % 360,
    speed: 5 + (i % 10),
    staleSeconds: 3600,
  };
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function frameTimes(page: Page, ms: number): Promise<number[]> {
  return await page.evaluate(
    (dur) =>
      new Promise<number[]>((resolve) => {
        const deltas: number[] = [];
        let last = 0;
        const start = performance.now();
        const m = (window as unknown as { __kizuna: { map: { triggerRepaint: () => void } } }).__kizuna.map;
        const tick = (now: number) => {
          if (last) deltas.push(now - last);
          last = now;
          // keep MapLibre drawing every frame, so the deltas measure the map's real render cost
          m.triggerRepaint();
          if (now - start < dur) requestAnimationFrame(tick);
          else resolve(deltas);
        };
        requestAnimationFrame(tick);
      }),
    ms,
  );
}

const summary = (d: number[]) => {
  const s = [...d].sort((a, b) => a - b);
  return {
    frames: s.length,
    p50_ms: +pct(s, 50).toFixed(2),
    p95_ms: +pct(s, 95).toFixed(2),
    max_ms: +(s[s.length - 1] ?? NaN).toFixed(2),
    fps: +(1000 / (d.reduce((a, b) => a + b, 0) / Math.max(1, d.length))).toFixed(1),
  };
};

test('@perf live map with 10,000 tracks and 1,000 updates/s', async ({ page, browser }) => {
  test.setTimeout(300_000);
  const s = nodeState();

  // 1. Load 10,000 tracks into the node through CoT TCP.
  const sock = await cotConnect(s.cotPort);
  const t0 = Date.now();
  for (let i = 0; i < N; i += 500) {
    const chunk: string[] = [];
    for (let j = i; j < Math.min(N, i + 500); j++) chunk.push(cotXml(fleet(j)));
    await cotWrite(sock, chunk.join('\n'));
  }
  const ingestMs = Date.now() - t0;

  // Wait until the node reports all of them over its API.
  const token = s.tokens.alice;
  await expect
    .poll(
      async () => {
        const r = await fetch(`${s.base}/api/v1/tracks?bbox=120,20,152,48`, { headers: { Authorization: `Bearer ${token}` } });
        return r.ok ? ((await r.json()) as unknown[]).length : 0;
      },
      { timeout: 120_000, intervals: [500] },
    )
    .toBeGreaterThanOrEqual(N);
  const nodeReadyMs = Date.now() - t0;

  // 2. Time to first render: reload (already logged in) and wait until all tracks are drawn.
  await loginWithPassword(page, 'alice', s.password);
  await page.reload();
  await page.waitForFunction((n) => {
    const k = (window as unknown as { __kizuna?: { mapStats?: { renderedCount: number } } }).__kizuna;
    return (k?.mapStats?.renderedCount ?? 0) >= n;
  }, N, { timeout: 120_000 });
  const firstRender = await page.evaluate(() => {
    const k = (window as unknown as { __kizuna: { mapStats: { renderedAt: number; lastPushMs: number } } }).__kizuna;
    return { renderedAt: k.mapStats.renderedAt, pushMs: k.mapStats.lastPushMs };
  });

  // 3. Reference: frame times with 10,000 tracks on the map and no updates.
  await page.waitForTimeout(1000);
  const idle = await frameTimes(page, SECONDS * 1000);

  // 4. Frame times while RATE tracks/s are updated through the node.
  const before = await page.evaluate(() => (window as unknown as { __kizuna: { store: { stats: { trackUpdates: number } } } }).__kizuna.store.stats.trackUpdates);
  let sent = 0;
  let stop = false;
  const tick = 100; // ms
  const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
  const sender = (async () => {
    const start = Date.now();
    let k = 0;
    while (!stop) {
      const due = start + k * tick;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const batch: string[] = [];
      for (let j = 0; j < perTick; j++) {
        const i = (sent + j) % N;
        batch.push(cotXml({ ...fleet(i, 0.01 * (1 + Math.floor(sent / N))), time: new Date() }));
      }
      await cotWrite(sock, batch.join('\n'));
      sent += perTick;
      k++;
    }
  })();
  await page.waitForTimeout(1000); // let the stream reach steady state
  const updStart = Date.now();
  const sentStart = sent;
  const updating = await frameTimes(page, SECONDS * 1000);
  const updSeconds = (Date.now() - updStart) / 1000;
  const sentDuring = sent - sentStart;
  stop = true;
  await sender;
  const after = await page.evaluate(() => (window as unknown as { __kizuna: { store: { stats: { trackUpdates: number } } } }).__kizuna.store.stats.trackUpdates);
  sock.end();

  const result = {
    benchmark: 'web_map',
    date: new Date().toISOString(),
    browser: `chromium ${browser.version()} (headless, --disable-gpu: software WebGL)`,
    tracks: N,
    update_rate_target_per_s: RATE,
    node_ingest: { write_ms: ingestMs, all_tracks_queryable_ms: nodeReadyMs },
    time_to_first_render_ms: +firstRender.renderedAt.toFixed(0),
    geojson_push_ms: +firstRender.pushMs.toFixed(1),
    frame_time_idle: summary(idle),
    frame_time_updating: summary(updating),
    p95_ratio_updating_vs_idle: +(pct([...updating].sort((a, b) => a - b), 95) / pct([...idle].sort((a, b) => a - b), 95)).toFixed(2),
    updates_sent_per_s: +(sentDuring / updSeconds).toFixed(0),
    updates_received_per_s: +((after - before) / (updSeconds + 1)).toFixed(0),
    notes:
      'time_to_first_render_ms: navigation start to the render that shows all tracks (clustered at the default zoom). ' +
      'Frame times are requestAnimationFrame deltas with a repaint requested every frame; idle = same map, no updates (reference).',
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');
  const rows = [
    ['tracks', String(N)],
    ['time to first render (ms)', String(result.time_to_first_render_ms)],
    ['frame p50 / p95 idle (ms)', `${result.frame_time_idle.p50_ms} / ${result.frame_time_idle.p95_ms}`],
    [`frame p50 / p95 at ${RATE}/s (ms)`, `${result.frame_time_updating.p50_ms} / ${result.frame_time_updating.p95_ms}`],
    ['p95 ratio updating/idle', String(result.p95_ratio_updating_vs_idle)],
    ['updates sent / received per s', `${result.updates_sent_per_s} / ${result.updates_received_per_s}`],
  ];
  console.log('\nweb_map benchmark\n' + rows.map(([a, b]) => `  ${a.padEnd(36)} ${b}`).join('\n') + `\n  -> ${RESULTS}\n`);
  expect(result.frame_time_updating.frames).toBeGreaterThan(0);
});
