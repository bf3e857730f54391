/**
 * The ORBAT tab against the real nodes of global-setup.ts: usfj (USA) and jjoc (JPN), peered.
 * Each node records its own chain over the API; jjoc records the COORDINATION edge between
 * the two. The tree is checked in English and in Japanese: kinds of relationship,
 * collapse/expand, the task organisation as of a past date after a re-subordination, and
 * the units drawn as 2525D symbols on the map.
 */
import { expect, test, type Page } from '@playwright/test';
import { nodeState } from './helpers';

const U = 'UNCLASSIFIED';
const HQ = '10031000001100000000';

async function send(base: string, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function ensure(base: string, token: string, kind: 'units' | 'relations', body: { id: string }): Promise<void> {
  if ((await send(base, token, 'GET', `/api/v1/orbat/${kind}/${body.id}`)).ok) return;
  const res = await send(base, token, 'POST', `/api/v1/orbat/${kind}`, body);
  if (!res.ok) throw new Error(`POST ${kind} ${body.id}: ${res.status} ${await res.text()}`);
}

const unit = (id: string, en: string, ja: string, extra: object = {}) => ({ id, label: U, name: { en, ja }, sidc: HQ, echelon: 'command', hq: true, ...extra });
const edge = (id: string, from: string, to: string, kind: string, valid_from = '2026-01-01T00:00:00Z') => ({ id, label: U, from_unit: from, to_unit: to, kind, valid_from });

async function seed(): Promise<void> {
  const s = nodeState();
  const us = [s.base, s.tokens.alice] as const;
  const jp = [s.jjoc.base, s.jjoc.token] as const;
  await ensure(...us, 'units', unit('web-usfj', 'U.S. Forces Japan', '在日米軍', { location: { lat: 35.7486, lon: 139.3486 } }));
  await ensure(...us, 'units', unit('web-mef', 'III MEF', '第3海兵機動展開部隊', { echelon: 'corps', location: { lat: 26.2914, lon: 127.7464 } }));
  await ensure(...us, 'units', unit('web-cnfj', 'U.S. Naval Forces Japan', '在日米海軍', { location: { lat: 35.2917, lon: 139.6611 } }));
  await ensure(...us, 'units', unit('web-meu', '31st MEU', '第31海兵遠征部隊', { hq: false, echelon: 'battalion' }));
  await ensure(...us, 'relations', edge('web-r-mef', 'web-mef', 'web-usfj', 'ORGANIC'));
  await ensure(...us, 'relations', edge('web-r-cnfj', 'web-cnfj', 'web-usfj', 'ORGANIC'));
  if (!(await send(...us, 'GET', '/api/v1/orbat/relations/web-r-meu')).ok) {
    await ensure(...us, 'relations', edge('web-r-meu', 'web-meu', 'web-mef', 'ORGANIC', '2026-02-01T00:00:00Z'));
    const res = await send(...us, 'POST', '/api/v1/orbat/units/web-meu/resubordinate', { to_unit: 'web-cnfj', kind: 'OPCON', label: U, at: '2026-06-01T00:00:00Z' });
    if (!res.ok) throw new Error(`resubordinate: ${res.status} ${await res.text()}`);
  }
  await ensure(...jp, 'units', unit('web-jjoc', 'Joint Operations Command', '統合作戦司令部', { location: { lat: 35.6926, lon: 139.727 } }));
  // The coordination edge is JJOC's to record, once USFJ's unit has reached jjoc.
  await expect.poll(async () => (await send(...jp, 'GET', '/api/v1/orbat/units/web-usfj')).status, { timeout: 20_000 }).toBe(200);
  await ensure(...jp, 'relations', edge('web-coord', 'web-jjoc', 'web-usfj', 'COORDINATION'));
}

async function login(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByTestId('login-form').waitFor();
  await page.getByRole('button', { name: /Bearer token|アクセストークン/ }).click();
  await page.locator('input[name="token"]').fill(token);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('tab-orbat')).toBeVisible();
}

