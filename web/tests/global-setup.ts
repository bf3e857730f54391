/**
 * Starts a real Kizuna node for the Playwright run (no mocked backend):
 *   kizuna init --dir D --node-id usfj --nation USA --port P --cot-port C
 *   kizuna user add … (alice: requester side, bob: addressee side; both on node usfj)
 *   kizuna serve --dir D
 * For the HADR tests, a second node jjoc (JPN, the affected state) peered with usfj both ways,
 * a real JMA VXSE53 bulletin ingested on both (`kizuna ingest alerts`), an evacuation shelter
 * on jjoc and a capability on usfj (through the API, as a user would).
 * For the MDA tests, usfj ingests a small AIS NMEA file (`kizuna ingest ais`) of one vessel
 * that falls silent for 7 h (helpers.ts mdaGapFixes): the MDA domain makes a gap event of it.
 * The nodes serve the built app (web/dist) at "/". The returned function stops them.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aisPositionLine, MDA_GAP_MMSI, mdaGapFixes, stopChild } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));

export const PASSWORD = 'correct-horse-battery-staple-42';

/** The JMA bulletin the HADR tests show: 2021-02-19 M3.9, max. 震度4, 岩手県内陸北部. */
export const JMA_BULLETIN = '20210219091451_0_VXSE53_010000.xml';

function kizunaBin(): string {
  return process.env.KIZUNA_BIN || resolve(here, '../../.venv/bin/kizuna');
}

