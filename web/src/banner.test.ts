import { describe, expect, it } from 'vitest';
import { bannerText, computeBanner, parseMarking } from './banner';

const L = (classification: string, rel_to: string[] = [], noforn = false, exercise = false) => ({
  classification,
  rel_to,
  noforn,
  exercise,
});

describe('computeBanner', () => {
  it('is UNCLASSIFIED when nothing is on screen', () => {
    const b = computeBanner([]);
    expect(bannerText(b, 'en')).toBe('UNCLASSIFIED');
    expect(bannerText(b, 'ja')).toBe('指定なし');
    expect(b.exercise).toBe(false);
  });

  it('takes the highest classification and intersects REL TO', () => {
    const b = computeBanner([L('SECRET', ['USA', 'JPN', 'AUS']), L('CONFIDENTIAL', ['JPN', 'USA'])]);
    expect(b.classification).toBe('SECRET');
    expect(bannerText(b, 'en')).toBe('SECRET//REL TO USA, JPN');
    expect(bannerText(b, 'ja')).toBe('極秘//提供可能範囲 USA・JPN');
  });

  it('unclassified items without REL TO do not restrict', () => {
    const b = computeBanner([L('UNCLASSIFIED'), L('SECRET', ['USA', 'KOR'])]);
    expect(bannerText(b, 'en')).toBe('SECRET//REL TO USA, KOR');
  });

  it('NOFORN wins over any REL TO', () => {
    const b = computeBanner([L('CONFIDENTIAL', ['USA', 'JPN']), L('SECRET', [], true)]);
    expect(bannerText(b, 'en')).toBe('SECRET//NOFORN');
    expect(bannerText(b, 'ja')).toBe('極秘//外国提供不可');
  });

  it('an empty intersection is NOFORN in effect', () => {
    const b = computeBanner([L('SECRET', ['USA', 'JPN']), L('SECRET', ['AUS'])]);
    expect(bannerText(b, 'en')).toBe('SECRET//NOFORN');
  });

  it('expands groups when intersecting, keeps common groups', () => {
    expect(bannerText(computeBanner([L('SECRET', ['FVEY']), L('SECRET', ['USA', 'AUS', 'JPN'])]), 'en')).toBe(
      'SECRET//REL TO USA, AUS',
    );
    expect(bannerText(computeBanner([L('SECRET', ['USA', 'FVEY']), L('TOP SECRET', ['FVEY'])]), 'en')).toBe(
      'TOP SECRET//REL TO FVEY',
    );
  });

  it('flags exercise data', () => {
    expect(computeBanner([L('UNCLASSIFIED', [], false, true)]).exercise).toBe(true);
  });
});

describe('parseMarking', () => {
  it('reads the U.S. marking form', () => {
    expect(parseMarking('SECRET//REL TO USA, JPN')).toEqual({ classification: 'SECRET', rel_to: ['USA', 'JPN'], noforn: false, exercise: false });
    expect(parseMarking('CONFIDENTIAL//NOFORN//EXERCISE')).toMatchObject({ noforn: true, exercise: true });
    expect(parseMarking('UNCLASSIFIED').classification).toBe('UNCLASSIFIED');
  });
  it('never understates an unreadable marking', () => {
    expect(parseMarking('WHATEVER')).toMatchObject({ classification: 'TOP SECRET', noforn: true });
  });
});
