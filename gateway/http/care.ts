/** Care programmes (issue 22, care/README.md): schedules per elder, the centre's holidays, the day's runs, the agents' care calls, the report. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CARE_TASK_REASONS, isLocalDate, localDate, missedStreaks } from '../../care/index.js';
import type { CareService } from '../care/care-service.js';
import { careReport, dueTasks, finalWelfareRuns, listHolidays, listRuns, listSchedules, replaceHolidays } from '../store/care.js';
import { audit } from '../store/audit.js';
import { tx, type Db } from '../store/db.js';
import { getElder } from '../store/elders.js';
import { actorOf, requireRole } from './auth.js';
import { badField, notFound } from './errors.js';
import { Id } from './schemas.js';

const strict = { additionalProperties: false } as const;
const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM local time' });
const DateStr = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'yyyy-mm-dd, local' });
const Recurrence = Type.Union([
  Type.Object({ kind: Type.Literal('daily') }, strict),
  Type.Object({ kind: Type.Literal('weekdays') }, strict),
  Type.Object({ kind: Type.Literal('days'), days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, description: '1 = Monday … 7 = Sunday' }) }, strict),
  Type.Object({ kind: Type.Literal('every'), n: Type.Integer({ minimum: 1, maximum: 365 }), from: DateStr }, strict),
]);
const Window = Type.Union([Type.Object({ from: HHMM, to: HHMM }, strict), Type.Null()]);
const ScheduleFields = {
  kind: Type.Union([Type.Literal('welfare_call'), Type.Literal('medication'), Type.Literal('appointment')]),
  channel: Type.Optional(Type.Union([Type.Literal('call'), Type.Literal('sms')])),
  recurrence: Recurrence,
  times: Type.Array(HHMM, { minItems: 1, maxItems: 6 }),
  skipHolidays: Type.Optional(Type.Boolean()),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
  retryIntervalMin: Type.Optional(Type.Integer({ minimum: 1, maximum: 120 })),
  activityCheckin: Type.Optional(Type.Boolean({ description: 'device activity in the hour before counts as a check-in' })),
  checkinWindow: Type.Optional(Window),
  note: Type.Optional(Type.String({ maxLength: 200 })),
  active: Type.Optional(Type.Boolean()),
};
const ScheduleBody = Type.Object(ScheduleFields, strict);
const SchedulePatch = Type.Partial(Type.Object(ScheduleFields, strict));
const Ts = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const CareScheduleSchema = Type.Object({
  id: Type.Integer(),
  elderId: Type.Integer(),
  ...ScheduleFields,
  channel: Type.Union([Type.Literal('call'), Type.Literal('sms')]),
  skipHolidays: Type.Boolean(),
  retries: Type.Integer(),
  retryIntervalMin: Type.Integer(),
  activityCheckin: Type.Boolean(),
  checkinWindow: Window,
  note: Type.String(),
  active: Type.Boolean(),
  nextAt: Nullable(Ts),
  createdAt: Ts,
  updatedAt: Ts,
});
const Attempt = Type.Object({ n: Type.Integer(), at: Type.String(), outcome: Nullable(Type.String()), callId: Nullable(Type.String()) });
const CareRunSchema = Type.Object({
  id: Type.Integer(),
  scheduleId: Type.Integer(),
  elderId: Type.Integer(),
  elderName: Type.String(),
  area: Nullable(Type.String()),
  kind: Type.String(),
  channel: Type.String(),
  localDate: Type.String(),
  dueAt: Ts,
  state: Type.String({ description: 'scheduled, calling, retry_wait, ok, help, failed, checked_in, skipped' }),
  attempts: Type.Array(Attempt),
  nextAttemptAt: Nullable(Ts),
  alarmId: Nullable(Type.Integer()),
  reason: Nullable(Type.String()),
  updatedAt: Ts,
});
const CareTaskSchema = Type.Object({
  id: Type.Integer(),
  elderId: Type.Integer(),
  elderName: Type.Optional(Type.String()),
  elderPhone: Type.Optional(Nullable(Type.String())),
  area: Type.Optional(Nullable(Type.String())),
  reason: Type.String(),
  dueDate: Type.String(),
  note: Type.String(),
  state: Type.Union([Type.Literal('open'), Type.Literal('done')]),
  result: Nullable(Type.String()),
  resultNote: Nullable(Type.String()),
  doneBy: Nullable(Type.Integer()),
  doneAt: Nullable(Ts),
  createdAt: Ts,
});
const ReportRow = Type.Object({ key: Type.String(), made: Type.Integer(), answered: Type.Integer(), ok: Type.Integer(), help: Type.Integer(), failed: Type.Integer(), escalated: Type.Integer(), checkedIn: Type.Integer() });
const Report = Type.Object({
  from: Type.String(),
  to: Type.String(),
  groupBy: Type.String(),
  rows: Type.Array(ReportRow),
  totals: ReportRow,
  flagged: Type.Array(Type.Object({ elderId: Type.Integer(), name: Type.String(), area: Nullable(Type.String()), days: Type.Integer(), lastDate: Type.String() })),
});

function day(v: string | undefined, field: string, timeZone: string): string {
  if (v === undefined) return localDate(new Date(), timeZone);
  if (!isLocalDate(v)) throw badField(field, `不是有效日期 / not a valid date: ${String(v).slice(0, 20)}`);
  return v;
}

export async function careRoutes(app: FastifyInstance, o: { db: Db; care: CareService; timezone: string }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db, care } = o;
  const staff = requireRole(db, 'agent', 'supervisor', 'admin');
  const lead = requireRole(db, 'supervisor', 'admin');
  const admin = requireRole(db, 'admin');
  const tags = ['care'];
  const uid = (req: { user?: { id: number } }) => req.user!.id;

  r.get('/api/elders/:id/care-schedules', { schema: { tags, summary: "An elder's care schedules (平安呼叫, reminders)", params: Id, response: { 200: Type.Array(CareScheduleSchema) } }, onRequest: staff }, async (req) => {
    if (!(await getElder(db, req.params.id))) throw notFound(`elder ${req.params.id}`);
    return listSchedules(db, req.params.id);
  });
  r.post('/api/elders/:id/care-schedules', { schema: { tags, summary: 'A new care schedule for the elder; its runs are made at once', params: Id, body: ScheduleBody, response: { 201: CareScheduleSchema } }, onRequest: lead }, async (req, reply) =>
    reply.status(201).send(await care.saveSchedule({ elderId: req.params.id }, req.body as Static<typeof ScheduleBody>, uid(req))),
  );
  r.patch('/api/care-schedules/:id', { schema: { tags, summary: 'Change a care schedule (runs not started yet follow it)', params: Id, body: SchedulePatch, response: { 200: CareScheduleSchema } }, onRequest: lead }, async (req) =>
    care.saveSchedule({ id: req.params.id }, req.body as Static<typeof SchedulePatch>, uid(req)),
  );
  r.delete('/api/care-schedules/:id', { schema: { tags, params: Id }, onRequest: lead }, async (req, reply) => {
    await care.removeSchedule(req.params.id, uid(req));
    return reply.status(204).send();
  });

  r.get('/api/care/holidays', { schema: { tags, summary: "The centre's holidays (a schedule may skip them)", response: { 200: Type.Object({ dates: Type.Array(Type.String()) }) } }, onRequest: staff }, async () => ({ dates: await listHolidays(db) }));
  r.put('/api/care/holidays', { schema: { tags, body: Type.Object({ dates: Type.Array(DateStr, { maxItems: 400, uniqueItems: true }) }, strict), response: { 200: Type.Object({ dates: Type.Array(Type.String()) }) } }, onRequest: admin }, async (req) => {
    req.body.dates.forEach((d, i) => day(d, `body/dates/${i}`, o.timezone));
    await tx(db, async (c) => {
      await replaceHolidays(c, req.body.dates);
      await audit(c, actorOf(req), 'care_holidays', undefined, { count: req.body.dates.length });
    });
    await care.plan();
    return { dates: await listHolidays(db) };
  });

  r.get('/api/care/runs', {
    schema: { tags, summary: 'Welfare calls and reminders of a local date (default today)', querystring: Type.Object({ date: Type.Optional(Type.String()), elderId: Type.Optional(Type.Integer({ minimum: 1 })), state: Type.Optional(Type.String({ maxLength: 20 })) }), response: { 200: Type.Array(CareRunSchema) } },
    onRequest: staff,
  }, async (req) => listRuns(db, { ...req.query, date: day(req.query.date, 'querystring/date', o.timezone) }));

  r.get('/api/care/due', { schema: { tags, summary: "The agents' care calls: open ones due by the date, and those done that day", querystring: Type.Object({ date: Type.Optional(Type.String()) }), response: { 200: Type.Array(CareTaskSchema) } }, onRequest: staff }, async (req) =>
    dueTasks(db, day(req.query.date, 'querystring/date', o.timezone), o.timezone),
  );
  r.post('/api/care/tasks', {
    schema: { tags, summary: 'A personal care call to make (after a hospital stay, a follow-up …)', body: Type.Object({ elderId: Type.Integer({ minimum: 1 }), reason: Type.Union(CARE_TASK_REASONS.map((x) => Type.Literal(x))), dueDate: DateStr, note: Type.Optional(Type.String({ maxLength: 1000 })) }, strict), response: { 201: CareTaskSchema } },
    onRequest: staff,
  }, async (req, reply) => {
    day(req.body.dueDate, 'body/dueDate', o.timezone);
    return reply.status(201).send(await care.addTask(req.body, uid(req)));
  });
  r.post('/api/care/tasks/:id/done', {
    schema: { tags, summary: 'A care call made, with its result', params: Id, body: Type.Object({ result: Type.Union([Type.Literal('reached'), Type.Literal('not_reached')]), note: Type.Optional(Type.String({ maxLength: 2000 })) }, strict), response: { 200: CareTaskSchema } },
    onRequest: staff,
  }, async (req) => care.doneTask(req.params.id, req.body, uid(req)));

  r.get('/api/care/report', {
    schema: { tags, summary: 'Welfare calls per day or area, and elders who missed 2 days in a row', querystring: Type.Object({ from: Type.Optional(Type.String()), to: Type.Optional(Type.String()), groupBy: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('area')])) }), response: { 200: Report } },
    onRequest: lead,
  }, async (req) => {
    const to = day(req.query.to, 'querystring/to', o.timezone);
    const from = req.query.from ? day(req.query.from, 'querystring/from', o.timezone) : `${to.slice(0, 8)}01`;
    if (from > to) throw badField('querystring/from', '开始日期晚于结束日期 / from is after to');
    const groupBy = req.query.groupBy ?? 'day';
    const rows = await careReport(db, { from, to, groupBy });
    const totals = rows.reduce((t, x) => ({ key: 'total', made: t.made + x.made, answered: t.answered + x.answered, ok: t.ok + x.ok, help: t.help + x.help, failed: t.failed + x.failed, escalated: t.escalated + x.escalated, checkedIn: t.checkedIn + x.checkedIn }), { key: 'total', made: 0, answered: 0, ok: 0, help: 0, failed: 0, escalated: 0, checkedIn: 0 });
    const streaks = missedStreaks(await finalWelfareRuns(db, from, to), 2);
    const flagged = [];
    for (const s of streaks) {
      const e = await getElder(db, s.elderId);
      flagged.push({ elderId: s.elderId, name: e?.name ?? '', area: e?.area ?? null, days: s.days, lastDate: s.lastDate });
    }
    return { from, to, groupBy, rows, totals, flagged };
  });
}
