import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { LiveStore } from '../../live';
import { useI18n } from '../../i18n';
import { LiaisonStore } from '../../liaison/store';
import type { Labelled, Me } from '../../types';
import { DeskPanel } from './DeskPanel';
import { GroupsPanel } from './GroupsPanel';
import { ItemsPanel } from './ItemsPanel';
import './liaison.css';

export interface LiaisonViewProps {
  live: LiveStore;
  me: Me;
  nodeId: string;
  visible: boolean;
  onScreenItems: (items: Labelled[]) => void;
}

type Sub = 'groups' | 'items' | 'desk';
const SUBS: Sub[] = ['groups', 'items', 'desk'];

/** Working groups (with meetings), action items and the cooperation team's liaison workspace. */
export function LiaisonView({ live, me, nodeId, visible, onScreenItems }: LiaisonViewProps) {
  const { t } = useI18n();
  const store = useMemo(() => new LiaisonStore(me.name), [me.name]);
  const version = useSyncExternalStore(
    (l) => store.subscribe(l),
    () => store.version,
  );
  const [sub, setSub] = useState<Sub>('items');
  const [groupId, setGroupId] = useState<string | null>(null);

  useEffect(() => {
    if (visible) void store.loadAll();
  }, [store, visible]);
  useEffect(() => live.onPush((msg) => void store.handlePush(msg)), [live, store]);
  useEffect(() => live.onReconnect(() => void store.loadAll()), [live, store]);

  useEffect(() => {
    if (!visible) return;
    const items: Labelled[] = [];
    if (sub === 'groups') {
      const groups = [...store.groups.values()];
      items.push(...groups);
      const g = groupId ? store.groups.get(groupId) : groups[0];
      if (g) {
        items.push(...[...store.meetings.values()].filter((m) => m.working_group_id === g.id));
        items.push(...[...store.items.values()].filter((i) => i.working_group_id === g.id));
      }
    } else if (sub === 'items') {
      items.push(...store.items.values());
    } else {
      const d = store.today;
      if (d) items.push(...d.requests, ...d.rfas, ...d.action_items, ...d.injects);
      items.push(...store.entries);
    }
    onScreenItems(items);
  }, [store, version, sub, groupId, visible, onScreenItems]);

  return (
    <div className="view-body liaison" data-testid="liaison-view">
      <nav className="tabs subtabs" role="tablist">
        {SUBS.map((s) => (
          <button key={s} role="tab" aria-selected={sub === s} className={sub === s ? 'on' : ''} onClick={() => setSub(s)} data-testid={`liaison-tab-${s}`}>
            {t(`liaison.tab.${s}`)}
          </button>
        ))}
        {store.alerts.length > 0 ? (
          <span className="overdue-tag" data-testid="liaison-alerts">
            {t('liaison.alerts', { n: store.alerts.length })}
          </span>
        ) : null}
      </nav>
      {store.error ? <p className="error">{store.error}</p> : null}
      <div className="liaison-panel">
        {sub === 'groups' && <GroupsPanel store={store} groupId={groupId} onGroup={setGroupId} nodeId={nodeId} />}
        {sub === 'items' && <ItemsPanel store={store} items={[...store.items.values()]} nodeId={nodeId} />}
        {sub === 'desk' && <DeskPanel store={store} />}
      </div>
    </div>
  );
}
