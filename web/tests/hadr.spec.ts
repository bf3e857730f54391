/**
 * HADR view against real nodes (see global-setup.ts): usfj (USA) and jjoc (JPN, the affected
 * state), peered both ways, each holding a real JMA VXSE53 bulletin ingested with
 * `kizuna ingest alerts`. Every check is made in English and in Japanese, switching the
 * language in the UI.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { nodeState } from './helpers';

// What the bulletin says (read from the document itself, not from the node).
const JMA_FILE = '20210219091451_0_VXSE53_010000.xml';
const MAGNITUDE = '3.9';

async function login(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByTestId('login-form').waitFor();
  await page.getByRole('button', { name: /Bearer token|アクセストークン/ }).click();
  await page.locator('input[name="token"]').fill(token);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('tab-hadr')).toBeVisible();
}

async function openHadr(page: Page): Promise<void> {
  await page.getByTestId('tab-hadr').click();
  await expect(page.getByTestId('hadr-view')).toBeVisible();
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

/** Features MapLibre has drawn on the HADR map, per layer. */
async function rendered(page: Page, layer: string): Promise<{ incident_id: string; radius?: number; colour?: string }[]> {
  return await page.evaluate(
    (l) =>
      new Promise((resolve) => {
        type M = {
          once: (e: string, f: () => void) => void;
          triggerRepaint: () => void;
          queryRenderedFeatures: (o: object) => { properties: { incident_id: string; radius?: number; colour?: string } }[];
        };
        const m = (window as unknown as { __kizuna: { hadrMap: M } }).__kizuna.hadrMap;
        m.once('idle', () => resolve(m.queryRenderedFeatures({ layers: [l] }).map((f) => f.properties)));
        m.triggerRepaint();
      }),
    layer,
  );
}

