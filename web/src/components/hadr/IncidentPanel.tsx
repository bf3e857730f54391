import { useMemo } from 'react';
import { useI18n } from '../../i18n';
import { pick } from '../../hadr/format';
import { intensityRank } from '../../hadr/intensity';
import type { Incident } from '../../hadr/types';
import { Marking } from '../Marking';
import { IntensityChip } from './common';

const MAX_AREAS = 30;

export function IncidentPanel({ incident: inc }: { incident: Incident }) {
  const { t, tOr, lang, time } = useI18n();
  const areas = useMemo(
    () => [...(inc.intensity_areas ?? [])].sort((a, b) => intensityRank(b.intensity) - intensityRank(a.intensity)),
    [inc.intensity_areas],
  );
  const timeline = useMemo(
    () => [...(inc.timeline ?? [])].sort((a, b) => Date.parse(a.issued_at) - Date.parse(b.issued_at)),
    [inc.timeline],
  );
  const byLevel = (level: string) => areas.filter((a) => a.level === level);
  const shownAreas = (byLevel('area').length ? byLevel('area') : areas).slice(0, MAX_AREAS);
  const m = inc.magnitude?.value;
  return (
    <section className="incident-panel" data-testid="incident-panel" data-incident-id={inc.id} data-state={inc.state}>
      <div className="panel-head">
        <h2 data-testid="incident-title">{pick(inc.title, lang) || inc.id}</h2>
      </div>
      {inc.exercise ? (
        <div className="exercise-tag" data-testid="incident-exercise">
          {t('hadr.exercise')}
        </div>
      ) : null}
      {inc.state === 'cancelled' ? <div className="cancelled-tag">{t('hadr.state.cancelled')}</div> : null}
      <Marking item={inc} />
      <p className="summary" data-testid="incident-summary">
        {pick(inc.summary, lang)}
      </p>
      <dl className="kv">
        <dt>{t('hadr.magnitude')}</dt>
        <dd data-testid="incident-magnitude">
          {typeof m === 'number' ? t('hadr.magnitudeValue', { value: m.toFixed(1), type: inc.magnitude?.type ?? '' }) : t('hadr.magnitudeUnknown')}
        </dd>
        <dt>{t('hadr.maxIntensity')}</dt>
        <dd data-testid="incident-max-intensity">
          <IntensityChip value={inc.max_intensity ?? inc.forecast_intensity} />
        </dd>
        <dt>{t('hadr.hypocentre')}</dt>
        <dd data-testid="incident-hypocentre">
          {inc.hypocentre && typeof inc.hypocentre.lat === 'number' && typeof inc.hypocentre.lon === 'number'
            ? t('hadr.hypocentreValue', {
                lat: inc.hypocentre.lat.toFixed(2),
                lon: inc.hypocentre.lon.toFixed(2),
                name: inc.hypocentre.name || t('common.none'),
              })
            : t('common.none')}
        </dd>
        <dt>{t('hadr.depth')}</dt>
        <dd>
          {typeof inc.hypocentre?.depth_km === 'number' ? t('hadr.depthValue', { km: inc.hypocentre.depth_km }) : t('common.none')}
        </dd>
        <dt>{t('hadr.originTime')}</dt>
        <dd>{time(inc.origin_time)}</dd>
        <dt>{t('hadr.stateLabel')}</dt>
        <dd>{tOr(`hadr.state.${inc.state}`, inc.state)}</dd>
        <dt>{t('hadr.source')}</dt>
        <dd>{tOr(`hadr.sourceName.${inc.source}`, inc.source)}</dd>
      </dl>
      {shownAreas.length ? (
        <section>
          <h3>{t('hadr.areas', { count: areas.length })}</h3>
          <ul className="area-list" data-testid="incident-areas">
            {shownAreas.map((a) => (
              <li key={`${a.level}-${a.code}`}>
                <IntensityChip value={a.intensity} /> <span lang="ja">{a.name}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {inc.tsunami_areas?.length ? (
        <section>
          <h3>{t('hadr.tsunami', { count: inc.tsunami_areas.length })}</h3>
          <ul className="tsunami-list" data-testid="tsunami-areas">
            {inc.tsunami_areas.map((a) => (
              <li key={a.code} data-category={a.category}>
                <span className={`tsu tsu-${a.category}`}>{tOr(`hadr.tsunamiCategory.${a.category}`, a.category)}</span>{' '}
                <span lang="ja">{a.name}</span> <span className="muted small">{pick(a.kind_name, lang)}</span>
                {a.history?.length > 1 ? (
                  <div className="muted small">
                    {a.history.map((h) => tOr(`hadr.tsunamiCategory.${h.category}`, h.category)).join(' → ')}
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section className="timeline">
        <h3>{t('hadr.timeline', { count: timeline.length })}</h3>
        <ol data-testid="incident-timeline">
          {timeline.map((e) => (
            <li key={e.key} className={e.cancelled ? 'struck' : ''}>
              <span className="mono muted">{time(e.issued_at)}</span>{' '}
              {t('hadr.bulletin', {
                type: e.type,
                kind: tOr(`hadr.bulletinKind.${e.kind}`, e.kind),
                serial: e.serial ?? t('common.none'),
              })}
              {e.status !== 'actual' ? <span className="marking-ex"> {tOr(`hadr.bulletinStatus.${e.status}`, e.status)}</span> : null}
              {e.headline ? (
                <div className="small" lang="ja">
                  {e.headline}
                </div>
              ) : null}
            </li>
          ))}
        </ol>
      </section>
    </section>
  );
}
