/**
 * Working groups, action items and the liaison workspace against the real nodes of
 * global-setup.ts (usfj, USA; jjoc, JPN). alice on usfj is the OPR's side of the items
 * seeded here (OPR on usfj, OCR on jjoc); she moves them through their states in English
 * and in Japanese, then writes liaison log entries and sees the glossary's other-language
 * term while typing (the node reads /work/shared/data/reference/glossary.csv through
 * KIZUNA_GLOSSARY: without it this test fails, it does not skip).
 */
import { expect, test, type Page } from '@playwright/test';
import { nodeState } from './helpers';

const BOTH = 'SECRET//REL TO USA, JPN';

async function api<T>(base: string, token: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function login(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByTestId('login-form').waitFor();
  await page.getByRole('button', { name: /Bearer token|アクセストークン/ }).click();
  await page.locator('input[name="token"]').fill(token);
  await page.locator('button[type="submit"]').click();
  await expect(page.getByTestId('tab-liaison')).toBeVisible();
}

async function setLang(page: Page, lang: 'en' | 'ja'): Promise<void> {
  await page.getByTestId(`lang-${lang}`).click();
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

test('an action item through its states and a liaison log entry with the glossary hint, in English and Japanese', async ({ page }) => {
  const s = nodeState();
  const token = s.tokens.alice;
  const terms = await api<{ other: string }[]>(s.base, token, '/api/v1/liaison/terms?q=Working%20group');
  expect(terms.map((t) => t.other), 'the node has no glossary: set KIZUNA_GLOSSARY').toContain('作業部会');

  const wg = await api<{ id: string }>(s.base, token, '/api/v1/working-groups', {
    name: { en: 'Alliance Coordination Group', ja: '同盟調整グループ' },
    level: 'acg',
    cadence: 'weekly',
    co_chairs: [
      { user: 'alice', node: 'usfj', nation: 'USA' },
      { user: s.jjoc.user, node: 'jjoc', nation: 'JPN' },
    ],
    members: [{ user: 'bob', node: 'usfj', nation: 'USA' }],
    label: BOTH,
  });
  const meeting = await api<{ id: string }>(s.base, token, '/api/v1/meetings', {
    working_group_id: wg.id,
    start: '2026-12-01T01:00:00Z',
    minutes: { en: 'Schedules to be aligned.', ja: '日程を調整する。' },
    label: BOTH,
  });
  const stamp = Date.now();
  const item = async (en: string, ja: string) =>
    (
      await api<{ id: string }>(s.base, token, '/api/v1/action-items', {
        title: { en: `${en} ${stamp}`, ja: `${ja} ${stamp}` },
        meeting_id: meeting.id,
        opr: { office: 'J3 Operations', node: 'usfj', nation: 'USA', user: 'alice' },
        ocr: { office: 'J5', node: 'jjoc', nation: 'JPN' },
        due: '2030-01-01T00:00:00Z',
        label: BOTH,
      })
    ).id;
  const first = await item('Align exercise schedules', '演習日程の調整');
  const second = await item('Confirm airspace', '空域の確認');
  const third = await item('Draft the liaison plan', '連絡計画の起案');

  await login(page, s.base, token);
  await setLang(page, 'en');
  await page.getByTestId('tab-liaison').click();
  // The working group, its meeting's minutes, and an item recorded from the meeting.
  await page.getByTestId('liaison-tab-groups').click();
  await page.getByTestId('working-group').filter({ hasText: 'Alliance Coordination Group' }).last().click();
  await expect(page.getByTestId('meeting-minutes').last()).toHaveText('Schedules to be aligned.');
  await page.getByTestId('item-form-title').fill(`Book the venue ${stamp}`);
  await page.getByTestId('item-form-opr-office').fill('J1');
  await page.getByTestId('item-form-opr-node').selectOption('usfj');
  await page.getByTestId('item-form-due').fill('2030-06-30');
  await page.getByTestId('item-form-submit').click();
  const recorded = page.getByTestId('working-group-detail').getByTestId('action-item').filter({ hasText: `Book the venue ${stamp}` });
  await expect(recorded.getByTestId('item-status')).toHaveText('Open');
  await expect(recorded.getByTestId('item-opr')).toContainText('J1 · usfj');

  await page.getByTestId('liaison-tab-items').click();
  const a = page.locator(`[data-testid="action-item"][data-item-id="${first}"]`);
  await expect(a.getByTestId('item-status')).toHaveText('Open');
  await expect(a.getByTestId('item-opr')).toContainText('J3 Operations');
  await a.getByTestId('item-to-IN_PROGRESS').click();
  await expect(a.getByTestId('item-status')).toHaveText('In progress');
  await a.getByTestId('item-to-DONE').click();
  await expect(a.getByTestId('item-status')).toHaveText('Done');
  await expect(a.getByTestId('item-to-DONE')).toHaveCount(0);
  await expect(page.getByTestId('banner-top')).toContainText('SECRET');

  // In Japanese: the done item reads 完了; the second is started and skipped with a reason.
  await setLang(page, 'ja');
  await expect(a.getByTestId('item-status')).toHaveText('完了');
  const b = page.locator(`[data-testid="action-item"][data-item-id="${second}"]`);
  await expect(b.getByTestId('item-title')).toHaveText(`空域の確認 ${stamp}`);
  await expect(b.getByTestId('item-status')).toHaveText('未着手');
  await b.getByTestId('item-to-IN_PROGRESS').click();
  await expect(b.getByTestId('item-status')).toHaveText('対応中');
  await b.getByTestId('item-to-SKIPPED').click();
  await expect(b.getByTestId('item-confirm')).toBeDisabled();
  await b.getByTestId('item-reason-input').fill('別の対応事項で処理');
  await b.getByTestId('item-confirm').click();
  await expect(b.getByTestId('item-status')).toHaveText('見送り');
  await expect(b.getByTestId('item-reason')).toHaveText('別の対応事項で処理');
  const stored = await api<{ status: string; closing: { reason: string } }>(s.base, token, `/api/v1/action-items/${second}`);
  expect([stored.status, stored.closing.reason]).toEqual(['SKIPPED', '別の対応事項で処理']);

  // Bulk reassignment (the items' node): the third item's OPR moves to JJOC's J3.
  const c = page.locator(`[data-testid="action-item"][data-item-id="${third}"]`);
  await expect(c.getByTestId('item-to-IN_PROGRESS')).toBeVisible();
  await c.getByTestId('item-select').check();
  await page.getByTestId('reassign-office').fill('J3 Current Ops');
  await page.getByTestId('reassign-node').fill('jjoc');
  await page.getByTestId('reassign-nation').fill('JPN');
  await page.getByTestId('reassign-submit').click();
  await expect(c.getByTestId('item-opr')).toHaveText('J3 Current Ops · jjoc');
  await expect(c.getByTestId('item-to-IN_PROGRESS')).toHaveCount(0); // now JJOC's to move
  await expect(page.getByTestId('reassign')).toHaveCount(0);

  // The liaison log: typing a glossary term shows the other language's official term.
  await page.getByTestId('liaison-tab-desk').click();
  await expect(page.getByTestId('liaison-today')).toContainText('本日');
  const box = page.getByTestId('liaison-text');
  await box.fill('明日の同盟調整グループで対応事項を確認');
  const hints = page.getByTestId('term-hint');
  await expect(hints.filter({ hasText: 'Alliance Coordination Group' })).toContainText('公式');
  await expect(hints.filter({ hasText: 'Action item' })).toContainText('案');
  await page.getByTestId('liaison-submit').click();
  const entries = page.getByTestId('liaison-entry');
  await expect(entries.first()).toContainText('明日の同盟調整グループで対応事項を確認');
  await expect(entries.first().getByTestId('liaison-entry-by')).toContainText('alice @ usfj');
  await expect(page.getByTestId('term-hint')).toHaveCount(0);

  await setLang(page, 'en');
  await box.fill('Called JJOC about the Alliance Coordination Group');
  await expect(page.getByTestId('term-hint').filter({ hasText: '同盟調整グループ' })).toContainText('official');
  await page.getByTestId('liaison-submit').click();
  await expect(entries.first()).toContainText('Called JJOC about the Alliance Coordination Group');
  await expect(entries.nth(1)).toContainText('明日の同盟調整グループ');
});
