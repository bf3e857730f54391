import { useI18n } from '../../i18n';
import { formatQty, pick } from '../../hadr/format';
import type { HadrStore } from '../../hadr/store';
import type { Capability, Incident, Shelter, Stock } from '../../hadr/types';
import { Marking } from '../Marking';
import { Problem, useHadr } from './common';

/** What the resources tab shows for an incident (also what the banner must account for). */
export function resourcesOnScreen(store: HadrStore, incident: Incident | null): { capabilities: Capability[]; shelters: Shelter[]; stocks: Stock[] } {
  const mine = (x: { incident_id: string | null }) => !incident || !x.incident_id || x.incident_id === incident.id;
  return {
    capabilities: [...store.capabilities.values()].filter(mine),
    shelters: [...store.shelters.values()].filter(mine),
    stocks: [...store.stocks.values()].filter(mine),
  };
}

export function Resources({ store, incident }: { store: HadrStore; incident: Incident | null }) {
  const { t, lang, time } = useI18n();
  useHadr(store);
  const { capabilities, shelters, stocks } = resourcesOnScreen(store, incident);
  const q = (n: number) => formatQty(n, lang);
  return (
    <div className="resources" data-testid="resources">
      <section data-testid="capabilities">
        <h3>{t('hadr.cap.title', { count: capabilities.length })}</h3>
        <Problem error={store.errors.capabilities} />
        {capabilities.length === 0 ? <p className="muted">{t('hadr.cap.none')}</p> : null}
        <table className="res-table">
          <thead>
            <tr>
              <th>{t('hadr.cap.nation')}</th>
              <th>{t('hadr.cap.what')}</th>
              <th>{t('hadr.cap.quantity')}</th>
              <th>{t('hadr.cap.unitName')}</th>
              <th>{t('hadr.cap.window')}</th>
              <th>{t('hadr.cap.readiness')}</th>
              <th>{t('hadr.label')}</th>
            </tr>
          </thead>
          <tbody>
            {capabilities.map((c) => (
              <tr key={c.id} data-testid="capability" data-code={c.code}>
                <td>{c.nation}</td>
                <td>
                  {pick(c.name, lang) || c.code}
                  {c.military ? <span className="tag">{t('hadr.offer.military')}</span> : null}
                  {pick(c.caveats, lang) ? <div className="muted small">{pick(c.caveats, lang)}</div> : null}
                </td>
                <td>
                  {t(c.basis === 'rate' ? 'hadr.cap.perDay' : 'hadr.cap.count', { n: q(c.quantity), unit: pick(store.unitName(c.unit), lang) || c.unit })}
                </td>
                <td>{c.unit_name}</td>
                <td className="small">{t('hadr.cap.windowValue', { from: time(c.available_from), to: time(c.available_to) })}</td>
                <td>{t('hadr.cap.hours', { n: q(c.readiness_hours) })}</td>
                <td>
                  <Marking item={c} compact />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section data-testid="shelters">
        <h3>{t('hadr.shelter.title', { count: shelters.length })}</h3>
        <Problem error={store.errors.shelters} />
        {shelters.length === 0 ? <p className="muted">{t('hadr.shelter.none')}</p> : null}
        <ul className="shelter-list">
          {shelters.map((s) => {
            const pop = Math.max(s.population_day, s.population_night);
            const cap = Math.max(1, s.capacity_night || s.capacity_day);
            const frac = Math.min(1, pop / cap);
            const over = s.over_capacity_day || s.over_capacity_night;
            return (
              <li key={s.id} className="shelter" data-testid="shelter" data-shelter-id={s.id} data-over={over ? '1' : '0'}>
                <div className="card-top">
                  <strong>{pick(s.name, lang)}</strong>
                  <span className="muted small">{pick(s.municipality, lang)}</span>
                  <span className={`avail avail-${s.availability}`}>{pick(s.availability_name, lang) || s.availability}</span>
                </div>
                <div className={`cap-bar ${over ? 'over' : ''}`} role="img" aria-label={t('hadr.shelter.aria', { pop: q(pop), cap: q(cap) })}>
                  <span style={{ width: `${(frac * 100).toFixed(1)}%` }} />
                </div>
                <div className="small">
                  {t('hadr.shelter.day', { pop: q(s.population_day), cap: q(s.capacity_day) })} ·{' '}
                  {t('hadr.shelter.night', { pop: q(s.population_night), cap: q(s.capacity_night) })}
                  {over ? <span className="gap-pos"> {t('hadr.shelter.over')}</span> : null}
                </div>
                <Marking item={s} compact />
              </li>
            );
          })}
        </ul>
      </section>
      <section data-testid="stocks">
        <h3>{t('hadr.stock.title', { count: stocks.length })}</h3>
        <Problem error={store.errors.stocks} />
        {stocks.length === 0 ? <p className="muted">{t('hadr.stock.none')}</p> : null}
        <table className="res-table">
          <thead>
            <tr>
              <th>{t('hadr.stock.site')}</th>
              <th>{t('hadr.stock.item')}</th>
              <th>{t('hadr.stock.quantity')}</th>
              <th>{t('hadr.stock.packs')}</th>
              <th>{t('hadr.label')}</th>
            </tr>
          </thead>
          <tbody>
            {stocks.map((s) => (
              <tr key={s.id} data-testid="stock" data-item={s.item}>
                <td>{pick(s.site_name, lang) || s.site_id}</td>
                <td>{pick(s.item_name, lang) || s.item}</td>
                <td>{t('hadr.stock.qty', { n: q(s.quantity), unit: pick(store.unitName(s.unit), lang) || s.unit })}</td>
                <td>{s.packs !== null ? q(s.packs) : t('common.none')}</td>
                <td>
                  <Marking item={s} compact />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
