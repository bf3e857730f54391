import { describe, expect, it } from 'vitest';
import { asOfInstant, coordinationOf, parents, unitFeatures, unitName, visibleRows } from './tree';
import type { Relation, Tree, TreeUnit, Unit } from './types';

const label = { label: 'UNCLASSIFIED', label_ja: '指定なし', classification: 'UNCLASSIFIED', rel_to: [], noforn: false, exercise: false };

function unit(id: string, en: string, ja = '', location: Unit['location'] = null): Unit {
  return {
    ...label, id, origin: 'jjoc', name: { en, ja }, nation: 'JPN', sidc: '10031002261100000000', echelon: 'command',
    hq: true, task_force: false, holdings: [], location, home_facility: null, commanders: [],
  };
}

function rel(id: string, from: string, to: string, kind: Relation['kind']): Relation {
  return { ...label, id, origin: 'jjoc', from_unit: from, to_unit: to, kind, command: kind !== 'COORDINATION', valid_from: '2026-01-01T00:00:00Z', valid_to: null };
}

function item(u: Unit, depth: number, parent: string | null, children: string[], kind: Relation['kind'] | null = null): TreeUnit {
  return { unit: u, depth, parent, children, relation: parent && kind ? rel(`r-${u.id}`, u.id, parent, kind) : null, other: [] };
}

const TREE: Tree = {
  at: '2026-07-01T00:00:00Z',
  historical_units: false,
  units: [
    item(unit('jjoc', 'Joint Operations Command', '統合作戦司令部', { lat: 35.69, lon: 139.73 }), 0, null, ['gcc', 'sdf']),
    item(unit('gcc', 'Ground Component Command', '陸上総隊'), 1, 'jjoc', ['div'], 'OPCON'),
    item(unit('div', '1st Division'), 2, 'gcc', [], 'ORGANIC'),
    item(unit('sdf', 'Self Defense Fleet', '自衛艦隊'), 1, 'jjoc', [], 'OPCON'),
    item(unit('usfj', 'U.S. Forces Japan', '在日米軍', { lat: 35.75, lon: 139.35 }), 0, null, []),
  ],
  coordination: [rel('c', 'jjoc', 'usfj', 'COORDINATION')],
};

describe('ORBAT tree rows', () => {
  it('shows every unit depth first when nothing is collapsed', () => {
    expect(visibleRows(TREE, new Set()).map((r) => r.item.unit.id)).toEqual(['jjoc', 'gcc', 'div', 'sdf', 'usfj']);
  });
  it('hides the descendants of a collapsed unit, and only those', () => {
    const rows = visibleRows(TREE, new Set(['gcc']));
    expect(rows.map((r) => r.item.unit.id)).toEqual(['jjoc', 'gcc', 'sdf', 'usfj']);
    expect(rows.find((r) => r.item.unit.id === 'gcc')).toMatchObject({ expanded: false, hasChildren: true });
    expect(visibleRows(TREE, new Set(parents(TREE))).map((r) => r.item.unit.id)).toEqual(['jjoc', 'usfj']);
  });
  it('names in the language shown, the other as fallback', () => {
    expect(unitName(TREE.units[0].unit, 'ja')).toBe('統合作戦司令部');
    expect(unitName(TREE.units[2].unit, 'ja')).toBe('1st Division');
  });
  it('finds coordination edges at either end', () => {
    expect(coordinationOf(TREE, 'usfj').map((r) => r.id)).toEqual(['c']);
    expect(coordinationOf(TREE, 'gcc')).toEqual([]);
  });
});

describe('as-of date and map features', () => {
  it('reads a day as its end in UTC, and anything else as now', () => {
    expect(asOfInstant('2026-03-01')).toBe('2026-03-01T23:59:59.000Z');
    expect(asOfInstant('')).toBeNull();
    expect(asOfInstant('2026-3-1')).toBeNull();
  });
  it('gives a point with its SIDC for each unit with a location', () => {
    const fc = unitFeatures(TREE, 'en', 'usfj');
    expect(fc.features.map((f) => f.properties?.id)).toEqual(['jjoc', 'usfj']);
    expect(fc.features[1].geometry.coordinates).toEqual([139.35, 35.75]);
    expect(fc.features[1].properties).toMatchObject({ icon: 'sidc-10031002261100000000', selected: 1 });
  });
});
