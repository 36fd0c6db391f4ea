/**
 * 历史查询 (history, issue 23) on the dashboard: the alarm history's and the audit log's searches (GET
 * /api/history/alarms, GET /api/audit — calls are the call log's own search), their query strings, and the pager's
 * cursors. Dates are local dates of the centre (the API reads them in TZ_CENTRE, "to" included). Nothing here renders.
 */
import { get } from './api';
import type { paths } from './api-types';
import { hasKey, t, type MsgKey } from './i18n';

type AlarmRoute = paths['/api/history/alarms']['get'];
type AuditRoute = paths['/api/audit']['get'];
export type AlarmHistoryQuery = NonNullable<AlarmRoute['parameters']['query']>;
export type AuditQuery = NonNullable<AuditRoute['parameters']['query']>;
export type AlarmHistoryPage = AlarmRoute['responses'][200]['content']['application/json'];
export type AuditPage = AuditRoute['responses'][200]['content']['application/json'];
export type AlarmHistoryRow = AlarmHistoryPage['items'][number];
export type AuditEntry = AuditPage['items'][number];

/** The alarm states the state filter offers (each has a state.* label). */
export const ALARM_STATES = ['raised', 'presented', 'accepted', 'in_progress', 'resolved', 'followed_up', 'closed', 'cleared'] as const satisfies readonly NonNullable<AlarmHistoryQuery['state']>[];

export const PAGE_SIZE = 25;

/** A query string of the set fields only (empty strings are "any"). */
export function searchPath(path: string, q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const qs = p.toString();
  return qs ? `${path}?${qs}` : path;
}

export const searchAlarmHistory = (q: AlarmHistoryQuery) => get<AlarmHistoryPage>(searchPath('/api/history/alarms', q));
export const searchAudit = (q: AuditQuery) => get<AuditPage>(searchPath('/api/audit', q));

/**
 * The pages seen so far: the cursor that opened each (undefined for the first). 下一页 pushes the page's nextCursor,
 * 上一页 pops; page n is cursors.length.
 */
export interface Pager {
  cursors: (string | undefined)[];
}
export const firstPage = (): Pager => ({ cursors: [undefined] });
export const nextPage = (p: Pager, cursor: string): Pager => ({ cursors: [...p.cursors, cursor] });
export const previousPage = (p: Pager): Pager => (p.cursors.length > 1 ? { cursors: p.cursors.slice(0, -1) } : p);
export const currentCursor = (p: Pager) => p.cursors[p.cursors.length - 1];
export const pageNo = (p: Pager) => p.cursors.length;
export const pageCount = (total: number, size = PAGE_SIZE) => Math.max(1, Math.ceil(total / size));

/** An audit action's label where the dashboard has one (history.action.*, else the alarm timeline's action.*), else the raw code. */
export function auditActionText(action: string): string {
  for (const key of [`history.action.${action}`, `action.${action}`]) if (hasKey(key)) return t(key as MsgKey);
  return action;
}

/** The detail as one line of JSON text, and whether it was cut to `max` characters. */
export function detailText(detail: Record<string, unknown>, full: boolean, max = 80): { text: string; cut: boolean } {
  const s = JSON.stringify(detail);
  if (s === '{}') return { text: '', cut: false };
  return full || s.length <= max ? { text: s, cut: false } : { text: `${s.slice(0, max)}…`, cut: true };
}

/** Who an audit row names: the user's name (and username), else the stored actor (system, staff:3 …). */
export function auditWho(e: AuditEntry): string {
  if (e.username) return e.displayName && e.displayName !== e.username ? `${e.displayName} (${e.username})` : e.username;
  return e.actor;
}
