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
