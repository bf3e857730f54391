/** Reserve a facility or area: refused reservations say why (the conflicting reservation,
 * or the access arrangement that would be needed). */
import { useState } from 'react';
import { useI18n } from '../../i18n';
import { facilitiesApi, ReservationRefused } from '../../facilities/api';
import { fromLocalInput } from '../../facilities/format';
import { ACTIVITIES, type Activity, type Facility, type Reservation, type ReservationCreate, type TrainingArea } from '../../facilities/types';
import type { Me } from '../../types';
import { Problem } from '../hadr/common';

interface Props {
  me: Me;
  areas: TrainingArea[];
  facilities: Facility[];
  place: string;
  setPlace: (id: string) => void;
  onMade: (r: Reservation) => void;
  onShow: (id: string) => void;
}

export function ReserveForm({ me, areas, facilities, place, setPlace, onMade, onShow }: Props) {
  const { t, lang, tz } = useI18n();
  const [activity, setActivity] = useState<Activity>('training');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [nation, setNation] = useState(me.nation);
  const [unit, setUnit] = useState('');
  const [floor, setFloor] = useState('');
  const [ceiling, setCeiling] = useState('');
  const [label, setLabel] = useState('UNCLASSIFIED');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const name = (x: { en: string; ja: string }) => (lang === 'ja' ? x.ja || x.en : x.en || x.ja);
  const startIso = fromLocalInput(start, tz);
  const endIso = fromLocalInput(end, tz);
  const ready = !!place && !!startIso && !!endIso && !!label.trim() && !busy;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      const altitude =
        floor !== '' || ceiling !== ''
          ? { floor: Number(floor || 0), ceiling: ceiling === '' ? null : Number(ceiling), unit: 'm' as const }
          : undefined;
      const made = await facilitiesApi.reserve({
        label,
        place_id: place,
        start: startIso!,
        end: endIso!,
        activity,
        nation: (nation.trim().toUpperCase() || undefined) as ReservationCreate['nation'],
        unit,
        altitude,
      });
      onMade(made);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel fac-form" onSubmit={submit} data-testid="fac-form">
      <div className="panel-head">
        <strong>{t('fac.form.title')}</strong>
      </div>
      <label>
        {t('fac.form.place')}
        <select value={place} onChange={(e) => setPlace(e.target.value)} data-testid="fac-form-place">
          <option value="">{t('fac.form.pick')}</option>
          <optgroup label={t('fac.form.areas')}>
            {areas.map((a) => (
              <option key={a.id} value={a.id}>
                {name(a.name)}
              </option>
            ))}
          </optgroup>
          <optgroup label={t('fac.form.facilities')}>
            {facilities.map((f) => (
              <option key={f.id} value={f.id}>
                {name(f.name)}
              </option>
            ))}
          </optgroup>
        </select>
      </label>
      <label>
        {t('fac.form.activity')}
        <select value={activity} onChange={(e) => setActivity(e.target.value as Activity)} data-testid="fac-form-activity">
          {ACTIVITIES.map((a) => (
            <option key={a} value={a}>
              {t(`fac.activity.${a}`)}
            </option>
          ))}
        </select>
      </label>
      <div className="fac-row">
        <label>
          {t('fac.form.start', { tz })}
          <input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} data-testid="fac-form-start" />
        </label>
        <label>
          {t('fac.form.end', { tz })}
          <input type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} data-testid="fac-form-end" />
        </label>
      </div>
      <div className="fac-row">
        <label>
          {t('fac.form.nation')}
          <input value={nation} onChange={(e) => setNation(e.target.value)} maxLength={3} data-testid="fac-form-nation" />
        </label>
        <label>
          {t('fac.form.unit')}
          <input value={unit} onChange={(e) => setUnit(e.target.value)} data-testid="fac-form-unit" />
        </label>
      </div>
      <div className="fac-row">
        <label>
          {t('fac.form.floor')}
          <input type="number" value={floor} onChange={(e) => setFloor(e.target.value)} data-testid="fac-form-floor" />
        </label>
        <label>
          {t('fac.form.ceiling')}
          <input type="number" value={ceiling} onChange={(e) => setCeiling(e.target.value)} data-testid="fac-form-ceiling" />
        </label>
      </div>
      <label>
        {t('fac.form.label')}
        <input value={label} onChange={(e) => setLabel(e.target.value)} data-testid="fac-form-label" />
      </label>
      <div className="buttons">
        <button className="primary" type="submit" disabled={!ready} data-testid="fac-form-submit">
          {t('fac.form.submit')}
        </button>
      </div>
      <Refusal error={error} onShow={onShow} />
    </form>
  );
}

function Refusal({ error, onShow }: { error: unknown; onShow: (id: string) => void }) {
  const { t, lang } = useI18n();
  if (!error) return null;
  if (!(error instanceof ReservationRefused) || (error.status !== 409 && error.kind !== 'access-refused')) {
    return <Problem error={error} />;
  }
  if (error.status === 409) {
    return (
      <div className="error" role="alert" data-testid="fac-refused" data-kind="conflict">
        <strong>{t('fac.refused.conflict')}</strong>
        <div>{error.detail}</div>
        <div className="buttons">
          {error.conflicts.map((id) => (
            <button type="button" key={id} onClick={() => onShow(id)} data-testid={`fac-refused-${id}`}>
              {t('fac.refused.show', { id: id.slice(0, 8) })}
            </button>
          ))}
        </div>
      </div>
    );
  }
  return (
    <div className="error" role="alert" data-testid="fac-refused" data-kind="access">
      <strong>{t('fac.refused.access')}</strong>
      <div>{lang === 'ja' && error.detailJa ? error.detailJa : error.detail}</div>
      {error.needed ? <div data-testid="fac-refused-needed">{t('fac.refused.needed', { needed: error.needed })}</div> : null}
    </div>
  );
}
