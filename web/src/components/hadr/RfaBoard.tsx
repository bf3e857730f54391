import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useI18n } from '../../i18n';
import { hadrApi } from '../../hadr/api';
import { formatQty, pick } from '../../hadr/format';
import type { HadrStore } from '../../hadr/store';
import { PRIORITIES, REASONS, RFA_STATUSES, type Incident, type LineIn, type Offer, type Oslo, type Rfa } from '../../hadr/types';
import { Marking } from '../Marking';
import { OsloFields, Problem, useHadr } from './common';
import { GapLegend, LineRow } from './GapBar';
import { RfaCreate } from './RfaCreate';

const PRIORITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export function RfaBoard({ store, incident }: { store: HadrStore; incident: Incident | null }) {
  const { t, tOr, lang } = useI18n();
  useHadr(store);
  const [selected, setSelected] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const rfas = [...store.rfas.values()]
    .filter((r) => !incident || r.incident_id === incident.id)
    .sort(
      (a, b) =>
        RFA_STATUSES.indexOf(a.status as (typeof RFA_STATUSES)[number]) - RFA_STATUSES.indexOf(b.status as (typeof RFA_STATUSES)[number]) ||
        (PRIORITY_RANK[a.priority ?? ''] ?? 9) - (PRIORITY_RANK[b.priority ?? ''] ?? 9) ||
        b.updated_at.localeCompare(a.updated_at),
    );
  const current = selected ? (store.rfas.get(selected) ?? null) : null;

  return (
    <div className="rfa-board" data-testid="rfa-board">
      <div className="board-toolbar">
        <h2>{t('hadr.rfa.title')}</h2>
        <button className="primary" data-testid="rfa-new" onClick={() => { setCreating(true); setSelected(null); }}>
          {t('hadr.rfa.new')}
        </button>
        <span className="muted">{t('hadr.rfa.count', { count: rfas.length })}</span>
      </div>
      <Problem error={store.errors.rfas} />
      {creating && (
        <RfaCreate
          store={store}
          incident={incident}
          onCancel={() => setCreating(false)}
          onCreated={(r) => {
            store.putRfa(r);
            setCreating(false);
            setSelected(r.id);
          }}
        />
      )}
      <ul className="rfa-list">
        {rfas.map((r) => (
          <li key={r.id}>
            <button
              className={`card rfa-card ${selected === r.id ? 'on' : ''}`}
              data-testid="rfa-card"
              data-rfa-id={r.id}
              data-status={r.status}
              data-coverage={r.coverage}
              onClick={() => { setSelected(r.id); setCreating(false); }}
            >
              <div className="card-top">
                <span className={`rfa-status st-${r.status}`}>{tOr(`hadr.rfaStatus.${r.status}`, pick(r.status_name, lang) || r.status)}</span>
                {r.priority ? <span className={`prio prio-${r.priority}`}>{tOr(`hadr.priority.${r.priority}`, r.priority)}</span> : null}
                <span className={`cov cov-${r.coverage}`}>{tOr(`hadr.coverage.${r.coverage}`, r.coverage)}</span>
              </div>
              <div className="card-title">{pick(r.title, lang) || r.id}</div>
              <div className="card-meta muted">
                {t('hadr.rfa.where', { site: pick(r.site?.name, lang) || r.site?.id || t('common.none'), state: r.affected_state })}
              </div>
              <Marking item={r} compact />
            </button>
          </li>
        ))}
      </ul>
      {rfas.length === 0 && !creating ? <p className="muted">{t('hadr.rfa.none')}</p> : null}
      {current && !creating && <RfaDetail store={store} rfa={current} onClose={() => setSelected(null)} />}
    </div>
  );
}

