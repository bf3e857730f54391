import { useI18n } from '../../i18n';
import { alertTitle, duration, secondsSince, serverNow, sortAlerts } from '../../network/format';
import type { NetworkStore } from '../../network/store';
import { useNetworkVersion, useNow } from './useNetwork';
import './network.css';

/** Active network alerts across the top of the app, whatever the view; a click opens the network view. */
export function NetworkAlertStrip({ store, onOpen }: { store: NetworkStore; onOpen: () => void }) {
  const { t, tOr, lang, time } = useI18n();
  useNetworkVersion(store);
  const clientNow = useNow(1000);
  const s = store.status;
  if (store.access !== 'allowed' || !s || s.alerts.length === 0) return null;
  const nowMs = serverNow(s, store.receivedAt, clientNow);
  return (
    <div className="net-alerts" role="alert" aria-label={t('network.alerts')} data-testid="net-alerts">
      <span className="net-alerts-head">{t('network.alerts')}</span>
      {sortAlerts(s.alerts).map((a) => {
        const since = secondsSince(a.since, nowMs);
        const d = since === null ? null : duration(since);
        return (
          <button
            key={`${a.kind}:${a.peer}`}
            type="button"
            className={`net-alert net-alert-${a.kind}`}
            onClick={onOpen}
            title={t('network.alert.open')}
            data-testid={`net-alert-${a.kind}-${a.peer}`}
            data-kind={a.kind}
          >
            <span className="net-alert-kind">{tOr(`network.alert.${a.kind}`, a.kind)}</span>
            <span className="net-alert-title">{alertTitle(a.title, lang)}</span>
            <span className="net-alert-since">
              {t('network.alert.since', { time: time(a.since), age: d ? t(d.key, d.params) : '—' })}
            </span>
          </button>
        );
      })}
    </div>
  );
}
