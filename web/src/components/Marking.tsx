import { BANNER_COLOURS, CLASS_NAMES, parseMarking, type ClassName } from '../banner';
import { useI18n } from '../i18n';
import type { Labelled } from '../types';

/** A record's own label, in English and Japanese (both are always shown). */
export function Marking({ item, compact = false }: { item: Partial<Labelled>; compact?: boolean }) {
  const { t } = useI18n();
  const cls = (CLASS_NAMES as readonly string[]).includes(String(item.classification))
    ? (item.classification as ClassName)
    : (parseMarking(item.label ?? '').classification as ClassName);
  const c = BANNER_COLOURS[cls];
  return (
    <div className={`marking ${compact ? 'compact' : ''}`} data-testid="marking" aria-label={t('label.aria')}>
      <span className="marking-chip" style={{ background: c.bg, color: c.fg }}>
        {item.label}
      </span>
      {!compact && item.label_ja ? (
        <span className="marking-ja" lang="ja">
          {item.label_ja}
        </span>
      ) : null}
      {item.exercise ? <span className="marking-ex">{t('label.exercise')}</span> : null}
    </div>
  );
}
