import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { expect, type Page } from '@playwright/test';

export interface NodeState {
  dir: string;
  nodeDir: string;
  base: string;
  port: number;
  cotPort: number;
  password: string;
  tokens: Record<string, string>;
  log: string;
  /** The affected state's node of the HADR tests (JPN), peered with usfj. */
  jjoc: { dir: string; base: string; port: number; token: string; user: string };
  /** The MDA seed (global-setup.ts seedMda): the vessel and its silence, UNIX seconds. */
  mda: { mmsi: string; silentFrom: number; resumed: number; file: string };
}

export function nodeState(): NodeState {
  const p = process.env.KIZUNA_TEST_STATE;
  if (!p) throw new Error('KIZUNA_TEST_STATE not set: global setup did not run');
  return JSON.parse(readFileSync(p, 'utf8')) as NodeState;
}

export interface CotTrack {
  uid: string;
  type: string;
  lat: number;
  lon: number;
  callsign?: string;
  course?: number;
  speed?: number; // m/s
  staleSeconds?: number;
  access?: string;
  releaseableTo?: string;
  opex?: string;
  time?: Date;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** A CoT 2.0 XML event for one atom. */
export function cotXml(t: CotTrack): string {
  const now = t.time ?? new Date();
  const stale = new Date(now.getTime() + (t.staleSeconds ?? 900) * 1000);
  const attrs = [
    `version="2.0"`,
    `uid="${esc(t.uid)}"`,
    `type="${esc(t.type)}"`,
    `how="m-g"`,
    `time="${now.toISOString()}"`,
    `start="${now.toISOString()}"`,
    `stale="${stale.toISOString()}"`,
  ];
  if (t.access) attrs.push(`access="${esc(t.access)}"`);
  if (t.releaseableTo) attrs.push(`releaseableTo="${esc(t.releaseableTo)}"`);
  if (t.opex) attrs.push(`opex="${esc(t.opex)}"`);
  const track = t.course !== undefined || t.speed !== undefined ? `<track course="${t.course ?? 0}" speed="${t.speed ?? 0}"/>` : '';
  const contact = t.callsign ? `<contact callsign="${esc(t.callsign)}"/>` : '';
  return (
    `<event ${attrs.join(' ')}>` +
    `<point lat="${t.lat.toFixed(6)}" lon="${t.lon.toFixed(6)}" hae="0" ce="10" le="10"/>` +
    `<detail>${contact}${track}</detail></event>`
  );
}

/** A plain TCP connection to the node's CoT port (the TAK client path). */
export async function cotConnect(port: number): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
    s.on('data', () => undefined); // the node relays events back; drain them
  });
}

export async function cotWrite(sock: Socket, xml: string): Promise<void> {
  if (!sock.write(xml)) await new Promise<void>((r) => sock.once('drain', () => r()));
}

export async function sendCot(port: number, tracks: CotTrack[]): Promise<void> {
  const s = await cotConnect(port);
  await cotWrite(s, tracks.map(cotXml).join('\n'));
  await new Promise<void>((r) => s.end(() => r()));
}

export async function loginWithPassword(page: Page, name: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-form').waitFor();
  await page.locator('input[name="name"]').fill(name);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('tab-map')).toBeVisible();
}

export async function loginWithToken(page: Page, token: string): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-form').waitFor();
  await page.getByRole('button', { name: /Bearer token|アクセストークン/ }).click();
  await page.locator('input[name="token"]').fill(token);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('tab-map')).toBeVisible();
}

// ---------------------------------------------------------------------------------------------
// MDA seed data: AIS NMEA sentences built here (type 1 position reports with NMEA 4.10 tag
// blocks carrying the `c:` time), so the test knows exactly what the node was given.

/** NMEA checksum: XOR of the bytes, two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/** Six-bit armouring of a bit string (length a multiple of 6). */
function armour(bits: string): string {
  let out = '';
  for (let i = 0; i < bits.length; i += 6) {
    const v = parseInt(bits.slice(i, i + 6), 2);
    out += String.fromCharCode(v < 40 ? v + 48 : v + 56);
  }
  return out;
}

function uint(value: number, width: number): string {
  return (BigInt.asUintN(width, BigInt(Math.round(value)))).toString(2).padStart(width, '0');
}

export interface AisFix {
  mmsi: number;
  /** Observation time, UNIX seconds (written as the tag block's c:). */
  t: number;
  lat: number;
  lon: number;
  sog: number; // knots
  cog: number; // degrees
}

/** One AIS message type 1 (class A position report) as a tagged !AIVDM line. */
export function aisPositionLine(f: AisFix): string {
  const bits =
    uint(1, 6) + // message type
    uint(0, 2) + // repeat
    uint(f.mmsi, 30) +
    uint(0, 4) + // under way using engine
    uint(-128, 8) + // rate of turn: not available
    uint(Math.round(f.sog * 10), 10) +
    uint(1, 1) + // position accuracy
    uint(Math.round(f.lon * 600000), 28) +
    uint(Math.round(f.lat * 600000), 27) +
    uint(Math.round(f.cog * 10), 12) +
    uint(Math.round(f.cog), 9) + // true heading
    uint(Math.floor(f.t) % 60, 6) + // UTC second
    uint(0, 2) +
    uint(0, 3) +
    uint(0, 1) +
    uint(0, 19);
  const body = `AIVDM,1,1,,A,${armour(bits)},0`;
  const tag = `c:${Math.floor(f.t)}`;
  return `\\${tag}*${nmeaChecksum(tag)}\\!${body}*${nmeaChecksum(body)}`;
}

/** The MDA test's vessel: a Japanese-flagged MMSI (MID 431), not a placeholder. */
export const MDA_GAP_MMSI = 431876543;
export const MDA_GAP_SILENCE_S = 7 * 3600;

/**
 * One vessel in the East China Sea, reporting every minute for an hour, silent for 7 h, then
 * reporting again up to a couple of minutes from now (so its track is live while the tests
 * run and its history holds the positions before and after the silence). Steams 045° at
 * 10 kn throughout, so the implied speed across the gap is 10 kn (no impossible jump).
 */
export function mdaGapFixes(now = Date.now() / 1000): AisFix[] {
  const end = Math.floor(now) + 120;
  const resume = end - 15 * 60;
  const silentFrom = resume - MDA_GAP_SILENCE_S;
  const begin = silentFrom - 3600;
  const lat0 = 31.2;
  const lon0 = 127.6;
  const kn = 10;
  const degPerS = (kn * 1852) / 3600 / 111_320;
  const at = (t: number): AisFix => {
    const d = (t - begin) * degPerS * Math.SQRT1_2;
    return { mmsi: MDA_GAP_MMSI, t, lat: lat0 + d, lon: lon0 + d / Math.cos((lat0 * Math.PI) / 180), sog: kn, cog: 45 };
  };
  const fixes: AisFix[] = [];
  for (let t = begin; t <= silentFrom; t += 60) fixes.push(at(t));
  for (let t = resume; t <= end; t += 60) fixes.push(at(t));
  return fixes;
}

/** Stop a node process: SIGTERM, then SIGKILL if it is still running 5 s later. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((r) => {
    const t = setTimeout(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
      r();
    }, 5000);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
    child.kill('SIGTERM');
  });
}
