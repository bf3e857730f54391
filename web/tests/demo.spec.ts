/**
 * The demo tells the story (issue 18): a fresh `make run` federation, started here as `make
 * run` starts it (`python -m kizuna.demo`, with its own directory and ports), walked by a
 * newcomer with a printed demo login, in English and then in Japanese. Every domain's
 * seeded content must be on screen: the picture's tracks and the MDA events from the seeded
 * AIS (COP), the coordination requests (board), the JMA bulletin as an incident with its
 * RFAs, offers and shelter (HADR), the exercise and its MSEL (exercises), the reservations
 * (facilities), the ORBAT tree, and the working group with its action items (liaison).
 *
 * It needs nothing of global-setup.ts's node: the demo's three nodes are its own, stopped
 * (and their directory removed) when it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

/** What the demo prints: its nodes and its logins. */
interface Demo {
  nodes: Record<string, string>; // node id -> API URL
  logins: { url: string; name: string; nation: string }[];
  password: string;
  readySeconds: number;
}

// The seeded scenario's texts (src/kizuna/demo.py and src/kizuna/scenario/), per language.
const STORY = {
  en: {
    encounter: 'Encounter (possible ship-to-ship transfer): 352001303, 636012404',
    loitering: 'Loitering: 352001303',
    gap: 'AIS gap: 431000202',
    request: 'Use of JMSDF Kure pier for HADR staging',
    injectRequest: 'PACIFIC KIZUNA 26',
    incident: 'Major tsunami warning: 4 areas',
    tsunami: 'Major tsunami warning',
    water: 'Drinking water for the gymnasium shelter',
    food: 'Food for the gymnasium shelter',
    shelter: 'Ishinomaki General Gymnasium',
    exercise: 'PACIFIC KIZUNA 26',
    inject: 'Simulated: a merchant vessel aground off Kure requests tug support',
    range: 'North Fuji Maneuver Area (range)',
    units: ['Joint Operations Command', 'U.S. Forces Japan', 'Australian Defence Force contingent, Japan', 'Self Defense Fleet'],
    group: 'Alliance Coordination Group',
    minutes: 'Both chains agreed to align the exercise schedule',
    items: ['Align the bilateral exercise schedule', 'Confirm airspace coordination'],
    hadrTab: 'HADR',
  },
  ja: {
    encounter: '接舷（瀬取りの疑い）：352001303, 636012404',
    loitering: '徘徊：352001303',
    gap: 'AIS途絶：431000202',
    request: '人道支援・災害救援 集結のための呉岸壁使用',
    injectRequest: 'パシフィック絆26',
    incident: '大津波警報（4区域）',
    tsunami: '大津波警報',
    water: '体育館避難所の飲料水',
    food: '体育館避難所の食料',
    shelter: '石巻市総合体育館',
    exercise: 'パシフィック絆26',
    inject: '想定：呉沖で商船座礁、曳船支援の要請',
    range: '北富士演習場（射場）',
    units: ['統合作戦司令部', '在日米軍', 'オーストラリア国防軍派遣部隊', '自衛艦隊'],
    group: '同盟調整グループ',
    minutes: '双方の指揮系統は演習日程の調整に合意した。',
    items: ['日米共同統合演習の日程調整', '空域調整の確認'],
    hadrTab: '人道支援・災害救援',
  },
} as const;

async function portFree(port: number): Promise<boolean> {
  return await new Promise((r) => {
    const s = createServer();
    s.once('error', () => r(false));
    s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
  });
}

/** A base port whose 12 demo ports (3 nodes × API, federation, CoT, CoT TLS) are free. */
async function freeBase(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 42000 + 300 * Math.floor(Math.random() * 50);
    const ports = [0, 100, 200].flatMap((o) => [0, 1, 87, 89].map((p) => base + o + p));
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free base port for the demo');
}

function parse(out: string): Demo {
  const nodes: Record<string, string> = {};
  for (const m of out.matchAll(/^\s+(\w+)\s+\([A-Z]{3}\)\s+(http:\/\/\S+)/gm)) nodes[m[1]] = m[2];
  const logins = [...out.matchAll(/^\s+(http:\/\/\S+)\s+(\S+)\s+([A-Z]{3})\s+[A-Z]+\s*$/gm)].map((m) => ({ url: m[1], name: m[2], nation: m[3] }));
  const password = /password: ([^)\s]+)\)/.exec(out)?.[1] ?? '';
  const readySeconds = Number(/Ready in ([\d.]+) s/.exec(out)?.[1] ?? NaN);
  return { nodes, logins, password, readySeconds };
}

let child: ChildProcess | null = null;
let dir = '';
let demo: Demo;
let output = '';

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(150_000);
  dir = mkdtempSync(join(tmpdir(), 'kizuna-demo-'));
  const base = await freeBase();
  const python = process.env.KIZUNA_PYTHON || join(repo, '.venv/bin/python');
  const started = Date.now();
  child = spawn(python, ['-u', '-m', 'kizuna.demo', '--dir', join(dir, 'demo'), '--base-port', String(base)], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: nothing outlives the test
  });
  const proc = child;
  proc.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  await new Promise<void>((ok, fail) => {
    const timer = setInterval(() => {
      if (/Ready in [\d.]+ s/.test(output)) {
        clearInterval(timer);
        ok();
      } else if (proc.exitCode !== null) {
        clearInterval(timer);
        fail(new Error(`the demo exited with ${proc.exitCode}:\n${output}`));
      }
    }, 200);
  });
  demo = parse(output);
  process.stdout.write(`demo ready in ${((Date.now() - started) / 1000).toFixed(1)} s (it says ${demo.readySeconds} s), dir ${dir}\n`);
});

