import { useEffect, useMemo, useState } from 'react';
import { ApiError } from '../../api';
import { useI18n } from '../../i18n';
import { liaisonApi, type Term, type TodayItem } from '../../liaison/api';
import { debounce, hint, pick, typed } from '../../liaison/format';
import type { LiaisonStore } from '../../liaison/store';
import { Marking } from '../Marking';

const HINT_DELAY_MS = 300;

/** Today's items of both chains and the shared liaison log, with glossary hints while typing. */
export function DeskPanel({ store }: { store: LiaisonStore }) {
  const { t, lang, time } = useI18n();
  const today = store.today;
  return (
    <div className="desk">
      <div className="desk-today panel" data-testid="liaison-today">
        <div className="panel-head">
          <strong>{t('liaison.desk.today', { date: today?.date ?? '—' })}</strong>
        </div>
        {(['requests', 'rfas', 'action_items', 'injects'] as const).map((k) => (
          <section key={k} data-testid={`today-${k}`}>
            <h4>{t(`liaison.desk.${k}`)}</h4>
            {(today?.[k] ?? []).length === 0 ? <p className="muted small">{t('liaison.desk.none')}</p> : null}
            {(today?.[k] ?? []).map((x: TodayItem) => (
              <div key={x.id} className="today-item" data-testid="today-item">
                <span className="tag">{x.status}</span> {pick(x.title, lang) || x.id}
                <span className="muted small"> · {x.nations.join(' / ')}</span>
                <Marking item={x} compact />
              </div>
            ))}
          </section>
        ))}
      </div>
      <div className="desk-log panel">
        <EntryForm store={store} />
        <div data-testid="liaison-log">
          {store.entries.length === 0 ? <p className="muted">{t('liaison.log.none')}</p> : null}
          {store.entries.map((e) => (
            <div key={e.id} className="comment" data-testid="liaison-entry">
              <div className="small muted" data-testid="liaison-entry-by">
                {t('liaison.log.by', { user: e.author, node: e.origin })} · {time(e.at)}
              </div>
              <div className="summary">{pick(e.text, lang)}</div>
              <Marking item={e} compact />
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}

function EntryForm({ store }: { store: LiaisonStore }) {
  const { t, lang } = useI18n();
  const [text, setText] = useState('');
  const [label, setLabel] = useState('UNCLASSIFIED');
  const [terms, setTerms] = useState<Term[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const lookUp = useMemo(
    () =>
      debounce((q: string) => {
        if (!q.trim()) {
          setTerms([]);
          return;
        }
        liaisonApi.terms(q).then(setTerms, () => setTerms([]));
      }, HINT_DELAY_MS),
    [],
  );
  useEffect(() => () => lookUp.cancel(), [lookUp]);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      store.addEntry(await liaisonApi.createEntry({ text: typed(text, lang), original_language: lang, label }));
      setText('');
      setTerms([]);
    } catch (e) {
      setError(e instanceof ApiError ? e.detail || e.title : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="entry-form">
      <textarea
        data-testid="liaison-text"
        rows={3}
        value={text}
        placeholder={t('liaison.log.placeholder')}
        onChange={(e) => {
          setText(e.target.value);
          lookUp(e.target.value);
        }}
      />
      <div className="term-hints" data-testid="term-hints" aria-live="polite">
        {terms.map((term) => {
          const h = hint(term);
          return (
            <div key={`${term.en}|${term.matched}`} className="term-hint" data-testid="term-hint">
              <span>{h.typed}</span> → <strong lang={term.matched === 'en' ? 'ja' : 'en'}>{h.other}</strong>{' '}
              <span className={`tag ${h.official ? 'term-official' : 'term-proposed'}`}>
                {t(h.official ? 'liaison.term.official' : 'liaison.term.proposed')}
              </span>
            </div>
          );
        })}
      </div>
      <div className="row">
        <input data-testid="liaison-label" value={label} aria-label={t('liaison.log.label')} onChange={(e) => setLabel(e.target.value)} />
        <button className="primary" data-testid="liaison-submit" disabled={busy || !text.trim()} onClick={() => void submit()}>
          {t('liaison.log.submit')}
        </button>
      </div>
      {error ? <p className="error">{error}</p> : null}
    </div>
  );
}
