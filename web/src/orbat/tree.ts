/** Pure helpers of the ORBAT view: visible rows of the tree, the as-of date, map features. */
import type { Feature, FeatureCollection, Point } from 'geojson';
import type { Relation, Tree, TreeUnit, Unit } from './types';

export interface Row {
  item: TreeUnit;
  expanded: boolean;
  hasChildren: boolean;
}

/** The rows shown: the tree depth first, skipping the descendants of collapsed units. */
export function visibleRows(tree: Tree | null, collapsed: ReadonlySet<string>): Row[] {
  if (!tree) return [];
  const out: Row[] = [];
  let hideBelow: number | null = null;
  for (const item of tree.units) {
    if (hideBelow !== null) {
      if (item.depth > hideBelow) continue;
      hideBelow = null;
    }
    const hasChildren = item.children.length > 0;
    const expanded = hasChildren && !collapsed.has(item.unit.id);
    out.push({ item, expanded, hasChildren });
    if (hasChildren && !expanded) hideBelow = item.depth;
  }
  return out;
}

/** Every unit that has children (to collapse all). */
export function parents(tree: Tree | null): string[] {
  return (tree?.units ?? []).filter((u) => u.children.length > 0).map((u) => u.unit.id);
}

/** The instant a date picker's "YYYY-MM-DD" means: the end of that day in UTC (null: now). */
export function asOfInstant(day: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const ms = Date.parse(`${day}T23:59:59Z`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The unit's name in the language shown, the other language as a fallback. */
export function unitName(u: Pick<Unit, 'name' | 'id'>, lang: 'en' | 'ja'): string {
  return (lang === 'ja' ? u.name.ja || u.name.en : u.name.en || u.name.ja) || u.id;
}

/** The other end of a coordination edge for a unit, if it is one end. */
export function coordinationOf(tree: Tree | null, unitId: string): Relation[] {
  return (tree?.coordination ?? []).filter((r) => r.from_unit === unitId || r.to_unit === unitId);
}

/** Units with a location as GeoJSON points, carrying their SIDC (drawn as 2525D symbols). */
export function unitFeatures(tree: Tree | null, lang: 'en' | 'ja', selected: string | null): FeatureCollection<Point> {
  const features: Feature<Point>[] = [];
  for (const { unit } of tree?.units ?? []) {
    if (!unit.location) continue;
    features.push({
      type: 'Feature',
      id: unit.id,
      geometry: { type: 'Point', coordinates: [unit.location.lon, unit.location.lat] },
      properties: { id: unit.id, sidc: unit.sidc, icon: `sidc-${unit.sidc}`, name: unitName(unit, lang), selected: unit.id === selected ? 1 : 0 },
    });
  }
  return { type: 'FeatureCollection', features };
}
