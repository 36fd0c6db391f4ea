/**
 * Users and roles (用户与角色), for admins: the list, create (an initial password generated and shown once, or
 * typed), edit the display name and extension, change the role, disable and enable, reset the password (the new
 * one shown once). Disabling, a role change and a password reset end every session of that user on the server, so
 * each asks first. The admin's own row has no role change or disable: the server does not refuse them, and an
 * admin who demoted or disabled themselves would lock the centre out of this screen. Nor a reset of one's own
 * password: it ends this session before the new password could be read (a change-own-password route is missing).
 * Every text from the data is rendered as text (JSX), never as HTML.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtTime, label, t } from '../i18n';
import { notify, useStore } from '../store';
import type { Role } from '../types';
import { EXTENSION_RE, MIN_PASSWORD, ROLE_LIST, USERNAME_RE, createUser, generatePassword, listUsers, patchUser, userErrorText, type UserRow } from '../users';
import { ConfirmDialog, Modal } from './Dialogs';

/** A password to hand over once: who it is for and why (created or reset). */
interface Secret {
  username: string;
  password: string;
  why: 'created' | 'reset';
}

type Pending = { kind: 'disable'; user: UserRow } | { kind: 'role'; user: UserRow; role: Role } | { kind: 'reset'; user: UserRow };

