import { useState } from 'react';
import { useI18n } from '../../i18n';
import { mdaApi } from '../../mda/api';
import { polygonValid } from '../../mda/format';
import type { MdaStore } from '../../mda/store';
import { ZONE_KINDS, type ZoneKind } from '../../mda/types';
import { Problem } from '../hadr/common';
import { Marking } from '../Marking';
import { LabelField } from './common';

/** Zones: draw a polygon on the map (click its corners), name it in both languages, label it. */
export function Zones({
  store,
  draft,
  setDraft,
}: {
  store: MdaStore;
  draft: [number, number][] | null;
  setDraft: (d: [number, number][] | null) => void;
}) {
  const { t, lang } = useI18n();
  const [nameEn, setNameEn] = useState('');
  const [nameJa, setNameJa] = useState('');
  const [label, setLabel] = useState('UNCLASSIFIED');
  const [kind, setKind] = useState<ZoneKind>('area');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const zones = [...store.zones.values()].sort((a, b) => (a.name.en || a.name.ja).localeCompare(b.name.en || b.name.ja));
  const canSave = !!draft && polygonValid(draft) && (nameEn.trim() || nameJa.trim()) && label.trim() && !busy;

  const save = async () => {
    if (!draft) return;
    setBusy(true);
    setError(null);
    try {
      const z = await mdaApi.createZone({
        label,
        name: { en: nameEn.trim(), ja: nameJa.trim() },
        polygon: draft.map(([lon, lat]) => [lat, lon]),
        kind,
      });
      store.put('zones', z);
      setDraft(null);
      setNameEn('');
      setNameJa('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const remove = async (id: string) => {
    setError(null);
    try {
      await mdaApi.deleteZone(id);
      store.remove('zones', id);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section className="mda-zones" data-testid="mda-zones">
      {draft === null ? (
        <button className="primary" onClick={() => setDraft([])} data-testid="zone-draw">
          {t('mda.zone.draw')}
        </button>
      ) : (
        <div className="mda-zone-form" data-testid="zone-form">
          <p className="small" data-testid="zone-points" data-count={draft.length}>
            {t('mda.zone.hint', { count: draft.length })}
          </p>
          <div className="row">
            <button onClick={() => setDraft(draft.slice(0, -1))} disabled={!draft.length} data-testid="zone-undo">
              {t('mda.zone.undo')}
            </button>
            <button className="ghost" onClick={() => setDraft(null)} data-testid="zone-cancel">
              {t('common.cancel')}
            </button>
          </div>
          <label>
            {t('mda.zone.nameEn')}
            <input value={nameEn} onChange={(e) => setNameEn(e.target.value)} data-testid="zone-name-en" />
          </label>
          <label>
            {t('mda.zone.nameJa')}
            <input value={nameJa} onChange={(e) => setNameJa(e.target.value)} lang="ja" data-testid="zone-name-ja" />
          </label>
          <label>
            {t('mda.zone.kind')}
            <select value={kind} onChange={(e) => setKind(e.target.value as ZoneKind)} data-testid="zone-kind">
              {ZONE_KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`mda.zoneKind.${k}`)}
                </option>
              ))}
            </select>
          </label>
          <LabelField value={label} onChange={setLabel} testid="zone-label" />
          <button className="primary" disabled={!canSave} onClick={() => void save()} data-testid="zone-save">
            {t('mda.zone.save')}
          </button>
        </div>
      )}
      <Problem error={error ?? store.errors.zones} />
      <h3>{t('mda.zone.list', { count: zones.length })}</h3>
      <ul className="mda-list" data-testid="zone-list">
        {zones.length === 0 ? <li className="muted">{t('mda.zone.none')}</li> : null}
        {zones.map((z) => (
          <li key={z.id} className="card" data-testid="zone" data-zone-id={z.id}>
            <div className="card-top">
              <strong data-testid="zone-name">{(lang === 'ja' ? z.name.ja : z.name.en) || z.name.en || z.name.ja}</strong>
              <span className="muted small">
                {t(`mda.zoneKind.${z.kind}`)} · {t('mda.zone.vertices', { count: z.polygon.length })}
              </span>
              <span className="spacer" />
              <button className="ghost" onClick={() => void remove(z.id)} data-testid="zone-delete" aria-label={t('mda.zone.delete')}>
                {t('mda.zone.delete')}
              </button>
            </div>
            <Marking item={z} compact />
          </li>
        ))}
      </ul>
    </section>
  );
}