test.afterAll(async () => {
  const proc = child;
  if (proc && proc.exitCode === null && proc.pid) {
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM'); // the demo stops its nodes in order
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
    if (!gone) process.kill(-proc.pid, 'SIGKILL');
  }
  if (dir && !process.env.KIZUNA_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

async function open(page: Page, tab: string): Promise<void> {
  await page.getByTestId(`tab-${tab}`).click();
  await expect(page.getByTestId(`tab-${tab}`)).toHaveAttribute('aria-selected', 'true');
}

async function walk(page: Page, lang: 'en' | 'ja'): Promise<void> {
  const s = STORY[lang];
  await page.getByTestId(`lang-${lang}`).click();
  await expect(page.getByTestId('tab-hadr')).toHaveText(s.hadrTab);

  // COP: the simulated units' tracks, and MDA events from the seeded AIS.
  await open(page, 'map');
  await expect(page.getByTestId('track-count')).toContainText(/[1-9]\d*/);
  const events = page.getByTestId('mda-event-list');
  await expect(events.locator('[data-testid="mda-event"][data-type="encounter"][data-status="open"]')).toContainText(s.encounter);
  await expect(events).toContainText(s.loitering);
  await expect(events.locator('[data-testid="mda-event"][data-type="gap"]')).toContainText(s.gap);

  // Coordination requests, among them the exercise's first inject (delivered to JJOC).
  await open(page, 'board');
  const cards = page.getByTestId('request-card');
  await expect(cards.filter({ hasText: s.request })).toHaveCount(1);
  await expect(cards.filter({ hasText: s.injectRequest })).toHaveCount(1);

  // HADR: the JMA bulletin heads the incidents, with its RFAs, offers and shelter.
  await open(page, 'hadr');
  await expect(page.getByTestId('incident-card').first()).toContainText(s.incident);
  await page.getByTestId('hadr-tab-incident').click();
  await expect(page.getByTestId('incident-title')).toHaveText(s.incident);
  await expect(page.getByTestId('tsunami-areas')).toContainText(s.tsunami);
  await page.getByTestId('hadr-tab-rfas').click();
  const rfas = page.getByTestId('rfa-card');
  await expect(rfas.filter({ hasText: s.food })).toHaveCount(1);
  await rfas.filter({ hasText: s.water }).click();
  const detail = page.getByTestId('rfa-detail');
  await expect(detail).toHaveAttribute('data-coverage', 'PARTIAL');
  await expect(detail.locator('[data-testid="offer"][data-nation="USA"][data-status="ACCEPTED"]')).toHaveCount(1);
  await expect(detail.locator('[data-testid="offer"][data-nation="AUS"]')).toHaveCount(1);
  await page.getByTestId('hadr-tab-resources').click();
  await expect(page.getByTestId('shelter').filter({ hasText: s.shelter })).toHaveCount(1);

  // Exercises: PACIFIC KIZUNA 26 running, its MSEL on the timeline.
  await open(page, 'exercise');
  await expect(page.getByTestId('exercise-detail')).toContainText(s.exercise);
  await expect(page.getByTestId('exercise-detail').getByTestId('exercise-state')).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('timeline-item').filter({ hasText: s.inject })).toHaveAttribute('data-state', 'DELIVERED');

  // Facilities: this week's calendar holds USFJ's reservation of the range.
  await open(page, 'facilities');
  await expect(page.getByTestId('fac-calendar').locator('.fac-res').filter({ hasText: s.range })).not.toHaveCount(0);

  // ORBAT: both chains and the Australian contingent.
  await open(page, 'orbat');
  const tree = page.getByTestId('orbat-tree');
  for (const u of s.units) await expect(tree.getByTestId('orbat-name').filter({ hasText: u }).first()).toBeVisible();

  // Liaison: the working group, its meeting's minutes and its action items.
  await open(page, 'liaison');
  await page.getByTestId('liaison-tab-groups').click();
  await expect(page.getByTestId('working-group').filter({ hasText: s.group })).toHaveCount(1);
  await expect(page.getByTestId('meeting-minutes')).toContainText(s.minutes);
  await page.getByTestId('liaison-tab-items').click();
  for (const item of s.items) await expect(page.getByTestId('item-title').filter({ hasText: item })).toHaveCount(1);
}

test('the demo shows every domain of its scenario, in English and in Japanese', async ({ page }) => {
  test.setTimeout(90_000);
  expect(Object.keys(demo.nodes).sort()).toEqual(['aus', 'jjoc', 'usfj']);
  // JJOC's watch officer: the affected state's node, where the whole story meets.
  const login = demo.logins.find((l) => l.name === 'jp.watch');
  expect(login?.url).toBe(demo.nodes.jjoc);
  await page.goto(`${login!.url}/`);
  await page.getByTestId('login-form').waitFor();
  await page.locator('input[name="name"]').fill(login!.name);
  await page.locator('input[name="password"]').fill(demo.password);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('who')).toContainText('jp.watch');
  await test.step('English', () => walk(page, 'en'));
  await test.step('Japanese', () => walk(page, 'ja'));
});
