import { useI18n } from '../i18n';

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <div className="seg small" role="group" aria-label={t('switch.language')}>
      <button type="button" className={lang === 'en' ? 'on' : ''} onClick={() => setLang('en')} data-testid="lang-en">
        {t('switch.en')}
      </button>
      <button type="button" className={lang === 'ja' ? 'on' : ''} onClick={() => setLang('ja')} data-testid="lang-ja">
        {t('switch.ja')}
      </button>
    </div>
  );
}

export function TimeZoneSwitch() {
  const { tz, setTz, t } = useI18n();
  return (
    <div className="seg small" role="group" aria-label={t('switch.timezone')}>
      <button type="button" className={tz === 'UTC' ? 'on' : ''} onClick={() => setTz('UTC')} data-testid="tz-utc">
        {t('switch.utc')}
      </button>
      <button type="button" className={tz === 'JST' ? 'on' : ''} onClick={() => setTz('JST')} data-testid="tz-jst">
        {t('switch.jst')}
      </button>
    </div>
  );
}
