import { useState } from 'react';
import { ApiError } from '../../api';
import { useI18n } from '../../i18n';
import { liaisonApi } from '../../liaison/api';
import { reassignBody } from '../../liaison/format';
import type { LiaisonStore } from '../../liaison/store';

/** Bulk reassignment of the selected items to another office, as OPR or OCR (all or none). */
export function Reassign({ store, ids, onDone }: { store: LiaisonStore; ids: string[]; onDone: () => void }) {
  const { t } = useI18n();
  const [role, setRole] = useState<'opr' | 'ocr'>('opr');
  const [office, setOffice] = useState('');
  const [node, setNode] = useState('');
  const [nation, setNation] = useState('');
  const [user, setUser] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ready = ids.length > 0 && office.trim() && node.trim() && /^[A-Za-z]{3}$/.test(nation.trim());

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const out = await liaisonApi.reassign(reassignBody(ids, role, { office, node, nation, user }));
      for (const item of out.items) store.upsertItem(item);
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail || e.title : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="panel reassign" data-testid="reassign">
      <strong>{t('liaison.reassign.title', { n: ids.length })}</strong>
      <div className="row">
        <select data-testid="reassign-role" value={role} aria-label={t('liaison.reassign.role')} onChange={(e) => setRole(e.target.value as 'opr' | 'ocr')}>
          <option value="opr">{t('liaison.items.opr')}</option>
          <option value="ocr">{t('liaison.items.ocr')}</option>
        </select>
        <input data-testid="reassign-office" value={office} placeholder={t('liaison.reassign.office')} onChange={(e) => setOffice(e.target.value)} />
        <input data-testid="reassign-node" value={node} placeholder={t('liaison.reassign.node')} onChange={(e) => setNode(e.target.value)} />
        <input data-testid="reassign-nation" value={nation} placeholder={t('liaison.reassign.nation')} maxLength={3} onChange={(e) => setNation(e.target.value)} />
        <input data-testid="reassign-user" value={user} placeholder={t('liaison.reassign.user')} onChange={(e) => setUser(e.target.value)} />
        <button className="primary" data-testid="reassign-submit" disabled={busy || !ready} onClick={() => void submit()}>
          {t('liaison.reassign.submit')}
        </button>
      </div>
      {error ? <p className="error">{error}</p> : null}
    </div>
  );
}
