import { useCallback, useEffect, useMemo, useState } from 'react';
import { useI18n } from '../../i18n';
import { pick } from '../../hadr/format';
import { intensityKey, INTENSITIES, INTENSITY_COLOURS, intensityRank } from '../../hadr/intensity';
import type { HadrStore } from '../../hadr/store';
import type { Labelled } from '../../types';
import { IncidentMap } from '../../map/IncidentMap';
import { Marking } from '../Marking';
import { IncidentPanel } from './IncidentPanel';
import { Problem, IntensityChip, useHadr } from './common';
import { RfaBoard } from './RfaBoard';
import { Resources, resourcesOnScreen } from './Resources';
import { SitrepPanel } from './SitrepPanel';

type Sub = 'incident' | 'rfas' | 'resources' | 'sitrep';
const SUBS: Sub[] = ['incident', 'rfas', 'resources', 'sitrep'];

export function HadrView({ store, visible, onScreenItems }: { store: HadrStore; visible: boolean; onScreenItems: (items: Labelled[]) => void }) {
  const { t, lang } = useI18n();
  const version = useHadr(store);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [sub, setSub] = useState<Sub>('incident');

  useEffect(() => {
    void store.loadAll();
  }, [store]);

  const incidents = useMemo(
    () => [...store.incidents.values()].sort((a, b) => b.updated_at.localeCompare(a.updated_at)),
    [store, version],
  );
  const incident = (selectedId ? store.incidents.get(selectedId) : undefined) ?? incidents[0] ?? null;

  // The banner: every incident listed (and on the map) plus what the open tab shows.
  useEffect(() => {
    const items: Labelled[] = [...incidents];
    if (sub === 'rfas') {
      const rfas = [...store.rfas.values()].filter((r) => !incident || r.incident_id === incident.id);
      items.push(...rfas);
      const ids = new Set(rfas.map((r) => r.id));
      items.push(...[...store.offers.values()].filter((o) => (o.rfa_id && ids.has(o.rfa_id)) || (o.accepted_for && ids.has(o.accepted_for))));
    }
    if (sub === 'resources') {
      const r = resourcesOnScreen(store, incident);
      items.push(...r.capabilities, ...r.shelters, ...r.stocks);
    }
    onScreenItems(items);
  }, [incidents, incident, sub, store, version, onScreenItems]);

  const hypoLabel = useCallback(
    (id: string, m: number | null) => {
      const inc = store.incidents.get(id);
      const key = intensityKey(inc?.max_intensity ?? inc?.forecast_intensity);
      const parts = [typeof m === 'number' ? t('hadr.mShort', { value: m.toFixed(1) }) : t('hadr.magnitudeUnknown')];
      if (key) parts.push(t(key));
      if (inc?.exercise) parts.push(t('hadr.exercise'));
      return parts.join(' · ');
    },
    // Labels depend on the language and on the incidents held.
    [t, store, version],
  );

  return (
    <div className="hadr" data-testid="hadr-view">
      <div className="hadr-left">
        <div className="incident-strip" data-testid="incident-list">
          {incidents.length === 0 ? <span className="muted">{t('hadr.noIncidents')}</span> : null}
          {incidents.map((i) => (
            <button
              key={i.id}
              className={`card incident-card ${incident?.id === i.id ? 'on' : ''} ${i.state === 'cancelled' ? 'cancelled' : ''}`}
              data-testid="incident-card"
              data-incident-id={i.id}
              data-exercise={i.exercise ? '1' : '0'}
              onClick={() => setSelectedId(i.id)}
            >
              <div className="card-top">
                <IntensityChip value={i.max_intensity ?? i.forecast_intensity} />
                {i.exercise ? <span className="marking-ex">{t('hadr.exercise')}</span> : null}
              </div>
              <div className="card-title">{pick(i.title, lang) || i.id}</div>
              <Marking item={i} compact />
            </button>
          ))}
        </div>
        <Problem error={store.errors.incidents ?? store.errors.features} />
        <div className="hadr-map-wrap">
          <IncidentMap features={store.features} selectedId={incident?.id ?? null} visible={visible} hypoLabel={hypoLabel} onSelect={setSelectedId} />
          <div className="int-legend" data-testid="intensity-legend" aria-label={t('hadr.legend.intensity')}>
            <div className="small">{t('hadr.legend.intensity')}</div>
            {INTENSITIES.filter((c) => intensityRank(c) >= 1).map((c) => (
              <div key={c} className="int-legend-row small">
                <i style={{ background: INTENSITY_COLOURS[c] }} /> {t(`hadr.intensity.${c}`)}
              </div>
            ))}
          </div>
        </div>
      </div>
      <div className="hadr-right">
        <nav className="tabs subtabs" role="tablist">
          {SUBS.map((s) => (
            <button key={s} role="tab" aria-selected={sub === s} className={sub === s ? 'on' : ''} onClick={() => setSub(s)} data-testid={`hadr-tab-${s}`}>
              {t(`hadr.tab.${s}`)}
            </button>
          ))}
        </nav>
        <div className="hadr-panel">
          {sub === 'incident' && (incident ? <IncidentPanel incident={incident} /> : <p className="muted">{t('hadr.noIncidents')}</p>)}
          {sub === 'rfas' && <RfaBoard store={store} incident={incident} />}
          {sub === 'resources' && <Resources store={store} incident={incident} />}
          {sub === 'sitrep' && (incident ? <SitrepPanel incident={incident} /> : <p className="muted">{t('hadr.noIncidents')}</p>)}
        </div>
      </div>
    </div>
  );
}
