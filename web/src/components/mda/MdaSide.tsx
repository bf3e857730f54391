/**
 * The MDA events panel beside the main map, and the MDA layer on that map: the event list
 * (filters by type and status, newest start first, live from pushes on mda_event), an
 * event's detail (its vessel track before, during and after, the evidence, every node's
 * verdict and the verdict buttons), zones (drawn on the map) and the watchlist.
 */
import { useEffect, useMemo, useState } from 'react';
import type { Map as MLMap } from 'maplibre-gl';
import { useI18n } from '../../i18n';
import { MdaOverlay } from '../../map/MdaOverlay';
import { mdaApi } from '../../mda/api';
import { aisTrackId, toIso, toMs, trackPhases, visibleEvents, type TrackPhases } from '../../mda/format';
import type { MdaStore } from '../../mda/store';
import { EVENT_STATUSES, EVENT_TYPES, type EventStatus, type EventType } from '../../mda/types';
import type { HistoryPoint, Labelled } from '../../types';
import { Problem } from '../hadr/common';
import { Marking } from '../Marking';
import { EventDetail } from './EventDetail';
import { TypeIcon, useMda } from './common';
import { Watchlist } from './Watchlist';
import { Zones } from './Zones';
import './mda.css';

type Tab = 'events' | 'zones' | 'watchlist';
const TABS: Tab[] = ['events', 'zones', 'watchlist'];

export interface TrackState {
  /** Per vessel: loading, the points, or the failure. */
  byVessel: Record<string, { loading: boolean; points: HistoryPoint[]; error: unknown }>;
}

