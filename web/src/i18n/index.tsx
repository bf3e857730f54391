import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import en from './en.json';
import ja from './ja.json';

export type Lang = 'en' | 'ja';
export type TimeZoneMode = 'UTC' | 'JST';
type Catalog = Record<string, string>;

// Each view may keep its keys in parts/<view>.en.json and parts/<view>.ja.json beside the main catalogs.
const parts = import.meta.glob<Catalog>('./parts/*.json', { eager: true, import: 'default' });
function withParts(base: Catalog, lang: Lang): Catalog {
  const out: Catalog = { ...base };
  for (const [path, cat] of Object.entries(parts)) if (path.endsWith(`.${lang}.json`)) Object.assign(out, cat);
  return out;
}

export const CATALOGS: Record<Lang, Catalog> = { en: withParts(en, 'en'), ja: withParts(ja, 'ja') };

export function translate(lang: Lang, key: string, params?: Record<string, string | number>): string {
  const raw = CATALOGS[lang][key] ?? CATALOGS.en[key] ?? key;
  if (!params) return raw;
  return raw.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

const JST_OFFSET_MS = 9 * 3600 * 1000;

/** "2026-11-22 10:56:45Z" or "2026-11-22 19:56:45 JST". */
export function formatTime(iso: string | null | undefined, tz: TimeZoneMode): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const d = new Date(tz === 'JST' ? ms + JST_OFFSET_MS : ms);
  const s = d.toISOString().slice(0, 19).replace('T', ' ');
  return tz === 'JST' ? `${s} JST` : `${s}Z`;
}

interface I18nValue {
  lang: Lang;
  setLang: (l: Lang) => void;
  tz: TimeZoneMode;
  setTz: (t: TimeZoneMode) => void;
  t: (key: string, params?: Record<string, string | number>) => string;
  /** Translate a key built from data (e.g. an affiliation); show the raw value if the catalog lacks it. */
  tOr: (key: string, fallback: string) => string;
  time: (iso: string | null | undefined) => string;
}

const I18nContext = createContext<I18nValue | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem('kizuna.lang') === 'ja' ? 'ja' : 'en'));
  const [tz, setTzState] = useState<TimeZoneMode>(() => (localStorage.getItem('kizuna.tz') === 'JST' ? 'JST' : 'UTC'));
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem('kizuna.lang', l);
    document.documentElement.lang = l;
    setLangState(l);
  }, []);
  const setTz = useCallback((v: TimeZoneMode) => {
    localStorage.setItem('kizuna.tz', v);
    setTzState(v);
  }, []);
  const value = useMemo<I18nValue>(
    () => ({
      lang,
      setLang,
      tz,
      setTz,
      t: (key, params) => translate(lang, key, params),
      tOr: (key, fallback) => (key in CATALOGS[lang] ? CATALOGS[lang][key] : fallback),
      time: (iso) => formatTime(iso, tz),
    }),
    [lang, tz, setLang, setTz],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const v = useContext(I18nContext);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
