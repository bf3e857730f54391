import { useI18n } from '../../i18n';
import { pick } from '../../liaison/format';
import type { LiaisonStore } from '../../liaison/store';
import { Marking } from '../Marking';
import { ItemForm } from './ItemForm';
import { ItemsPanel } from './ItemsPanel';

/** Working groups; the selected one's members, meetings (agenda and minutes) and action items. */
export function GroupsPanel({ store, groupId, onGroup, nodeId }: { store: LiaisonStore; groupId: string | null; onGroup: (id: string) => void; nodeId: string }) {
  const { t, lang, time } = useI18n();
  const groups = [...store.groups.values()];
  if (groups.length === 0) return <p className="muted">{t('liaison.groups.none')}</p>;
  const group = (groupId ? store.groups.get(groupId) : undefined) ?? groups[0];
  const meetings = [...store.meetings.values()].filter((m) => m.working_group_id === group.id);
  const items = [...store.items.values()].filter((i) => i.working_group_id === group.id);
  return (
    <div className="groups">
      <div className="group-list" data-testid="working-groups">
        {groups.map((g) => (
          <button key={g.id} className={`card ${g.id === group.id ? 'on' : ''}`} data-testid="working-group" onClick={() => onGroup(g.id)}>
            <div className="card-title">{pick(g.name, lang)}</div>
            <div className="card-meta muted">
              {pick(g.level_name, lang)} · {pick(g.cadence_name, lang)}
            </div>
          </button>
        ))}
      </div>
      <div className="group-detail panel" data-testid="working-group-detail">
        <h3>{pick(group.name, lang)}</h3>
        <Marking item={group} />
        <div className="kv small">
          <span className="muted">{t('liaison.groups.level')}</span>
          <span>{pick(group.level_name, lang)}</span>
          <span className="muted">{t('liaison.groups.convening')}</span>
          <span>{pick(group.convening_authority, lang) || '—'}</span>
          <span className="muted">{t('liaison.groups.cadence')}</span>
          <span>{pick(group.cadence_name, lang)}</span>
          <span className="muted">{t('liaison.groups.chairs')}</span>
          <span>{group.co_chairs.map((p) => `${p.user} (${p.nation} · ${p.node})`).join(', ')}</span>
          <span className="muted">{t('liaison.groups.members')}</span>
          <span>{group.members.map((p) => `${p.user} (${p.nation} · ${p.node})`).join(', ') || '—'}</span>
        </div>
        <h4>{t('liaison.groups.meetings')}</h4>
        {meetings.length === 0 ? <p className="muted">{t('liaison.groups.noMeetings')}</p> : null}
        {meetings.map((m) => (
          <div key={m.id} className="meeting" data-testid="meeting">
            <div className="card-title">
              {pick(m.title, lang) || t('liaison.groups.meeting')} · {time(m.start)}
            </div>
            <Marking item={m} compact />
            <div className="bilingual">
              <div className="muted small">{t('liaison.groups.agenda')}</div>
              <div className="summary">{pick(m.agenda, lang)}</div>
              <div className="muted small">{t('liaison.groups.minutes')}</div>
              <div className="summary" data-testid="meeting-minutes">
                {pick(m.minutes, lang)}
              </div>
            </div>
          </div>
        ))}
        <h4>{t('liaison.tab.items')}</h4>
        <ItemForm key={group.id} store={store} group={group} meetings={meetings} />
        <ItemsPanel store={store} items={items} nodeId={nodeId} />
      </div>
    </div>
  );
}
