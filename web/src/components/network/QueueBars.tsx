import { useI18n } from '../../i18n';
import { duration, objectiveOf, orderedQueues, queueAge, queueFill, queueOverdue, type Msg } from '../../network/format';
import type { QueueStatus } from '../../network/types';

/** One bar per precedence: depth, and the oldest item's age against its ACP 121 objective. */
export function QueueBars({ queues, driftS }: { queues: QueueStatus[]; driftS: number }) {
  const { t } = useI18n();
  const say = (m: Msg) => t(m.key, m.params);
  return (
    <div className="net-queues" data-testid="net-queues">
      {orderedQueues(queues).map((q) => {
        const age = queueAge(q, driftS);
        const overdue = queueOverdue(q, driftS);
        const fill = queueFill(q, driftS);
        const objective = say(duration(objectiveOf(q)));
        return (
          <div
            key={q.precedence}
            className={`net-queue ${overdue ? 'overdue' : ''} ${q.depth > 0 ? 'busy' : 'empty'}`}
            data-testid={`net-queue-${q.precedence}`}
            data-depth={q.depth}
            data-overdue={overdue ? 'true' : 'false'}
          >
            <span className={`prec prec-${q.precedence}`}>{t(`precedence.${q.precedence}`)}</span>
            <span className="net-depth" data-testid="net-depth">
              {t('network.queue.depth', { n: q.depth })}
            </span>
            <div
              className="net-bar"
              role="meter"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(fill * 100)}
              aria-label={t('network.queue.meter', { precedence: t(`precedence.${q.precedence}`), objective })}
            >
              <i style={{ width: `${Math.round(fill * 100)}%` }} />
            </div>
            <span className="net-age small">
              {age === null
                ? t('network.queue.noneWaiting', { objective })
                : t('network.queue.oldest', { age: say(duration(age)), objective })}
              {overdue ? <span className="overdue-tag">{t('network.queue.overdue')}</span> : null}
            </span>
          </div>
        );
      })}
    </div>
  );
}
