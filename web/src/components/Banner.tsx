import { BANNER_COLOURS, bannerText, type BannerState } from '../banner';
import { useI18n } from '../i18n';

export function ClassificationBanner({ state, position }: { state: BannerState; position: 'top' | 'bottom' }) {
  const { lang, t } = useI18n();
  const c = BANNER_COLOURS[state.classification];
  return (
    <div
      className={`banner banner-${position}`}
      data-testid={`banner-${position}`}
      data-classification={state.classification}
      role="banner"
      aria-label={t('banner.aria')}
      style={{ background: c.bg, color: c.fg }}
    >
      {bannerText(state, lang)}
    </div>
  );
}

export function ExerciseBanner() {
  const { t } = useI18n();
  return (
    <div className="banner banner-exercise" data-testid="banner-exercise">
      {t('banner.exercise')}
    </div>
  );
}
