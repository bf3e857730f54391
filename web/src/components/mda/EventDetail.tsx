import { useState } from 'react';
import { useI18n } from '../../i18n';
import { mdaApi } from '../../mda/api';
import { distanceM, durationParts, toIso, toMs, type TrackPhases } from '../../mda/format';
import type { MdaStore } from '../../mda/store';
import { VERDICTS, type MdaEvent, type VerdictKind } from '../../mda/types';
import { Problem } from '../hadr/common';
import { Marking } from '../Marking';
import { TypeIcon } from './common';
import type { TrackState } from './MdaSide';

const KNOWN_DETAIL = ['kind', 'duration_s', 'distance_m', 'implied_speed_kn', 'sources_before', 'threshold_s', 'sources', 'zone', 'mean_speed_kn', 'median_speed_kn', 'min_distance_m', 'names'] as const;

export function EventDetail({
  event: e,
  store,
  nodeId,
  phases,
  tracks,
  onClose,
}: {
  event: MdaEvent;
  store: MdaStore;
  nodeId: string;
  phases: TrackPhases[];
  tracks: TrackState;
  onClose: () => void;
}) {
  const { t, tOr, lang, time } = useI18n();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState<VerdictKind | null>(null);
  const [error, setError] = useState<unknown>(null);
  const startMs = toMs(e.start);
  const endMs = e.end === null ? null : toMs(e.end);
  const dur = durationParts((endMs ?? Date.now()) - startMs);
  const d: Record<string, unknown> = { ...(e.detail ?? {}) };  // shown key by key
  const mine = (e.verdicts ?? []).find((v) => v.node === nodeId);

  const give = async (verdict: VerdictKind) => {
    setBusy(verdict);
    setError(null);
    try {
      const updated = await mdaApi.verdict(e.id, { verdict, note });
      store.put('events', updated);
      setNote('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const detailValue = (k: string, v: unknown): string => {
    if (k === 'kind' && typeof v === 'string') return tOr(`mda.kind.${v}`, v);
    if (k.endsWith('_m') && typeof v === 'number') return t('mda.km', { km: (v / 1000).toFixed(1) });
    if (k.endsWith('_kn') && typeof v === 'number') return t('mda.kn', { kn: v.toFixed(1) });
    if (k.endsWith('_s') && typeof v === 'number') {
      const p = durationParts(v * 1000);
      return t('mda.durationValue', { h: p.h, m: String(p.m).padStart(2, '0') });
    }
    if (Array.isArray(v)) return v.join(', ');
    if (v && typeof v === 'object') return JSON.stringify(v);
    return String(v);
  };
  const detailKeys = Object.keys(d).filter((k) => d[k] !== null && d[k] !== undefined && d[k] !== '');
  detailKeys.sort((a, b) => {
    const ia = (KNOWN_DETAIL as readonly string[]).indexOf(a);
    const ib = (KNOWN_DETAIL as readonly string[]).indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });

  return (
    <section className="mda-detail" data-testid="mda-detail" data-event-id={e.id} data-type={e.type} data-status={e.status}>
      <div className="panel-head">
        <h2>
          <TypeIcon type={e.type} /> <span data-testid="mda-detail-type">{t(`mda.type.${e.type}`)}</span>{' '}
          <span className={`mda-status st-${e.status}`} data-testid="mda-detail-status">
            {t(`mda.status.${e.status}`)}
          </span>
        </h2>
        <button className="ghost" onClick={onClose} aria-label={t('common.close')} data-testid="mda-detail-close">
          {t('common.closeIcon')}
        </button>
      </div>
      <div className="card-title" data-testid="mda-detail-title">
        {(lang === 'ja' ? e.title?.ja : e.title?.en) || e.title?.en || e.id}
      </div>
      <Marking item={e} />
      <dl className="kv">
        <dt>{t('mda.vessels')}</dt>
        <dd className="mono" data-testid="mda-detail-vessels">
          {e.vessels.join(', ')}
        </dd>
        <dt>{t('mda.start')}</dt>
        <dd data-testid="mda-detail-start">{time(toIso(e.start))}</dd>
        <dt>{t('mda.end')}</dt>
        <dd data-testid="mda-detail-end">{e.end === null ? t('mda.stillOpen') : time(toIso(e.end))}</dd>
        <dt>{t('mda.duration')}</dt>
        <dd data-testid="mda-detail-duration">{t('mda.durationValue', { h: dur.h, m: String(dur.m).padStart(2, '0') })}</dd>
        <dt>{t('mda.position')}</dt>
        <dd className="mono">
          {e.position.lat.toFixed(4)}, {e.position.lon.toFixed(4)}
        </dd>
        <dt>{t('mda.origin')}</dt>
        <dd>{e.origin}</dd>
        {detailKeys.map((k) => [
          <dt key={`k-${k}`}>{tOr(`mda.detail.${k}`, k)}</dt>,
          <dd key={`v-${k}`} data-testid={`mda-detail-${k}`}>
            {detailValue(k, d[k])}
          </dd>,
        ])}
      </dl>
      {e.covered_by?.length ? (
        <div className="mda-covered" data-testid="mda-covered">
          {t('mda.covered', { sources: [...new Set(e.covered_by.map((c) => c.source))].join(', ') })}
        </div>
      ) : null}

      <h3>{t('mda.track')}</h3>
      <div className="mda-legend small">
        <span className="lg lg-before" /> {t('mda.phase.before')} <span className="lg lg-during" /> {t('mda.phase.during')}{' '}
        <span className="lg lg-after" /> {t('mda.phase.after')} <span className="lg lg-evidence" /> {t('mda.phase.evidence')}
      </div>
      <ul className="mda-tracks" data-testid="mda-track">
        {e.vessels.map((v, i) => {
          const st = tracks.byVessel[v];
          const p = phases[i];
          return (
            <li key={v} data-vessel={v} data-before={p?.before.length ?? 0} data-during={p?.during.length ?? 0} data-after={p?.after.length ?? 0} data-evidence={p?.evidence.length ?? 0}>
              <span className="mono">{v}</span>{' '}
              {st?.loading
                ? t('app.loading')
                : t('mda.trackPoints', { before: p?.before.length ?? 0, during: p?.during.length ?? 0, after: p?.after.length ?? 0, evidence: p?.evidence.length ?? 0 })}
              {st?.error ? <span className="muted small"> {t('mda.noHistory')}</span> : null}
            </li>
          );
        })}
      </ul>

      <h3>{t('mda.evidence', { count: e.evidence?.length ?? 0 })}</h3>
      <ol className="mda-evidence small" data-testid="mda-evidence">
        {(e.evidence ?? []).map((x, i) => {
          const prev = i > 0 ? e.evidence[i - 1] : null;
          return (
            <li key={`${x.mmsi}-${String(x.t)}-${i}`}>
              <span className="mono">{time(toIso(x.t))}</span> <span className="mono">{x.mmsi}</span>{' '}
              <span className="mono">
                {x.lat.toFixed(4)}, {x.lon.toFixed(4)}
              </span>
              {typeof x.sog === 'number' ? <span> {t('mda.kn', { kn: x.sog.toFixed(1) })}</span> : null}
              {x.source ? <span className="tag">{x.source}</span> : null}
              {prev && prev.mmsi === x.mmsi ? (
                <span className="muted"> {t('mda.fromPrev', { km: (distanceM(prev, x) / 1000).toFixed(1) })}</span>
              ) : null}
            </li>
          );
        })}
      </ol>

      <h3>{t('mda.verdicts')}</h3>
      <ul className="mda-verdicts" data-testid="mda-verdicts">
        {(e.verdicts ?? []).length === 0 ? <li className="muted">{t('mda.noVerdicts')}</li> : null}
        {(e.verdicts ?? []).map((v) => (
          <li key={v.node} data-testid="mda-verdict" data-node={v.node} data-verdict={v.verdict}>
            <span className="tag">{v.node}</span> <strong data-testid="mda-verdict-value">{t(`mda.verdict.${v.verdict}`)}</strong>{' '}
            <span className="muted small">
              {t('mda.verdictBy', { by: v.by || t('common.none'), at: time(toIso(v.at)) })}
            </span>
            {v.note ? <div className="small" data-testid="mda-verdict-note">{v.note}</div> : null}
            <Marking item={v} compact />
          </li>
        ))}
      </ul>
      <div className="mda-verdict-form" data-testid="mda-verdict-form">
        <label>
          {t('mda.note')}
          <textarea value={note} onChange={(ev) => setNote(ev.target.value)} data-testid="mda-verdict-note-input" placeholder={t('mda.notePlaceholder')} />
        </label>
        <div className="mda-verdict-buttons">
          {VERDICTS.map((v) => (
            <button
              key={v}
              className={`verdict-btn verdict-${v} ${mine?.verdict === v ? 'on' : ''}`}
              disabled={busy !== null}
              onClick={() => void give(v)}
              data-testid={`mda-verdict-${v}`}
            >
              {t(`mda.verdict.${v}`)}
            </button>
          ))}
        </div>
        <p className="muted small">{t('mda.verdictHint', { node: nodeId })}</p>
        <Problem error={error} />
      </div>
    </section>
  );
}
