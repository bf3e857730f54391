import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(__dirname, 'check-i18n.mjs');

function run(files: Record<string, string>): { code: number; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'i18n-fixture-'));
  try {
    for (const [name, code] of Object.entries(files)) writeFileSync(join(dir, name), code);
    try {
      const out = execFileSync(process.execPath, [script], { env: { ...process.env, KIZUNA_I18N_SCAN: dir }, encoding: 'utf8', stdio: 'pipe' });
      return { code: 0, out };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { code: err.status, out: err.stdout + err.stderr };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('check-i18n', () => {
  it('passes catalogued strings and punctuation', () => {
    const r = run({ 'ok.tsx': `export const A = ({ t }: any) => <p title={t('nav.cop')}>{t('nav.board')} · →</p>;` });
    expect(r.out).toContain('passed');
    expect(r.code).toBe(0);
  });
  it('fails on JSX text, text attributes, string children and unknown keys', () => {
    const r = run({
      'bad.tsx': `export const B = ({ t }: any) => <div placeholder="Type here">Hello {'world'} {t('no.such.key')}</div>;`,
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('JSX text bypasses the catalogs: "Hello"');
    expect(r.out).toContain('attribute placeholder="Type here"');
    expect(r.out).toContain('string literal child');
    expect(r.out).toContain("t('no.such.key') missing from en.json");
  });
});
