import { useState } from 'react';
import { ApiError } from '../../api';
import { useI18n } from '../../i18n';
import type { ActionItem } from '../../liaison/api';
import { liaisonApi } from '../../liaison/api';
import { needsReason, pick, sortItems } from '../../liaison/format';
import type { LiaisonStore } from '../../liaison/store';
import { Marking } from '../Marking';
import { Reassign } from './Reassign';

/** Action items as cards, each with the transitions the caller may make now. */
export function ItemsPanel({ store, items, nodeId }: { store: LiaisonStore; items: ActionItem[]; nodeId: string }) {
  const { t } = useI18n();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const sorted = sortItems(items);
  if (sorted.length === 0) return <p className="muted">{t('liaison.items.none')}</p>;
  const chosen = sorted.filter((i) => selected.has(i.id) && i.may_edit).map((i) => i.id);
  const toggle = (id: string) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  return (
    <>
      {chosen.length > 0 ? <Reassign store={store} ids={chosen} onDone={() => setSelected(new Set())} /> : null}
      <div className="item-list" data-testid="action-items">
        {sorted.map((i) => (
          <ItemCard key={i.id} item={i} store={store} nodeId={nodeId} selected={selected.has(i.id)} onSelect={() => toggle(i.id)} />
        ))}
      </div>
    </>
  );
}

function ItemCard({
  item,
  store,
  nodeId,
  selected,
  onSelect,
}: {
  item: ActionItem;
  store: LiaisonStore;
  nodeId: string;
  selected: boolean;
  onSelect: () => void;
}) {
  const { t, lang, time } = useI18n();
  const [reason, setReason] = useState('');
  const [asking, setAsking] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const act = async (fn: () => Promise<ActionItem>) => {
    setBusy(true);
    setError(null);
    try {
      store.upsertItem(await fn());
      setAsking(null);
      setReason('');
      void store.refreshToday();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail || e.title : String(e));
    } finally {
      setBusy(false);
    }
  };
  const move = (to: string) => {
    if (needsReason(to) && asking !== to) {
      setAsking(to);
      return;
    }
    void act(() => liaisonApi.transition(item.id, to, reason));
  };

  return (
    <div className={`card item-card status-${item.status}`} data-testid="action-item" data-item-id={item.id} data-status={item.status}>
      <div className="card-top">
        {item.may_edit ? (
          <input type="checkbox" checked={selected} aria-label={t('liaison.reassign.select')} data-testid="item-select" onChange={onSelect} />
        ) : null}
        <span className={`item-status s-${item.status}`} data-testid="item-status">
          {pick(item.status_name, lang)}
        </span>
        <span className={`prec prio-${item.priority}`}>{pick(item.priority_name, lang)}</span>
        {item.overdue ? <span className="overdue-tag">{t('liaison.items.overdue')}</span> : null}
        {item.escalated ? (
          <span className="tag" data-testid="item-escalated">
            {t('liaison.items.escalated')}
          </span>
        ) : null}
        {item.reminded && !item.escalated ? <span className="tag">{t('liaison.items.reminded')}</span> : null}
      </div>
      <div className="card-title" data-testid="item-title">
        {pick(item.title, lang)}
      </div>
      <div className="kv small">
        <span className="muted">{t('liaison.items.opr')}</span>
        <span data-testid="item-opr">
          {item.opr.office} · {item.opr.node}
          {item.opr.node === nodeId ? ` · ${t('liaison.items.thisNode')}` : ''}
        </span>
        <span className="muted">{t('liaison.items.ocr')}</span>
        <span>{item.ocr ? `${item.ocr.office} · ${item.ocr.node}` : '—'}</span>
        <span className="muted">{t('liaison.items.due')}</span>
        <span>{time(item.due)}</span>
        {item.chair ? (
          <>
            <span className="muted">{t('liaison.items.chair')}</span>
            <span>
              {item.chair.user} · {item.chair.node}
            </span>
          </>
        ) : null}
        {item.closing?.reason ? (
          <>
            <span className="muted">{t('liaison.items.reason')}</span>
            <span data-testid="item-reason">{item.closing.reason}</span>
          </>
        ) : null}
        {item.concurrence ? (
          <>
            <span className="muted">{t('liaison.items.ocr')}</span>
            <span>{t(item.concurrence.concur ? 'liaison.items.concurred' : 'liaison.items.nonConcurred')}</span>
          </>
        ) : null}
      </div>
      <Marking item={item} compact />
      <div className="buttons">
        {item.allowed_transitions.map((to) => (
          <button key={to} className={to === 'SKIPPED' ? 'ghost' : 'primary'} disabled={busy} data-testid={`item-to-${to}`} onClick={() => move(to)}>
            {t(`liaison.move.${to}`)}
          </button>
        ))}
        {item.may_concur ? (
          <button className="ghost" disabled={busy} data-testid="item-concur" onClick={() => void act(() => liaisonApi.concur(item.id, true))}>
            {t('liaison.items.concur')}
          </button>
        ) : null}
      </div>
      {asking ? (
        <div className="reason-box">
          <input
            data-testid="item-reason-input"
            value={reason}
            placeholder={t('liaison.items.reasonPlaceholder')}
            onChange={(e) => setReason(e.target.value)}
          />
          <button className="primary" disabled={busy || !reason.trim()} data-testid="item-confirm" onClick={() => move(asking)}>
            {t(`liaison.move.${asking}`)}
          </button>
        </div>
      ) : null}
      {error ? <p className="error">{error}</p> : null}
    </div>
  );
}
