import { describe, expect, it } from 'vitest';
import en from './en.json';
import ja from './ja.json';
import { KINDS, PRECEDENCES, STATUSES } from '../types';

// Keys built from data at run time (t(`status.${s}`) …) must exist for every value.
describe('catalogs cover the domain vocabulary', () => {
  const families: [string, readonly string[]][] = [
    ['status', STATUSES],
    ['transition', STATUSES],
    ['kind', KINDS],
    ['precedence', PRECEDENCES],
    ['conn', ['connecting', 'open', 'closed']],
    ['lang', ['en', 'ja']],
  ];
  for (const [prefix, values] of families) {
    it(`has every ${prefix}.* key in both languages`, () => {
      for (const v of values) {
        expect(en, `en ${prefix}.${v}`).toHaveProperty([`${prefix}.${v}`]);
        expect(ja, `ja ${prefix}.${v}`).toHaveProperty([`${prefix}.${v}`]);
      }
    });
  }
  it('uses the glossary terms', () => {
    expect((ja as Record<string, string>)['nav.cop']).toBe('共通作戦状況図');
    expect((ja as Record<string, string>)['nav.board']).toBe('調整要請');
  });
  it('has the same keys in both catalogs', () => {
    expect(Object.keys(ja).sort()).toEqual(Object.keys(en).sort());
  });
});
