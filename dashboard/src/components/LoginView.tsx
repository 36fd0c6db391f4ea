import { useState } from 'preact/hooks';
import { HttpError } from '../api';
import { t } from '../i18n';
import { login } from '../session';
import { useStore } from '../store';
import { LocaleSwitch } from './LocaleSwitch';

export function LoginView() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const notice = useStore((s) => s.loginNotice);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
    } catch (err) {
      setError(err instanceof HttpError && err.status === 401 ? t('login.bad') : err instanceof HttpError && err.status === 0 ? t('error.network') : t('login.failed'));
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} data-testid="login-form">
        <div class="login-head">
          <div class="brand big">{t('app.brand')}</div>
          <LocaleSwitch />
        </div>
        <h1>{t('login.title')}</h1>
        <p class="muted">{t('login.subtitle')}</p>
        {notice && !error && (
          <div class="form-notice" role="alert" data-testid="login-notice">
            {t(notice)}
          </div>
        )}
        <label>
          {t('login.username')}
          <input name="username" autoComplete="username" autoFocus value={username} onInput={(e) => setUsername(e.currentTarget.value)} required />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
        </label>
        {error && (
          <div class="form-error" role="alert">
            {error}
          </div>
        )}
        <button class="btn primary big" type="submit" disabled={busy}>
          {busy ? t('common.wait') : t('login.submit')}
        </button>
      </form>
    </main>
  );
}