function run(args: string[]): string {
  try {
    return execFileSync(kizunaBin(), args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '200' } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`kizuna ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

function lastLine(out: string): string {
  const lines = out.trim().split(/\r?\n/);
  return lines[lines.length - 1].trim();
}

async function waitForNode(base: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kizuna serve exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${base}/api/v1/meta`);
      if (res.status < 500) return;
      lastErr = `HTTP ${res.status}`;
    } catch (e) {
      lastErr = String(e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`node did not answer at ${base}: ${lastErr}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const port = Number(process.env.KIZUNA_TEST_PORT);
  const cotPort = Number(process.env.KIZUNA_TEST_COT_PORT);
  const dir = mkdtempSync(join(tmpdir(), 'kizuna-web-'));
  const nodeDir = join(dir, 'node');
  run(['init', '--dir', nodeDir, '--node-id', 'usfj', '--nation', 'USA', '--port', String(port), '--cot-port', String(cotPort), '--cot-tls-port', '0']);
  const users: Record<string, string> = {};
  for (const [name, nation] of [
    ['alice', 'USA'],
    ['bob', 'USA'],
  ]) {
    const out = run(['user', 'add', '--dir', nodeDir, '--name', name, '--nation', nation, '--clearance', 'SECRET', '--role', 'watch', '--password', PASSWORD]);
    users[name] = lastLine(out);
  }
  // HADR: the affected state's node, peered with usfj (federation ports are port+1).
  const jjocDir = join(dir, 'jjoc');
  const jjocPort = port + 10;
  run(['init', '--dir', jjocDir, '--node-id', 'jjoc', '--nation', 'JPN', '--port', String(jjocPort), '--no-cot']);
  const jjocUser = lastLine(
    run(['user', 'add', '--dir', jjocDir, '--name', 'kenji', '--nation', 'JPN', '--clearance', 'SECRET', '--role', 'watch', '--password', PASSWORD]),
  );
  peer(nodeDir, jjocDir);
  peer(jjocDir, nodeDir);
  const jma = resolve(process.env.KIZUNA_JMA_DIR || resolve(here, '../../../shared/data/jma'), JMA_BULLETIN);
  if (!existsSync(jma)) throw new Error(`JMA test data not found: ${jma}`);
  for (const d of [nodeDir, jjocDir]) run(['ingest', 'alerts', jma, '--dir', d]);
  const mda = seedMda(dir, nodeDir);

  const log = openSync(join(dir, 'serve.log'), 'a');
  // Reference facilities from the shared test data, read in place (never copied into the repo).
  const facilities = process.env.KIZUNA_FACILITIES || resolve(here, '../../../shared/data/reference/facilities.csv');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  if (existsSync(facilities)) env.KIZUNA_FACILITIES = facilities;
  // The glossary behind the liaison workspace's term hints, read in place too.
  const glossary = process.env.KIZUNA_GLOSSARY || resolve(here, '../../../shared/data/reference/glossary.csv');
  if (existsSync(glossary)) env.KIZUNA_GLOSSARY = glossary;
  const child = spawn(kizunaBin(), ['serve', '--dir', nodeDir], { stdio: ['ignore', log, log], env });
  const jjocLog = openSync(join(dir, 'serve-jjoc.log'), 'a');
  const jjoc = spawn(kizunaBin(), ['serve', '--dir', jjocDir], { stdio: ['ignore', jjocLog, jjocLog], env });
  const base = `http://127.0.0.1:${port}`;
  const jjocBase = `http://127.0.0.1:${jjocPort}`;
  await waitForNode(base, child);
  await waitForNode(jjocBase, jjoc);
  await seedHadr(base, users.alice, jjocBase, jjocUser);
  const state = {
    dir,
    nodeDir,
    base,
    port,
    cotPort,
    password: PASSWORD,
    tokens: users,
    log: join(dir, 'serve.log'),
    jjoc: { dir: jjocDir, base: jjocBase, port: jjocPort, token: jjocUser, user: 'kenji' },
    mda,
  };
  const statePath = join(dir, 'state.json');
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  process.env.KIZUNA_TEST_STATE = statePath;
  process.stdout.write(`kizuna node usfj on ${base} (CoT TCP ${cotPort}), dir ${dir}\n`);

  return async () => {
    await stopChild(jjoc);
    await stopChild(child);
    if (!process.env.KIZUNA_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  };
}

/** Tell node ``a`` about node ``b`` (its certificate and federation URL). */
function peer(a: string, b: string): void {
  const info = JSON.parse(run(['node', 'info', '--dir', b])) as { node_id: string; nation: string; federation_url: string };
  const cert = join(b, 'exported-cert.pem');
  writeFileSync(cert, run(['node', 'cert', '--dir', b]));
  run(['peer', 'add', '--dir', a, '--peer-id', info.node_id, '--nation', info.nation, '--url', info.federation_url, '--cert', cert]);
}

async function post(base: string, token: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path} on ${base}: ${res.status} ${await res.text()}`);
}

/** An evacuation shelter on jjoc (where the RFA is asked for) and a capability on usfj. */
async function seedHadr(usfj: string, usfjToken: string, jjoc: string, jjocToken: string): Promise<void> {
  await post(jjoc, jjocToken, '/api/v1/shelters', {
    label: 'UNCLASSIFIED',
    name: { en: 'Ninohe Civic Gymnasium', ja: '二戸市民体育館' },
    municipality: { en: 'Ninohe', ja: '二戸市' },
    municipality_code: '03213',
    position: { lat: 40.2712, lon: 141.3047 },
    capacity_day: 800,
    capacity_night: 600,
    population_day: 450,
    population_night: 640,
  });
  await post(usfj, usfjToken, '/api/v1/capabilities', {
    label: 'UNCLASSIFIED',
    code: 'water_production',
    quantity: 60,
    unit_name: '35th Combat Sustainment Support Battalion',
    military: true,
    readiness_hours: 12,
  });
}

/** MDA: one vessel's AIS with a 7 h silence, ingested before the node serves (a gap event). */
function seedMda(dir: string, nodeDir: string): { mmsi: string; silentFrom: number; resumed: number; file: string } {
  const fixes = mdaGapFixes();
  const file = join(dir, 'mda-gap.nmea');
  writeFileSync(file, fixes.map(aisPositionLine).join('\n') + '\n');
  run(['ingest', 'ais', file, '--dir', nodeDir]);
  let silentFrom = fixes[0].t;
  let resumed = fixes[0].t;
  for (let i = 1; i < fixes.length; i++)
    if (fixes[i].t - fixes[i - 1].t > 3600) {
      silentFrom = fixes[i - 1].t;
      resumed = fixes[i].t;
    }
  return { mmsi: String(MDA_GAP_MMSI), silentFrom, resumed, file };
}
