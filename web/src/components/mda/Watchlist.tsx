import { useState } from 'react';
import { useI18n } from '../../i18n';
import { mdaApi } from '../../mda/api';
import type { MdaStore } from '../../mda/store';
import { Problem } from '../hadr/common';
import { Marking } from '../Marking';
import { LabelField } from './common';

const digits = (s: string) => s.replace(/\s+/g, '');

/** The watchlist: vessels by MMSI, IMO number or name; a sighting raises a zone event. */
export function Watchlist({ store }: { store: MdaStore }) {
  const { t } = useI18n();
  const [mmsi, setMmsi] = useState('');
  const [imo, setImo] = useState('');
  const [name, setName] = useState('');
  const [reason, setReason] = useState('');
  const [label, setLabel] = useState('UNCLASSIFIED');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const entries = [...store.watchlist.values()];
  const mmsiOk = !mmsi || /^\d{9}$/.test(digits(mmsi));
  const imoOk = !imo || /^\d{7}$/.test(digits(imo));
  const canAdd = (mmsi || imo || name.trim()) && mmsiOk && imoOk && label.trim() && !busy;

  const add = async () => {
    setBusy(true);
    setError(null);
    try {
      const w = await mdaApi.createWatch({
        label,
        mmsi: mmsi ? Number(digits(mmsi)) : null,
        imo: imo ? Number(digits(imo)) : null,
        name: name.trim(),
        reason: reason.trim(),
      });
      store.put('watchlist', w);
      setMmsi('');
      setImo('');
      setName('');
      setReason('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (id: string) => {
    setError(null);
    try {
      await mdaApi.deleteWatch(id);
      store.remove('watchlist', id);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section className="mda-watchlist" data-testid="mda-watchlist">
      <div className="mda-watch-form">
        <div className="row">
          <label>
            {t('mda.watch.mmsi')}
            <input value={mmsi} onChange={(e) => setMmsi(e.target.value)} inputMode="numeric" aria-invalid={!mmsiOk} data-testid="watch-mmsi" />
          </label>
          <label>
            {t('mda.watch.imo')}
            <input value={imo} onChange={(e) => setImo(e.target.value)} inputMode="numeric" aria-invalid={!imoOk} data-testid="watch-imo" />
          </label>
        </div>
        <label>
          {t('mda.watch.name')}
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="watch-name" />
        </label>
        <label>
          {t('mda.watch.reason')}
          <input value={reason} onChange={(e) => setReason(e.target.value)} data-testid="watch-reason" />
        </label>
        <LabelField value={label} onChange={setLabel} testid="watch-label" />
        {!mmsiOk ? <p className="error small">{t('mda.watch.badMmsi')}</p> : null}
        {!imoOk ? <p className="error small">{t('mda.watch.badImo')}</p> : null}
        <button className="primary" disabled={!canAdd} onClick={() => void add()} data-testid="watch-add">
          {t('mda.watch.add')}
        </button>
      </div>
      <Problem error={error ?? store.errors.watchlist} />
      <h3>{t('mda.watch.list', { count: entries.length })}</h3>
      <ul className="mda-list" data-testid="watch-list">
        {entries.length === 0 ? <li className="muted">{t('mda.watch.none')}</li> : null}
        {entries.map((w) => (
          <li key={w.id} className="card" data-testid="watch-entry" data-watch-id={w.id}>
            <div className="card-top">
              <span className="mono">
                {[w.mmsi ? t('mda.watch.mmsiValue', { mmsi: w.mmsi }) : '', w.imo ? t('mda.watch.imoValue', { imo: w.imo }) : '', w.name].filter(Boolean).join(' · ')}
              </span>
              <span className="spacer" />
              <button className="ghost" onClick={() => void remove(w.id)} data-testid="watch-delete">
                {t('mda.watch.delete')}
              </button>
            </div>
            {w.reason ? <div className="small muted">{w.reason}</div> : null}
            <Marking item={w} compact />
          </li>
        ))}
      </ul>
    </section>
  );
}
