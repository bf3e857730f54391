/** The access arrangements the node decides with (and peers' copies): dates, nations, activities. */
import { useI18n } from '../../i18n';
import type { Arrangement } from '../../facilities/types';
import { Marking } from '../Marking';

export function Arrangements({ items, nodeId }: { items: Arrangement[]; nodeId: string }) {
  const { t, lang } = useI18n();
  const own = items.filter((a) => a.origin === nodeId);
  const name = (x: { en: string; ja: string }) => (lang === 'ja' ? x.ja || x.en : x.en || x.ja);
  return (
    <div className="panel fac-arrangements" data-testid="fac-arrangements">
      <div className="panel-head">
        <strong>{t('fac.arr.title')}</strong>
      </div>
      <table>
        <thead>
          <tr>
            <th>{t('fac.arr.name')}</th>
            <th>{t('fac.arr.nations')}</th>
            <th>{t('fac.arr.in_force')}</th>
            <th>{t('fac.arr.activities')}</th>
            <th>{t('fac.arr.label')}</th>
          </tr>
        </thead>
        <tbody>
          {own.map((a) => (
            <tr key={a.id} data-testid={`fac-arr-${a.key}`} title={name(a.conditions)}>
              <td>{name(a.short)}</td>
              <td>{a.nations.join(', ')}</td>
              <td>
                {a.in_force}
                {a.expires ? ` – ${a.expires}` : ''}
              </td>
              <td>{a.activities.map((x) => t(`fac.activity.${x}`)).join(', ')}</td>
              <td>
                <Marking item={a} compact />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
