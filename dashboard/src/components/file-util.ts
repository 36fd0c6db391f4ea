/** Small helpers the elder's file and its dialogs share. */
import { locale } from '../i18n';
import { store } from '../store';
import type { Role } from '../types';

/** Focus is in a text field: single-letter shortcuts must not fire. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  if (el.tagName === 'INPUT') return !['radio', 'checkbox', 'button', 'submit'].includes((el as HTMLInputElement).type);
  return el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
}

export function outcomeLabel(code: string): string {
  const o = store.get().outcomes[code];
  return o ? (locale() === 'en' ? o.en : o.zh) : code;
}

/**
 * An ID number (身份证号) as this role may see it. The server already masks it for everyone but admins; if it
 * ever sends a full one to another role, only the last four characters are shown.
 */
export function idNumberFor(value: string, role: Role | undefined): string {
  if (role === 'admin' || value.includes('*')) return value;
  const v = value.trim();
  return v.length <= 4 ? v : `${'*'.repeat(v.length - 4)}${v.slice(-4)}`;
}
