/**
 * End-to-end tests of the web app against a real Kizuna node (see global-setup.ts).
 * Tracks arrive through the node's CoT TCP ingest, exactly as from a TAK client.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { loginWithPassword, loginWithToken, nodeState, sendCot, type CotTrack } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = resolve(here, '../../docs/screenshots');

// Friendly surface ships and a friendly ground unit near Yokosuka, Yokota and off Okinawa.
const TRACKS: CotTrack[] = [
  { uid: 'WEB-TEST-ALPHA', type: 'a-f-S-C', lat: 35.29, lon: 139.67, callsign: 'ALPHA 01', course: 45, speed: 7.5 },
  { uid: 'WEB-TEST-BRAVO', type: 'a-f-G-U-C', lat: 35.35, lon: 139.45, callsign: 'BRAVO 22', course: 270, speed: 2 },
  { uid: 'WEB-TEST-CHARLIE', type: 'a-n-S', lat: 35.2, lon: 139.8, callsign: 'CHARLIE 3', course: 180, speed: 5 },
  { uid: 'WEB-TEST-DELTA', type: 'a-h-S', lat: 26.4, lon: 128.2, callsign: 'DELTA 4', course: 90, speed: 10 },
];

/** Fail the test if the page fetches anything other than the node itself (offline basemap). */
function guardNetwork(page: Page, base: string): string[] {
  const foreign: string[] = [];
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:') && !u.startsWith(base.replace('http', 'ws')))
      foreign.push(u);
  });
  return foreign;
}

async function centerOn(page: Page, lon: number, lat: number, zoom: number): Promise<void> {
  await page.evaluate(
    ([lo, la, z]) => {
      const k = (window as unknown as { __kizuna: { map: { jumpTo: (o: object) => void } } }).__kizuna;
      k.map.jumpTo({ center: [lo, la], zoom: z });
    },
    [lon, lat, zoom],
  );
}

async function clickTrack(page: Page, lon: number, lat: number): Promise<void> {
  const pt = await page.evaluate(
    ([lo, la]) => {
      const k = (window as unknown as { __kizuna: { map: { project: (ll: [number, number]) => { x: number; y: number } } } })
        .__kizuna;
      const p = k.map.project([lo, la]);
      return { x: p.x, y: p.y };
    },
    [lon, lat],
  );
  const box = (await page.getByTestId('map').boundingBox())!;
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
}

async function waitForMapIdle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((r) => {
        const m = (window as unknown as { __kizuna: { map: { once: (e: string, f: () => void) => void; triggerRepaint: () => void } } })
          .__kizuna.map;
        m.once('idle', () => r());
        m.triggerRepaint();
      }),
  );
}

