import { describe, expect, it } from 'vitest';
import { gapFractions } from './format';
import { circleRing, intensityKey, magnitudeRadius, normaliseIntensity } from './intensity';
import { prepareFeatures } from './features';

describe('HADR display helpers', () => {
  it('normalises JMA intensity spellings to a class', () => {
    expect(normaliseIntensity('6+')).toBe('6+');
    expect(normaliseIntensity('6強')).toBe('6+');
    expect(normaliseIntensity('震度５弱')).toBe('5-');
    expect(normaliseIntensity('Shindo 6 Upper')).toBe('6+');
    expect(normaliseIntensity('x')).toBeNull();
    expect(intensityKey('7')).toBe('hadr.intensity.7');
  });

  it('sizes the hypocentre by magnitude', () => {
    expect(magnitudeRadius(3)).toBe(8);
    expect(magnitudeRadius(8)).toBe(34);
    expect(magnitudeRadius(7.3)).toBeGreaterThan(magnitudeRadius(4));
    expect(magnitudeRadius(null)).toBe(10);
  });

  it('draws a CAP circle as a closed ring of the right radius', () => {
    const ring = circleRing(35, 139, 10);
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    // 10 km north is about 0.09° of latitude.
    const maxLat = Math.max(...ring.map((p) => p[1]));
    expect(maxLat - 35).toBeCloseTo(0.0899, 3);
  });

  it('splits a line into delivered / in transit / committed / gap', () => {
    const f = gapFractions({ requested: 100, offered: 80, committed: 50, in_transit: 10, delivered: 20 });
    expect(f.delivered).toBeCloseTo(0.2);
    expect(f.inTransit).toBeCloseTo(0.1);
    expect(f.committed).toBeCloseTo(0.2);
    expect(f.offered).toBeCloseTo(0.3);
    expect(f.gap).toBeCloseTo(0.5);
    expect(gapFractions({ requested: 0, offered: 0, committed: 0, in_transit: 0, delivered: 0 }).gap).toBe(1);
  });

  it('prepares features: colours areas by class, sizes hypocentres, dims other incidents', () => {
    const fc = prepareFeatures(
      {
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', id: 'f', geometry: { type: 'Point', coordinates: [141.2, 40.2] }, properties: { incident_id: 'a', role: 'hypocentre', title: { en: '', ja: '' }, state: 'active', exercise: false, label: 'U', name: '', magnitude: 7 } },
          { type: 'Feature', id: 'f', geometry: { type: 'Point', coordinates: [141, 40] }, properties: { incident_id: 'a', role: 'area', title: { en: '', ja: '' }, state: 'active', exercise: false, label: 'U', name: '', intensity: '6+' } },
          { type: 'Feature', id: 'f', geometry: { type: 'Point', coordinates: [139, 35] }, properties: { incident_id: 'b', role: 'cap_circle', title: { en: '', ja: '' }, state: 'active', exercise: true, label: 'U', name: '', radius_km: 5 } },
        ],
      },
      'a',
    );
    expect(fc.features[0].properties!.radius).toBe(magnitudeRadius(7));
    expect(fc.features[1].properties!.colour).toBe('#a0142a');
    expect(fc.features[2].geometry.type).toBe('Polygon');
    expect(fc.features[2].properties!.dim).toBe(1);
  });
});

import en from '../i18n/en.json';
import ja from '../i18n/ja.json';
import { INTENSITIES } from './intensity';
import { OFFER_STATUSES, PRIORITIES, REASONS, RFA_STATUSES } from './types';

describe('HADR catalogs cover the vocabulary', () => {
  const keys = [
    ...INTENSITIES.map((c) => `hadr.intensity.${c}`),
    ...RFA_STATUSES.map((s) => `hadr.rfaStatus.${s}`),
    ...OFFER_STATUSES.map((s) => `hadr.offerStatus.${s}`),
    ...PRIORITIES.map((p) => `hadr.priority.${p}`),
    ...Object.values(REASONS).flat().map((r) => `hadr.reason.${r}`),
    ...['NONE', 'PARTIAL', 'COMPLETE'].map((c) => `hadr.coverage.${c}`),
  ];
  it('has every key in both languages, with the glossary terms', () => {
    for (const k of keys) {
      expect(en, k).toHaveProperty([k]);
      expect(ja, k).toHaveProperty([k]);
    }
    expect((ja as Record<string, string>)['hadr.intensity.6+']).toBe('震度6強');
    expect((en as Record<string, string>)['hadr.intensity.6+']).toBe('Shindo 6 Upper');
    expect((ja as Record<string, string>)['hadr.tab.rfas']).toBe('支援要請');
  });
});
