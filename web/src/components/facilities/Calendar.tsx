/** The week's reservations, one column per day (Japan dates), conflicts marked. */
import { useI18n } from '../../i18n';
import { band, byDay, clock, weekDays } from '../../facilities/format';
import type { Reservation } from '../../facilities/types';
import { Marking } from '../Marking';

interface Props {
  week: string;
  reservations: Reservation[];
  selected: string | null;
  onSelect: (id: string) => void;
  onWeek: (by: number) => void;
  onCsv: () => void;
}

export function Calendar({ week, reservations, selected, onSelect, onWeek, onCsv }: Props) {
  const { t, lang, tz } = useI18n();
  const days = weekDays(week);
  const columns = byDay(reservations, days);
  const name = (x: { en: string; ja: string }) => (lang === 'ja' ? x.ja || x.en : x.en || x.ja);
  return (
    <div className="panel fac-calendar" data-testid="fac-calendar">
      <div className="panel-head">
        <strong>{t('fac.calendar.title')}</strong>
        <div className="buttons">
          <button onClick={() => onWeek(-1)} data-testid="fac-week-prev" aria-label={t('fac.calendar.prev')}>
            ←
          </button>
          <span data-testid="fac-week">{t('fac.calendar.week', { week })}</span>
          <button onClick={() => onWeek(1)} data-testid="fac-week-next" aria-label={t('fac.calendar.next')}>
            →
          </button>
          <button onClick={onCsv} data-testid="fac-schedule-csv">
            {t('fac.calendar.csv')}
          </button>
        </div>
      </div>
      <div className="fac-days">
        {days.map((d, i) => (
          <div className="fac-day" key={d.date} data-testid={`fac-day-${d.date}`}>
            <div className="fac-day-head">
              {t(`fac.weekday.${i}`)} {d.date.slice(5)}
            </div>
            {columns[i].length === 0 ? <div className="muted">{t('fac.calendar.none')}</div> : null}
            {columns[i].map((r) => (
              <button
                key={r.id}
                className={`fac-res ${r.conflicts.length ? 'conflict' : ''} ${selected === r.id ? 'on' : ''}`}
                data-testid={`fac-res-${r.id}`}
                onClick={() => onSelect(r.id)}
              >
                <span className="fac-res-time">
                  {clock(r.start, tz)}–{clock(r.end, tz)}
                </span>
                <span className="fac-res-place">{name(r.place.name)}</span>
                <span>
                  {r.nation} · {t(`fac.activity.${r.activity}`)}
                </span>
                <span className="muted">{band(r.altitude.floor_m, r.altitude.ceiling_m)}</span>
                {r.conflicts.length ? (
                  <span className="fac-conflict" data-testid="fac-conflict">
                    {t('fac.conflict.badge', { n: r.conflicts.length })}
                  </span>
                ) : null}
                <Marking item={r} compact />
              </button>
            ))}
          </div>
        ))}
      </div>
    </div>
  );
}
