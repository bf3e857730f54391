/**
 * The exercise tab (issue 14): the exercises the user may see, and for the one selected its
 * state, participants and timeline (milestones, STARTEX, the injects of the MSEL, ENDEX),
 * a real-world override button and the override banner that says why play stopped.
 * Everything on screen is exercise data: the app's EXERCISE banner shows while it is.
 */
import { useEffect, useMemo, useState } from 'react';
import type { LiveStore } from '../../live';
import type { Labelled, Me } from '../../types';
import { useI18n } from '../../i18n';
import { Marking } from '../Marking';
import { Problem } from '../hadr/common';
import { exerciseApi } from '../../exercise/api';
import { activeOverride, mayDeclare, pick, progress, timeline } from '../../exercise/format';
import { ExerciseStore } from '../../exercise/store';
import type { Exercise } from '../../exercise/types';
import './exercise.css';

export interface ExerciseViewProps {
  live: LiveStore;
  me: Me;
  nodeId: string;
  visible: boolean;
  onScreenItems: (items: Labelled[]) => void;
}

function useStore(store: ExerciseStore): number {
  const [v, setV] = useState(store.version);
  useEffect(() => store.on(() => setV(store.version)), [store]);
  return v;
}

function StateChip({ ex }: { ex: Exercise }) {
  const { t } = useI18n();
  return (
    <span className={`ex-state ex-state-${ex.state}`} data-testid="exercise-state" data-state={ex.state}>
      {t(`exercise.state.${ex.state}`)}
    </span>
  );
}

