import { useEffect, useState } from 'react';
import { useI18n } from '../../i18n';
import { useErrorText } from '../Board';
import { ApiError } from '../../api';
import type { HadrStore } from '../../hadr/store';
import { intensityColour, intensityKey } from '../../hadr/intensity';
import { ADVANTAGES, type Advantage, type Oslo } from '../../hadr/types';

/** Re-render when the HADR store changes. */
export function useHadr(store: HadrStore): number {
  const [v, setV] = useState(store.version);
  useEffect(() => store.on(() => setV(store.version)), [store]);
  return v;
}

/** A problem from the node (problem+json), shown to the user as the node worded it. */
export function Problem({ error }: { error: unknown }) {
  const errText = useErrorText();
  if (!error) return null;
  const status = error instanceof ApiError ? error.status : undefined;
  return (
    <div className="error" role="alert" data-testid="problem" data-status={status}>
      {errText(error)}
    </div>
  );
}

/** "Shindo 6 Upper" / "震度6強" with its class colour. */
export function IntensityChip({ value }: { value: string | null | undefined }) {
  const { t } = useI18n();
  const key = intensityKey(value);
  if (!key) return <span className="muted">{t('common.none')}</span>;
  return (
    <span className="int-chip" style={{ background: intensityColour(value) }} data-intensity={value ?? ''}>
      {t(key)}
    </span>
  );
}

/** The Oslo Guidelines fields of a request for, or an offer of, military assets. */
export function OsloFields({ value, onChange }: { value: Oslo; onChange: (o: Oslo) => void }) {
  const { t } = useI18n();
  return (
    <fieldset className="oslo" data-testid="oslo">
      <legend>{t('hadr.oslo.title')}</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={value.civilian_alternative_considered}
          onChange={(e) => onChange({ ...value, civilian_alternative_considered: e.target.checked })}
        />
        {t('hadr.oslo.civilian')}
      </label>
      <label>
        {t('hadr.oslo.advantage')}
        <select value={value.unique_advantage} onChange={(e) => onChange({ ...value, unique_advantage: e.target.value as Advantage })}>
          {ADVANTAGES.map((a) => (
            <option key={a} value={a}>
              {t(`hadr.oslo.adv.${a}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('hadr.oslo.handover')}
        <input
          type="date"
          value={value.handover_date.slice(0, 10)}
          onChange={(e) => onChange({ ...value, handover_date: `${e.target.value}T00:00:00Z` })}
        />
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={value.no_cost_to_affected_state}
          onChange={(e) => onChange({ ...value, no_cost_to_affected_state: e.target.checked })}
        />
        {t('hadr.oslo.noCost')}
      </label>
    </fieldset>
  );
}
