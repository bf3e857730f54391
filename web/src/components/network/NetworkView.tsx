import { useEffect } from 'react';
import { useI18n } from '../../i18n';
import { duration, secondsSince, serverNow, sortPeers } from '../../network/format';
import type { NetworkStore } from '../../network/store';
import type { Labelled } from '../../types';
import { PeerCard } from './PeerCard';
import { useNetworkVersion, useNow } from './useNetwork';
import './network.css';

/** Seconds without a status (no push, no answer: the node pushes only changes, and is asked every 20 s) after which the view says it may be out of date. */
const STALE_S = 45;

export interface NetworkViewProps {
  store: NetworkStore;
  /** The view shows no labelled records: it hands the banner none. */
  onScreenItems: (items: Labelled[]) => void;
}

/** The watch officer's view of the node's links: one card per peer, updated live. */
export function NetworkView({ store, onScreenItems }: NetworkViewProps) {
  const { t, time } = useI18n();
  useNetworkVersion(store);
  const clientNow = useNow(1000);
  useEffect(() => onScreenItems([]), [onScreenItems]);
  useEffect(() => {
    void store.load();
  }, [store]);

  const s = store.status;
  if (store.access === 'forbidden')
    return (
      <div className="view-body network" data-testid="network-view">
        <p className="muted">{t('network.forbidden')}</p>
      </div>
    );
  if (!s)
    return (
      <div className="view-body network" data-testid="network-view">
        {store.error ? <p className="error">{store.error}</p> : <p className="muted">{t('network.loading')}</p>}
      </div>
    );
  const nowMs = serverNow(s, store.receivedAt, clientNow);
  const driftS = Math.max(0, (clientNow - store.receivedAt) / 1000);
  const age = secondsSince(s.now, nowMs) ?? 0;
  const peers = sortPeers(s.peers);
  const connected = peers.filter((p) => p.state === 'connected').length;
  const stale = duration(age);
  return (
    <div className="view-body network" data-testid="network-view">
      <div className="net-head">
        <h2>{t('network.title', { node: s.node, nation: s.nation })}</h2>
        <span className="muted small" data-testid="net-summary">
          {t('network.summary', { n: peers.length, connected, alerts: s.alerts.length })}
        </span>
        <span className="spacer" />
        <span className={`small ${age > STALE_S ? 'overdue-text' : 'muted'}`} data-testid="net-as-of">
          {age > STALE_S ? t('network.stale', { age: t(stale.key, stale.params) }) : t('network.asOf', { time: time(s.now) })}
        </span>
      </div>
      {store.error ? <p className="error">{store.error}</p> : null}
      {peers.length === 0 ? <p className="muted">{t('network.noPeers')}</p> : null}
      <div className="net-peers">
        {peers.map((p) => (
          <PeerCard key={p.id} peer={p} nowMs={nowMs} driftS={driftS} />
        ))}
      </div>
    </div>
  );
}
