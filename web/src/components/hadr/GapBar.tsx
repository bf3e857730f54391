import { useI18n } from '../../i18n';
import { formatQty, gapFractions, pick } from '../../hadr/format';
import type { HadrStore } from '../../hadr/store';
import type { RfaLine } from '../../hadr/types';

const pct = (f: number) => `${(f * 100).toFixed(1)}%`;

/** One RFA line: requested / offered / committed / in transit / delivered, and the gap. */
export function LineRow({ line, store, index }: { line: RfaLine; store: HadrStore; index: number }) {
  const { t, tOr, lang } = useI18n();
  const f = gapFractions(line);
  const unit = pick(store.unitName(line.unit), lang) || tOr(`hadr.unit.${line.unit}`, line.unit);
  const name = pick(store.itemName(line.item), lang) || pick(line.description, lang) || line.item;
  const q = (n: number) => formatQty(n, lang);
  return (
    <div className="rfa-line" data-testid="rfa-line" data-item={line.item} data-line={index} data-coverage={line.coverage}>
      <div className="rfa-line-head">
        <span className="rfa-line-name">{name}</span>
        <span className={`cov cov-${line.coverage}`} data-testid="line-coverage">
          {tOr(`hadr.coverage.${line.coverage}`, line.coverage)}
        </span>
      </div>
      <div
        className="gap-bar"
        data-testid="gap-bar"
        data-requested={line.requested}
        data-offered={line.offered}
        data-committed={line.committed}
        data-delivered={line.delivered}
        data-gap={line.gap}
        role="img"
        aria-label={t('hadr.gapAria', { committed: q(line.committed), requested: q(line.requested), unit })}
      >
        <span className="seg-delivered" style={{ width: pct(f.delivered) }} />
        <span className="seg-transit" style={{ width: pct(f.inTransit) }} />
        <span className="seg-committed" data-testid="gap-committed" style={{ width: pct(f.committed) }} />
        <span className="seg-offered" style={{ width: pct(f.offered) }} />
      </div>
      <div className="rfa-line-nums small">
        <span>{t('hadr.qty.requested', { n: q(line.requested), unit })}</span>
        <span>{t('hadr.qty.offered', { n: q(line.offered) })}</span>
        <span data-testid="line-committed">{t('hadr.qty.committed', { n: q(line.committed) })}</span>
        <span>{t('hadr.qty.inTransit', { n: q(line.in_transit) })}</span>
        <span>{t('hadr.qty.delivered', { n: q(line.delivered) })}</span>
        <span className={line.gap > 0 ? 'gap-pos' : ''} data-testid="line-gap">
          {t('hadr.qty.gap', { n: q(line.gap) })}
        </span>
      </div>
    </div>
  );
}

export function GapLegend() {
  const { t } = useI18n();
  return (
    <div className="gap-legend small muted">
      <span><i className="seg-delivered" /> {t('hadr.legend.delivered')}</span>
      <span><i className="seg-transit" /> {t('hadr.legend.inTransit')}</span>
      <span><i className="seg-committed" /> {t('hadr.legend.committed')}</span>
      <span><i className="seg-offered" /> {t('hadr.legend.offered')}</span>
      <span><i className="seg-gap" /> {t('hadr.legend.gap')}</span>
    </div>
  );
}