test.describe('Kizuna web app on a live node', () => {
  test('rejects a wrong password and logs in with name and password', async ({ page }) => {
    const s = nodeState();
    await page.goto('/');
    await page.locator('input[name="name"]').fill('alice');
    await page.locator('input[name="password"]').fill('wrong-password');
    await page.locator('button[type="submit"]').click();
    await expect(page.getByRole('alert')).toBeVisible();
    await loginWithPassword(page, 'alice', s.password);
    await expect(page.getByTestId('who')).toContainText('alice');
    // The token lives in sessionStorage only.
    const stored = await page.evaluate(() => ({ s: sessionStorage.getItem('kizuna.token'), l: localStorage.getItem('kizuna.token') }));
    expect(stored.s).toBeTruthy();
    expect(stored.l).toBeNull();
    await expect(page.getByTestId('banner-top')).toBeVisible();
    await expect(page.getByTestId('banner-bottom')).toBeVisible();
  });

  test('logs in with a bearer token', async ({ page }) => {
    const s = nodeState();
    await loginWithToken(page, s.tokens.bob);
    await expect(page.getByTestId('who')).toContainText('bob');
    await page.getByTestId('logout').click();
    await expect(page.getByTestId('login-form')).toBeVisible();
  });

  test('tracks arrive live over CoT; selecting one shows its label, course and history', async ({ page }) => {
    const s = nodeState();
    const foreign = guardNetwork(page, s.base);
    await loginWithPassword(page, 'alice', s.password);
    await expect(page.getByTestId('conn')).toHaveAttribute('class', /conn-open/);
    await centerOn(page, 139.62, 35.3, 9.5);
    await sendCot(s.cotPort, TRACKS);
    await expect(page.getByTestId('track-count')).toContainText(/^([3-9]|\d{2,}) /, { timeout: 20_000 }); // DELTA (Okinawa) is outside the subscribed view
    // A second report moves ALPHA: it builds a history and proves the live path.
    await sendCot(s.cotPort, [{ ...TRACKS[0], lat: 35.3, lon: 139.68 }]);
    await page.waitForFunction(
      () => {
        const k = (window as unknown as { __kizuna: { store: { tracks: Map<string, { callsign: string; lat: number }> } } }).__kizuna;
        return [...k.store.tracks.values()].some((t) => t.callsign === 'ALPHA 01' && Math.abs(t.lat - 35.3) < 1e-6);
      },
      undefined,
      { timeout: 20_000 },
    );
    // The land and borders are added beneath the tracks once these are drawn (ADR 0024).
    await expect
      .poll(() =>
        page.evaluate(() => {
          const k = (window as unknown as { __kizuna: { map: { getLayer: (id: string) => unknown }; mapStats: { loadedAt: number } } }).__kizuna;
          return ['land', 'borders'].every((id) => !!k.map.getLayer(id)) && k.mapStats.loadedAt > 0;
        }),
      )
      .toBe(true);
    await waitForMapIdle(page);
    await clickTrack(page, 139.68, 35.3);
    const panel = page.getByTestId('track-panel');
    await expect(panel).toBeVisible();
    await expect(page.getByTestId('track-callsign')).toHaveText('ALPHA 01');
    await expect(page.getByTestId('track-course')).toContainText('045°');
    await expect(page.getByTestId('track-speed')).toContainText('kt');
    await expect(panel.getByTestId('marking')).toContainText(/UNCLASSIFIED|CONFIDENTIAL|SECRET/);
    await expect(page.getByTestId('track-sources')).toContainText(/cot/i);
    await expect(page.getByTestId('track-history')).toContainText(/points|点/);
    await expect(page.getByTestId('banner-top')).toHaveText(/^(UNCLASSIFIED|CONFIDENTIAL|SECRET|TOP SECRET)/);
    // The 1:10m coastline is loaded on demand when zoomed in.
    await page.waitForFunction(() => !!(window as unknown as { __kizuna: { map: { getSource: (id: string) => unknown } } }).__kizuna.map.getSource('land10'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    await waitForMapIdle(page);
    await page.screenshot({ path: resolve(SCREENSHOTS, 'map.png') });
    await expect(page.getByTestId('track-observed')).toHaveText(/Z$/);
    await page.getByTestId('tz-jst').click();
    await expect(page.getByTestId('track-observed')).toHaveText(/ JST$/);
    expect(foreign, 'the app fetched something other than its node').toEqual([]);
  });

  test('exercise data raises the EXERCISE banner', async ({ page }) => {
    const s = nodeState();
    await loginWithPassword(page, 'alice', s.password);
    await centerOn(page, 139.62, 35.3, 9);
    await expect(page.getByTestId('banner-exercise')).toHaveCount(0);
    await sendCot(s.cotPort, [{ uid: 'WEB-TEST-EXERCISE', type: 'a-f-S', lat: 35.25, lon: 139.6, callsign: 'EX 1', opex: 'e' }]);
    await expect(page.getByTestId('banner-exercise')).toBeVisible({ timeout: 20_000 });
  });

  test('switches every string to Japanese and times to JST', async ({ page }) => {
    const s = nodeState();
    await loginWithPassword(page, 'alice', s.password);
    await expect(page.getByTestId('tab-map')).toHaveText('Common Operational Picture');
    // Facilities (from GET /api/v1/facilities) are labelled in the current language.
    const yokota = page.locator('[data-facility="yokota"]');
    await expect(yokota).toHaveText('Yokota Air Base');
    await page.getByTestId('lang-ja').click();
    await expect(page.getByTestId('tab-map')).toHaveText('共通作戦状況図');
    await expect(yokota).toHaveText('横田飛行場');
    await expect(page.getByTestId('tab-board')).toHaveText('調整要請');
    await expect(page.getByTestId('logout')).toHaveText('ログアウト');
    await expect(page.getByTestId('banner-top')).toHaveText(/^(指定なし|秘|極秘|機密)/);
    await page.getByTestId('tab-board').click();
    await expect(page.getByTestId('column-SUBMITTED').locator('h3')).toContainText('提出済み');
    await page.getByTestId('lang-en').click();
    await expect(page.getByTestId('column-SUBMITTED').locator('h3')).toContainText('Submitted');
  });

  test('takes a coordination request through its lifecycle (requester and addressee)', async ({ browser }) => {
    const s = nodeState();
    const alicePage = await (await browser.newContext({ viewport: { width: 1600, height: 950 } })).newPage();
    const bobPage = await (await browser.newContext({ viewport: { width: 1600, height: 950 } })).newPage();
    await loginWithPassword(alicePage, 'alice', s.password);
    await loginWithPassword(bobPage, 'bob', s.password);
    await alicePage.getByTestId('tab-board').click();
    await bobPage.getByTestId('tab-board').click();

    // Alice (requester) drafts a request to node usfj.
    const title = `Berth for JS Izumo at Yokosuka ${Date.now()}`;
    await alicePage.getByTestId('new-request').click();
    await alicePage.getByTestId('create-addressees').fill('usfj');
    await alicePage.getByTestId('create-kind').selectOption('facility_access');
    await alicePage.getByTestId('create-precedence').selectOption('IMMEDIATE');
    await alicePage.getByTestId('create-label').fill('SECRET//REL TO USA, JPN');
    await alicePage.getByTestId('create-title-en').fill(title);
    await alicePage.getByTestId('create-title-ja').fill('横須賀における護衛艦いずもの係留');
    await alicePage.getByTestId('create-body-en').fill('Request pier space for 48 hours from 1 December.');
    await alicePage.getByTestId('create-body-ja').fill('12月1日から48時間の岸壁使用を要請する。');
    await alicePage.getByTestId('create-submit').click();
    const detail = alicePage.getByTestId('request-detail');
    await expect(detail).toBeVisible();
    await expect(detail.getByTestId('request-text-en')).toContainText(title);
    await expect(detail.getByTestId('request-text-ja')).toContainText('いずも');
    await expect(detail.getByTestId('original-marker')).toHaveCount(1);
    await expect(alicePage.getByTestId('banner-top')).toHaveText('SECRET//REL TO USA, JPN');
    await expect(alicePage.getByTestId('banner-top')).toHaveAttribute('data-classification', 'SECRET');
    const id = await detail.getAttribute('data-request-id');
    expect(id).toBeTruthy();

    // Requester side: submit if the node created it as a draft.
    if ((await detail.getAttribute('data-status')) === 'DRAFT') {
      await detail.getByTestId('transition-SUBMITTED').click();
      await expect(detail).toHaveAttribute('data-status', 'SUBMITTED');
    }

    // Addressee side (bob): the card arrives live; walk it to COMPLETED.
    const bobCard = bobPage.locator(`[data-testid="request-card"][data-request-id="${id}"]`);
    await expect(bobCard).toBeVisible({ timeout: 20_000 });
    await bobCard.click();
    const bobDetail = bobPage.getByTestId('request-detail');
    for (const to of ['ACKNOWLEDGED', 'ACCEPTED', 'IN_PROGRESS', 'COMPLETED']) {
      const btn = bobDetail.getByTestId(`transition-${to}`);
      await expect(btn, `transition to ${to} offered`).toBeVisible();
      if (to === 'ACCEPTED') await bobDetail.getByTestId('transition-reason').fill('Pier 12 assigned');
      await btn.click();
      await expect(bobDetail).toHaveAttribute('data-status', to);
    }
    // Terminal: only transitions the server allows are shown.
    await expect(bobDetail.getByTestId('transitions').locator('button')).toHaveCount(0);

    // A comment with its own label.
    await bobDetail.getByTestId('comment-label').fill('UNCLASSIFIED');
    await bobDetail.getByTestId('comment-en').fill('Tugs arranged for 0800.');
    await bobDetail.getByTestId('comment-ja').fill('曳船を0800に手配済み。');
    await bobDetail.getByTestId('comment-submit').click();
    await expect(bobDetail.getByTestId('comments')).toContainText('Tugs arranged');
    await expect(bobDetail.getByTestId('timeline').locator('li')).not.toHaveCount(0);

    // The requester sees the outcome live, in its column.
    await expect(alicePage.getByTestId('column-COMPLETED').locator(`[data-request-id="${id}"]`)).toBeVisible({ timeout: 20_000 });
    await alicePage.locator(`[data-testid="request-card"][data-request-id="${id}"]`).click();
    await expect(alicePage.getByTestId('request-detail').getByTestId('comments')).toContainText('Tugs arranged');

    // Two more requests through the API (a Japanese original, and a draft) fill the board.
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${s.base}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${s.tokens.alice}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status, `${path}: ${await r.clone().text()}`).toBeLessThan(300);
      return (await r.json()) as { id: string };
    };
    const ja = await post('/api/v1/requests', {
      addressees: ['usfj'], kind: 'deconfliction', precedence: 'FLASH', label: 'CONFIDENTIAL//REL TO USA, JPN',
      title: { en: '', ja: '相模湾における訓練空域の調整' }, body: { en: '', ja: '12月3日 0900-1200 の空域使用について調整を要請する。' },
    });
    await post(`/api/v1/requests/${ja.id}/transitions`, { to: 'SUBMITTED', reason: '' });
    await post('/api/v1/requests', {
      addressees: ['usfj'], kind: 'support', precedence: 'ROUTINE', label: 'UNCLASSIFIED',
      title: { en: 'Water trucks for HADR in Noto', ja: '' }, body: { en: 'Four water trucks, 72 hours.', ja: '' },
    });
    await expect(alicePage.getByTestId('column-SUBMITTED').getByTestId('request-card')).not.toHaveCount(0);
    await expect(alicePage.getByTestId('column-DRAFT').getByTestId('request-card')).not.toHaveCount(0);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await alicePage.screenshot({ path: resolve(SCREENSHOTS, 'board.png') });
  });
});
