import { useEffect, useState } from 'react';
import { useI18n } from '../../i18n';
import { MDA_COLOURS } from '../../map/mdaSymbols';
import type { MdaStore } from '../../mda/store';
import type { EventType } from '../../mda/types';

/** Re-render when the MDA store changes. */
export function useMda(store: MdaStore): number {
  const [v, setV] = useState(store.version);
  useEffect(() => store.on(() => setV(store.version)), [store]);
  return v;
}

/** The event type's marker (the same colour and shape family as on the map). */
export function TypeIcon({ type }: { type: EventType }) {
  const { t } = useI18n();
  return <span className={`mda-icon mda-icon-${type}`} style={{ borderColor: MDA_COLOURS[type] }} aria-label={t(`mda.type.${type}`)} role="img" />;
}

/** A security label field (free text: the node parses and checks it). */
export function LabelField({ value, onChange, testid }: { value: string; onChange: (v: string) => void; testid: string }) {
  const { t } = useI18n();
  return (
    <label>
      {t('mda.label')}
      <input value={value} onChange={(e) => onChange(e.target.value)} required data-testid={testid} />
    </label>
  );
}