export function MdaSide({
  store,
  map,
  nodeId,
  onScreenItems,
}: {
  store: MdaStore;
  map: MLMap | null;
  nodeId: string;
  onScreenItems: (items: Labelled[]) => void;
}) {
  const { t, lang, time } = useI18n();
  const version = useMda(store);
  const [tab, setTab] = useState<Tab>('events');
  const [types, setTypes] = useState<Set<EventType>>(() => new Set(EVENT_TYPES));
  const [statuses, setStatuses] = useState<Set<EventStatus>>(() => new Set(EVENT_STATUSES));
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [draft, setDraft] = useState<[number, number][] | null>(null);
  const [tracks, setTracks] = useState<TrackState>({ byVessel: {} });

  useEffect(() => {
    void store.loadAll();
  }, [store]);

  const events = useMemo(() => visibleEvents(store.events.values(), { types, statuses }), [store, version, types, statuses]);
  const zones = useMemo(() => [...store.zones.values()], [store, version]);
  const selected = selectedId ? (store.events.get(selectedId) ?? null) : null;

  // The selected event's vessels: their recent positions from the picture.
  const vesselsKey = selected ? selected.vessels.join(',') : '';
  useEffect(() => {
    if (!vesselsKey) {
      setTracks({ byVessel: {} });
      return;
    }
    let cancelled = false;
    const vessels = vesselsKey.split(',');
    setTracks({ byVessel: Object.fromEntries(vessels.map((v) => [v, { loading: true, points: [], error: null }])) });
    for (const v of vessels) {
      mdaApi
        .history(aisTrackId(v))
        .then((points) => ({ loading: false, points: [...points].sort((a, b) => Date.parse(a.observed_at) - Date.parse(b.observed_at)), error: null }))
        .catch((error: unknown) => ({ loading: false, points: [] as HistoryPoint[], error }))
        .then((st) => {
          if (!cancelled) setTracks((prev) => ({ byVessel: { ...prev.byVessel, [v]: st } }));
        });
    }
    return () => {
      cancelled = true;
    };
  }, [vesselsKey, selectedId]);

  const phases = useMemo<TrackPhases[]>(() => {
    if (!selected) return [];
    const start = toMs(selected.start);
    const end = selected.end === null ? null : toMs(selected.end);
    return selected.vessels.map((v) => trackPhases(tracks.byVessel[v]?.points ?? [], selected.evidence ?? [], start, end, v));
  }, [selected, tracks]);

  // The banner: the events listed (and drawn), the zones drawn, what the open tab shows.
  useEffect(() => {
    const items: Labelled[] = [...events, ...zones];
    if (selected) items.push(selected, ...(selected.verdicts ?? []));
    if (tab === 'watchlist') items.push(...store.watchlist.values());
    onScreenItems(items);
  }, [events, zones, selected, tab, store, version, onScreenItems]);

  const toggle = <T,>(set: Set<T>, v: T, apply: (s: Set<T>) => void) => {
    const next = new Set(set);
    if (next.has(v)) next.delete(v);
    else next.add(v);
    apply(next);
  };

  return (
    <aside className="mda-side" data-testid="mda-panel" aria-label={t('mda.panel')}>
      <MdaOverlay
        map={map}
        events={events}
        selectedId={selected?.id ?? null}
        phases={phases}
        zones={zones}
        draft={draft}
        onSelect={(id) => {
          setSelectedId(id);
          setTab('events');
        }}
        onDraftPoint={(p) => setDraft((d) => (d ? [...d, p] : d))}
      />
      <div className="mda-head">
        <h2>{t('mda.title')}</h2>
        <nav className="tabs subtabs" role="tablist">
          {TABS.map((s) => (
            <button key={s} role="tab" aria-selected={tab === s} className={tab === s ? 'on' : ''} onClick={() => setTab(s)} data-testid={`mda-tab-${s}`}>
              {t(`mda.tab.${s}`)}
            </button>
          ))}
        </nav>
      </div>
      {tab === 'events' && selected ? (
        <EventDetail event={selected} store={store} nodeId={nodeId} phases={phases} tracks={tracks} onClose={() => setSelectedId(null)} />
      ) : null}
      {tab === 'events' && !selected ? (
        <div className="mda-events">
          <div className="mda-filters" data-testid="mda-filters">
            <div className="chips" role="group" aria-label={t('mda.filter.type')}>
              {EVENT_TYPES.map((ty) => (
                <button
                  key={ty}
                  className={`chip ${types.has(ty) ? 'on' : ''}`}
                  aria-pressed={types.has(ty)}
                  data-testid={`mda-filter-type-${ty}`}
                  onClick={() => toggle(types, ty, setTypes)}
                >
                  <TypeIcon type={ty} /> {t(`mda.type.${ty}`)}
                </button>
              ))}
            </div>
            <div className="chips" role="group" aria-label={t('mda.filter.status')}>
              {EVENT_STATUSES.map((st) => (
                <button
                  key={st}
                  className={`chip ${statuses.has(st) ? 'on' : ''}`}
                  aria-pressed={statuses.has(st)}
                  data-testid={`mda-filter-status-${st}`}
                  onClick={() => toggle(statuses, st, setStatuses)}
                >
                  {t(`mda.status.${st}`)}
                </button>
              ))}
            </div>
          </div>
          <Problem error={store.errors.events} />
          <div className="muted small" data-testid="mda-count">
            {t('mda.count', { shown: events.length, total: store.events.size })}
          </div>
          <ul className="mda-list" data-testid="mda-event-list">
            {events.length === 0 ? <li className="muted">{t('mda.noEvents')}</li> : null}
            {events.map((e) => (
              <li key={e.id}>
                <button
                  className={`card mda-card status-${e.status}`}
                  data-testid="mda-event"
                  data-event-id={e.id}
                  data-type={e.type}
                  data-status={e.status}
                  onClick={() => setSelectedId(e.id)}
                >
                  <div className="card-top">
                    <TypeIcon type={e.type} />
                    <span className="mda-type">{t(`mda.type.${e.type}`)}</span>
                    <span className={`mda-status st-${e.status}`}>{t(`mda.status.${e.status}`)}</span>
                    {e.verdicts?.length ? <span className="tag">{t('mda.verdictCount', { count: e.verdicts.length })}</span> : null}
                  </div>
                  <div className="card-title">{(lang === 'ja' ? e.title?.ja : e.title?.en) || e.title?.en || e.id}</div>
                  <div className="small muted">
                    {t('mda.vesselsShort', { vessels: e.vessels.join(', ') })} · {time(toIso(e.start))}
                  </div>
                  <Marking item={e} compact />
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {tab === 'zones' && <Zones store={store} draft={draft} setDraft={setDraft} />}
      {tab === 'watchlist' && <Watchlist store={store} />}
    </aside>
  );
}
