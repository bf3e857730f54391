/**
 * Facilities view against the real usfj node (see global-setup.ts): a training area and
 * reservations made over the API, then the week's calendar, the area on the map, a
 * reservation refused for a conflict (naming the other) and one refused for want of an
 * access arrangement (naming the one needed), in English and in Japanese.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { nodeState } from './helpers';

const DAY = 86_400_000;
const JST = 9 * 3_600_000;

/** Monday 01:00–05:00 UTC of this week in Japan (10:00–14:00 JST), as ISO and input values. */
function thisWeek(): { start: string; end: string; inputStart: string; inputEnd: string } {
  const wall = Date.now() + JST; // Japan wall time, read as UTC
  const mondayWall = Math.floor(wall / DAY) * DAY - ((new Date(wall).getUTCDay() + 6) % 7) * DAY;
  const start = new Date(mondayWall - JST + 10 * 3_600_000); // Monday 10:00 JST
  const end = new Date(start.getTime() + 4 * 3_600_000);
  const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
  return { start: iso(start), end: iso(end), inputStart: iso(start).slice(0, 16), inputEnd: iso(end).slice(0, 16) };
}

async function api(request: APIRequestContext, token: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await request.post(path, { data: body, headers: { Authorization: `Bearer ${token}` } });
  expect(r.status(), await r.text()).toBe(201);
  return (await r.json()) as Record<string, unknown>;
}

async function login(page: Page, token: string): Promise<void> {
  await page.goto('/');
  await page.getByTestId('login-form').waitFor();
  await page.getByRole('button', { name: /Bearer token|アクセストークン/ }).click();
  await page.locator('input[name="token"]').fill(token);
  await page.locator('button[type="submit"]').click();
  await page.getByTestId('tab-facilities').click();
  await expect(page.getByTestId('facilities-view')).toBeVisible();
}

async function setLang(page: Page, lang: 'en' | 'ja'): Promise<void> {
  await page.getByTestId(`lang-${lang}`).click();
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

/** Area ids MapLibre has drawn on the facilities map. */
async function drawnAreas(page: Page): Promise<string[]> {
  return await page.evaluate(
    () =>
      new Promise<string[]>((resolve) => {
        type M = {
          once: (e: string, f: () => void) => void;
          triggerRepaint: () => void;
          queryRenderedFeatures: (o: object) => { properties: { id: string } }[];
        };
        const m = (window as unknown as { __kizuna: { facilitiesMap: M } }).__kizuna.facilitiesMap;
        m.once('idle', () => resolve(m.queryRenderedFeatures({ layers: ['fac-fill'] }).map((f) => f.properties.id)));
        m.triggerRepaint();
      }),
  );
}

test('reservations calendar, areas on the map, refusals explained, in English and Japanese', async ({ page, request }) => {
  const { tokens } = nodeState();
  const token = tokens.alice;
  const tag = Math.random().toString(36).slice(2, 7);
  const dx = Math.random() * 0.5; // a place of this run's own
  const area = await api(request, token, '/api/v1/training-areas', {
    label: 'UNCLASSIFIED',
    name: { en: `Range ${tag}`, ja: `射場${tag}` },
    kind: 'range',
    basis: 'sofa_ii_4b',
    polygon: [
      [35.40, 138.80 + dx],
      [35.40, 138.90 + dx],
      [35.46, 138.90 + dx],
      [35.46, 138.80 + dx],
    ],
  });
  const when = thisWeek();
  const fire = await api(request, token, '/api/v1/reservations', {
    label: 'UNCLASSIFIED',
    place_id: area.id,
    start: when.start,
    end: when.end,
    activity: 'live_fire',
    unit: `Battery ${tag}`,
  });
  // Two flights over each other the next day: accepted, and flagged as conflicting.
  const next = (iso: string) => new Date(Date.parse(iso) + DAY).toISOString().replace('.000Z', 'Z');
  for (const unit of ['A', 'B']) {
    await api(request, token, '/api/v1/reservations', {
      label: 'UNCLASSIFIED', place_id: area.id, start: next(when.start), end: next(when.end), activity: 'flight', unit,
    });
  }

  await login(page, token);
  await setLang(page, 'en');
  await expect(page.getByTestId(`fac-res-${fire.id}`)).toContainText(`Range ${tag}`);
  await expect(page.getByTestId(`fac-res-${fire.id}`)).toContainText('Live fire');
  await expect(page.getByTestId('fac-conflict')).toHaveCount(2);
  await expect(page.getByTestId('fac-arr-japan-australia-raa')).toContainText('2023-08-13');
  await expect.poll(() => drawnAreas(page)).toContain(String(area.id));
  // The weekly schedule notice, as the CSV file the browser saves.
  const download = page.waitForEvent('download');
  await page.getByTestId('fac-schedule-csv').click();
  const csv = readFileSync(await (await download).path(), 'utf8');
  expect(csv).toContain(String(fire.id));
  expect(csv).toContain(`射場${tag}`);

  // A live fire over the first: refused, naming it.
  const form = page.getByTestId('fac-form');
  await form.getByTestId('fac-form-place').selectOption(String(area.id));
  await form.getByTestId('fac-form-activity').selectOption('live_fire');
  await form.getByTestId('fac-form-start').fill(when.inputStart);
  await form.getByTestId('fac-form-end').fill(when.inputEnd);
  await form.getByTestId('fac-form-submit').click();
  const refused = page.getByTestId('fac-refused');
  await expect(refused).toHaveAttribute('data-kind', 'conflict');
  await expect(refused).toContainText('conflicts with another reservation');
  await expect(refused).toContainText(String(fire.id));
  await setLang(page, 'ja');
  await expect(refused).toContainText('他の予約と競合します');
  await expect(page.getByTestId(`fac-res-${fire.id}`)).toContainText('実弾射撃');
  await expect(page.getByTestId('fac-conflict').first()).toContainText('競合');
  await refused.getByTestId(`fac-refused-${fire.id}`).click();
  await expect(page.getByTestId('fac-detail')).toContainText(`射場${tag}`);

  // A nation without an arrangement: refused, naming what would be needed.
  await form.getByTestId('fac-form-activity').selectOption('training');
  await form.getByTestId('fac-form-start').fill(next(when.start).slice(0, 16));
  await form.getByTestId('fac-form-end').fill(next(when.end).slice(0, 16));
  await form.getByTestId('fac-form-nation').fill('KOR');
  await form.getByTestId('fac-form-submit').click();
  await expect(refused).toHaveAttribute('data-kind', 'access');
  await expect(refused).toContainText('適用される取極がありません');
  await expect(refused).toContainText('日本とKORとの間のアクセスに関する取極');
  await setLang(page, 'en');
  await expect(refused).toContainText('no access arrangement covers it');
  await expect(page.getByTestId('fac-refused-needed')).toHaveText('Needed: an access arrangement between Japan and KOR');

  // The planner cancels the live fire: it leaves the calendar.
  await page.getByTestId('fac-detail-cancel').click();
  await expect(page.getByTestId(`fac-res-${fire.id}`)).toHaveCount(0);
  await expect(page.getByTestId('fac-detail')).toContainText('Cancelled');
});
