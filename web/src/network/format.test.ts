import { describe, expect, it } from 'vitest';
import { peer, queue } from './fixtures';
import {
  alertTitle,
  duration,
  orderedQueues,
  peerRefusals,
  queueAge,
  queueFill,
  queueOverdue,
  queuedTotal,
  rate,
  refusalList,
  rttText,
  secondsSince,
  serverNow,
  sortAlerts,
  sortPeers,
  stateKey,
} from './format';

describe('network format', () => {
  it('keeps the node clock between pushes, whatever the browser clock says', () => {
    // Browser clock 1 h ahead of the node; 7 s since the status arrived.
    const received = Date.parse('2026-12-01T11:00:00Z');
    const now = serverNow({ now: '2026-12-01T10:00:00Z' }, received, received + 7000);
    expect(new Date(now).toISOString()).toBe('2026-12-01T10:00:07.000Z');
    expect(secondsSince('2026-12-01T09:59:00Z', now)).toBe(67);
    expect(secondsSince(null, now)).toBeNull();
    expect(secondsSince('2026-12-01T10:05:00Z', now)).toBe(0);
  });

  it('writes durations the watch reads', () => {
    expect(duration(42.7)).toEqual({ key: 'network.dur.s', params: { n: 42 } });
    expect(duration(12 * 60 + 5)).toEqual({ key: 'network.dur.min', params: { n: 12 } });
    expect(duration(3 * 3600)).toEqual({ key: 'network.dur.h', params: { n: 3 } });
    expect(duration(3 * 3600 + 5 * 60)).toEqual({ key: 'network.dur.hmin', params: { h: 3, m: 5 } });
    expect(duration(2 * 86_400 + 4 * 3600)).toEqual({ key: 'network.dur.dh', params: { d: 2, h: 4 } });
  });

  it('ages the oldest queued item and flags it past its objective', () => {
    const flash = queue('FLASH', { depth: 2, oldest_age_s: 550 });
    expect(queueAge(flash, 0)).toBe(550);
    expect(queueOverdue(flash, 0)).toBe(false);
    expect(queueFill(flash, 0)).toBeCloseTo(550 / 600);
    // 60 s later without a push: past the 10 min objective.
    expect(queueAge(flash, 60)).toBe(610);
    expect(queueOverdue(flash, 60)).toBe(true);
    expect(queueFill(flash, 60)).toBe(1);
    // The node's own verdict counts too; an empty queue is never overdue.
    expect(queueOverdue(queue('ROUTINE', { depth: 1, oldest_age_s: 5, overdue: true }), 0)).toBe(true);
    expect(queueOverdue(queue('FLASH', { depth: 0, oldest_age_s: null, overdue: true }), 0)).toBe(false);
    expect(queueAge(queue('FLASH'), 100)).toBeNull();
    expect(queueFill(queue('FLASH'), 100)).toBe(0);
  });

  it('lists the four precedences FLASH first, filling in the ones left out', () => {
    const qs = orderedQueues([queue('ROUTINE', { depth: 3 }), queue('FLASH', { depth: 1 })]);
    expect(qs.map((q) => [q.precedence, q.depth, q.objective_s])).toEqual([
      ['FLASH', 1, 600],
      ['IMMEDIATE', 0, 1800],
      ['PRIORITY', 0, 10_800],
      ['ROUTINE', 3, 21_600],
    ]);
    expect(queuedTotal(peer('a', { queues: qs }))).toBe(4);
  });

  it('orders peers and alerts for a glance', () => {
    expect(sortPeers([peer('kor'), peer('aus'), peer('jjoc')]).map((p) => p.id)).toEqual(['aus', 'jjoc', 'kor']);
    const alerts = sortAlerts([
      { kind: 'digest_differ', peer: 'aus', since: '2026-12-01T09:00:00Z' },
      { kind: 'link_cut', peer: 'kor', since: '2026-12-01T09:30:00Z' },
      { kind: 'flash_overdue', peer: 'jjoc', since: '2026-12-01T09:50:00Z' },
      { kind: 'link_cut', peer: 'aus', since: '2026-12-01T09:10:00Z' },
    ]);
    expect(alerts.map((a) => `${a.kind}:${a.peer}`)).toEqual(['flash_overdue:jjoc', 'link_cut:aus', 'link_cut:kor', 'digest_differ:aus']);
  });

  it('names states, refusals, rates and round trips', () => {
    expect(stateKey('cut')).toBe('network.state.cut');
    expect(stateKey('weird')).toBe('');
    expect(refusalList({ 'in:label': 2, 'out:type': 7, 'in:echo': 0, 'out:refused_by_peer': 2 })).toEqual([
      { direction: 'out', reason: 'type', count: 7 },
      { direction: 'in', reason: 'label', count: 2 },
      { direction: 'out', reason: 'refused_by_peer', count: 2 },
    ]);
    expect(refusalList({ odd: 1 })).toEqual([{ direction: '', reason: 'odd', count: 1 }]);
    expect(peerRefusals({ refusals: { label: 3, refused_by_peer: 1 }, refusals_in: { label: 3 }, refusals_out: { refused_by_peer: 1, type: 0 } })).toEqual([
      { direction: 'in', reason: 'label', count: 3 },
      { direction: 'out', reason: 'refused_by_peer', count: 1 },
    ]);
    expect(peerRefusals({ refusals: { label: 3 } })).toEqual([{ direction: '', reason: 'label', count: 3 }]);
    expect(refusalList(undefined)).toEqual([]);
    expect([rate(0), rate(0.44), rate(12.4), rate(1250)]).toEqual(['0', '0.4', '12', '1,250']);
    expect([rttText(null), rttText(3.14), rttText(48.6)]).toEqual([null, '3.1', '49']);
  });

  it('shows an alert title in the reader language, else the other one', () => {
    expect(alertTitle({ en: 'Link to jjoc cut', ja: 'jjocとの回線切断' }, 'ja')).toBe('jjocとの回線切断');
    expect(alertTitle({ en: 'Link to jjoc cut', ja: '' }, 'ja')).toBe('Link to jjoc cut');
  });
});

describe('network catalog', () => {
  it('has every key the helpers build, in both languages', async () => {
    const { CATALOGS } = await import('../i18n');
    const { PEER_STATES, DIGEST_STATES, ALERT_KINDS } = await import('./types');
    const keys = [
      ...[1, 90, 3600, 3 * 3600 + 60, 90_000].map((s) => duration(s).key),
      ...PEER_STATES.map(stateKey),
      ...DIGEST_STATES.map((d) => `network.digest.${d}`),
      ...ALERT_KINDS.map((k) => `network.alert.${k}`),
      ...['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'].map((p) => `precedence.${p}`),
    ];
    for (const k of keys) {
      expect(CATALOGS.en[k], k).toBeTruthy();
      expect(CATALOGS.ja[k], k).toBeTruthy();
    }
    expect(CATALOGS.ja['network.state.cut']).toBe('切断');
    expect(CATALOGS.en['network.dur.hmin']).toBe('{h} h {m} min');
  });
});
