import { useState, type FormEvent } from 'react';
import { useI18n } from '../../i18n';
import { hadrApi } from '../../hadr/api';
import { pick } from '../../hadr/format';
import type { HadrStore } from '../../hadr/store';
import type { Incident, LineIn, Oslo, Rfa } from '../../hadr/types';
import { OsloFields, Problem } from './common';

const KINDS: LineIn['kind'][] = ['item', 'people', 'capability'];

/** A new RFA (a DRAFT): lines typed in or drafted by the needs calculator (POST /needs). */
export function RfaCreate({
  store,
  incident,
  onCancel,
  onCreated,
}: {
  store: HadrStore;
  incident: Incident | null;
  onCancel: () => void;
  onCreated: (r: Rfa) => void;
}) {
  const { t, tOr, lang } = useI18n();
  const shelters = [...store.shelters.values()].filter((s) => !incident || !s.incident_id || s.incident_id === incident.id);
  const [titleEn, setTitleEn] = useState('');
  const [titleJa, setTitleJa] = useState('');
  const [shelterId, setShelterId] = useState<string>(shelters[0]?.id ?? '');
  const [siteId, setSiteId] = useState('');
  const [siteEn, setSiteEn] = useState('');
  const [siteJa, setSiteJa] = useState('');
  const [label, setLabel] = useState(incident?.label ?? 'UNCLASSIFIED');
  const [population, setPopulation] = useState(1000);
  const [days, setDays] = useState(3);
  const [lines, setLines] = useState<LineIn[]>([]);
  const [military, setMilitary] = useState(false);
  const [oslo, setOslo] = useState<Oslo>({
    civilian_alternative_considered: true,
    unique_advantage: 'capability',
    handover_date: new Date(Date.now() + 14 * 86400_000).toISOString().slice(0, 10) + 'T00:00:00Z',
    no_cost_to_affected_state: true,
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const calculate = async () => {
    setError(null);
    try {
      const out = await hadrApi.needs(population, days);
      setLines(out.lines.map((l) => ({ ...l, unit: l.unit as LineIn['unit'] })));
    } catch (e) {
      setError(e);
    }
  };
  const setLine = (i: number, patch: Partial<LineIn>) => setLines((ls) => ls.map((l, j) => (j === i ? { ...l, ...patch } : l)));

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    const shelter = shelterId ? store.shelters.get(shelterId) : undefined;
    try {
      const r = await hadrApi.createRfa({
        label,
        incident_id: incident?.id ?? null,
        title: { en: titleEn, ja: titleJa },
        site: shelter ? { id: shelter.id, name: shelter.name } : { id: siteId, name: { en: siteEn, ja: siteJa } },
        // The calculator's pack fields are informative: the quantity in base units is what is asked for.
        lines: lines.map((l) => ({ item: l.item, kind: l.kind, description: l.description, quantity: l.quantity, unit: l.unit })),
        military_assets: military,
        oslo: military ? oslo : null,
      });
      onCreated(r);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel rfa-create" data-testid="rfa-create" onSubmit={submit}>
      <div className="panel-head">
        <h2>{t('hadr.rfa.createTitle')}</h2>
        <button type="button" className="ghost" onClick={onCancel} aria-label={t('common.close')}>
          {t('common.closeIcon')}
        </button>
      </div>
      <p className="muted small">
        {incident ? t('hadr.rfa.forIncident', { title: pick(incident.title, lang) }) : t('hadr.rfa.noIncident')}
      </p>
      <label>
        {t('create.titleEn')}
        <input value={titleEn} onChange={(e) => setTitleEn(e.target.value)} lang="en" data-testid="rfa-title-en" />
      </label>
      <label>
        {t('create.titleJa')}
        <input value={titleJa} onChange={(e) => setTitleJa(e.target.value)} lang="ja" data-testid="rfa-title-ja" />
      </label>
      <label>
        {t('hadr.rfa.site')}
        <select value={shelterId} onChange={(e) => setShelterId(e.target.value)} data-testid="rfa-shelter">
          {shelters.map((s) => (
            <option key={s.id} value={s.id}>
              {pick(s.name, lang)}
            </option>
          ))}
          <option value="">{t('hadr.rfa.otherSite')}</option>
        </select>
      </label>
      {!shelterId ? (
        <div className="row">
          <label>
            {t('hadr.rfa.siteId')}
            <input value={siteId} onChange={(e) => setSiteId(e.target.value)} required data-testid="rfa-site-id" />
          </label>
          <label>
            {t('hadr.rfa.siteEn')}
            <input value={siteEn} onChange={(e) => setSiteEn(e.target.value)} lang="en" data-testid="rfa-site-en" />
          </label>
          <label>
            {t('hadr.rfa.siteJa')}
            <input value={siteJa} onChange={(e) => setSiteJa(e.target.value)} lang="ja" data-testid="rfa-site-ja" />
          </label>
        </div>
      ) : null}
      <label>
        {t('create.label')}
        <input value={label} onChange={(e) => setLabel(e.target.value)} required data-testid="rfa-label" />
      </label>
      <fieldset className="needs" data-testid="needs">
        <legend>{t('hadr.needs.title')}</legend>
        <div className="row">
          <label>
            {t('hadr.needs.population')}
            <input type="number" min={1} value={population} onChange={(e) => setPopulation(Number(e.target.value))} data-testid="needs-population" />
          </label>
          <label>
            {t('hadr.needs.days')}
            <input type="number" min={0.5} step={0.5} value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="needs-days" />
          </label>
        </div>
        <button type="button" onClick={() => void calculate()} data-testid="needs-calc">
          {t('hadr.needs.calculate')}
        </button>
        <p className="muted small">{t('hadr.needs.hint')}</p>
      </fieldset>
      <table className="lines-table" data-testid="rfa-lines">
        <thead>
          <tr>
            <th>{t('hadr.line.item')}</th>
            <th>{t('hadr.line.kind')}</th>
            <th>{t('hadr.line.quantity')}</th>
            <th>{t('hadr.line.unit')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {lines.map((l, i) => (
            <tr key={i} data-testid="draft-line" data-item={l.item}>
              <td>
                <input value={l.item} onChange={(e) => setLine(i, { item: e.target.value })} aria-label={t('hadr.line.item')} />
                <div className="muted small">{pick(store.itemName(l.item), lang) || pick(l.description, lang)}</div>
              </td>
              <td>
                <select value={l.kind} onChange={(e) => setLine(i, { kind: e.target.value as LineIn['kind'] })} aria-label={t('hadr.line.kind')}>
                  {KINDS.map((k) => (
                    <option key={k} value={k}>
                      {t(`hadr.lineKind.${k}`)}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <input
                  type="number"
                  min={0}
                  step="any"
                  value={l.quantity ?? 0}
                  onChange={(e) => setLine(i, { quantity: Number(e.target.value) })}
                  aria-label={t('hadr.line.quantity')}
                  data-testid={`draft-qty-${i}`}
                />
              </td>
              <td>
                <input value={l.unit} onChange={(e) => setLine(i, { unit: e.target.value as LineIn['unit'] })} aria-label={t('hadr.line.unit')} size={5} />
                <div className="muted small">{pick(store.unitName(l.unit), lang) || tOr(`hadr.unit.${l.unit}`, '')}</div>
              </td>
              <td>
                <button type="button" className="ghost" onClick={() => setLines((ls) => ls.filter((_, j) => j !== i))} aria-label={t('hadr.line.remove')}>
                  {t('common.closeIcon')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button
        type="button"
        onClick={() => setLines((ls) => [...ls, { item: 'water', kind: 'item', description: { en: '', ja: '' }, quantity: 0, unit: 'L' }])}
        data-testid="line-add"
      >
        {t('hadr.line.add')}
      </button>
      <label className="check">
        <input type="checkbox" checked={military} onChange={(e) => setMilitary(e.target.checked)} data-testid="rfa-military" />
        {t('hadr.rfa.military')}
      </label>
      {military ? <OsloFields value={oslo} onChange={setOslo} /> : null}
      <Problem error={error} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy || lines.length === 0 || (!titleEn.trim() && !titleJa.trim())} data-testid="rfa-submit">
          {t('hadr.rfa.create')}
        </button>
        <button type="button" className="ghost" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
