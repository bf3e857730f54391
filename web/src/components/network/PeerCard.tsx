import { useI18n } from '../../i18n';
import { count, duration, peerRefusals, rate, rttText, secondsSince, stateKey, type Msg } from '../../network/format';
import type { PeerStatus } from '../../network/types';
import { QueueBars } from './QueueBars';

export interface PeerCardProps {
  peer: PeerStatus;
  /** The node's clock now (ms), and the seconds since the status was taken. */
  nowMs: number;
  driftS: number;
}

/** A peer's state as a badge: colour and words (never colour alone). */
export function StateBadge({ peer, nowMs }: { peer: PeerStatus; nowMs: number }) {
  const { t, time } = useI18n();
  const key = stateKey(peer.state);
  let text = key ? t(key) : peer.state;
  if (peer.state === 'backoff' && peer.backoff_until) text = t('network.state.backoffUntil', { time: time(peer.backoff_until) });
  const cutFor = peer.state === 'cut' ? secondsSince(peer.cut_since, nowMs) : null;
  const d = cutFor === null ? null : duration(cutFor);
  return (
    <span className={`net-state net-state-${peer.state}`} data-testid="net-state" data-state={peer.state}>
      <span className="net-state-mark" aria-hidden="true" />
      {text}
      {d ? <span className="net-state-for">{t('network.state.for', { age: t(d.key, d.params) })}</span> : null}
    </span>
  );
}

export function PeerCard({ peer, nowMs, driftS }: PeerCardProps) {
  const { t, tOr, time } = useI18n();
  const say = (m: Msg) => t(m.key, m.params);
  const contactAge = secondsSince(peer.last_contact, nowMs);
  const rtt = rttText(peer.rtt_ms);
  const refusals = peerRefusals(peer);
  const digestKey = `network.digest.${peer.digest.state}`;
  return (
    <article className={`net-peer net-peer-${peer.state}`} data-testid={`net-peer-${peer.id}`} data-state={peer.state}>
      <header className="net-peer-head">
        <span className="net-peer-id">{peer.id}</span>
        <span className="tag">{peer.nation}</span>
        <span className="tag" data-testid="net-transport">
          {tOr(`network.transport.${peer.transport}`, peer.transport)}
        </span>
        <span className="spacer" />
        <StateBadge peer={peer} nowMs={nowMs} />
      </header>
      <dl className="kv net-kv">
        <dt>{t('network.lastContact')}</dt>
        <dd data-testid="net-last-contact">
          {peer.last_contact ? (
            <>
              {time(peer.last_contact)}
              {contactAge !== null ? <span className="muted"> {t('network.ago', { age: say(duration(contactAge)) })}</span> : null}
            </>
          ) : (
            t('network.never')
          )}
        </dd>
        {peer.error ? (
          <>
            <dt>{t('network.lastError')}</dt>
            <dd className="mono net-error" data-testid="net-error">
              {peer.error}
            </dd>
          </>
        ) : null}
        <dt>{t('network.rtt')}</dt>
        <dd data-testid="net-rtt">{rtt === null ? t('network.notMeasured') : t('network.ms', { n: rtt })}</dd>
        <dt>{t('network.throughput')}</dt>
        <dd data-testid="net-throughput">
          {t('network.sent', { rate: rate(peer.sent_per_s), total: count(peer.sent_total) })}
          {' · '}
          {t('network.received', { rate: rate(peer.received_per_s), total: count(peer.received_total) })}
        </dd>
        <dt>{t('network.refusals')}</dt>
        <dd data-testid="net-refusals">
          {refusals.length === 0
            ? t('network.refusals.none')
            : refusals.map((r) => (
                <span key={`${r.direction}:${r.reason}`} className="net-refusal" data-reason={r.reason} data-direction={r.direction}>
                  {t(r.direction === 'in' ? 'network.refusals.in' : r.direction === 'out' ? 'network.refusals.out' : 'network.refusals.item', {
                    reason: tOr(`network.refusal.${r.reason}`, r.reason),
                    n: count(r.count),
                  })}
                </span>
              ))}
        </dd>
        <dt>{t('network.digest')}</dt>
        <dd>
          <span className={`net-digest net-digest-${peer.digest.state}`} data-testid="net-digest" data-digest={peer.digest.state}>
            {tOr(digestKey, peer.digest.state)}
          </span>
          {peer.digest.checked_at ? <span className="muted small"> {t('network.digest.checked', { time: time(peer.digest.checked_at) })}</span> : null}
        </dd>
      </dl>
      <h3>{t('network.queues')}</h3>
      <QueueBars queues={peer.queues} driftS={driftS} />
    </article>
  );
}
