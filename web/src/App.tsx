import { useCallback, useEffect, useLayoutEffect, useMemo, useState } from 'react';
import { api, ApiError, getMe, getToken, setMe as storeMe, setToken, setUnauthorizedHandler } from './api';
import { computeBanner } from './banner';
import { ClassificationBanner, ExerciseBanner } from './components/Banner';
import { Board } from './components/Board';
import { HadrView } from './components/hadr/HadrView';
import { HadrStore } from './hadr/store';
import { ExerciseView } from './components/exercise/ExerciseView';
import { FacilitiesView } from './components/facilities/FacilitiesView';
import { OrbatView } from './components/orbat/OrbatView';
import { LiaisonView } from './components/liaison/LiaisonView';
import { MdaSide } from './components/mda/MdaSide';
import { NetworkAlertStrip } from './components/network/AlertStrip';
import { NetworkView } from './components/network/NetworkView';
import { useNetwork } from './components/network/useNetwork';
import { MdaStore } from './mda/store';
import type { Map as MLMap } from 'maplibre-gl';
import { Login } from './components/Login';
import { LanguageSwitch, TimeZoneSwitch } from './components/Switches';
import { TrackPanel } from './components/TrackPanel';
import { useI18n } from './i18n';
import { LiveStore, type ConnState } from './live';
import { MapView } from './map/MapView';
import type { Facility, HistoryPoint, Labelled, Me, Meta, Track } from './types';

export function App() {
  const { t } = useI18n();
  const [token, setTok] = useState<string | null>(() => getToken());
  // After a reload, the session's user as last confirmed: the workspace (and its live
  // socket) starts at once, while the node is asked again below.
  const [me, setMe] = useState<Me | null>(() => getMe());
  const [checking, setChecking] = useState<boolean>(() => !!getToken());

  useEffect(() => {
    document.title = t('app.title');
  }, [t]);

  useEffect(() => {
    if (!token) return;
    let current = true;
    api
      .me()
      .then((m) => {
        if (!current) return;
        storeMe(m);
        setMe(m);
      })
      .catch((e: unknown) => {
        // A node that is unreachable for now leaves a confirmed user at work (the live
        // socket retries); a refused token, or no user to show, is the login form.
        if (!current || (getMe() && !(e instanceof ApiError && e.status === 401))) return;
        setToken(null);
        setTok(null);
        setMe(null);
      })
      .finally(() => setChecking(false));
    return () => {
      current = false;
    };
  }, [token]);

  const logout = useCallback(() => {
    setToken(null);
    setTok(null);
    setMe(null);
  }, []);
  useEffect(() => {
    setUnauthorizedHandler(logout);
    return () => setUnauthorizedHandler(null);
  }, [logout]);

  if (!token || !me) {
    if (checking && token) return <div className="loading">{t('app.loading')}</div>;
    return (
      <div className="app">
        <ClassificationBanner state={computeBanner([])} position="top" />
        <Login
          onLoggedIn={(tok, m) => {
            storeMe(m);
            setTok(tok);
            setMe(m);
            setChecking(false);
          }}
        />
        <ClassificationBanner state={computeBanner([])} position="bottom" />
      </div>
    );
  }
  return <Workspace token={token} me={me} onLogout={logout} />;
}

type Tab = 'map' | 'board' | 'hadr' | 'network' | ExtraTab;
// Views that mount on first use and stay mounted (their state survives a tab switch).
type ExtraTab = 'exercise' | 'facilities' | 'orbat' | 'liaison';
const EXTRA_TABS: { tab: ExtraTab; View: typeof ExerciseView }[] = [
  { tab: 'exercise', View: ExerciseView },
  { tab: 'facilities', View: FacilitiesView },
  { tab: 'orbat', View: OrbatView },
  { tab: 'liaison', View: LiaisonView },
];