function OverrideControls({ ex, nodeId, onDone }: { ex: Exercise; nodeId: string; onDone: () => void }) {
  const { t, lang } = useI18n();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ownActive = ex.overrides.filter((o) => o.status === 'ACTIVE' && o.node === nodeId);

  const declare = async () => {
    setBusy(true);
    setError(null);
    try {
      const text = reason.trim();
      await exerciseApi.declare(ex.id, lang === 'ja' ? { en: '', ja: text } : { en: text, ja: '' });
      setOpen(false);
      setReason('');
      onDone();
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };
  const lift = async (id: string) => {
    setError(null);
    try {
      await exerciseApi.lift(id);
      onDone();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="ex-override-controls">
      {mayDeclare(ex, nodeId) && !open ? (
        <button type="button" className="danger" data-testid="override-button" onClick={() => setOpen(true)}>
          {t('exercise.override.declare')}
        </button>
      ) : null}
      {open ? (
        <div className="ex-override-form" data-testid="override-form">
          <label>
            {t('exercise.override.reason')}
            <textarea value={reason} onChange={(e) => setReason(e.target.value)} data-testid="override-reason" rows={2} />
          </label>
          <p className="muted">{t('exercise.override.note')}</p>
          <button type="button" className="danger" disabled={busy || !reason.trim()} onClick={() => void declare()} data-testid="override-confirm">
            {t('exercise.override.confirm')}
          </button>
          <button type="button" onClick={() => setOpen(false)}>
            {t('exercise.cancel')}
          </button>
        </div>
      ) : null}
      {ownActive.map((o) => (
        <button key={o.id} type="button" onClick={() => void lift(o.id)} data-testid="override-lift">
          {t('exercise.override.lift')}
        </button>
      ))}
      <Problem error={error} />
    </div>
  );
}

/** The lead's exercise control: STARTEX, pause, resume, ENDEX, cancel (as the node allows). */
function LeadActions({ ex, onDone }: { ex: Exercise; onDone: () => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  if (ex.allowed_actions.length === 0) return null;
  const act = async (action: string) => {
    setError(null);
    try {
      await exerciseApi.act(ex.id, action);
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="ex-lead-actions" data-testid="exercise-actions">
      {ex.allowed_actions.map((a) => (
        <button key={a} type="button" onClick={() => void act(a)} data-testid={`exercise-action-${a}`}>
          {t(`exercise.action.${a}`)}
        </button>
      ))}
      <Problem error={error} />
    </div>
  );
}

function Detail({ store, nodeId }: { store: ExerciseStore; nodeId: string }) {
  const { t, lang, time } = useI18n();
  const ex = store.current;
  if (!ex) return <p className="muted">{t('exercise.none')}</p>;
  const override = activeOverride(ex);
  const entries = timeline(ex, store.injects);
  const now = new Date().toISOString();
  return (
    <section className="ex-detail" data-testid="exercise-detail" data-exercise={ex.id}>
      {override ? (
        <div className="ex-override-banner" role="alert" data-testid="override-banner">
          <strong>{t('exercise.override.banner', { node: override.node, nation: override.nation })}</strong>
          <span data-testid="override-text">{pick(override.reason, lang)}</span>
        </div>
      ) : ex.state === 'paused' ? (
        <div className="ex-override-banner ex-paused" role="status" data-testid="paused-banner">
          {t('exercise.paused_by_lead')} {ex.paused_reason}
        </div>
      ) : null}
      <header className="ex-head">
        <h2>{pick(ex.name, lang)}</h2>
        <StateChip ex={ex} />
        <Marking item={ex} />
      </header>
      <dl className="ex-facts">
        <dt>{t('exercise.lead')}</dt>
        <dd>
          {ex.lead_nation} · {ex.lead_node}
        </dd>
        <dt>{t('exercise.startex')}</dt>
        <dd>{time(ex.startex)}</dd>
        <dt>{t('exercise.endex')}</dt>
        <dd>{time(ex.endex)}</dd>
        <dt>{t('exercise.retention')}</dt>
        <dd>{t('exercise.retention.days', { days: ex.retention_days })}</dd>
      </dl>
      <LeadActions ex={ex} onDone={() => void store.reload()} />
      <OverrideControls ex={ex} nodeId={nodeId} onDone={() => void store.reload()} />
      <h3>{t('exercise.participants')}</h3>
      <table className="ex-participants" data-testid="exercise-participants">
        <thead>
          <tr>
            <th>{t('exercise.nation')}</th>
            <th>{t('exercise.node')}</th>
            <th>{t('exercise.units')}</th>
            <th>{t('exercise.instrument')}</th>
          </tr>
        </thead>
        <tbody>
          {ex.participants.map((p) => (
            <tr key={p.node} data-testid="participant" data-nation={p.nation}>
              <td>{p.nation}</td>
              <td>{p.node}</td>
              <td>{p.units.join(', ')}</td>
              <td className="mono">{p.instrument ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t('exercise.timeline')}</h3>
      <div className="ex-bar" aria-hidden="true">
        <div className="ex-bar-fill" style={{ width: `${progress(ex, now) * 100}%` }} />
      </div>
      <ol className="ex-timeline" data-testid="exercise-timeline">
        {entries.map((e) => (
          <li key={e.key} className={`ex-entry ex-${e.kind}`} data-testid="timeline-item" data-kind={e.kind} data-state={e.inject?.state ?? ''}>
            <time className="ex-when">{time(e.at)}</time>
            {e.kind === 'milestone' ? (
              <span>
                <span className="ex-stage">{t(`exercise.stage.${e.stage}`)}</span> {pick(e.name, lang)}
              </span>
            ) : e.kind === 'inject' && e.inject ? (
              <span className="ex-inject">
                <span className="ex-seq">{t('exercise.inject.seq', { seq: e.inject.seq })}</span>{' '}
                <span className={`ex-istate ex-istate-${e.inject.state.toLowerCase()}`}>{t(`exercise.inject.${e.inject.state}`)}</span>
                {e.inject.held ? <span className="ex-held" data-testid="inject-held">{t('exercise.inject.held')}</span> : null}
                {e.inject.hidden ? <span className="ex-hidden">{t('exercise.inject.hidden')}</span> : null}{' '}
                <span>{pick(e.inject.description, lang)}</span>{' '}
                <span className="muted">
                  {e.inject.from_org} → {e.inject.to_org} · {t(`exercise.delivery.${e.inject.delivery}`)}
                </span>
              </span>
            ) : (
              <strong>{t(`exercise.${e.kind}`)}</strong>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function ExerciseView({ live, nodeId, visible, onScreenItems }: ExerciseViewProps) {
  const { t, lang } = useI18n();
  const store = useMemo(() => new ExerciseStore(), []);
  useStore(store);

  useEffect(() => {
    const off = store.attach(live);
    void store.reload();
    return off;
  }, [store, live]);

  useEffect(() => {
    if (!visible) return;
    const ex = store.current;
    const items: Labelled[] = ex ? [ex, ...ex.overrides, ...store.injects] : [];
    onScreenItems(items);
  }, [store.version, visible, onScreenItems, store]);

  return (
    <div className="view-body exercise-view" data-testid="exercise-view">
      <aside className="ex-side">
        <h3>{t('exercise.list')}</h3>
        {store.exercises.length === 0 ? <p className="muted">{t('exercise.none')}</p> : null}
        {store.exercises.map((ex) => (
          <button
            key={ex.id}
            type="button"
            className={`ex-item ${ex.id === store.selected ? 'active' : ''}`}
            onClick={() => void store.select(ex.id)}
            data-testid="exercise-item"
            data-state={ex.state}
          >
            <span>{pick(ex.name, lang)}</span> <StateChip ex={ex} />
          </button>
        ))}
        <Problem error={store.error} />
      </aside>
      <main className="ex-main">
        <Detail store={store} nodeId={nodeId} />
      </main>
    </div>
  );
}
