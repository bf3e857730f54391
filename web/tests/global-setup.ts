/**
 * Starts a real Kizuna node for the Playwright run (no mocked backend):
 *   kizuna init --dir D --node-id usfj --nation USA --port P --cot-port C
 *   kizuna user add … (alice: requester side, bob: addressee side; both on node usfj)
 *   kizuna serve --dir D
 * The node serves the built app (web/dist) at "/". The returned function stops it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const PASSWORD = 'correct-horse-battery-staple-42';

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
  const log = openSync(join(dir, 'serve.log'), 'a');
  // Reference facilities from the shared test data, read in place (never copied into the repo).
  const facilities = process.env.KIZUNA_FACILITIES || resolve(here, '../../../shared/data/reference/facilities.csv');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  if (existsSync(facilities)) env.KIZUNA_FACILITIES = facilities;
  const child = spawn(kizunaBin(), ['serve', '--dir', nodeDir], { stdio: ['ignore', log, log], env });
  const base = `http://127.0.0.1:${port}`;
  await waitForNode(base, child);
  const state = { dir, nodeDir, base, port, cotPort, password: PASSWORD, tokens: users, log: join(dir, 'serve.log') };
  const statePath = join(dir, 'state.json');
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  process.env.KIZUNA_TEST_STATE = statePath;
  process.stdout.write(`kizuna node usfj on ${base} (CoT TCP ${cotPort}), dir ${dir}\n`);

  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          if (child.exitCode === null) child.kill('SIGKILL');
          r();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    if (!process.env.KIZUNA_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  };
}