test.describe('HADR view', () => {
  test('a JMA earthquake on the map and in the incident panel, in English and Japanese', async ({ page }) => {
    const s = nodeState();
    const xml = readFileSync(new URL(`../../../shared/data/jma/${JMA_FILE}`, import.meta.url), 'utf8');
    expect(xml).toContain(`>${MAGNITUDE}</jmx_eb:Magnitude>`);
    expect(xml).toContain('<MaxInt>4</MaxInt>');

    await login(page, s.base, s.tokens.alice);
    await openHadr(page);
    await setLang(page, 'en');
    const card = page.getByTestId('incident-card').first();
    await expect(card).toBeVisible();
    await card.click();
    const panel = page.getByTestId('incident-panel');
    await expect(panel.getByTestId('incident-magnitude')).toContainText(`M${MAGNITUDE}`);
    await expect(panel.getByTestId('incident-max-intensity')).toHaveText('Shindo 4');
    await expect(panel.getByTestId('incident-hypocentre')).toContainText('40.20');
    await expect(panel.getByTestId('incident-timeline').locator('li')).not.toHaveCount(0);
    await expect(panel.getByTestId('incident-title')).not.toBeEmpty();
    const titleEn = await panel.getByTestId('incident-title').innerText();

    // On the map: the hypocentre, sized by magnitude, and its label in the UI language.
    const incidentId = (await panel.getAttribute('data-incident-id'))!;
    await expect.poll(async () => (await rendered(page, 'hadr-hypocentre')).filter((f) => f.incident_id === incidentId).length).toBeGreaterThan(0);
    const hypo = (await rendered(page, 'hadr-hypocentre')).find((f) => f.incident_id === incidentId)!;
    expect(hypo.radius).toBeGreaterThan(8); // M3.9: larger than an M3
    const label = page.locator(`[data-testid="hypocentre-label"][data-incident="${incidentId}"]`);
    await expect(label).toContainText(`M${MAGNITUDE}`);
    await expect(label).toContainText('Shindo 4');
    await expect(page.getByTestId('intensity-legend')).toContainText('Shindo 6 Upper');
    // The banner accounts for the incidents on screen.
    await expect(page.getByTestId('banner-top')).toHaveAttribute('data-classification', 'UNCLASSIFIED');

    await setLang(page, 'ja');
    await expect(page.getByTestId('tab-hadr')).toHaveText('人道支援・災害救援');
    await expect(panel.getByTestId('incident-max-intensity')).toHaveText('震度4');
    await expect(label).toContainText('震度4');
    await expect(page.getByTestId('intensity-legend')).toContainText('震度6強');
    // The title follows the UI language (the node builds both).
    const titleJa = await panel.getByTestId('incident-title').innerText();
    expect(titleJa).not.toBe(titleEn);
    await expect(page.getByTestId('banner-top')).toHaveText('指定なし');
    await setLang(page, 'en');
  });

  test('RFA flow across two nodes: create, submit, validate, open, offer, accept, decline', async ({ browser }) => {
    test.setTimeout(180_000);
    const s = nodeState();
    // JJOC (the affected state) asks; USFJ offers.
    const jjoc = await newPage(browser, s.jjoc.base, s.jjoc.token);
    const usfj = await newPage(browser, s.base, s.tokens.alice);
    await setLang(jjoc, 'en');
    await setLang(usfj, 'en');
    await openHadr(jjoc);
    await jjoc.getByTestId('incident-card').first().click();
    await jjoc.getByTestId('hadr-tab-rfas').click();
    await jjoc.getByTestId('rfa-new').click();
    const form = jjoc.getByTestId('rfa-create');
    const title = `Water for Ninohe ${Date.now()}`;
    await form.getByTestId('rfa-title-en').fill(title);
    await form.getByTestId('rfa-title-ja').fill('二戸市への給水');
    await expect(form.getByTestId('rfa-shelter')).toContainText('Ninohe Civic Gymnasium');
    // The needs calculator drafts the lines: 15 L × 20,000 people × 3 days of water.
    await form.getByTestId('needs-population').fill('20000');
    await form.getByTestId('needs-days').fill('3');
    await form.getByTestId('needs-calc').click();
    const water = form.locator('[data-testid="draft-line"][data-item="water"]');
    await expect(water).toHaveCount(1);
    await expect(water.locator('input[type="number"]')).toHaveValue('900000');
    await expect(form.getByTestId('draft-line')).not.toHaveCount(1); // food, toilets, covered space too
    // This request is for water only (the scenario): drop the other drafted lines.
    while ((await form.getByTestId('draft-line').count()) > 1) {
      await form.locator('[data-testid="draft-line"]:not([data-item="water"])').first().getByRole('button').click();
    }
    await form.getByTestId('rfa-submit').click();

    const detail = jjoc.getByTestId('rfa-detail');
    await expect(detail.getByTestId('rfa-status')).toHaveText('Draft');
    await detail.getByTestId('rfa-to-SUBMITTED').click();
    await expect(detail.getByTestId('rfa-status')).toHaveText('Submitted');
    await detail.getByTestId('rfa-to-VALIDATED').click();
    await detail.getByTestId('rfa-priority').selectOption('high');
    await detail.getByTestId('rfa-confirm').click();
    await expect(detail.getByTestId('rfa-status')).toHaveText('Validated');
    await expect(detail.getByTestId('rfa-priority-value')).toHaveText('High');
    await detail.getByTestId('rfa-to-OPEN').click();
    await expect(detail.getByTestId('rfa-status')).toHaveText('Open for offers');
    await expect(detail.getByTestId('rfa-rollup')).toHaveText('None');
    const rfaId = (await detail.getAttribute('data-rfa-id'))!;

    // USFJ sees the RFA (federated) and offers a third of the water.
    await openHadr(usfj);
    await usfj.getByTestId('hadr-tab-rfas').click();
    const usfjCard = usfj.locator(`[data-testid="rfa-card"][data-rfa-id="${rfaId}"]`);
    await expect(async () => {
      if (!(await usfjCard.isVisible())) {
        await usfj.reload();
        await openHadr(usfj);
        await usfj.getByTestId('hadr-tab-rfas').click();
      }
      await expect(usfjCard).toBeVisible({ timeout: 2000 });
    }).toPass({ timeout: 60_000 });
    await usfjCard.click();
    const offerOn = async (qty: string, unit: string) => {
      const d = usfj.getByTestId('rfa-detail');
      await d.getByTestId('offer-new').click();
      const f = d.getByTestId('offer-form');
      const lines = await f.locator('input[data-testid^="offer-qty-"]').count();
      for (let i = 0; i < lines; i++) await f.getByTestId(`offer-qty-${i}`).fill('0');
      const waterIdx = await d.locator('[data-testid="rfa-line"]').evaluateAll((els) => els.findIndex((e) => e.getAttribute('data-item') === 'water'));
      await f.getByTestId(`offer-qty-${waterIdx}`).fill(qty);
      await f.getByTestId('offer-unit').fill(unit);
      await f.getByTestId('offer-submit').click();
      await expect(d.getByTestId('offer-form')).toHaveCount(0);
    };
    await offerOn('300000', '35th CSSB');
    await expect(usfj.getByTestId('rfa-detail').getByTestId('offer').first()).toContainText('Offered');

    // JJOC accepts it: the gap bar shows it committed, the roll-up is PARTIAL.
    const offer = detail.locator('[data-testid="offer"][data-nation="USA"]').first();
    await expect(offer).toBeVisible({ timeout: 60_000 });
    await offer.getByTestId('offer-to-ACCEPTED').click();
    await expect(offer.getByTestId('offer-status')).toHaveText('Accepted');
    const waterLine = detail.locator('[data-testid="rfa-line"][data-item="water"]');
    await expect(waterLine.getByTestId('gap-bar')).toHaveAttribute('data-committed', '300000');
    await expect(waterLine.getByTestId('line-committed')).toContainText('300,000');
    expect(await waterLine.getByTestId('gap-committed').evaluate((e) => (e as HTMLElement).getBoundingClientRect().width)).toBeGreaterThan(0);
    await expect(detail.getByTestId('rfa-rollup')).toHaveText('Partial');

    // In Japanese: a second offer is declined with a reason code.
    await setLang(jjoc, 'ja');
    await setLang(usfj, 'ja');
    await expect(detail.getByTestId('rfa-rollup')).toHaveText('一部充足');
    await expect(offer.getByTestId('offer-status')).toHaveText('受諾済');
    await expect(waterLine.getByTestId('line-committed')).toContainText('確約 300,000');
    await offerOn('100000', '374th AW');
    const second = detail.locator('[data-testid="offer"][data-status="OFFERED"]').first();
    await expect(second).toBeVisible({ timeout: 60_000 });
    await second.getByTestId('offer-to-DECLINED').click();
    await expect(second.getByTestId('offer-confirm')).toBeDisabled(); // a reason code is mandatory
    await second.getByTestId('offer-reason').selectOption('need_met');
    await second.getByTestId('offer-confirm').click();
    const declined = detail.locator('[data-testid="offer"][data-status="DECLINED"]').first();
    await expect(declined.getByTestId('offer-status')).toHaveText('辞退');
    await expect(declined.getByTestId('offer-closing')).toContainText('需要は充足済');
    await expect(waterLine.getByTestId('gap-bar')).toHaveAttribute('data-committed', '300000');
    await setLang(jjoc, 'en');
    await setLang(usfj, 'en');
    await jjoc.context().close();
    await usfj.context().close();
  });

  test('SITREP download (PDF in English and Japanese, 3W CSV) and problems shown', async ({ page }) => {
    const s = nodeState();
    await login(page, s.base, s.tokens.alice);
    await openHadr(page);
    await setLang(page, 'en');
    await page.getByTestId('incident-card').first().click();
    await page.getByTestId('hadr-tab-sitrep').click();
    for (const lang of ['en', 'ja'] as const) {
      await setLang(page, lang);
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`sitrep-pdf-${lang}`).click()]);
      expect(dl.suggestedFilename()).toMatch(new RegExp(`-${lang}\\.pdf$`));
      const body = readFileSync((await dl.path())!);
      expect(body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      await expect(page.getByTestId('sitrep-done')).toContainText(dl.suggestedFilename());
    }
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sitrep-3w').click()]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    expect(readFileSync((await csv.path())!, 'utf8')).toContain('#org');
    await setLang(page, 'en');

    // A problem from the node is shown as the node worded it (here: bad input to the calculator).
    await page.getByTestId('hadr-tab-rfas').click();
    await page.getByTestId('rfa-new').click();
    await page.getByTestId('needs-population').fill('-5');
    await page.getByTestId('needs-calc').click();
    await expect(page.getByTestId('rfa-create').getByTestId('problem')).toBeVisible();
    await expect(page.getByTestId('rfa-create').getByTestId('problem')).toHaveAttribute('data-status', /4\d\d/);
  });
});
