/**
 * The ORBAT tab (issue 15): the task organisation as a tree (expand/collapse, the kind of
 * each relationship, coordination between the chains) as of a chosen date, a unit's
 * details, and the units as 2525D symbols on a map. Reloaded on the node's pushes.
 */
import { useEffect, useMemo, useState } from 'react';
import type { LiveStore } from '../../live';
import type { Labelled, Me } from '../../types';
import { useI18n } from '../../i18n';
import { Marking } from '../Marking';
import { Problem } from '../hadr/common';
import { OrbatStore } from '../../orbat/store';
import { asOfInstant, coordinationOf, parents, unitFeatures, unitName, visibleRows } from '../../orbat/tree';
import type { Relation, Tree, TreeUnit } from '../../orbat/types';
import { OrbatMap } from './OrbatMap';
import './orbat.css';

export interface OrbatViewProps {
  live: LiveStore;
  me: Me;
  nodeId: string;
  visible: boolean;
  onScreenItems: (items: Labelled[]) => void;
}

function useOrbat(store: OrbatStore): number {
  const [v, setV] = useState(store.version);
  useEffect(() => store.on(() => setV(store.version)), [store]);
  return v;
}

function KindChip({ kind }: { kind: Relation['kind'] }) {
  const { t } = useI18n();
  return (
    <span className={`orbat-kind kind-${kind.toLowerCase()}`} data-testid="orbat-kind" data-kind={kind} title={t(`orbat.kind.${kind}.long`)}>
      {t(`orbat.kind.${kind}`)}
    </span>
  );
}

