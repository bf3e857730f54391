/**
 * The facilities tab (issue 14): a week's reservations as a calendar, the facilities and
 * areas on a map (reserved ones coloured, conflicts red), a reservation form that says why a
 * reservation is refused, and the access arrangements. Everything on screen is reported
 * through onScreenItems for the classification banner.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { LiveStore } from '../../live';
import type { Labelled, Me } from '../../types';
import { useI18n } from '../../i18n';
import { facilitiesApi } from '../../facilities/api';
import { band, isoWeek, placesGeoJSON, reservedPlaces, weekDays } from '../../facilities/format';
import { FacilitiesStore } from '../../facilities/store';
import { Marking } from '../Marking';
import { Problem } from '../hadr/common';
import { AreasMap } from './AreasMap';
import { Arrangements } from './Arrangements';
import { Calendar } from './Calendar';
import { ReserveForm } from './ReserveForm';
import './facilities.css';

export interface FacilitiesViewProps {
  live: LiveStore;
  me: Me;
  nodeId: string;
  visible: boolean;
  onScreenItems: (items: Labelled[]) => void;
}

function useStore(store: FacilitiesStore): number {
  const [v, setV] = useState(store.version);
  useEffect(() => store.on(() => setV(store.version)), [store]);
  return v;
}

export function FacilitiesView({ live, me, nodeId, visible, onScreenItems }: FacilitiesViewProps) {
  const { t, lang, time } = useI18n();
  const store = useMemo(() => new FacilitiesStore(), []);
  const version = useStore(store);
  const [place, setPlace] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  useEffect(() => store.attach(live), [store, live]);
  useEffect(() => void store.load(), [store]);

  const days = weekDays(store.week);
  // The store changes in place; its version says when (every memo below follows it).
  const inWeek = useMemo(
    () => store.reservations.filter((r) => Date.parse(r.start) < days[6].end && Date.parse(r.end) > days[0].start),
    [store, version],
  );
  const reserved = useMemo(() => reservedPlaces(store.reservations, store.week), [store, version]);
  const geo = useMemo(() => placesGeoJSON(store.areas, store.facilities, reserved, lang), [store, reserved, lang]);
  const current = store.reservations.find((r) => r.id === selected) ?? null;

  const report = useRef(onScreenItems);
  report.current = onScreenItems;
  useEffect(() => {
    const onScreenItems = report.current;
    if (!visible) return onScreenItems([]);
    const own = store.arrangements.filter((a) => a.origin === nodeId);
    onScreenItems([...inWeek.filter((r) => r.status === 'active'), ...store.areas, ...store.facilities, ...own, ...(current ? [current] : [])]);
  }, [visible, store, inWeek, current, nodeId]);

  const show = (id: string) => {
    const r = store.reservations.find((x) => x.id === id);
    if (r) store.setWeek(weekOf(r.start, store));
    setSelected(id);
  };
  const name = (x: { en: string; ja: string }) => (lang === 'ja' ? x.ja || x.en : x.en || x.ja);

  return (
    <div className="view-body fac-view" data-testid="facilities-view">
      <div className="fac-main">
        <Calendar
          week={store.week}
          reservations={inWeek}
          selected={selected}
          onSelect={setSelected}
          onWeek={(by) => store.moveWeek(by)}
          onCsv={() => void facilitiesApi.downloadSchedule(store.week).catch((e: unknown) => setActionError(e))}
        />
        <AreasMap data={geo} visible={visible} onPick={setPlace} />
        <Problem error={store.error ?? actionError} />
      </div>
      <div className="fac-side">
        {current ? (
          <div className="panel fac-detail" data-testid="fac-detail">
            <div className="panel-head">
              <strong>{name(current.place.name)}</strong>
              <Marking item={current} />
            </div>
            <div>
              {time(current.start)} – {time(current.end)}
            </div>
            <div>
              {current.nation} {current.unit} · {t(`fac.activity.${current.activity}`)} ·{' '}
              {band(current.altitude.floor_m, current.altitude.ceiling_m)}
            </div>
            <div className="muted" data-testid="fac-detail-access">
              {name(current.access)}
            </div>
            {current.status === 'cancelled' ? <div className="muted">{t('fac.detail.cancelled')}</div> : null}
            {current.origin === nodeId && current.status === 'active' ? (
              <div className="buttons">
                <button
                  onClick={() =>
                    void facilitiesApi
                      .cancel(current.id)
                      .then((r) => store.put(r))
                      .catch((e: unknown) => setActionError(e))
                  }
                  data-testid="fac-detail-cancel"
                >
                  {t('fac.detail.cancel')}
                </button>
              </div>
            ) : null}
            {current.conflicts.length ? (
              <div className="fac-conflicts" data-testid="fac-detail-conflicts">
                <strong>{t('fac.conflict.with')}</strong>
                {current.conflicts.map((c) => (
                  <button key={c.id} onClick={() => show(c.id)} data-testid={`fac-conflict-${c.id}`}>
                    {c.nation} {c.unit} · {t(`fac.activity.${c.activity}`)} · {time(c.start)}
                  </button>
                ))}
              </div>
            ) : null}
          </div>
        ) : null}
        <ReserveForm
          me={me}
          areas={store.areas}
          facilities={store.facilities}
          place={place}
          setPlace={setPlace}
          onMade={(r) => {
            store.put(r);
            show(r.id);
          }}
          onShow={show}
        />
        <Arrangements items={store.arrangements} nodeId={nodeId} />
      </div>
    </div>
  );
}

function weekOf(iso: string, store: FacilitiesStore): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? store.week : isoWeek(ms);
}
