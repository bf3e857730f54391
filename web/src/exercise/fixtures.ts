/** Exercise answers for the unit tests, shaped as the node gives them. */
import type { Exercise, Inject, Override } from './types';

const LABEL = {
  label: 'SECRET//REL TO USA, JPN, AUS//EXERCISE',
  label_fgi: 'SECRET//REL TO USA, JPN, AUS//EXERCISE',
  label_ja: '極秘//提供可能範囲 USA・AUS・JPN//演習',
  classification: 'SECRET',
  rel_to: ['USA', 'AUS', 'JPN'],
  noforn: false,
  exercise: true,
  originator: 'USA',
};

export function override(id: string, status: 'ACTIVE' | 'LIFTED', at: string): Override {
  return { ...LABEL, id, exercise_id: 'e1', node: 'aus', nation: 'AUS', reason: { en: `why ${id}`, ja: '' }, status, declared_by: 'x', declared_at: at, lifted_at: null };
}

export function exercise(over: Partial<Exercise> = {}): Exercise {
  return {
    ...LABEL,
    id: 'e1',
    name: { en: 'Southern Jackaroo', ja: 'サザン・ジャッカルー' },
    lead_nation: 'USA',
    lead_node: 'usfj',
    participants: [{ nation: 'AUS', node: 'aus', units: [], instrument: 'japan-australia-raa' }],
    stages: [],
    milestones: [{ stage: 'fpc', name: { en: 'FPC', ja: '最終計画会議' }, at: '2030-02-01T00:00:00.000Z' }],
    startex: '2030-02-01T00:00:00.000Z',
    endex: '2030-02-11T00:00:00.000Z',
    facilities: [],
    retention_days: 30,
    track_prefixes: [],
    track_ids: [],
    area: [],
    status: 'RUNNING',
    state: 'running',
    state_name: { en: 'Running', ja: '実施中' },
    paused_reason: '',
    overrides: [],
    quarantined: false,
    control: false,
    allowed_actions: [],
    created_at: '2029-01-01T00:00:00.000Z',
    updated_at: '2029-01-01T00:00:00.000Z',
    ...over,
  };
}

export function inject(seq: number, due: string): Inject {
  return {
    ...LABEL,
    id: `i${seq}`,
    exercise_id: 'e1',
    seq,
    offset_minutes: 0,
    due_at: due,
    move: '',
    from_org: 'EXCON',
    to_org: 'JJOC',
    to_node: 'jjoc',
    delivery: 'request',
    description: { en: `inject ${seq}`, ja: '' },
    expected_action: { en: '', ja: '' },
    hidden: false,
    state: 'APPROVED',
    state_name: { en: 'Approved', ja: '承認済み' },
    held: false,
    delivered_as: null,
    position: null,
    origin: 'usfj',
    allowed_transitions: [],
    updated_at: '2029-01-01T00:00:00.000Z',
  };
}

