import { useI18n } from '../i18n';
import type { HistoryPoint, Track } from '../types';
import { Marking } from './Marking';

const MS_TO_KT = 1.943844;

export function TrackPanel({ track, history, onClose }: { track: Track; history: HistoryPoint[]; onClose: () => void }) {
  const { t, tOr, time } = useI18n();
  const course = track.course == null ? t('common.none') : t('track.courseValue', { deg: track.course.toFixed(0).padStart(3, '0') });
  const speed =
    track.speed == null
      ? t('common.none')
      : t('track.speedValue', { kt: (track.speed * MS_TO_KT).toFixed(1), ms: track.speed.toFixed(1) });
  return (
    <aside className="panel track-panel" data-testid="track-panel" aria-label={t('track.panel')}>
      <div className="panel-head">
        <h2 data-testid="track-callsign">{track.callsign || track.name || track.id}</h2>
        <button className="ghost" onClick={onClose} aria-label={t('common.close')}>
          {t('common.closeIcon')}
        </button>
      </div>
      <Marking item={track} />
      <dl className="kv">
        <dt>{t('track.name')}</dt>
        <dd>{track.name || t('common.none')}</dd>
        <dt>{t('track.id')}</dt>
        <dd className="mono">{track.id}</dd>
        <dt>{t('track.affiliation')}</dt>
        <dd>{tOr(`affiliation.${track.affiliation}`, track.affiliation)}</dd>
        <dt>{t('track.sidc')}</dt>
        <dd className="mono">{track.sidc}</dd>
        <dt>{t('track.course')}</dt>
        <dd data-testid="track-course">{course}</dd>
        <dt>{t('track.speed')}</dt>
        <dd data-testid="track-speed">{speed}</dd>
        <dt>{t('track.position')}</dt>
        <dd className="mono">
          {track.lat.toFixed(4)}, {track.lon.toFixed(4)}
        </dd>
        <dt>{t('track.observed')}</dt>
        <dd data-testid="track-observed">{time(track.observed_at)}</dd>
        <dt>{t('track.stale')}</dt>
        <dd>{time(track.stale_at)}</dd>
      </dl>
      <h3>{t('track.sources')}</h3>
      <ul className="sources" data-testid="track-sources">
        {(track.sources?.length ? track.sources : [{ source: track.source, source_id: track.source_id, observed_at: track.observed_at, connection: '' }]).map(
          (s, i) => (
            <li key={`${s.source}-${s.source_id}-${i}`}>
              <span className="tag">{s.source}</span> <span className="mono">{s.source_id}</span>
              <span className="muted"> {time(s.observed_at)}</span>
              {s.connection ? <span className="muted"> {t('track.via', { connection: s.connection })}</span> : null}
            </li>
          ),
        )}
      </ul>
      <h3>{t('track.history')}</h3>
      <p className="muted" data-testid="track-history">
        {history.length ? t('track.historyPoints', { count: history.length, since: time(history[0].observed_at) }) : t('track.noHistory')}
      </p>
    </aside>
  );
}