function UnitDetail({ item, tree, onSelect }: { item: TreeUnit; tree: Tree; onSelect: (id: string) => void }) {
  const { t, lang, time } = useI18n();
  const u = item.unit;
  const byId = new Map(tree.units.map((x) => [x.unit.id, x.unit]));
  const nameOf = (id: string) => {
    const other = byId.get(id);
    return other ? unitName(other, lang) : id;
  };
  const coord = coordinationOf(tree, u.id);
  return (
    <section className="orbat-detail" data-testid="orbat-detail" data-unit={u.id}>
      <h3>{unitName(u, lang)}</h3>
      <div className="muted" lang={lang === 'ja' ? 'en' : 'ja'}>
        {lang === 'ja' ? u.name.en : u.name.ja}
      </div>
      <Marking item={u} />
      <dl className="orbat-facts">
        <dt>{t('orbat.nation')}</dt>
        <dd>{u.nation}</dd>
        <dt>{t('orbat.owner')}</dt>
        <dd data-testid="orbat-owner">{u.origin}</dd>
        <dt>{t('orbat.echelon')}</dt>
        <dd>{t(`orbat.echelon.${u.echelon}`)}</dd>
        <dt>{t('orbat.sidc')}</dt>
        <dd className="mono">{u.sidc}</dd>
        {u.home_facility ? (
          <>
            <dt>{t('orbat.facility')}</dt>
            <dd>{u.home_facility}</dd>
          </>
        ) : null}
        {item.relation ? (
          <>
            <dt>{t('orbat.superior')}</dt>
            <dd>
              <KindChip kind={item.relation.kind} /> {nameOf(item.relation.to_unit)}{' '}
              <span className="muted">{t('orbat.since', { time: time(item.relation.valid_from) })}</span>
            </dd>
          </>
        ) : null}
        {item.other.map((r) => (
          <dd key={r.id} className="orbat-other">
            <KindChip kind={r.kind} /> {nameOf(r.to_unit)}
          </dd>
        ))}
      </dl>
      {u.hq || u.task_force ? (
        <div className="orbat-flags">
          {u.hq ? <span className="orbat-flag">{t('orbat.hq')}</span> : null}
          {u.task_force ? <span className="orbat-flag">{t('orbat.task_force')}</span> : null}
        </div>
      ) : null}
      {coord.length > 0 ? (
        <div className="orbat-coord" data-testid="orbat-coordination">
          <h4>{t('orbat.coordination')}</h4>
          <p className="muted">{t('orbat.coordination.note')}</p>
          {coord.map((r) => (
            <div key={r.id}>
              <KindChip kind="COORDINATION" />{' '}
              <button type="button" className="link" onClick={() => onSelect(r.from_unit === u.id ? r.to_unit : r.from_unit)}>
                {nameOf(r.from_unit === u.id ? r.to_unit : r.from_unit)}
              </button>
            </div>
          ))}
        </div>
      ) : null}
      {u.commanders.length > 0 ? (
        <div>
          <h4>{t('orbat.commanders')}</h4>
          {u.commanders.map((c) => {
            const hats = tree.units.filter((x) => x.unit.id !== u.id && x.unit.commanders.some((o) => o.person_id === c.person_id));
            return (
              <div key={c.person_id} data-testid="orbat-commander">
                {(lang === 'ja' ? c.name.ja || c.name.en : c.name.en || c.name.ja) || c.person_id}
                {hats.length > 0 ? (
                  <span className="muted"> {t('orbat.dual_hatted', { units: hats.map((h) => unitName(h.unit, lang)).join(', ') })}</span>
                ) : null}
              </div>
            );
          })}
        </div>
      ) : null}
      {u.holdings.length > 0 ? (
        <table className="orbat-holdings">
          <thead>
            <tr>
              <th>{t('orbat.holding.item')}</th>
              <th>{t('orbat.holding.count')}</th>
              <th>{t('orbat.holding.on_hand')}</th>
            </tr>
          </thead>
          <tbody>
            {u.holdings.map((h) => (
              <tr key={`${h.kind}-${h.item}`}>
                <td>
                  {h.item} <span className="muted">({t(`orbat.holding.${h.kind}`)})</span>
                </td>
                <td>{h.count}</td>
                <td>{h.on_hand}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function OrbatView({ live, visible, onScreenItems }: OrbatViewProps) {
  const { t, lang, time } = useI18n();
  const store = useMemo(() => new OrbatStore(), []);
  useOrbat(store);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const [day, setDay] = useState('');

  useEffect(() => {
    const off = store.attach(live);
    void store.reload();
    return off;
  }, [store, live]);

  const tree = store.tree;
  const rows = visibleRows(tree, collapsed);
  const features = useMemo(() => unitFeatures(tree, lang, selected), [tree, lang, selected]);
  const selectedItem = tree?.units.find((x) => x.unit.id === selected) ?? null;

  useEffect(() => {
    if (!visible) return;
    const items: Labelled[] = [];
    for (const x of tree?.units ?? []) {
      items.push(x.unit);
      if (x.relation) items.push(x.relation);
    }
    for (const r of tree?.coordination ?? []) items.push(r);
    onScreenItems(items);
  }, [tree, visible, onScreenItems]);

  const toggle = (id: string) =>
    setCollapsed((c) => {
      const next = new Set(c);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const pickDay = (value: string) => {
    setDay(value);
    void store.setAt(asOfInstant(value));
  };

  return (
    <div className="view-body orbat-view" data-testid="orbat-view">
      <aside className="orbat-side">
        <div className="orbat-toolbar">
          <label className="orbat-asof">
            {t('orbat.as_of')}
            <input type="date" value={day} onChange={(e) => pickDay(e.target.value)} data-testid="orbat-asof" />
          </label>
          <button type="button" onClick={() => pickDay('')} disabled={!day} data-testid="orbat-now">
            {t('orbat.now')}
          </button>
          <button type="button" onClick={() => setCollapsed(new Set())} data-testid="orbat-expand-all">
            {t('orbat.expand_all')}
          </button>
          <button type="button" onClick={() => setCollapsed(new Set(parents(tree)))} data-testid="orbat-collapse-all">
            {t('orbat.collapse_all')}
          </button>
        </div>
        <div className="muted orbat-at" data-testid="orbat-at">
          {tree ? t(store.at ? 'orbat.showing_at' : 'orbat.showing_now', { time: time(tree.at) }) : t('orbat.loading')}
        </div>
        <Problem error={store.error} />
        {tree && tree.units.length === 0 ? <p className="muted">{t('orbat.empty')}</p> : null}
        <ul className="orbat-tree" role="tree" data-testid="orbat-tree">
          {rows.map(({ item, expanded, hasChildren }) => (
            <li
              key={item.unit.id}
              role="treeitem"
              aria-expanded={hasChildren ? expanded : undefined}
              aria-selected={item.unit.id === selected}
              className={`orbat-row ${item.unit.id === selected ? 'selected' : ''}`}
              style={{ paddingLeft: `${item.depth * 18 + 4}px` }}
              data-testid="orbat-row"
              data-unit={item.unit.id}
              data-parent={item.parent ?? ''}
            >
              {hasChildren ? (
                <button
                  type="button"
                  className="orbat-toggle"
                  onClick={() => toggle(item.unit.id)}
                  aria-label={t(expanded ? 'orbat.collapse' : 'orbat.expand')}
                  data-testid="orbat-toggle"
                >
                  {expanded ? '▾' : '▸'}
                </button>
              ) : (
                <span className="orbat-toggle-space" />
              )}
              <button type="button" className="orbat-name" onClick={() => setSelected(item.unit.id)} data-testid="orbat-name">
                {unitName(item.unit, lang)}
              </button>
              {item.relation ? <KindChip kind={item.relation.kind} /> : null}
              {coordinationOf(tree, item.unit.id).length > 0 ? <KindChip kind="COORDINATION" /> : null}
              <span className="orbat-nation muted">{item.unit.nation}</span>
              <Marking item={item.unit} compact />
            </li>
          ))}
        </ul>
        {selectedItem && tree ? <UnitDetail item={selectedItem} tree={tree} onSelect={setSelected} /> : null}
      </aside>
      <div className="orbat-map-wrap">
        <OrbatMap features={features} visible={visible} selected={selected} onSelect={setSelected} />
      </div>
    </div>
  );
}
