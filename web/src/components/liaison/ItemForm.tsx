import { useState } from 'react';
import { ApiError } from '../../api';
import { useI18n } from '../../i18n';
import { liaisonApi, type Meeting, type Office, type WorkingGroup } from '../../liaison/api';
import { dueOf, groupNodes, typed } from '../../liaison/format';
import type { LiaisonStore } from '../../liaison/store';

/** Record an action item of a working group (from one of its meetings, or on its own). */
export function ItemForm({ store, group, meetings }: { store: LiaisonStore; group: WorkingGroup; meetings: Meeting[] }) {
  const { t, lang } = useI18n();
  const nodes = groupNodes([...group.co_chairs, ...group.members]);
  const [title, setTitle] = useState('');
  const [meetingId, setMeetingId] = useState(meetings[0]?.id ?? '');
  const [opr, setOpr] = useState({ office: '', node: nodes[0]?.node ?? '' });
  const [ocr, setOcr] = useState({ office: '', node: '' });
  const [due, setDue] = useState('');
  const [priority, setPriority] = useState<'high' | 'medium' | 'low'>('medium');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const office = (o: { office: string; node: string }): Office | null => {
    const n = nodes.find((x) => x.node === o.node);
    return o.office.trim() && n ? { office: o.office.trim(), node: n.node, nation: n.nation as Office['nation'], user: '' } : null;
  };
  const ready = title.trim() && office(opr) && due;

  const submit = async () => {
    const o = office(opr);
    if (!o) return;
    setBusy(true);
    setError(null);
    try {
      const item = await liaisonApi.createItem({
        title: typed(title, lang),
        description: { en: '', ja: '' },
        working_group_id: group.id,
        meeting_id: meetingId || null,
        opr: o,
        ocr: office(ocr),
        chair: null,
        due: dueOf(due),
        priority,
        label: group.label,
        precedence: 'ROUTINE',
      });
      store.upsertItem(item);
      setTitle('');
    } catch (e) {
      setError(e instanceof ApiError ? e.detail || e.title : String(e));
    } finally {
      setBusy(false);
    }
  };

  const officeFields = (value: { office: string; node: string }, set: (v: { office: string; node: string }) => void, name: 'opr' | 'ocr') => (
    <>
      <input data-testid={`item-form-${name}-office`} value={value.office} placeholder={t(`liaison.items.${name}`)} onChange={(e) => set({ ...value, office: e.target.value })} />
      <select data-testid={`item-form-${name}-node`} value={value.node} aria-label={t('liaison.reassign.node')} onChange={(e) => set({ ...value, node: e.target.value })}>
        {name === 'ocr' ? <option value="">—</option> : null}
        {nodes.map((n) => (
          <option key={n.node} value={n.node}>
            {n.node} ({n.nation})
          </option>
        ))}
      </select>
    </>
  );

  return (
    <div className="panel item-form" data-testid="item-form">
      <strong>{t('liaison.form.title')}</strong>
      <div className="row">
        <input data-testid="item-form-title" value={title} placeholder={t('liaison.form.itemTitle')} onChange={(e) => setTitle(e.target.value)} />
        <select value={meetingId} aria-label={t('liaison.groups.meeting')} onChange={(e) => setMeetingId(e.target.value)}>
          <option value="">{t('liaison.form.noMeeting')}</option>
          {meetings.map((m) => (
            <option key={m.id} value={m.id}>
              {m.start.slice(0, 10)}
            </option>
          ))}
        </select>
      </div>
      <div className="row">{officeFields(opr, setOpr, 'opr')}</div>
      <div className="row">{officeFields(ocr, setOcr, 'ocr')}</div>
      <div className="row">
        <input data-testid="item-form-due" type="date" value={due} aria-label={t('liaison.items.due')} onChange={(e) => setDue(e.target.value)} />
        <select value={priority} aria-label={t('liaison.form.priority')} onChange={(e) => setPriority(e.target.value as 'high' | 'medium' | 'low')}>
          {(['high', 'medium', 'low'] as const).map((p) => (
            <option key={p} value={p}>
              {t(`liaison.priority.${p}`)}
            </option>
          ))}
        </select>
        <button className="primary" data-testid="item-form-submit" disabled={busy || !ready} onClick={() => void submit()}>
          {t('liaison.form.submit')}
        </button>
      </div>
      {error ? <p className="error">{error}</p> : null}
    </div>
  );
}
