/**
 * MDA view against a real node (see global-setup.ts): usfj ingested, with `kizuna ingest ais`,
 * one vessel's AIS (tag-block times) that falls silent for 7 h; the MDA domain made a gap
 * event of it. The event is checked in the panel and on the map, its track before and after
 * the silence, and verdicts are given in English and in Japanese (a second user's page
 * follows them live over the WebSocket). Zones are drawn on the map; the watchlist edited.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { nodeState } from './helpers';

type Ev = {
  id: string;
  type: string;
  status: string;
  start: string;
  end: string | null;
  vessels: string[];
  position: { lat: number; lon: number };
  evidence: unknown[];
  label: string;
};

async function login(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByTestId('login-form').waitFor();
  await page.getByRole('button', { name: /Bearer token|アクセストークン/ }).click();
  await page.locator('input[name="token"]').fill(token);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('mda-panel')).toBeVisible();
}

async function setLang(page: Page, lang: 'en' | 'ja'): Promise<void> {
  await page.getByTestId(`lang-${lang}`).click();
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

async function newPage(browser: Browser, base: string, token: string): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: base, viewport: { width: 1600, height: 950 } });
  const page = await ctx.newPage();
  await login(page, base, token);
  return page;
}

/** Features MapLibre has drawn on the main map, per layer. */
async function rendered(page: Page, layer: string): Promise<Record<string, unknown>[]> {
  return await page.evaluate(
    (l) =>
      new Promise((resolve) => {
        type M = {
          once: (e: string, f: () => void) => void;
          triggerRepaint: () => void;
          getLayer: (id: string) => unknown;
          queryRenderedFeatures: (o: object) => { properties: Record<string, unknown> }[];
        };
        const m = (window as unknown as { __kizuna: { map: M } }).__kizuna.map;
        if (!m.getLayer(l)) return resolve([]);
        m.once('idle', () => resolve(m.queryRenderedFeatures({ layers: [l] }).map((f) => f.properties)));
        m.triggerRepaint();
      }),
    layer,
  );
}

/** Click the main map at a position (page coordinates from the map's own projection). */
async function clickMap(page: Page, lon: number, lat: number): Promise<void> {
  const pt = await page.evaluate(
    ([lo, la]) => (window as unknown as { __kizuna: { map: { project: (ll: [number, number]) => { x: number; y: number } } } }).__kizuna.map.project([lo, la]),
    [lon, lat] as [number, number],
  );
  const box = (await page.getByTestId('map').boundingBox())!;
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
}

