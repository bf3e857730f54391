import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { useI18n } from '../i18n';
import type { LiveStore } from '../live';
import { KINDS, PRECEDENCES, STATUSES, type CoordRequest, type Labelled, type Me } from '../types';
import { Marking } from './Marking';
import { parseMarking } from '../banner';

const PRECEDENCE_RANK: Record<string, number> = { FLASH: 0, IMMEDIATE: 1, PRIORITY: 2, ROUTINE: 3 };

function useRequests(store: LiveStore): CoordRequest[] {
  const [version, setVersion] = useState(store.requestVersion);
  useEffect(() => store.onRequests(() => setVersion(store.requestVersion)), [store]);
  return useMemo(() => [...store.requests.values()], [store, version]);
}

export function useErrorText(): (e: unknown) => string {
  const { t } = useI18n();
  return (e: unknown) => {
    if (e instanceof ApiError) {
      if (e.status === 0) return t('error.network');
      if (e.status === 401) return t('error.unauthorized');
      if (e.status === 403) return t('error.forbidden', { detail: e.detail || e.title });
      return t('error.server', { status: e.status, detail: e.detail || e.title });
    }
    return String(e);
  };
}

interface BoardProps {
  store: LiveStore;
  me: Me;
  nodeId: string;
  onScreenItems: (items: Labelled[]) => void;
}

export function Board({ store, me, nodeId, onScreenItems }: BoardProps) {
  const { t, lang, time } = useI18n();
  const requests = useRequests(store);
  const [selected, setSelected] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [overdueOnly, setOverdueOnly] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const errText = useErrorText();

  useEffect(() => {
    store.loadRequests().then(
      () => setLoadError(null),
      (e: unknown) => setLoadError(e),
    );
  }, [store]);

  const shown = useMemo(
    () =>
      requests
        .filter((r) => !overdueOnly || r.overdue)
        .sort(
          (a, b) =>
            (PRECEDENCE_RANK[a.precedence] ?? 9) - (PRECEDENCE_RANK[b.precedence] ?? 9) ||
            String(a.due ?? '').localeCompare(String(b.due ?? '')),
        ),
    [requests, overdueOnly],
  );
  const current = selected ? (store.requests.get(selected) ?? null) : null;

  // What is on screen: every card shown plus the open record's comments.
  useEffect(() => {
    const items: Labelled[] = [...shown];
    if (current)
      for (const c of current.comments ?? [])
        items.push(c.classification ? (c as unknown as Labelled) : ({ ...parseMarking(c.label), label: c.label, label_ja: '' } as Labelled));
    onScreenItems(items);
  }, [shown, current, onScreenItems]);

  return (
    <div className="board" data-testid="board">
      <div className="board-toolbar">
        <h2>{t('board.title')}</h2>
        <button
          className="primary"
          data-testid="new-request"
          onClick={() => {
            setCreating(true);
            setSelected(null);
          }}
        >
          {t('board.new')}
        </button>
        <label className="check">
          <input type="checkbox" checked={overdueOnly} onChange={(e) => setOverdueOnly(e.target.checked)} />
          {t('board.overdueOnly')}
        </label>
        <span className="muted">{t('board.count', { count: shown.length })}</span>
        {loadError ? <span className="error">{errText(loadError)}</span> : null}
      </div>
      <div className="board-body">
        <div className="columns">
          {STATUSES.map((status) => {
            const col = shown.filter((r) => r.status === status);
            return (
              <section key={status} className="column" data-testid={`column-${status}`} data-status={status}>
                <h3>
                  {t(`status.${status}`)} <span className="muted">{col.length}</span>
                </h3>
                {col.map((r) => (
                  <button
                    key={r.id}
                    className={`card ${r.overdue ? 'overdue' : ''} ${selected === r.id ? 'on' : ''}`}
                    data-testid="request-card"
                    data-request-id={r.id}
                    onClick={() => {
                      setSelected(r.id);
                      setCreating(false);
                    }}
                  >
                    <div className="card-top">
                      <span className={`prec prec-${r.precedence}`}>{t(`precedence.${r.precedence}`)}</span>
                      {r.overdue && <span className="overdue-tag">{t('request.overdue')}</span>}
                    </div>
                    <div className="card-title">{(lang === 'ja' ? r.title.ja || r.title.en : r.title.en || r.title.ja) || r.id}</div>
                    <div className="card-meta muted">
                      {t(`kind.${r.kind}`)} · {r.requester} → {r.addressees.join(', ')}
                    </div>
                    <div className="card-meta muted">{t('request.dueAt', { time: time(r.due) })}</div>
                    <Marking item={r} compact />
                  </button>
                ))}
              </section>
            );
          })}
        </div>
        {creating && (
          <CreateRequest
            nodeId={nodeId}
            onCancel={() => setCreating(false)}
            onCreated={(r) => {
              store.upsertRequest(r);
              setCreating(false);
              setSelected(r.id);
            }}
          />
        )}
        {current && !creating && <RequestDetail store={store} request={current} me={me} onClose={() => setSelected(null)} />}
      </div>
    </div>
  );
}

