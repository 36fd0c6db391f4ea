/**
 * Users and roles (用户与角色, issue 20): the admin's requests to /api/users and the error messages of that screen
 * in the user's language. Nothing here renders.
 */
import { HttpError, api, get, post } from './api';
import { t, type MsgKey } from './i18n';
import { errorText } from './session';
import type { Role, User } from './types';

/** GET /api/users declares no response schema: the user as /api/auth/me has it, and when it was made. */
export type UserRow = User & { createdAt?: string; lastLoginAt?: string | null };

export const ROLE_LIST: readonly Role[] = ['agent', 'supervisor', 'installer', 'admin', 'wallboard'];
export const USERNAME_RE = /^[A-Za-z0-9_.-]{2,32}$/;
export const EXTENSION_RE = /^[0-9]{2,8}$/;
export const MIN_PASSWORD = 8;

export const listUsers = () => get<UserRow[]>('/api/users');

export const createUser = (body: { username: string; displayName?: string; role: Role; password: string; extension?: string }) => post<UserRow>('/api/users', body);

export const patchUser = (id: number, body: { displayName?: string; role?: Role; password?: string; extension?: string | null; disabled?: boolean }) =>
  api<UserRow>('PATCH', `/api/users/${id}`, body);

/** 16 characters from an alphabet without look-alikes (0/O, 1/l/I): about 93 bits, read aloud or typed easily. */
export function generatePassword(n = 16): string {
  const abc = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const out: string[] = [];
  const buf = new Uint8Array(64);
  while (out.length < n) {
    crypto.getRandomValues(buf);
    // rejection sampling: no bias toward the first letters
    for (const b of buf) if (b < 256 - (256 % abc.length) && out.length < n) out.push(abc[b % abc.length]!);
  }
  return out.join('');
}

const FIELD_KEYS: Record<string, MsgKey> = {
  username: 'users.err.username',
  password: 'users.err.password',
  extension: 'users.err.extension',
  displayName: 'users.err.displayName',
  role: 'users.err.role',
};

/** The server's answer in the user's language: a taken username, the field a validation failed on, or errorText. */
export function userErrorText(e: unknown): string {
  if (e instanceof HttpError) {
    if (e.status === 409 && /username/.test(e.message)) return t('users.err.taken');
    if (e.status === 404) return t('users.err.missing');
    if (e.code === 'validation') {
      const field = /body\/(\w+)/.exec(e.message)?.[1];
      const key = field ? FIELD_KEYS[field] : undefined;
      if (key) return t(key);
    }
  }
  return errorText(e);
}
