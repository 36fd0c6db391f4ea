import { LOCALES, t } from '../i18n';
import { switchLocale } from '../session';
import { useStore } from '../store';

export function LocaleSwitch() {
  const current = useStore((s) => s.locale);
  return (
    <div class="locale-switch" role="group" aria-label={t('locale.label')}>
      {LOCALES.map((l) => (
        <button type="button" key={l} class={`chip ${l === current ? 'on' : ''}`} aria-pressed={l === current} onClick={() => switchLocale(l)} data-testid={`locale-${l}`}>
          {l === 'en' ? 'EN' : '中文'}
        </button>
      ))}
    </div>
  );
}
