/**
 * A list's state line: its error (role alert), "loading" before the first answer, or its empty text once it is
 * loaded and has nothing. Renders nothing while there are rows to show.
 */
import { t } from '../i18n';

export function LoadState({ error, loaded, empty, emptyText, testid }: { error: string | null; loaded: boolean; empty: boolean; emptyText: string; testid: string }) {
  if (error) {
    return (
      <p class="form-error" role="alert" data-testid={`${testid}-error`}>
        {error}
      </p>
    );
  }
  if (!loaded) return <p class="muted">{t('common.loading')}</p>;
  if (!empty) return null;
  return (
    <p class="muted empty" data-testid={`${testid}-empty`}>
      {emptyText}
    </p>
  );
}
