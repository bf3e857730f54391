/**
 * The network view (issue 19) during a cut and after healing, in both languages.
 *
 * The shared node of global-setup.ts is left alone: this spec runs its own pair, each link
 * through a fault proxy (tests/support/faultproxy.py, driven over its control socket):
 *   indopacom (USA, serves the app) ⇄ proxy ⇄ jmsdf (JPN)
 * A watch officer opens the network view on indopacom; both proxies cut the link; a FLASH
 * request is written on indopacom and waits in jmsdf's outbox; the proxies heal; the request
 * goes through and the digests agree. A user without an operator role sees no network view.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { stopChild } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const kizunaBin = process.env.KIZUNA_BIN || resolve(repo, '.venv/bin/kizuna');
const python = process.env.KIZUNA_PYTHON || resolve(repo, '.venv/bin/python');
const PASSWORD = 'correct-horse-battery-staple-42';
/** The roles the node's network route lets in (federation/views.py). */
const OPERATOR_ROLE = 'watch';
const PLAIN_ROLE = 'requester';

function kizuna(args: string[]): string {
  try {
    return execFileSync(kizunaBin, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`kizuna ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

const lastLine = (out: string) => out.trim().split(/\r?\n/).pop()!.trim();

/**
 * A port p with p and p+1 free now (the API port and the federation port), from 31000-32699:
 * below Linux's ephemeral ports, which an outgoing connection could take before the node binds,
 * and clear of pytest's nodes (10000-20999) and this suite's own node (21000-31000).
 */
async function freePorts(): Promise<number> {
  const bind = (port: number) =>
    new Promise<number>((res, rej) => {
      const srv = createServer();
      srv.once('error', rej);
      srv.listen(port, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => res(p));
      });
    });
  for (let i = 0; i < 50; i++) {
    const p = 31000 + 2 * Math.floor(Math.random() * 850);
    try {
      await bind(p);
      await bind(p + 1);
      return p;
    } catch {
      /* taken: try another */
    }
  }
  throw new Error('no free port pair');
}

/** A fault proxy process in front of ``targetPort``, driven over its control socket. */
class FaultProxy {
  private constructor(
    private proc: ChildProcess,
    readonly listenPort: number,
    private controlPort: number,
  ) {}

  static async start(targetPort: number): Promise<FaultProxy> {
    const proc = spawn(python, [join(repo, 'tests/support/faultproxy.py'), `--target=127.0.0.1:${targetPort}`], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const hello = await new Promise<{ listen_port: number; control_port: number }>((res, rej) => {
      let buf = '';
      const timer = setTimeout(() => rej(new Error('fault proxy did not report its ports')), 15_000);
      proc.stdout!.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          res(JSON.parse(buf.slice(0, nl)) as { listen_port: number; control_port: number });
        }
      });
      proc.once('exit', (code) => rej(new Error(`fault proxy exited with ${code}`)));
    });
    return new FaultProxy(proc, hello.listen_port, hello.control_port);
  }

  command(line: string): Promise<{ ok: boolean; error?: string }> {
    return new Promise((res, rej) => {
      const sock = connect({ host: '127.0.0.1', port: this.controlPort }, () => sock.write(`${line}\n`));
      let buf = '';
      sock.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        if (buf.includes('\n')) {
          sock.end();
          const answer = JSON.parse(buf.slice(0, buf.indexOf('\n'))) as { ok: boolean; error?: string };
          if (answer.ok) res(answer);
          else rej(new Error(`fault proxy: ${line}: ${answer.error}`));
        }
      });
      sock.on('error', rej);
    });
  }

  cut = () => this.command('cut');
  heal = () => this.command('heal');

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    await this.command('shutdown').catch(() => undefined);
    await stopChild(this.proc);
  }
}

interface TestNode {
  id: string;
  dir: string;
  base: string;
  fedPort: number;
  proc?: ChildProcess;
}

async function initNode(root: string, id: string, nation: string): Promise<TestNode> {
  const port = await freePorts();
  const dir = join(root, id);
  kizuna(['init', '--dir', dir, '--node-id', id, '--nation', nation, '--port', String(port), '--no-cot']);
  const info = JSON.parse(kizuna(['node', 'info', '--dir', dir])) as { federation_url: string };
  return { id, dir, base: `http://127.0.0.1:${port}`, fedPort: Number(info.federation_url.split(':').pop()) };
}

/** Tell ``a`` about ``b``, reached at ``url`` (through a proxy). */
function peerVia(a: TestNode, b: TestNode, nation: string, url: string): void {
  const cert = join(b.dir, 'exported-cert.pem');
  writeFileSync(cert, kizuna(['node', 'cert', '--dir', b.dir]));
  kizuna(['peer', 'add', '--dir', a.dir, '--peer-id', b.id, '--nation', nation, '--url', url, '--cert', cert]);
}

/**
 * Set ``[federation]`` in a node's node.toml (the node reads it again when the file changes):
 * short alert and digest intervals, and the test clock (``clock_offset_s``) that ages queues.
 */
function setFederation(node: TestNode, values: Record<string, number>): void {
  const path = join(node.dir, 'node.toml');
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: string[] = [];
  let skipping = false;
  for (const line of lines) {
    if (/^\s*\[/.test(line)) skipping = /^\s*\[federation\]\s*$/.test(line);
    if (!skipping) out.push(line);
  }
  const table = ['[federation]', ...Object.entries(values).map(([k, v]) => `${k} = ${v}`)];
  writeFileSync(path, `${out.join('\n').trimEnd()}\n\n${table.join('\n')}\n`);
}

const FEDERATION = { link_cut_alert_s: 3, digest_every_s: 2, digest_alert_s: 600 };

async function serve(node: TestNode, root: string): Promise<void> {
  const log = openSync(join(root, `serve-${node.id}.log`), 'a');
  const child = spawn(kizunaBin, ['serve', '--dir', node.dir], { stdio: ['ignore', log, log], env: { ...process.env, NO_COLOR: '1' } });
  node.proc = child;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kizuna serve ${node.id} exited with ${child.exitCode} (log ${root})`);
    try {
      if ((await fetch(`${node.base}/api/v1/meta`)).status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`node ${node.id} did not answer at ${node.base}`);
}

async function api(node: TestNode, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return await fetch(`${node.base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function login(page: Page, node: TestNode, name: string): Promise<void> {
  await page.goto(`${node.base}/`);
  await page.getByTestId('login-form').waitFor();
  await page.locator('input[name="name"]').fill(name);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('tab-map')).toBeVisible();
}

let root = '';
let usa: TestNode;
let jpn: TestNode;
const proxies: FaultProxy[] = [];
let watchToken = '';
let jpnToken = '';

test.describe('network view', () => {
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    root = mkdtempSync(join(tmpdir(), 'kizuna-net-'));
    usa = await initNode(root, 'indopacom', 'USA');
    jpn = await initNode(root, 'jmsdf', 'JPN');
    watchToken = lastLine(
      kizuna(['user', 'add', '--dir', usa.dir, '--name', 'watch.officer', '--nation', 'USA', '--clearance', 'SECRET', '--role', OPERATOR_ROLE, '--password', PASSWORD]),
    );
    jpnToken = lastLine(kizuna(['user', 'add', '--dir', jpn.dir, '--name', 'jp.watch', '--nation', 'JPN', '--clearance', 'SECRET', '--role', OPERATOR_ROLE]));
    kizuna(['user', 'add', '--dir', usa.dir, '--name', 'plain.user', '--nation', 'USA', '--clearance', 'SECRET', '--role', PLAIN_ROLE, '--password', PASSWORD]);
    // Both directions through a proxy: a cut is a cut both ways.
    const toJpn = await FaultProxy.start(jpn.fedPort);
    const toUsa = await FaultProxy.start(usa.fedPort);
    proxies.push(toJpn, toUsa);
    peerVia(usa, jpn, 'JPN', `https://127.0.0.1:${toJpn.listenPort}`);
    peerVia(jpn, usa, 'USA', `https://127.0.0.1:${toUsa.listenPort}`);
    for (const n of [usa, jpn]) setFederation(n, FEDERATION);
    await serve(usa, root);
    await serve(jpn, root);
  });

  test.afterAll(async () => {
    for (const n of [usa, jpn]) if (n?.proc) await stopChild(n.proc);
    for (const p of proxies) await p.stop();
    if (root && !process.env.KIZUNA_KEEP_TEST_DIR) rmSync(root, { recursive: true, force: true });
  });

  test('a peer during a cut and after healing, in English and Japanese', async ({ page }) => {
    test.setTimeout(180_000);
    await login(page, usa, 'watch.officer');
    await page.getByTestId('lang-en').click();
    await page.getByTestId('tab-network').click();
    const row = page.getByTestId('net-peer-jmsdf');
    const state = row.getByTestId('net-state');
    const flash = row.getByTestId('net-queue-FLASH');
    await expect(row).toBeVisible();
    await expect(row).toContainText('JPN');
    await expect(state).toHaveText(/^Connected/, { timeout: 30_000 });

    // Cut both ways, then write a FLASH request the agreement releases to JPN.
    for (const p of proxies) await p.cut();
    const created = await api(usa, watchToken, 'POST', '/api/v1/requests', {
      addressees: ['jmsdf'],
      kind: 'deconfliction',
      precedence: 'FLASH',
      label: 'UNCLASSIFIED',
      title: { en: 'Deconflict airspace over Sagami Bay', ja: '' },
      body: { en: 'Training airspace 0900-1200 on 3 December.', ja: '' },
    });
    expect(created.status, await created.clone().text()).toBeLessThan(300);
    const { id } = (await created.json()) as { id: string };
    const submitted = await api(usa, watchToken, 'POST', `/api/v1/requests/${id}/transitions`, { to: 'SUBMITTED', reason: '' });
    expect(submitted.status, await submitted.clone().text()).toBeLessThan(300);

    // The watch officer sees the cut (in words, not only colour) and the FLASH item waiting.
    await expect(row).toHaveAttribute('data-state', 'cut', { timeout: 60_000 });
    await expect(state).toHaveText(/^Cut/);
    await expect(flash).not.toHaveAttribute('data-depth', '0');
    await expect(flash.getByTestId('net-depth')).toHaveText(/^[1-9]\d* queued$/);
    await expect(flash).toContainText('FLASH');
    await expect(flash).toContainText('objective 10 min');
    // Cut longer than [federation] link_cut_alert_s: the alert strip says so.
    const alerts = page.getByTestId('net-alerts');
    await expect(alerts.getByTestId('net-alert-link_cut-jmsdf')).toContainText('Link cut');
    await expect(flash).toHaveAttribute('data-overdue', 'false');
    // Eleven minutes on (the node's test clock): the FLASH item is past its 10 min objective.
    setFederation(usa, { ...FEDERATION, clock_offset_s: 660 });
    await expect(flash).toHaveAttribute('data-overdue', 'true', { timeout: 30_000 });
    await expect(flash).toContainText('OVERDUE');
    await expect(flash).toContainText(/oldest 1[01] min \/ objective 10 min/);
    await expect(alerts.getByTestId('net-alert-flash_overdue-jmsdf')).toContainText('FLASH overdue');
    // The strip shows from any view.
    await page.getByTestId('tab-board').click();
    await expect(alerts.getByTestId('net-alert-flash_overdue-jmsdf')).toBeVisible();
    await alerts.getByTestId('net-alert-link_cut-jmsdf').click();
    await expect(row).toBeVisible();

    // The same in Japanese.
    await page.getByTestId('lang-ja').click();
    await expect(state).toHaveText(/^切断/);
    await expect(flash).toContainText('FLASH（最緊急）');
    await expect(flash.getByTestId('net-depth')).toHaveText(/^[1-9]\d*件$/);
    await expect(flash).toContainText('処理時間目標 10分');
    await expect(flash).toContainText('目標超過');
    await expect(alerts.getByTestId('net-alert-link_cut-jmsdf')).toContainText('回線切断');
    await expect(alerts.getByTestId('net-alert-flash_overdue-jmsdf')).toContainText('FLASH（最緊急）処理時間目標超過');
    await expect(page.getByRole('tab', { name: 'ネットワーク' })).toBeVisible();

    // Heal: the request goes through, the link is back and the digests agree.
    for (const p of proxies) await p.heal();
    await expect(row).toHaveAttribute('data-state', 'connected', { timeout: 60_000 });
    await expect(state).toHaveText(/^接続/);
    await expect(flash).toHaveAttribute('data-depth', '0', { timeout: 30_000 });
    await expect(flash).toHaveAttribute('data-overdue', 'false');
    await expect(alerts).toHaveCount(0, { timeout: 30_000 });
    await expect(row.getByTestId('net-digest')).toHaveAttribute('data-digest', 'agree', { timeout: 60_000 });
    await expect(row.getByTestId('net-digest')).toHaveText('一致');
    await page.getByTestId('lang-en').click();
    await expect(state).toHaveText(/^Connected/);
    await expect(row.getByTestId('net-digest')).toHaveText('Agree');
    await expect(flash.getByTestId('net-depth')).toHaveText('0 queued');
    // The FLASH request reached the peer.
    expect((await api(jpn, jpnToken, 'GET', `/api/v1/requests/${id}`)).status).toBe(200);
  });

  test('no network view for a user without an operator role', async ({ page }) => {
    const plain = lastLine(
      kizuna(['user', 'add', '--dir', usa.dir, '--name', 'plain.reader', '--nation', 'USA', '--clearance', 'SECRET', '--role', PLAIN_ROLE]),
    );
    expect((await api(usa, plain, 'GET', '/api/v1/network')).status).toBe(403);
    expect((await api(usa, watchToken, 'GET', '/api/v1/network')).status).toBe(200);
    await login(page, usa, 'plain.user');
    await expect(page.getByTestId('tab-board')).toBeVisible();
    await expect(page.getByTestId('tab-network')).toHaveCount(0);
    await expect(page.getByTestId('net-alerts')).toHaveCount(0);
  });
});
