/**
 * The exercise tab against the real node of global-setup.ts (usfj). Exercise control (a user
 * with the admin role, added here with `kizuna user add`) plans an exercise with JJOC and AUS,
 * imports its MSEL and starts it; the node's schedule delivers the first inject. A player
 * (alice, watch) sees the timeline of milestones and injects, the participants and the state,
 * with the EXERCISE banner; declares a real-world emergency and sees the override banner with
 * the reason; lifts it. In English and in Japanese.
 */
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { loginWithToken, nodeState } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const kizuna = process.env.KIZUNA_BIN || resolve(here, '../../.venv/bin/kizuna');
const NAME = { en: 'Southern Jackaroo Web', ja: 'サザン・ジャッカルー（画面試験）' };

async function send(base: string, token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Exercise control on usfj: an exercise with two injects, started; the first is due now. */
async function seed(): Promise<void> {
  const s = nodeState();
  const out = execFileSync(kizuna, ['user', 'add', '--dir', s.nodeDir, '--name', 'excon', '--nation', 'USA', '--clearance', 'SECRET', '--role', 'admin'], { encoding: 'utf8' });
  const token = out.trim().split('\n').pop() ?? '';
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const ex = (await send(s.base, token, 'POST', '/api/v1/exercises', {
    name: NAME,
    label: 'UNCLASSIFIED',
    participants: [
      { nation: 'JPN', node: 'jjoc', units: ['1st Airborne Brigade'] },
      { nation: 'AUS', node: 'aus', units: ['1st Brigade'] },
    ],
    startex: iso(now - 60_000),
    endex: iso(now + 86_400_000),
    milestones: [{ stage: 'fpc', name: { en: 'Final planning conference', ja: '最終計画会議' }, at: iso(now - 86_400_000) }],
  })) as { id: string };
  const csv =
    'seq,time,from_org,to_org,to_node,delivery,description_en,description_ja\n' +
    '1,00:00,EXCON,JJOC J3,jjoc,request,Simulated vessel aground off Kure,呉沖で座礁船（想定）\n' +
    '2,06:00,EXCON,AUS LO,aus,report,Simulated port closure,港閉鎖（想定）\n';
  const imported = (await send(s.base, token, 'POST', `/api/v1/exercises/${ex.id}/msel`, { csv })) as { injects: { id: string }[] };
  for (const inj of imported.injects) await send(s.base, token, 'POST', `/api/v1/injects/${inj.id}/transition`, { to: 'APPROVED' });
  await send(s.base, token, 'POST', `/api/v1/exercises/${ex.id}/state`, { action: 'start' });
}

async function setLang(page: Page, lang: 'en' | 'ja'): Promise<void> {
  await page.getByTestId(`lang-${lang}`).click();
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

test('exercise timeline, participants, state and the real-world override, in English and Japanese', async ({ page }) => {
  await seed();
  await loginWithToken(page, nodeState().tokens.alice);
  await page.getByTestId('tab-exercise').click();
  const view = page.getByTestId('exercise-view');
  await expect(view.getByTestId('exercise-item')).toHaveCount(1);
  await expect(view.getByTestId('exercise-detail').getByTestId('exercise-state')).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('banner-exercise')).toBeVisible();

  // The timeline: the milestone, STARTEX, inject 1 delivered by the schedule, inject 2, ENDEX.
  const items = view.getByTestId('timeline-item');
  await expect(items).toHaveCount(5);
  await expect(items.nth(0)).toHaveAttribute('data-kind', 'milestone');
  await expect(items.nth(1)).toHaveAttribute('data-kind', 'startex');
  await expect(items.nth(2)).toHaveAttribute('data-state', 'DELIVERED', { timeout: 20_000 });
  await expect(items.nth(3)).toHaveAttribute('data-state', 'APPROVED');
  await expect(items.nth(4)).toHaveAttribute('data-kind', 'endex');
  await expect(items.nth(2)).toContainText('Simulated vessel aground off Kure');
  await expect(view.getByTestId('participant')).toHaveCount(3);
  await expect(view.getByTestId('exercise-participants')).toContainText('japan-australia-raa');

  // A real-world emergency: the override banner says why; the inject still due stops.
  await view.getByTestId('override-button').click();
  await view.getByTestId('override-reason').fill('Real-world SAR: aircraft down off Okinawa');
  await view.getByTestId('override-confirm').click();
  const banner = view.getByTestId('override-banner');
  await expect(banner).toContainText('REAL WORLD');
  await expect(banner.getByTestId('override-text')).toHaveText('Real-world SAR: aircraft down off Okinawa');
  await expect(view.getByTestId('exercise-detail').getByTestId('exercise-state')).toHaveText('Paused');
  await expect(view.getByTestId('inject-held')).toHaveCount(2); // both injects in play stop
  await expect(page.getByTestId('banner-exercise')).toBeVisible();

  await setLang(page, 'ja');
  await expect(page.getByTestId('tab-exercise')).toHaveText('演習');
  await expect(view.getByTestId('exercise-detail').getByTestId('exercise-state')).toHaveText('中断中');
  await expect(banner).toContainText('実任務');
  await expect(view.getByRole('heading', { name: NAME.ja })).toBeVisible();
  await expect(items.nth(1)).toContainText('演習開始');
  await expect(items.nth(2)).toContainText('呉沖で座礁船（想定）');
  await expect(items.nth(0)).toContainText('最終計画会議');
  await expect(view.getByText('参加国')).toBeVisible();
  await expect(page.getByTestId('banner-exercise')).toBeVisible();

  await view.getByTestId('override-lift').click();
  await expect(banner).toHaveCount(0);
  await expect(view.getByTestId('exercise-detail').getByTestId('exercise-state')).toHaveText('実施中');
  await setLang(page, 'en');
  await expect(view.getByTestId('exercise-detail').getByTestId('exercise-state')).toHaveText('Running');
});