export function Users() {
  const me = useStore((s) => s.user);
  const tz = useStore((s) => s.config.timezone);
  const [users, setUsers] = useState<UserRow[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<Secret | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [editing, setEditing] = useState<UserRow | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      setUsers(await listUsers());
      setLoadError(null);
    } catch (e) {
      setLoadError(userErrorText(e));
    }
  };
  useEffect(() => void load(), []);
  // Esc cancels the confirmation or the edit (as the dialogs say)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setPending(null);
      setEditing(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const put = (u: UserRow) => setUsers((list) => (list ? (list.some((x) => x.id === u.id) ? list.map((x) => (x.id === u.id ? u : x)) : [...list, u]) : [u]));

  /** A row action: the server's answer replaces the row; its refusal is a notice in the user's language. */
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      notify('error', userErrorText(e));
    } finally {
      setBusy(false);
      setPending(null);
    }
  };

  const confirmPending = () => {
    const p = pending;
    if (!p) return;
    if (p.kind === 'disable') {
      void run(async () => {
        put(await patchUser(p.user.id, { disabled: true }));
        notify('info', t('users.disabledDone', { name: p.user.username }));
      });
    } else if (p.kind === 'role') {
      void run(async () => {
        put(await patchUser(p.user.id, { role: p.role }));
        notify('info', t('users.roleDone', { name: p.user.username, role: label('role', p.role) }));
      });
    } else {
      void run(async () => {
        const password = generatePassword();
        put(await patchUser(p.user.id, { password }));
        setSecret({ username: p.user.username, password, why: 'reset' });
      });
    }
  };

  return (
    <main class="users-view" data-testid="users-view">
      <section class="box users-box" aria-label={t('users.title')}>
        <div class="users-head">
          <h2>{t('users.title')}</h2>
          <span class="muted">{users ? t('users.count', { n: users.length }) : ''}</span>
          <div class="users-head-actions">
            <button type="button" class="btn ghost small" onClick={() => void load()} data-testid="users-refresh">
              {t('users.refresh')}
            </button>
            <button type="button" class="btn primary" aria-expanded={creating} onClick={() => setCreating((c) => !c)} data-testid="users-new">
              {creating ? t('common.cancel') : t('users.new')}
            </button>
          </div>
        </div>
        <p class="muted users-note">{t('users.note')}</p>

        {secret && <SecretPanel secret={secret} onDone={() => setSecret(null)} />}

        {creating && (
          <CreateForm
            onCreated={(u, password) => {
              put(u);
              setCreating(false);
              setSecret({ username: u.username, password, why: 'created' });
            }}
          />
        )}

        {loadError && (
          <p class="users-error" role="alert" data-testid="users-load-error">
            {loadError}
          </p>
        )}
        {!users && !loadError && <p class="muted">{t('common.loading')}</p>}
        {users && (
          <div class="table-wrap">
            <table class="table users-table" data-testid="users-table">
              <thead>
                <tr>
                  <th>{t('users.username')}</th>
                  <th>{t('users.displayName')}</th>
                  <th>{t('users.role')}</th>
                  <th>{t('users.extension')}</th>
                  <th>{t('users.status')}</th>
                  <th>{t('users.created')}</th>
                  <th>{t('users.lastLogin')}</th>
                  <th>{t('users.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => {
                  const self = u.id === me?.id;
                  return (
                    <tr key={u.id} class={u.disabled ? 'user-disabled' : ''} data-testid="user-row" data-username={u.username} data-user-id={u.id} data-disabled={String(u.disabled)} data-role={u.role}>
                      <td class="nowrap">
                        <strong>{u.username}</strong>
                        {self && <small class="users-self"> {t('users.self')}</small>}
                      </td>
                      <td class="users-name" title={u.displayName} data-testid="user-display-name">
                        {u.displayName || <span class="muted">—</span>}
                      </td>
                      <td class="nowrap">
                        {self ? (
                          <span title={t('users.selfRole')}>{label('role', u.role)}</span>
                        ) : (
                          <select
                            value={u.role}
                            aria-label={t('users.changeRole', { name: u.username })}
                            disabled={busy}
                            onChange={(e) => {
                              const role = e.currentTarget.value as Role;
                              // back to the current role until confirmed
                              e.currentTarget.value = u.role;
                              if (role !== u.role) setPending({ kind: 'role', user: u, role });
                            }}
                            data-testid="user-role"
                          >
                            {ROLE_LIST.map((r) => (
                              <option key={r} value={r}>
                                {label('role', r)}
                              </option>
                            ))}
                          </select>
                        )}
                      </td>
                      <td class="nowrap">{u.extension ?? '—'}</td>
                      <td class="nowrap">
                        <span class={`user-status ${u.disabled ? 'off' : 'on'}`} data-testid="user-status">
                          {u.disabled ? t('users.disabled') : t('users.enabled')}
                        </span>
                      </td>
                      <td class="nowrap muted">{u.createdAt ? fmtTime(u.createdAt, tz, true) : '—'}</td>
                      <td class="nowrap muted" data-testid="user-last-login">{u.lastLoginAt ? fmtTime(u.lastLoginAt, tz, true) : t('users.neverLoggedIn')}</td>
                      <td class="row-actions nowrap">
                        <button type="button" class="btn ghost small" disabled={busy} onClick={() => setEditing(u)} data-testid="user-edit">
                          {t('users.edit')}
                        </button>
                        {/* one's own reset would end this very session before the new password is read */}
                        {!self && (
                          <button type="button" class="btn ghost small" disabled={busy} onClick={() => setPending({ kind: 'reset', user: u })} data-testid="user-reset">
                            {t('users.reset')}
                          </button>
                        )}
                        {!self &&
                          (u.disabled ? (
                            <button type="button" class="btn small" disabled={busy} onClick={() => void run(async () => put(await patchUser(u.id, { disabled: false })))} data-testid="user-enable">
                              {t('users.enable')}
                            </button>
                          ) : (
                            <button type="button" class="btn danger small" disabled={busy} onClick={() => setPending({ kind: 'disable', user: u })} data-testid="user-disable">
                              {t('users.disable')}
                            </button>
                          ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {pending && (
        <ConfirmDialog
          title={pending.kind === 'disable' ? t('users.confirmDisableTitle') : pending.kind === 'role' ? t('users.confirmRoleTitle') : t('users.confirmResetTitle')}
          text={
            pending.kind === 'disable'
              ? t('users.confirmDisable', { name: pending.user.username })
              : pending.kind === 'role'
                ? t('users.confirmRole', { name: pending.user.username, from: label('role', pending.user.role), to: label('role', pending.role) })
                : t('users.confirmReset', { name: pending.user.username })
          }
          confirm={pending.kind === 'disable' ? t('users.disable') : pending.kind === 'role' ? t('users.changeRoleOk') : t('users.reset')}
          busy={busy}
          onCancel={() => setPending(null)}
          onConfirm={confirmPending}
        />
      )}
      {editing && (
        <EditDialog
          user={editing}
          onCancel={() => setEditing(null)}
          onSaved={(u) => {
            put(u);
            setEditing(null);
          }}
        />
      )}
    </main>
  );
}

/** The new user's form. The password is generated (shown once after) or typed by the admin. */
function CreateForm({ onCreated }: { onCreated: (u: UserRow, password: string) => void }) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [extension, setExtension] = useState('');
  const [typed, setTyped] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  const submit = async () => {
    const u = username.trim();
    const ext = extension.trim();
    if (!USERNAME_RE.test(u)) return setError(t('users.err.username'));
    if (ext && !EXTENSION_RE.test(ext)) return setError(t('users.err.extension'));
    if (typed && password.length < MIN_PASSWORD) return setError(t('users.err.password'));
    const pw = typed ? password : generatePassword();
    setBusy(true);
    setError(null);
    try {
      const created = await createUser({ username: u, role, password: pw, ...(displayName.trim() ? { displayName: displayName.trim() } : {}), ...(ext ? { extension: ext } : {}) });
      onCreated(created, pw);
    } catch (e) {
      setError(userErrorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="users-create"
      data-testid="users-create"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label>
        <span>{t('users.username')}</span>
        <input ref={first} name="new-username" autoComplete="off" spellcheck={false} maxLength={32} value={username} onInput={(e) => setUsername(e.currentTarget.value)} placeholder={t('users.usernameHint')} required data-testid="new-username" />
      </label>
      <label>
        <span>{t('users.displayName')}</span>
        <input name="new-display-name" autoComplete="off" maxLength={64} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} data-testid="new-display-name" />
      </label>
      <label>
        <span>{t('users.role')}</span>
        <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} data-testid="new-role">
          {ROLE_LIST.map((r) => (
            <option key={r} value={r}>
              {label('role', r)}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t('users.extension')}</span>
        <input name="new-extension" inputMode="numeric" autoComplete="off" maxLength={8} value={extension} onInput={(e) => setExtension(e.currentTarget.value)} placeholder={t('users.extensionHint')} data-testid="new-extension" />
      </label>
      <fieldset class="users-pw">
        <legend>{t('users.initialPassword')}</legend>
        <label class="inline">
          <input type="radio" name="pw-mode" checked={!typed} onChange={() => setTyped(false)} data-testid="pw-generate" />
          {t('users.pwGenerate')}
        </label>
        <label class="inline">
          <input type="radio" name="pw-mode" checked={typed} onChange={() => setTyped(true)} data-testid="pw-typed" />
          {t('users.pwType')}
        </label>
        {typed && (
          <input type="password" name="new-password" autoComplete="new-password" minLength={MIN_PASSWORD} maxLength={256} value={password} onInput={(e) => setPassword(e.currentTarget.value)} placeholder={t('users.err.password')} aria-label={t('users.initialPassword')} data-testid="new-password" />
        )}
      </fieldset>
      <div class="users-create-actions">
        <button type="submit" class="btn primary" disabled={busy} data-testid="create-user">
          {busy ? t('common.wait') : t('users.create')}
        </button>
      </div>
      {error && (
        <p class="users-error" role="alert" data-testid="users-error">
          {error}
        </p>
      )}
    </form>
  );
}

/** A password shown this once, with a copy button; gone when dismissed (and never kept anywhere). */
function SecretPanel({ secret, onDone }: { secret: Secret; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const code = useRef<HTMLElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret.password);
      setCopied(true);
    } catch {
      // no clipboard (permission, an old browser): select the text for Ctrl+C
      const el = code.current;
      const sel = window.getSelection();
      if (el && sel) {
        const range = document.createRange();
        range.selectNodeContents(el);
        sel.removeAllRanges();
        sel.addRange(range);
      }
      notify('info', t('users.copyManual'));
    }
  };
  return (
    <div class="users-secret" role="status" data-testid="users-secret" data-username={secret.username}>
      <div>
        <strong>{secret.why === 'created' ? t('users.secretCreated', { name: secret.username }) : t('users.secretReset', { name: secret.username })}</strong>
        <p class="muted">{t('users.secretOnce')}</p>
      </div>
      <code ref={code} class="users-secret-pw" data-testid="secret-password">
        {secret.password}
      </code>
      <button type="button" class="btn small" onClick={() => void copy()} data-testid="secret-copy">
        {copied ? t('users.copied') : t('users.copy')}
      </button>
      <button type="button" class="btn primary small" onClick={onDone} data-testid="secret-done">
        {t('users.secretDone')}
      </button>
    </div>
  );
}

/** The display name and the extension (empty: none). Neither ends the user's sessions. */
function EditDialog({ user, onCancel, onSaved }: { user: UserRow; onCancel: () => void; onSaved: (u: UserRow) => void }) {
  const [displayName, setDisplayName] = useState(user.displayName);
  const [extension, setExtension] = useState(user.extension ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async () => {
    const ext = extension.trim();
    if (ext && !EXTENSION_RE.test(ext)) return setError(t('users.err.extension'));
    setBusy(true);
    setError(null);
    try {
      onSaved(await patchUser(user.id, { displayName: displayName.trim(), extension: ext || null }));
    } catch (e) {
      setError(userErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={t('users.editTitle', { name: user.username })} onCancel={onCancel} testid="user-edit-dialog">
      <form
        class="users-edit"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label>
          <span>{t('users.displayName')}</span>
          <input autoFocus maxLength={64} value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} data-testid="edit-display-name" />
        </label>
        <label>
          <span>{t('users.extension')}</span>
          <input inputMode="numeric" maxLength={8} value={extension} onInput={(e) => setExtension(e.currentTarget.value)} placeholder={t('users.extensionHint')} data-testid="edit-extension" />
        </label>
        {error && (
          <p class="users-error" role="alert" data-testid="users-edit-error">
            {error}
          </p>
        )}
        <div class="modal-actions">
          <button type="button" class="btn ghost" onClick={onCancel}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn primary" disabled={busy} data-testid="edit-save">
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