function TransitionControls({
  kind,
  allowed,
  busy,
  onGo,
  withPriority,
}: {
  kind: 'rfa' | 'offer';
  allowed: string[];
  busy: boolean;
  onGo: (to: string, reason: string, note: string, priority: string | null) => void;
  withPriority?: boolean;
}) {
  const { t, tOr } = useI18n();
  const [target, setTarget] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [priority, setPriority] = useState('high');
  const codes = target ? REASONS[`${kind}:${target}`] : undefined;
  const actionName = (to: string) => (kind === 'rfa' ? tOr(`hadr.rfaAction.${to}`, to) : tOr(`hadr.offerAction.${to}`, to));
  const go = (to: string) => {
    const needs = REASONS[`${kind}:${to}`];
    if (needs || (withPriority && to === 'VALIDATED')) {
      setTarget(to);
      setReason('');
      return;
    }
    onGo(to, '', '', null);
  };
  if (allowed.length === 0) return <p className="muted small">{t('hadr.noActions')}</p>;
  return (
    <div className="transitions" data-testid={`${kind}-transitions`}>
      <div className="buttons">
        {allowed.map((to) => (
          <button key={to} disabled={busy} className={`to-${to}`} data-testid={`${kind}-to-${to}`} onClick={() => go(to)}>
            {actionName(to)}
          </button>
        ))}
      </div>
      {target ? (
        <div className="reason-box" data-testid={`${kind}-reason-box`}>
          {codes ? (
            <label>
              {t('hadr.reasonCode')}
              <select value={reason} onChange={(e) => setReason(e.target.value)} data-testid={`${kind}-reason`} required>
                <option value="">{t('hadr.reasonChoose')}</option>
                {codes.map((c) => (
                  <option key={c} value={c}>
                    {tOr(`hadr.reason.${c}`, c)}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          {withPriority && target === 'VALIDATED' ? (
            <label>
              {t('hadr.rfa.priority')}
              <select value={priority} onChange={(e) => setPriority(e.target.value)} data-testid="rfa-priority">
                {PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {t(`hadr.priority.${p}`)}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <label>
            {t('hadr.note')}
            <input value={note} onChange={(e) => setNote(e.target.value)} data-testid={`${kind}-note`} />
          </label>
          <div className="buttons">
            <button
              className="primary"
              disabled={busy || (!!codes && !reason)}
              data-testid={`${kind}-confirm`}
              onClick={() => {
                onGo(target, reason, note, withPriority && target === 'VALIDATED' ? priority : null);
                setTarget(null);
              }}
            >
              {t('hadr.confirm', { action: actionName(target) })}
            </button>
            <button className="ghost" onClick={() => setTarget(null)}>
              {t('common.cancel')}
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}

function RfaDetail({ store, rfa: r, onClose }: { store: HadrStore; rfa: Rfa; onClose: () => void }) {
  const { t, tOr, lang, time } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [offering, setOffering] = useState(false);
  useEffect(() => setError(null), [r.id]);

  // The list (and pushes) may lag: fetch the full record when it changes.
  useEffect(() => {
    let cancelled = false;
    hadrApi.rfa(r.id).then(
      (full) => !cancelled && store.putRfa(full),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [r.id, r.status, r.updated_at, store]);

  // Offers from other nations arrive by federation; reconcile while the RFA is open, in case
  // a push was missed (pushes update the store in between).
  useEffect(() => {
    void store.loadOffers();
    const timer = setInterval(() => {
      void store.loadOffers();
      void hadrApi.rfa(r.id).then((x) => store.putRfa(x), () => undefined);
    }, 5000);
    return () => clearInterval(timer);
  }, [r.id, store]);

  const offers = [...store.offers.values()].filter((o) => o.rfa_id === r.id || o.accepted_for === r.id);
  const run = async <T,>(fn: () => Promise<T>, put: (v: T) => void) => {
    setBusy(true);
    setError(null);
    try {
      put(await fn());
      // Roll-ups change with an offer's status: reload the RFA and its offers.
      void hadrApi.rfa(r.id).then((x) => store.putRfa(x), () => undefined);
      void store.loadOffers();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };

  return (
    <aside className="panel rfa-detail" data-testid="rfa-detail" data-rfa-id={r.id} data-status={r.status} data-coverage={r.coverage}>
      <div className="panel-head">
        <h2>{pick(r.title, lang) || r.id}</h2>
        <button className="ghost" onClick={onClose} aria-label={t('common.close')}>
          {t('common.closeIcon')}
        </button>
      </div>
      <Marking item={r} />
      <dl className="kv">
        <dt>{t('hadr.rfa.status')}</dt>
        <dd data-testid="rfa-status">{tOr(`hadr.rfaStatus.${r.status}`, r.status)}</dd>
        <dt>{t('hadr.rfa.priority')}</dt>
        <dd data-testid="rfa-priority-value">{r.priority ? tOr(`hadr.priority.${r.priority}`, r.priority) : t('common.none')}</dd>
        <dt>{t('hadr.rfa.rollup')}</dt>
        <dd data-testid="rfa-rollup">{tOr(`hadr.coverage.${r.coverage}`, r.coverage)}</dd>
        <dt>{t('hadr.rfa.site')}</dt>
        <dd>{pick(r.site?.name, lang) || r.site?.id}</dd>
        <dt>{t('hadr.rfa.requester')}</dt>
        <dd>{pick(r.requesting_org, lang) || r.origin}</dd>
        <dt>{t('hadr.rfa.affected')}</dt>
        <dd>{t('hadr.rfa.affectedValue', { state: r.affected_state, node: r.affected_node })}</dd>
        <dt>{t('hadr.rfa.neededBy')}</dt>
        <dd>{time(r.needed_by)}</dd>
        {r.closing ? (
          <>
            <dt>{t('hadr.reasonCode')}</dt>
            <dd data-testid="rfa-closing">{pick(r.closing.reason_name, lang) || tOr(`hadr.reason.${r.closing.reason}`, r.closing.reason)}</dd>
          </>
        ) : null}
      </dl>
      <section>
        <h3>{t('hadr.rfa.lines', { count: r.lines.length })}</h3>
        <GapLegend />
        {r.lines.map((l, i) => (
          <LineRow key={`${l.item}-${i}`} line={l} store={store} index={i} />
        ))}
      </section>
      <section className="actions">
        <h3>{t('hadr.actions')}</h3>
        <TransitionControls
          kind="rfa"
          allowed={r.allowed_transitions ?? []}
          busy={busy}
          withPriority
          onGo={(to, reason, note, priority) =>
            void run(
              () => hadrApi.rfaTransition(r.id, { to, reason, note, ...(priority ? { priority: priority as Rfa['priority'] } : {}) }),
              (x) => store.putRfa(x),
            )
          }
        />
        <Problem error={error} />
      </section>
      <section className="offers">
        <div className="panel-head">
          <h3>{t('hadr.offer.title', { count: offers.length })}</h3>
          {['OPEN', 'COMMITTED', 'VALIDATED', 'SUBMITTED'].includes(r.status) ? (
            <button data-testid="offer-new" onClick={() => setOffering((v) => !v)}>
              {t('hadr.offer.new')}
            </button>
          ) : null}
        </div>
        {offering ? (
          <OfferForm
            rfa={r}
            store={store}
            onDone={(o) => {
              store.putOffer(o);
              setOffering(false);
              void hadrApi.rfa(r.id).then((x) => store.putRfa(x), () => undefined);
            }}
            onCancel={() => setOffering(false)}
          />
        ) : null}
        <ul className="offer-list">
          {offers.map((o) => (
            <OfferItem
              key={o.id}
              offer={o}
              store={store}
              busy={busy}
              onGo={(to, reason, note) => void run(() => hadrApi.offerTransition(o.id, { to, reason, note }), (x) => store.putOffer(x))}
            />
          ))}
        </ul>
      </section>
    </aside>
  );
}

function OfferItem({ offer: o, store, busy, onGo }: { offer: Offer; store: HadrStore; busy: boolean; onGo: (to: string, reason: string, note: string) => void }) {
  const { t, tOr, lang } = useI18n();
  return (
    <li className="offer" data-testid="offer" data-offer-id={o.id} data-status={o.status} data-nation={o.nation}>
      <div className="card-top">
        <strong>{o.nation}</strong>
        <span className={`offer-status st-${o.status}`} data-testid="offer-status">
          {tOr(`hadr.offerStatus.${o.status}`, o.status)}
        </span>
        {o.committed ? <span className="tag">{t('hadr.offer.commitment')}</span> : null}
        {o.military ? <span className="tag">{t('hadr.offer.military')}</span> : null}
      </div>
      {o.asset || o.unit ? <div className="small">{[o.asset, o.unit].filter(Boolean).join(' · ')}</div> : null}
      <ul className="small">
        {o.lines.map((l, i) => (
          <li key={i}>
            {t('hadr.offer.line', {
              item: pick(store.itemName(l.item), lang) || pick(l.description, lang) || l.item,
              n: formatQty(l.quantity, lang),
              unit: pick(store.unitName(l.unit), lang) || l.unit,
            })}
          </li>
        ))}
      </ul>
      {o.closing ? (
        <div className="small muted" data-testid="offer-closing">
          {t('hadr.offer.closing', { reason: pick(o.closing.reason_name, lang) || tOr(`hadr.reason.${o.closing.reason}`, o.closing.reason) })}
        </div>
      ) : null}
      <Marking item={o} compact />
      <TransitionControls kind="offer" allowed={o.allowed_transitions ?? []} busy={busy} onGo={(to, reason, note) => onGo(to, reason, note)} />
    </li>
  );
}

export function OfferForm({ rfa, store, onDone, onCancel }: { rfa: Rfa; store: HadrStore; onDone: (o: Offer) => void; onCancel: () => void }) {
  const { t, lang } = useI18n();
  const [label, setLabel] = useState(rfa.label);
  const [qty, setQty] = useState<number[]>(() => rfa.lines.map((l) => Math.max(0, l.gap)));
  const [unitName, setUnitName] = useState('');
  const [asset, setAsset] = useState('');
  const [military, setMilitary] = useState(false);
  const [oslo, setOslo] = useState<Oslo>({
    civilian_alternative_considered: true,
    unique_advantage: 'capability',
    handover_date: new Date(Date.now() + 14 * 86400_000).toISOString().slice(0, 10) + 'T00:00:00Z',
    no_cost_to_affected_state: true,
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const lines: LineIn[] = useMemo(
    () =>
      rfa.lines
        .map((l, i) => ({ item: l.item, kind: l.kind, description: l.description, unit: l.unit as LineIn['unit'], quantity: qty[i] ?? 0 }))
        .filter((l) => (l.quantity ?? 0) > 0),
    [rfa.lines, qty],
  );
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const o = await hadrApi.createOffer({
        label,
        rfa_id: rfa.id,
        incident_id: rfa.incident_id,
        lines,
        unit: unitName,
        asset,
        military,
        oslo: military ? oslo : null,
      });
      onDone(o);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="offer-form" data-testid="offer-form" onSubmit={submit}>
      {rfa.lines.map((l, i) => (
        <label key={i} className="row-inline">
          {t('hadr.offer.qtyFor', { item: pick(store.itemName(l.item), lang) || l.item, unit: pick(store.unitName(l.unit), lang) || l.unit })}
          <input
            type="number"
            min={0}
            step="any"
            value={qty[i] ?? 0}
            data-testid={`offer-qty-${i}`}
            onChange={(e) => setQty((q) => q.map((v, j) => (j === i ? Number(e.target.value) : v)))}
          />
        </label>
      ))}
      <label>
        {t('hadr.offer.unit')}
        <input value={unitName} onChange={(e) => setUnitName(e.target.value)} data-testid="offer-unit" />
      </label>
      <label>
        {t('hadr.offer.asset')}
        <input value={asset} onChange={(e) => setAsset(e.target.value)} data-testid="offer-asset" />
      </label>
      <label>
        {t('create.label')}
        <input value={label} onChange={(e) => setLabel(e.target.value)} required data-testid="offer-label" />
      </label>
      <label className="check">
        <input type="checkbox" checked={military} onChange={(e) => setMilitary(e.target.checked)} data-testid="offer-military" />
        {t('hadr.offer.militaryAsset')}
      </label>
      {military ? <OsloFields value={oslo} onChange={setOslo} /> : null}
      <Problem error={error} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy || lines.length === 0} data-testid="offer-submit">
          {t('hadr.offer.submit')}
        </button>
        <button type="button" className="ghost" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