async function gapEvent(base: string, token: string, mmsi: string): Promise<Ev> {
  const res = await fetch(`${base}/api/v1/mda/events?type=gap`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const events = (await res.json()) as Ev[];
  const mine = events.filter((e) => e.vessels.includes(mmsi));
  expect(mine, 'one gap event for the seeded vessel').toHaveLength(1);
  return mine[0];
}

test.describe('MDA events', () => {
  test('a gap event on the map and in the panel, its track, and verdicts in English and Japanese', async ({ page, browser }) => {
    test.setTimeout(150_000);
    const s = nodeState();
    // What the node made of the file: one gap, start and end within 10 min of the silence.
    const ev = await gapEvent(s.base, s.tokens.alice, s.mda.mmsi);
    expect(ev.status).toBe('closed');
    expect(Math.abs(Date.parse(ev.start) / 1000 - s.mda.silentFrom)).toBeLessThanOrEqual(600);
    expect(Math.abs(Date.parse(ev.end!) / 1000 - s.mda.resumed)).toBeLessThanOrEqual(600);

    await login(page, s.base, s.tokens.alice);
    await setLang(page, 'en');
    const panel = page.getByTestId('mda-panel');
    const card = panel.locator(`[data-testid="mda-event"][data-event-id="${ev.id}"]`);
    await expect(card).toBeVisible();
    await expect(card).toHaveAttribute('data-type', 'gap');
    await expect(card).toContainText('AIS gap');
    await expect(card).toContainText('Closed');
    await expect(card).toContainText(s.mda.mmsi);

    // Filters: hiding gaps hides it, closed-only keeps it, retracted-only hides it.
    await panel.getByTestId('mda-filter-type-gap').click();
    await expect(card).toHaveCount(0);
    await panel.getByTestId('mda-filter-type-gap').click();
    await expect(card).toBeVisible();
    await panel.getByTestId('mda-filter-status-closed').click();
    await expect(card).toHaveCount(0);
    await panel.getByTestId('mda-filter-status-closed').click();
    await expect(card).toBeVisible();

    // On the map: its marker, with the gap image.
    await expect.poll(async () => (await rendered(page, 'mda-events')).filter((f) => f.id === ev.id).length, { timeout: 20_000 }).toBeGreaterThan(0);
    const marker = (await rendered(page, 'mda-events')).find((f) => f.id === ev.id)!;
    expect(marker.type).toBe('gap');
    await expect(page.getByTestId('banner-top')).toHaveAttribute('data-classification', 'UNCLASSIFIED');

    // Selecting it from the map opens its detail: the track before and after the silence.
    await clickMap(page, ev.position.lon, ev.position.lat);
    const detail = page.getByTestId('mda-detail');
    await expect(detail).toHaveAttribute('data-event-id', ev.id);
    await expect(detail.getByTestId('mda-detail-type')).toHaveText('AIS gap');
    await expect(detail.getByTestId('mda-detail-status')).toHaveText('Closed');
    await expect(detail.getByTestId('mda-detail-vessels')).toHaveText(s.mda.mmsi);
    await expect(detail.getByTestId('mda-detail-duration')).toContainText(/^7 h|^6 h 5\d/);
    const track = detail.locator(`[data-testid="mda-track"] li[data-vessel="${s.mda.mmsi}"]`);
    await expect(track).not.toHaveAttribute('data-before', '0');
    await expect(track).not.toHaveAttribute('data-after', '0');
    await expect(detail.getByTestId('mda-evidence').locator('li')).not.toHaveCount(0);
    await expect.poll(async () => (await rendered(page, 'mda-track-line')).map((f) => f.phase).sort().join(',')).toMatch(/after.*before/);
    await expect.poll(async () => (await rendered(page, 'mda-track-bridge')).length).toBeGreaterThan(0);
    await expect.poll(async () => (await rendered(page, 'mda-track-evidence')).length).toBeGreaterThan(0);

    // A second user watches the same event: verdicts reach that page live (mda_event push).
    const bob = await newPage(browser, s.base, s.tokens.bob);
    await setLang(bob, 'en');
    await bob.getByTestId('mda-panel').locator(`[data-testid="mda-event"][data-event-id="${ev.id}"]`).click();
    const bobDetail = bob.getByTestId('mda-detail');
    await expect(bobDetail).toHaveAttribute('data-event-id', ev.id);

    // The verdict, in English: confirmed, with a note; shown with this node's name.
    await detail.getByTestId('mda-verdict-note-input').fill('AIS switched off near the EEZ line');
    await detail.getByTestId('mda-verdict-confirmed').click();
    const verdict = detail.locator('[data-testid="mda-verdict"][data-node="usfj"]');
    await expect(verdict).toHaveAttribute('data-verdict', 'confirmed');
    await expect(verdict.getByTestId('mda-verdict-value')).toHaveText('Confirmed');
    await expect(verdict.getByTestId('mda-verdict-note')).toHaveText('AIS switched off near the EEZ line');
    await expect(verdict).toContainText('alice');
    await expect(bobDetail.locator('[data-testid="mda-verdict"][data-node="usfj"]')).toHaveAttribute('data-verdict', 'confirmed', { timeout: 20_000 });

    // In Japanese: the same event and verdict, then the node's verdict changed (one per node).
    await setLang(page, 'ja');
    await setLang(bob, 'ja');
    await expect(detail.getByTestId('mda-detail-type')).toHaveText('AIS途絶');
    await expect(detail.getByTestId('mda-detail-status')).toHaveText('終了');
    await expect(verdict.getByTestId('mda-verdict-value')).toHaveText('確認');
    await expect(page.getByTestId('banner-top')).toHaveText('指定なし');
    await detail.getByTestId('mda-verdict-note-input').fill('GNSS妨害の可能性');
    await detail.getByTestId('mda-verdict-interference').click();
    await expect(verdict).toHaveAttribute('data-verdict', 'interference');
    await expect(verdict.getByTestId('mda-verdict-value')).toHaveText('電波妨害');
    await expect(detail.locator('[data-testid="mda-verdict"]')).toHaveCount(1);
    const bobVerdict = bobDetail.locator('[data-testid="mda-verdict"][data-node="usfj"]');
    await expect(bobVerdict).toHaveAttribute('data-verdict', 'interference', { timeout: 20_000 });
    await expect(bobVerdict.getByTestId('mda-verdict-value')).toHaveText('電波妨害');
    await expect(bobVerdict.getByTestId('mda-verdict-note')).toHaveText('GNSS妨害の可能性');
    // The list, in Japanese.
    await detail.getByTestId('mda-detail-close').click();
    const cardJa = page.getByTestId('mda-panel').locator(`[data-testid="mda-event"][data-event-id="${ev.id}"]`);
    await expect(cardJa).toContainText('AIS途絶');
    await expect(cardJa).toContainText('終了');
    await setLang(page, 'en');
    await setLang(bob, 'en');
    await bob.context().close();

    // And the node holds it.
    const after = await gapEvent(s.base, s.tokens.alice, s.mda.mmsi);
    expect((after as unknown as { verdicts: { node: string; verdict: string }[] }).verdicts).toEqual([
      expect.objectContaining({ node: 'usfj', verdict: 'interference', note: 'GNSS妨害の可能性' }),
    ]);
  });

  test('a zone drawn on the map, named in both languages, listed and deleted; a watchlist entry', async ({ page }) => {
    const s = nodeState();
    await login(page, s.base, s.tokens.alice);
    await setLang(page, 'en');
    await page.evaluate(() =>
      (window as unknown as { __kizuna: { map: { jumpTo: (o: object) => void } } }).__kizuna.map.jumpTo({ center: [129.5, 33.5], zoom: 7 }),
    );
    await page.getByTestId('mda-tab-zones').click();
    await page.getByTestId('zone-draw').click();
    const corners: [number, number][] = [
      [129.0, 33.2],
      [130.0, 33.2],
      [130.0, 33.9],
      [129.0, 33.9],
    ];
    for (const [lon, lat] of corners) await clickMap(page, lon, lat);
    await expect(page.getByTestId('zone-points')).toHaveAttribute('data-count', '4');
    const nameEn = `Tsushima Strait ${Date.now()}`;
    await page.getByTestId('zone-name-en').fill(nameEn);
    await page.getByTestId('zone-name-ja').fill('対馬海峡');
    await page.getByTestId('zone-kind').selectOption('territorial_sea');
    await page.getByTestId('zone-save').click();
    const zone = page.locator('[data-testid="zone"]', { hasText: nameEn });
    await expect(zone).toBeVisible();
    await expect(zone).toContainText('Territorial sea');
    await expect(zone).toContainText('4 corners');
    const zoneId = (await zone.getAttribute('data-zone-id'))!;
    await expect.poll(async () => (await rendered(page, 'mda-zones-fill')).filter((f) => f.id === zoneId).length).toBeGreaterThan(0);
    // The node holds the polygon as drawn ([lat, lon]).
    const res = await fetch(`${s.base}/api/v1/mda/zones/${zoneId}`, { headers: { Authorization: `Bearer ${s.tokens.alice}` } });
    const held = (await res.json()) as { polygon: number[][]; name: { en: string; ja: string } };
    expect(held.name).toEqual({ en: nameEn, ja: '対馬海峡' });
    expect(held.polygon.length).toBeGreaterThanOrEqual(4);
    for (const [lat, lon] of held.polygon) {
      expect(lat).toBeGreaterThan(33.1);
      expect(lat).toBeLessThan(34.0);
      expect(lon).toBeGreaterThan(128.9);
      expect(lon).toBeLessThan(130.1);
    }
    await setLang(page, 'ja');
    const zoneById = page.locator(`[data-testid="zone"][data-zone-id="${zoneId}"]`);
    await expect(zoneById.getByTestId('zone-name')).toHaveText('対馬海峡');
    await expect(zoneById).toContainText('領海');
    await zoneById.getByTestId('zone-delete').click();
    await expect(page.locator(`[data-testid="zone"][data-zone-id="${zoneId}"]`)).toHaveCount(0);
    await setLang(page, 'en');

    await page.getByTestId('mda-tab-watchlist').click();
    await page.getByTestId('watch-mmsi').fill('12345');
    await expect(page.getByTestId('watch-add')).toBeDisabled();
    await page.getByTestId('watch-mmsi').fill('412345678');
    await page.getByTestId('watch-imo').fill('9074729');
    await page.getByTestId('watch-name').fill('OCEAN GLORY');
    await page.getByTestId('watch-reason').fill('Sanctions list');
    await page.getByTestId('watch-add').click();
    const entry = page.locator('[data-testid="watch-entry"]', { hasText: 'OCEAN GLORY' });
    await expect(entry).toContainText('MMSI 412345678');
    await expect(entry).toContainText('IMO 9074729');
    await entry.getByTestId('watch-delete').click();
    await expect(entry).toHaveCount(0);
  });
});