function RequestDetail({
  store,
  request: r,
  me,
  onClose,
}: {
  store: LiveStore;
  request: CoordRequest;
  me: Me;
  onClose: () => void;
}) {
  const { t, tOr, time } = useI18n();
  const errText = useErrorText();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [cLabel, setCLabel] = useState(r.label);
  const [cEn, setCEn] = useState('');
  const [cJa, setCJa] = useState('');

  useEffect(() => {
    setCLabel(r.label);
    setError(null);
    setReason('');
  }, [r.id]);

  // Lists and live pushes may carry summaries: fetch the full record (comments, timeline,
  // and the transitions the node allows this caller) whenever the request changes.
  const version = `${r.id}|${r.status}|${r.updated_at ?? ''}|${r.overdue}`;
  useEffect(() => {
    let cancelled = false;
    api.request(r.id).then(
      (full) => {
        if (!cancelled) store.upsertRequest(full);
      },
      (e: unknown) => {
        if (!cancelled) setError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [version, store, r.id]);
  const allowed = r.allowed_transitions ?? [];

  const act = async (fn: () => Promise<CoordRequest>) => {
    setBusy(true);
    setError(null);
    try {
      store.upsertRequest(await fn());
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const transition = (to: string) =>
    void act(() => api.transition(r.id, to, reason)).then((ok) => {
      if (ok) setReason('');
    });

  const comment = async (ev: FormEvent) => {
    ev.preventDefault();
    const ok = await act(() => api.comment(r.id, cLabel, { en: cEn, ja: cJa }));
    if (ok) {
      setCEn('');
      setCJa('');
    }
  };

  const orig = r.original_language;
  return (
    <aside className="panel request-detail" data-testid="request-detail" data-request-id={r.id} data-status={r.status}>
      <div className="panel-head">
        <h2>{t('request.detail')}</h2>
        <button className="ghost" onClick={onClose} aria-label={t('common.close')}>
          {t('common.closeIcon')}
        </button>
      </div>
      <Marking item={r} />
      <dl className="kv">
        <dt>{t('request.status')}</dt>
        <dd data-testid="request-status">{t(`status.${r.status}`)}</dd>
        <dt>{t('request.precedence')}</dt>
        <dd>{t(`precedence.${r.precedence}`)}</dd>
        <dt>{t('request.kind')}</dt>
        <dd>{t(`kind.${r.kind}`)}</dd>
        <dt>{t('request.requester')}</dt>
        <dd>{r.requester}</dd>
        <dt>{t('request.addressees')}</dt>
        <dd>{r.addressees.join(', ')}</dd>
        <dt>{t('request.due')}</dt>
        <dd className={r.overdue ? 'overdue-text' : ''}>
          {time(r.due)} {r.overdue ? t('request.overdueParen') : null}
        </dd>
        {r.decline_reason ? (
          <>
            <dt>{t('request.declineReason')}</dt>
            <dd>{r.decline_reason}</dd>
          </>
        ) : null}
      </dl>
      {(['en', 'ja'] as const).map((l) => (
        <section key={l} className="bilingual" lang={l} data-testid={`request-text-${l}`}>
          <h3>
            {t(`lang.${l}`)} {orig === l ? <span className="orig" data-testid="original-marker">{t('request.original')}</span> : <span className="muted">{t('request.translation')}</span>}
          </h3>
          <div className="btitle">{r.title[l] || t('common.none')}</div>
          <div className="bbody">{r.body[l] || t('common.none')}</div>
        </section>
      ))}
      <section className="actions" data-testid="transitions">
        <h3>{t('request.actions')}</h3>
        {allowed.length === 0 ? (
          <p className="muted">{t('request.noActions')}</p>
        ) : (
          <>
            <input
              placeholder={t('request.reasonPlaceholder')}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              data-testid="transition-reason"
            />
            <div className="buttons">
              {allowed.map((to) => (
                <button key={to} disabled={busy} onClick={() => transition(to)} data-testid={`transition-${to}`} className={`to-${to}`}>
                  {t(`transition.${to}`)}
                </button>
              ))}
            </div>
          </>
        )}
        {error ? (
          <div className="error" role="alert">
            {errText(error)}
          </div>
        ) : null}
      </section>
      <section className="comments">
        <h3>{t('request.comments', { count: r.comments?.length ?? 0 })}</h3>
        <ul data-testid="comments">
          {(r.comments ?? []).map((c) => (
            <li key={c.id} className="comment">
              <div className="muted">
                {t('comment.byline', { author: c.author, node: c.node, time: time(c.at) })}
              </div>
              <Marking item={c} compact />
              {c.text.en && <div lang="en">{c.text.en}</div>}
              {c.text.ja && <div lang="ja">{c.text.ja}</div>}
            </li>
          ))}
        </ul>
        <form onSubmit={comment} className="comment-form" data-testid="comment-form">
          <label>
            {t('comment.label')}
            <input value={cLabel} onChange={(e) => setCLabel(e.target.value)} required data-testid="comment-label" />
          </label>
          <p className="muted small">{t('comment.labelHint')}</p>
          <label>
            {t('comment.textEn')}
            <textarea value={cEn} onChange={(e) => setCEn(e.target.value)} lang="en" data-testid="comment-en" />
          </label>
          <label>
            {t('comment.textJa')}
            <textarea value={cJa} onChange={(e) => setCJa(e.target.value)} lang="ja" data-testid="comment-ja" />
          </label>
          <button type="submit" disabled={busy || (!cEn.trim() && !cJa.trim())} data-testid="comment-submit">
            {t('comment.add')}
          </button>
        </form>
      </section>
      <section className="timeline">
        <h3>{t('request.timeline')}</h3>
        <ol data-testid="timeline">
          {(r.timeline ?? []).map((e, i) => (
            <li key={i}>
              <span className="mono muted">{time(e.at)}</span>{' '}
              {t('timeline.entry', {
                actor: e.actor,
                node: e.node,
                action: tOr(`action.${e.action}`, e.action),
              })}
              {e.from || e.to ? (
                <span>
                  {' '}
                  {t('timeline.change', {
                    from: e.from ? t(`status.${e.from}`) : t('common.none'),
                    to: e.to ? t(`status.${e.to}`) : t('common.none'),
                  })}
                </span>
              ) : null}
              {e.reason ? <span className="muted"> {t('timeline.reason', { reason: e.reason })}</span> : null}
            </li>
          ))}
        </ol>
      </section>
      <p className="muted small">{t('request.viewer', { name: me.name, nation: me.nation })}</p>
    </aside>
  );
}

function CreateRequest({
  nodeId,
  onCancel,
  onCreated,
}: {
  nodeId: string;
  onCancel: () => void;
  onCreated: (r: CoordRequest) => void;
}) {
  const { t } = useI18n();
  const errText = useErrorText();
  const [addressees, setAddressees] = useState('');
  const [kind, setKind] = useState<string>('support');
  const [precedence, setPrecedence] = useState<string>('ROUTINE');
  const [label, setLabel] = useState('UNCLASSIFIED');
  const [titleEn, setTitleEn] = useState('');
  const [titleJa, setTitleJa] = useState('');
  const [bodyEn, setBodyEn] = useState('');
  const [bodyJa, setBodyJa] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.createRequest({
        addressees: addressees
          .split(/[,\s]+/)
          .map((s) => s.trim())
          .filter(Boolean),
        kind,
        precedence,
        label,
        title: { en: titleEn, ja: titleJa },
        body: { en: bodyEn, ja: bodyJa },
      });
      onCreated(r);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <aside className="panel create-request" data-testid="create-request">
      <form onSubmit={submit}>
        <div className="panel-head">
          <h2>{t('create.title')}</h2>
          <button type="button" className="ghost" onClick={onCancel} aria-label={t('common.close')}>
            {t('common.closeIcon')}
          </button>
        </div>
        <label>
          {t('create.addressees')}
          <input
            value={addressees}
            onChange={(e) => setAddressees(e.target.value)}
            placeholder={t('create.addresseesPlaceholder', { node: nodeId })}
            required
            data-testid="create-addressees"
          />
        </label>
        <div className="row">
          <label>
            {t('create.kind')}
            <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="create-kind">
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`kind.${k}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('create.precedence')}
            <select value={precedence} onChange={(e) => setPrecedence(e.target.value)} data-testid="create-precedence">
              {PRECEDENCES.map((p) => (
                <option key={p} value={p}>
                  {t(`precedence.${p}`)}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label>
          {t('create.label')}
          <input value={label} onChange={(e) => setLabel(e.target.value)} required data-testid="create-label" />
        </label>
        <label>
          {t('create.titleEn')}
          <input value={titleEn} onChange={(e) => setTitleEn(e.target.value)} lang="en" data-testid="create-title-en" />
        </label>
        <label>
          {t('create.titleJa')}
          <input value={titleJa} onChange={(e) => setTitleJa(e.target.value)} lang="ja" data-testid="create-title-ja" />
        </label>
        <label>
          {t('create.bodyEn')}
          <textarea value={bodyEn} onChange={(e) => setBodyEn(e.target.value)} lang="en" data-testid="create-body-en" />
        </label>
        <label>
          {t('create.bodyJa')}
          <textarea value={bodyJa} onChange={(e) => setBodyJa(e.target.value)} lang="ja" data-testid="create-body-ja" />
        </label>
        <p className="muted small">{t('create.hint')}</p>
        {error ? (
          <div className="error" role="alert">
            {errText(error)}
          </div>
        ) : null}
        <div className="buttons">
          <button type="submit" className="primary" disabled={busy || (!titleEn.trim() && !titleJa.trim())} data-testid="create-submit">
            {t('create.submit')}
          </button>
          <button type="button" className="ghost" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </aside>
  );
}
