import { useState } from 'react';
import { useI18n, type Lang } from '../../i18n';
import { fetchFile, saveBlob, sitrepPath, threeWPath } from '../../hadr/api';
import type { Incident } from '../../hadr/types';
import { Problem } from './common';

/** SITREP (PDF, JSON) in English or Japanese, and the who-does-what-where CSV. */
export function SitrepPanel({ incident }: { incident: Incident }) {
  const { t, lang } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const get = async (key: string, path: string, fallback: string) => {
    setBusy(key);
    setError(null);
    setDone(null);
    try {
      const { blob, filename } = await fetchFile(path);
      const name = filename ?? fallback;
      saveBlob(blob, name);
      setDone(name);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const langs: Lang[] = lang === 'ja' ? ['ja', 'en'] : ['en', 'ja'];
  return (
    <section className="sitrep" data-testid="sitrep">
      <h3>{t('hadr.sitrep.title')}</h3>
      <p className="muted small">{t('hadr.sitrep.hint')}</p>
      <div className="buttons">
        {langs.map((l) => (
          <button
            key={l}
            className={l === lang ? 'primary' : ''}
            disabled={busy !== null}
            data-testid={`sitrep-pdf-${l}`}
            onClick={() => void get(`pdf-${l}`, sitrepPath(incident.id, l, 'pdf'), `sitrep-${incident.id}-${l}.pdf`)}
          >
            {t('hadr.sitrep.pdf', { lang: t(`lang.${l}`) })}
          </button>
        ))}
        <button
          disabled={busy !== null}
          data-testid="sitrep-json"
          onClick={() => void get('json', sitrepPath(incident.id, lang, 'json'), `sitrep-${incident.id}-${lang}.json`)}
        >
          {t('hadr.sitrep.json')}
        </button>
        <button
          disabled={busy !== null}
          data-testid="sitrep-3w"
          onClick={() => void get('3w', `${threeWPath(incident.id)}?lang=${lang}`, `3w-${incident.id}-${lang}.csv`)}
        >
          {t('hadr.sitrep.threeW')}
        </button>
      </div>
      {busy ? <p className="muted small">{t('hadr.sitrep.busy')}</p> : null}
      {done ? (
        <p className="small" data-testid="sitrep-done">
          {t('hadr.sitrep.done', { name: done })}
        </p>
      ) : null}
      <Problem error={error} />
    </section>
  );
}
