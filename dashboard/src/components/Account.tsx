/**
 * My account (我的账号, issue 20), for every role: who I am, my last login, change my own password (the current one
 * first; the server ends my other sessions and keeps this one), and sign out everywhere (a lost phone, a shared PC:
 * every session ends, this one too, and the page returns to the login).
 */
import { useEffect, useState } from 'preact/hooks';
import { HttpError, get, post } from '../api';
import { errorField } from '../devices-admin';
import { fmtTime, label, t } from '../i18n';
import { errorText, inLocale, sessionEndedHere } from '../session';
import { notify, store, useStore } from '../store';
import { MIN_PASSWORD } from '../users';
import { ConfirmDialog } from './Dialogs';

type Field = 'current' | 'next' | 'repeat';

export function Account() {
  const user = useStore((s) => s.user);
  const tz = useStore((s) => s.config.timezone);
  const [lastLoginAt, setLastLoginAt] = useState<string | null | undefined>(undefined);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void get<{ user: { lastLoginAt?: string | null } }>('/api/auth/me')
      .then((me) => setLastLoginAt(me.user.lastLoginAt ?? null))
      .catch(() => setLastLoginAt(null));
  }, []);
  if (!user) return null;

  const everywhere = async () => {
    setBusy(true);
    try {
      await post('/api/auth/sign-out-everywhere', {});
      // This session is over too: back to the login (unless the server's close of the live stream got there first).
      if (store.get().user) sessionEndedHere();
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  };

  return (
    <main class="account-view" data-testid="account-screen">
      <section class="box account-box">
        <h2>{t('account.title')}</h2>
        <dl class="account-facts">
          <dt>{t('account.username')}</dt>
          <dd data-testid="account-username">{user.username}</dd>
          <dt>{t('account.displayName')}</dt>
          <dd>{user.displayName || '—'}</dd>
          <dt>{t('account.role')}</dt>
          <dd>{label('role', user.role)}</dd>
          {user.extension && (
            <>
              <dt>{t('account.extension')}</dt>
              <dd>{user.extension}</dd>
            </>
          )}
          <dt>{t('account.lastLogin')}</dt>
          <dd data-testid="account-last-login">{lastLoginAt === undefined ? '…' : lastLoginAt ? fmtTime(lastLoginAt, tz, true) : t('common.never')}</dd>
        </dl>
      </section>
      <section class="box account-box">
        <h2>{t('account.changePassword')}</h2>
        <PasswordForm />
      </section>
      <section class="box account-box">
        <h2>{t('account.everywhere')}</h2>
        <p class="muted">{t('account.everywhereNote')}</p>
        <button type="button" class="btn danger" disabled={busy} onClick={() => setConfirm(true)} data-testid="sign-out-everywhere">
          {t('account.everywhereButton')}
        </button>
      </section>
      {confirm && <ConfirmDialog title={t('account.everywhere')} text={t('account.everywhereConfirm')} confirm={t('account.everywhereButton')} busy={busy} onCancel={() => setConfirm(false)} onConfirm={() => void everywhere()} />}
    </main>
  );
}

function PasswordForm() {
  const [v, setV] = useState<Record<Field, string>>({ current: '', next: '', repeat: '' });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const set = (f: Field, x: string) => {
    setV((o) => ({ ...o, [f]: x }));
    setErrors((o) => ({ ...o, [f]: undefined }));
    setDone(false);
  };

  const submit = async () => {
    const errs: Partial<Record<Field, string>> = {};
    if (!v.current) errs.current = t('account.err.current');
    if (v.next.length < MIN_PASSWORD) errs.next = t('account.err.short', { n: MIN_PASSWORD });
    else if (v.next === v.current) errs.next = t('account.err.same');
    if (v.repeat !== v.next) errs.repeat = t('account.err.repeat');
    setErrors(errs);
    setGeneral(null);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await post('/api/auth/password', { current: v.current, next: v.next });
      setV({ current: '', next: '', repeat: '' });
      setDone(true);
    } catch (e) {
      const field = errorField(e);
      if (field === 'current') setErrors({ current: t('account.err.wrongCurrent') });
      else if (field === 'next') setErrors({ next: e instanceof HttpError ? inLocale(e.message.replace(/^body\/next:\s*/, '')) : t('account.err.short', { n: MIN_PASSWORD }) });
      else setGeneral(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const input = (f: Field, labelText: string, auto: string) => (
    <label class={errors[f] ? 'has-error' : ''}>
      <span>{labelText}</span>
      <input type="password" name={`pw-${f}`} autoComplete={auto} maxLength={256} value={v[f]} onInput={(e) => set(f, e.currentTarget.value)} aria-invalid={!!errors[f]} data-testid={`pw-${f}`} />
      {errors[f] && (
        <small class="field-error" role="alert" data-testid={`pw-${f}-error`}>
          {errors[f]}
        </small>
      )}
    </label>
  );

  return (
    <form
      class="account-pw"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {input('current', t('account.current'), 'current-password')}
      {input('next', t('account.next'), 'new-password')}
      {input('repeat', t('account.repeat'), 'new-password')}
      <p class="muted small">{t('account.pwNote', { n: MIN_PASSWORD })}</p>
      {general && (
        <p class="form-error" role="alert">
          {general}
        </p>
      )}
      {done && (
        <p class="account-done" role="status" data-testid="pw-done">
          {t('account.changed')}
        </p>
      )}
      <button type="submit" class="btn primary" disabled={busy} data-testid="pw-submit">
        {busy ? t('common.wait') : t('account.changeButton')}
      </button>
    </form>
  );
}