async function setLang(page: Page, lang: 'en' | 'ja'): Promise<void> {
  await page.getByTestId(`lang-${lang}`).click();
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

const row = (page: Page, id: string) => page.locator(`[data-testid="orbat-row"][data-unit="${id}"]`);

/** Unit ids MapLibre has drawn on the ORBAT map. */
async function drawn(page: Page): Promise<string[]> {
  return await page.evaluate(
    () =>
      new Promise<string[]>((resolve) => {
        type M = { once: (e: string, f: () => void) => void; triggerRepaint: () => void; queryRenderedFeatures: (o: object) => { properties: { id: string } }[] };
        const m = (window as unknown as { __kizuna: { orbatMap: M } }).__kizuna.orbatMap;
        m.once('idle', () => resolve(m.queryRenderedFeatures({ layers: ['orbat-units'] }).map((f) => f.properties.id)));
        m.triggerRepaint();
      }),
  );
}

test.describe('ORBAT view', () => {
  test.beforeAll(async () => {
    await seed();
  });

  test('the tree, its relationships and the task organisation as of a date, in English and Japanese', async ({ page }) => {
    const s = nodeState();
    await login(page, s.base, s.tokens.alice);
    await setLang(page, 'en');
    await page.getByTestId('tab-orbat').click();
    await expect(page.getByTestId('orbat-view')).toBeVisible();

    // Now: USFJ's chain with its kinds; JJOC (from jjoc, by federation) coordinated with USFJ.
    await expect(row(page, 'web-mef')).toHaveAttribute('data-parent', 'web-usfj');
    await expect(row(page, 'web-mef').getByTestId('orbat-kind')).toHaveText('Organic');
    await expect(row(page, 'web-meu')).toHaveAttribute('data-parent', 'web-cnfj');
    await expect(row(page, 'web-meu').getByTestId('orbat-kind')).toHaveText('OPCON');
    await expect(row(page, 'web-jjoc')).toHaveAttribute('data-parent', '');
    await expect(row(page, 'web-usfj').locator('[data-kind="COORDINATION"]')).toHaveText('Coordination');
    await expect(row(page, 'web-jjoc').getByTestId('orbat-name')).toHaveText('Joint Operations Command');

    // Collapse and expand.
    await row(page, 'web-usfj').getByTestId('orbat-toggle').click();
    await expect(row(page, 'web-mef')).toHaveCount(0);
    await row(page, 'web-usfj').getByTestId('orbat-toggle').click();
    await expect(row(page, 'web-mef')).toBeVisible();

    // The unit's details name its owning node and the coordination partner.
    await row(page, 'web-usfj').getByTestId('orbat-name').click();
    await expect(page.getByTestId('orbat-owner')).toHaveText('usfj');
    await expect(page.getByTestId('orbat-coordination')).toContainText('Joint Operations Command');

    // As of 1 March 2026 the MEU was still organic to III MEF.
    await page.getByTestId('orbat-asof').fill('2026-03-01');
    await expect(row(page, 'web-meu')).toHaveAttribute('data-parent', 'web-mef');
    await expect(row(page, 'web-meu').getByTestId('orbat-kind')).toHaveText('Organic');
    await expect(page.getByTestId('orbat-at')).toContainText('2026-03-01');

    // The map draws the units that have a location as symbols.
    await expect.poll(async () => (await drawn(page)).sort(), { timeout: 15_000 }).toEqual(
      expect.arrayContaining(['web-cnfj', 'web-jjoc', 'web-mef', 'web-usfj']),
    );

    // In Japanese: the same tree, names and kinds from the catalogs and the glossary.
    await setLang(page, 'ja');
    await expect(row(page, 'web-usfj').getByTestId('orbat-name')).toHaveText('在日米軍');
    await expect(row(page, 'web-meu').getByTestId('orbat-kind')).toHaveText('建制');
    await page.getByTestId('orbat-asof').fill('2026-07-01');
    await expect(row(page, 'web-meu')).toHaveAttribute('data-parent', 'web-cnfj');
    await expect(row(page, 'web-meu').getByTestId('orbat-kind')).toHaveText('作戦統制');
    await expect(row(page, 'web-jjoc').getByTestId('orbat-name')).toHaveText('統合作戦司令部');
    await expect(row(page, 'web-usfj').locator('[data-kind="COORDINATION"]')).toHaveText('調整');
    await expect(page.getByTestId('orbat-coordination')).toContainText('統合作戦司令部');
    await page.getByTestId('orbat-collapse-all').click();
    await expect(row(page, 'web-meu')).toHaveCount(0);
    await page.getByTestId('orbat-expand-all').click();
    await expect(row(page, 'web-meu')).toBeVisible();

    // A unit USFJ adds now reaches the open tree by push, without a reload.
    const s2 = nodeState();
    await ensure(s2.base, s2.tokens.alice, 'units', unit('web-live', 'Joint Task Force cell', '統合任務部隊セル', { task_force: true }));
    await expect(row(page, 'web-live').getByTestId('orbat-name')).toHaveText('統合任務部隊セル');
    await setLang(page, 'en');
  });
});
