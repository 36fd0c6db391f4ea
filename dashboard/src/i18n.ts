/** Every string the dashboard shows comes from locales/*.json. zh-CN is the default, English the second. */
import zh from './locales/zh-CN.json';
import en from './locales/en.json';

export type Locale = 'zh-CN' | 'en';
export type MsgKey = keyof typeof zh;
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];

const tables: Record<Locale, Record<string, string>> = { 'zh-CN': zh, en };
let current: Locale = localStorage.getItem('anxin.locale') === 'en' ? 'en' : 'zh-CN';

export const locale = () => current;
export function setLocale(l: Locale): void {
  current = l;
  localStorage.setItem('anxin.locale', l);
  document.documentElement.lang = l;
  document.title = t('app.title');
}

export function t(key: MsgKey, params?: Record<string, string | number>): string {
  const s = tables[current][key] ?? tables['zh-CN'][key] ?? key;
  return params ? s.replace(/\{(\w+)\}/g, (m, k: string) => (params[k] !== undefined ? String(params[k]) : m)) : s;
}

/** A label from a family of keys (kind.sos, state.presented…); the raw value when there is no translation. */
export function label(prefix: 'kind' | 'state' | 'agentState' | 'action' | 'deviceKind' | 'callState' | 'gender' | 'priority' | 'role' | 'conn' | 'callParty' | 'callOutcome' | 'commandState' | 'callAction', value: string | number): string {
  const key = `${prefix}.${value}`;
  return tables[current][key] ?? tables['zh-CN'][key] ?? String(value);
}

export function hasKey(key: string): key is MsgKey {
  return key in tables['zh-CN'];
}

/** Dates and times in the centre's time zone, in the locale. */
export function fmtTime(iso: string | number | Date, tz?: string, withDate = false): string {
  const d = new Date(iso);
  return new Intl.DateTimeFormat(current, {
    timeZone: tz,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    ...(withDate ? { month: '2-digit', day: '2-digit' } : {}),
  }).format(d);
}

/** 65 → "01:05", 3725 → "1:02:05". */
export function fmtDuration(totalS: number): string {
  const s = Math.max(0, Math.floor(totalS));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** "3 分钟前" / "3 min ago" */
export function fmtAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return t('common.never');
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return t('ago.seconds', { n: s });
  if (s < 3600) return t('ago.minutes', { n: Math.floor(s / 60) });
  if (s < 86400) return t('ago.hours', { n: Math.floor(s / 3600) });
  return t('ago.days', { n: Math.floor(s / 86400) });
}

export function fmtPercent(r: number | null | undefined): string {
  return r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`;
}
