/**
 * History (历史查询, issue 23): GET /api/history/alarms for the staff, GET /api/audit (the audit log: who did what,
 * when and from where) for admins only. Calls are GET /api/call-log, which has the same filters and paging. A range
 * is local dates of the centre's time zone (to included) or exact instants (to excluded), at most 366 days; newest
 * first, a page at a time through nextCursor, with the total count.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TSchema, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ALARM_STATES, OUTCOME_CODES } from '../../alarms/index.js';
import { dateOfDay, dayNumber, isLocalDate, localToInstant } from '../../care/index.js';
import { ALARM_KINDS } from '../../protocols/message.js';
import type { Db } from '../store/db.js';
import { CURSOR_PATTERN, searchAlarmHistory, searchAudit } from '../store/history.js';
import { requireRole } from './auth.js';
import { badField } from './errors.js';

/** At most this many days in one search. */
export const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

const When = (which: string) =>
  Type.String({ maxLength: 40, description: `${which}: yyyy-mm-dd (a local date of the centre; "to" is included) or an ISO date-time ("to" is excluded)` });
const Paging = {
  from: Type.Optional(When('start (default: 366 days before "to")')),
  to: Type.Optional(When('end (default: now)')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ pattern: CURSOR_PATTERN, description: 'nextCursor of the page before' })),
};
const Literals = (xs: readonly string[]) => Type.Union(xs.map((x) => Type.Literal(x)));

const AlarmQuery = Type.Object(
  {
    ...Paging,
    elderId: Type.Optional(Type.Integer({ minimum: 1 })),
    deviceId: Type.Optional(Type.Integer({ minimum: 1 })),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "the device's identifier (IMEI, account) or the caller number" })),
    agentId: Type.Optional(Type.Integer({ minimum: 1, description: 'the agent who owned (accepted) the alarm' })),
    kind: Type.Optional(Literals(ALARM_KINDS)),
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    state: Type.Optional(Literals(ALARM_STATES)),
    outcome: Type.Optional(Literals(Object.keys(OUTCOME_CODES))),
    area: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "the elder's area (片区/社区)" })),
  },
  { additionalProperties: false },
);
const AuditQuery = Type.Object(
  {
    ...Paging,
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 80, description: "the actor as stored: user:12, system, staff:3, anonymous …" })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "a console user's username" })),
    action: Type.Optional(Type.String({ pattern: '^[a-z0-9_.:-]{1,64}$', description: 'actions starting with this' })),
    target: Type.Optional(Type.String({ minLength: 1, maxLength: 120, description: 'the target as stored: alarm:12, user:3 …' })),
    ip: Type.Optional(Type.String({ minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f.:]+$' })),
  },
  { additionalProperties: false },
);

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String({ description: 'pass as cursor for the next page; null on the last' })),
    total: Type.Integer({ description: 'rows matching the search, every page together' }),
    from: DateTime,
    to: Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', description: 'excluded' }),
  });
const AlarmHistorySchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  priority: Type.Integer(),
  state: Type.String(),
  outcome: Nullable(Type.String()),
  test: Type.Boolean(),
  count: Type.Integer(),
  firstAt: DateTime,
  acceptedAt: Nullable(DateTime),
  resolvedAt: Nullable(DateTime),
  closedAt: Nullable(DateTime),
  elderId: Nullable(Type.Integer()),
  elderName: Nullable(Type.String()),
  area: Nullable(Type.String()),
  deviceId: Nullable(Type.Integer()),
  deviceIdentifier: Nullable(Type.String()),
  sourceKey: Nullable(Type.String()),
  agentId: Nullable(Type.Integer()),
  agentName: Nullable(Type.String()),
});
const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  actor: Type.String(),
  userId: Nullable(Type.Integer()),
  username: Nullable(Type.String()),
  displayName: Nullable(Type.String()),
  action: Type.String(),
  target: Nullable(Type.String()),
  detail: Type.Object({}, { additionalProperties: true }),
  ip: Nullable(Type.String({ description: 'the client address of the HTTP request behind the action; null for device and system actions' })),
  userAgent: Nullable(Type.String()),
});

/** One end of a range as an instant: a local date's midnight in the centre's zone (the day after, for an included "to"). */
function instant(v: string, field: 'from' | 'to', timeZone: string): Date {
  const t = INSTANT.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t) && isLocalDate(v)) return localToInstant(field === 'to' ? dateOfDay(dayNumber(v) + 1) : v, '00:00', timeZone);
  if (Number.isNaN(t)) throw badField(`querystring/${field}`, `不是有效日期或时间 / not a date (yyyy-mm-dd) or an ISO date-time: ${v.slice(0, 40)}`);
  return new Date(t);
}

/** The search's range: checked, at most MAX_RANGE_DAYS long. */
export function rangeOf(q: { from?: string; to?: string }, timeZone: string, now = new Date()): { from: Date; to: Date } {
  const to = q.to !== undefined ? instant(q.to, 'to', timeZone) : now;
  const from = q.from !== undefined ? instant(q.from, 'from', timeZone) : new Date(to.getTime() - MAX_RANGE_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime()) throw badField('querystring/to', '结束早于开始 / "to" is not after "from"');
  // a day of slack: 366 local days may be an hour longer across a daylight-saving change
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS + 3_600_000) throw badField('querystring/from', `区间过长，最多 ${MAX_RANGE_DAYS} 天 / at most ${MAX_RANGE_DAYS} days in one search`);
  return { from, to };
}

export async function historyRoutes(app: FastifyInstance, o: { db: Db; timezone: string }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db, timezone } = o;

  r.get(
    '/api/history/alarms',
    {
      schema: { tags: ['history'], summary: 'Alarm history (历史告警): search by range, elder, device, agent, kind, priority, state, outcome, area; newest first, paged', querystring: AlarmQuery, response: { 200: PageOf(AlarmHistorySchema) } },
      onRequest: requireRole(db, 'agent', 'supervisor', 'admin'),
    },
    async (req) => {
      const { from, to, limit, cursor, ...f } = req.query;
      const range = rangeOf({ ...(from ? { from } : {}), ...(to ? { to } : {}) }, timezone);
      const page = await searchAlarmHistory(db, { ...f, ...range, ...(cursor ? { cursor } : {}), limit: limit ?? 50 });
      return { ...page, ...range };
    },
  );

  r.get(
    '/api/audit',
    {
      schema: { tags: ['history'], summary: 'Audit log (审计日志), admins only: who did what, when, from where; newest first, paged', querystring: AuditQuery, response: { 200: PageOf(AuditEntrySchema) } },
      onRequest: requireRole(db, 'admin'),
    },
    async (req) => {
      const { from, to, limit, cursor, ...f } = req.query;
      const range = rangeOf({ ...(from ? { from } : {}), ...(to ? { to } : {}) }, timezone);
      const page = await searchAudit(db, { ...f, ...range, ...(cursor ? { cursor } : {}), limit: limit ?? 50 });
      return { ...page, ...range };
    },
  );
}