function Workspace({ token, me, onLogout }: { token: string; me: Me; onLogout: () => void }) {
  const { t, lang } = useI18n();
  const store = useMemo(() => new LiveStore(token), [token]);
  const [conn, setConn] = useState<ConnState>('connecting');
  const [tab, setTab] = useState<Tab>('map');
  const [meta, setMeta] = useState<Meta | null>(null);
  const [facilities, setFacilities] = useState<Facility[]>([]);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [history, setHistory] = useState<HistoryPoint[]>([]);
  const [mapItems, setMapItems] = useState<Labelled[]>([]);
  const [boardItems, setBoardItems] = useState<Labelled[]>([]);
  const [selectedTrack, setSelectedTrack] = useState<Track | null>(null);
  const [trackCount, setTrackCount] = useState(0);
  // HADR: its store listens to the push bus from the start; its view (a second map) mounts on first use.
  const hadr = useMemo(() => new HadrStore(), [store]);
  useEffect(() => hadr.attach(store), [hadr, store]);
  const [hadrItems, setHadrItems] = useState<Labelled[]>([]);
  const [hadrOpened, setHadrOpened] = useState(false);
  useEffect(() => {
    if (tab === 'hadr') setHadrOpened(true);
  }, [tab]);
  // MDA: events, zones and the watchlist beside the main map (its layer draws on that map).
  const mda = useMemo(() => new MdaStore(), [store]);
  useEffect(() => mda.attach(store), [mda, store]);
  const [mdaItems, setMdaItems] = useState<Labelled[]>([]);
  const [trackMap, setTrackMap] = useState<MLMap | null>(null);
  const [opened, setOpened] = useState<Set<ExtraTab>>(() => new Set());
  const [extraItems, setExtraItems] = useState<Labelled[]>([]);
  // Network (operators: the node answers 403 to anyone else, and the tab and alert strip stay hidden).
  const { network, networkAllowed } = useNetwork(store);
  useEffect(() => {
    if (EXTRA_TABS.some((x) => x.tab === tab) && !opened.has(tab as ExtraTab)) setOpened(new Set([...opened, tab as ExtraTab]));
  }, [tab, opened]);

  // A layout effect: the socket is opening before the map's (passive) effect subscribes,
  // so the first picture comes as the socket's snapshot rather than also by REST.
  useLayoutEffect(() => {
    const offConn = store.onConn(() => setConn(store.conn));
    store.connect();
    void store.loadRequests().catch(() => undefined);
    (window as unknown as { __kizuna?: object }).__kizuna = {
      ...((window as unknown as { __kizuna?: object }).__kizuna ?? {}),
      store,
    };
    return () => {
      offConn();
      store.close();
    };
  }, [store]);

  useEffect(() => {
    api.meta().then(setMeta).catch(() => undefined);
    api.facilities().then(setFacilities).catch(() => undefined);
  }, []);

  // Keep the selected track (and the track count) current without re-rendering on every update.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      timer = null;
      setTrackCount(store.tracks.size);
      if (!selectedId) return;
      const tr = store.tracks.get(selectedId) ?? null;
      setSelectedTrack((prev) => {
        if (tr && prev && tr !== prev && (tr.lat !== prev.lat || tr.lon !== prev.lon)) {
          setHistory((h) => [...h, { lat: tr.lat, lon: tr.lon, observed_at: tr.observed_at, course: tr.course, speed: tr.speed }]);
        }
        return tr ?? prev;
      });
    };
    refresh();
    const off = store.onTracks(() => {
      if (!timer) timer = setTimeout(refresh, 250);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [store, selectedId]);

  useEffect(() => {
    setHistory([]);
    setSelectedTrack(selectedId ? (store.tracks.get(selectedId) ?? null) : null);
    if (!selectedId) return;
    let cancelled = false;
    api
      .history(selectedId)
      .then((h) => {
        if (!cancelled) {
          const sorted = [...h].sort((a, b) => Date.parse(a.observed_at) - Date.parse(b.observed_at));
          setHistory(sorted);
        }
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [selectedId, store]);

  const banner = useMemo(() => {
    const items: (Labelled | null)[] =
      tab === 'map' ? [...mapItems, ...mdaItems, selectedTrack] : tab === 'hadr' ? hadrItems : tab === 'board' ? boardItems : extraItems;
    return computeBanner(items);
  }, [tab, mapItems, mdaItems, boardItems, hadrItems, extraItems, selectedTrack]);

  return (
    <div className="app">
      <ClassificationBanner state={banner} position="top" />
      {banner.exercise && <ExerciseBanner />}
      <header className="topbar">
        <div className="brand">{t('app.title')}</div>
        <nav className="tabs" role="tablist">
          <button role="tab" aria-selected={tab === 'map'} className={tab === 'map' ? 'on' : ''} onClick={() => setTab('map')} data-testid="tab-map">
            {t('nav.cop')}
          </button>
          <button role="tab" aria-selected={tab === 'board'} className={tab === 'board' ? 'on' : ''} onClick={() => setTab('board')} data-testid="tab-board">
            {t('nav.board')}
          </button>
          <button role="tab" aria-selected={tab === 'hadr'} className={tab === 'hadr' ? 'on' : ''} onClick={() => setTab('hadr')} data-testid="tab-hadr">
            {t('nav.hadr')}
          </button>
          {EXTRA_TABS.map(({ tab: x }) => (
            <button key={x} role="tab" aria-selected={tab === x} className={tab === x ? 'on' : ''} onClick={() => setTab(x)} data-testid={`tab-${x}`}>
              {t(`nav.${x}`)}
            </button>
          ))}
          {networkAllowed && (
            <button role="tab" aria-selected={tab === 'network'} className={tab === 'network' ? 'on' : ''} onClick={() => setTab('network')} data-testid="tab-network">
              {t('nav.network')}
            </button>
          )}
        </nav>
        <div className="spacer" />
        <span className={`conn conn-${conn}`} data-testid="conn">
          {t(`conn.${conn}`)}
        </span>
        <span className="count" data-testid="track-count">
          {t('map.trackCount', { count: trackCount })}
        </span>
        <TimeZoneSwitch />
        <LanguageSwitch />
        <span className="who" data-testid="who">
          {t('user.summary', { name: me.name, nation: me.nation, node: meta?.node_id ?? me.node_id, clearance: me.clearance })}
        </span>
        <button className="ghost" onClick={onLogout} data-testid="logout">
          {t('user.logout')}
        </button>
      </header>
      <NetworkAlertStrip store={network} onOpen={() => setTab('network')} />
      <main className="main">
        <div className={`view map-view with-mda ${tab === 'map' ? '' : 'hidden'}`}>
          <div className="map-area">
          <MapView
            store={store}
            facilities={facilities}
            lang={lang}
            visible={tab === 'map'}
            selectedId={selectedId}
            history={history}
            pmtilesUrl={meta?.pmtiles_url ?? null}
            onSelect={setSelectedId}
            onScreenItems={setMapItems}
            onMapReady={setTrackMap}
          />
          {selectedTrack && (
            <TrackPanel track={selectedTrack} history={history} onClose={() => setSelectedId(null)} />
          )}
          </div>
          <MdaSide store={mda} map={trackMap} nodeId={meta?.node_id ?? me.node_id} onScreenItems={setMdaItems} />
        </div>
        {tab === 'board' && (
          <div className="view board-view">
            <Board store={store} me={me} nodeId={meta?.node_id ?? me.node_id} onScreenItems={setBoardItems} />
          </div>
        )}
        {hadrOpened && (
          <div className={`view hadr-view-wrap ${tab === 'hadr' ? '' : 'hidden'}`}>
            <HadrView store={hadr} visible={tab === 'hadr'} onScreenItems={setHadrItems} />
          </div>
        )}
        {EXTRA_TABS.filter(({ tab: x }) => opened.has(x)).map(({ tab: x, View }) => (
          <div key={x} className={`view ${x}-view-wrap ${tab === x ? '' : 'hidden'}`}>
            <View live={store} me={me} nodeId={meta?.node_id ?? me.node_id} visible={tab === x} onScreenItems={tab === x ? setExtraItems : () => undefined} />
          </div>
        ))}
        {tab === 'network' && networkAllowed && (
          <div className="view network-view-wrap">
            <NetworkView store={network} onScreenItems={setExtraItems} />
          </div>
        )}
      </main>
      <ClassificationBanner state={banner} position="bottom" />
    </div>
  );
}
