import { test } from '@playwright/test';
import { loginWithPassword, nodeState } from './helpers';
test('board scratch', async ({ page }) => {
  const s = nodeState();
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  await loginWithPassword(page, 'alice', s.password);
  await page.getByTestId('tab-board').click();
  await page.evaluate(() => {
    const k = (window as any).__kizuna;
    const base = { label: 'SECRET//REL TO USA, JPN', label_ja: '極秘//提供可能範囲 USA・JPN', classification: 'SECRET', rel_to: ['USA', 'JPN'], noforn: false, exercise: false };
    const st = ['DRAFT', 'SUBMITTED', 'ACKNOWLEDGED', 'ACCEPTED', 'IN_PROGRESS', 'COMPLETED', 'SUBMITTED'];
    st.forEach((status, i) => k.store.handle({ type: 'request', item: { ...base, id: 'req-' + i, requester: 'usfj', addressees: ['jjoc'], kind: 'support', precedence: ['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'][i % 4], status, due: new Date(Date.now() + (i - 2) * 3600e3).toISOString(), overdue: i < 2, title: { en: 'Helicopter support for HADR in Noto ' + i, ja: '能登における人道支援・災害救援のためのヘリ支援 ' + i }, body: { en: 'Two UH-60 for 72 hours.', ja: 'UH-60 2機、72時間。' }, original_language: 'en', comments: [{ id: 'c1', author: 'bob', node: 'jjoc', at: new Date().toISOString(), label: 'UNCLASSIFIED', text: { en: 'Received.', ja: '受領した。' } }], timeline: [{ at: new Date().toISOString(), actor: 'alice', node: 'usfj', action: 'create', from: null, to: 'DRAFT', reason: null }, { at: new Date().toISOString(), actor: 'alice', node: 'usfj', action: 'transition', from: 'DRAFT', to: 'SUBMITTED', reason: 'urgent' }], allowed_transitions: ['ACKNOWLEDGED', 'DECLINED', 'CANCELLED'] } }));
  });
  await page.locator('[data-request-id="req-1"]').first().click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: '/tmp/board1.png' });
  await page.getByTestId('new-request').click();
  await page.getByTestId('lang-ja').click();
  await page.waitForTimeout(300);
  await page.screenshot({ path: '/tmp/board2.png' });
});
