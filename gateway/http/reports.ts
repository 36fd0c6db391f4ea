/**
 * Reports (统计报表, issue 23): GET /api/reports/:report as JSON, and /export as xlsx or CSV. A range of local dates
 * of the centre's time zone (this month by default), grouped by day, week or month, filtered by area, agent, alarm
 * kind and priority. Supervisors and admins see every report; an agent sees the agents report with their own row
 * only (their own agentId or none), and is refused the others (403): agents see only their own stats.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { isLocalDate, localDate } from '../../care/index.js';
import { ALARM_KINDS } from '../../protocols/message.js';
import { REPORTS, REPORT_COLUMNS, exportReport, sheetRows, type ReportName } from '../reports/export.js';
import type { Db } from '../store/db.js';
import { ANSWER_TARGETS, agentsReport, alarmsReport, answeringReport, callsReport, devicesReport, workOrdersReport, type GroupBy, type ReportFilter, type Row } from '../store/reports.js';
import { requireRole } from './auth.js';
import { ApiError, badField } from './errors.js';

const DateStr = (description: string) => Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: `yyyy-mm-dd, local date of the centre: ${description}` });
const Query = {
  from: Type.Optional(DateStr('the first, included (default: the 1st of this month)')),
  to: Type.Optional(DateStr('the last, included (default: the last day of this month)')),
  groupBy: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')], { default: 'day' })),
  area: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "the elder's area (片区/社区)" })),
  agentId: Type.Optional(Type.Integer({ minimum: 1 })),
  kind: Type.Optional(Type.Union(ALARM_KINDS.map((k) => Type.Literal(k)))),
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
  silentH: Type.Optional(Type.Integer({ minimum: 1, maximum: 720, default: 24, description: 'devices: silent when not heard from for this many hours' })),
};
const Params = Type.Object({ report: Type.Union(REPORTS.map((r) => Type.Literal(r))) });
const QuerySchema = Type.Object(Query, { additionalProperties: false });
const ExportQuery = Type.Object({ ...Query, format: Type.Optional(Type.Union([Type.Literal('xlsx'), Type.Literal('csv')], { default: 'xlsx' })) }, { additionalProperties: false });

const Cell = Type.Union([Type.Null(), Type.Boolean(), Type.Number(), Type.String()]);
const RowSchema = Type.Record(Type.String(), Cell);
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const ReportSchema = Type.Object({
  report: Type.String(),
  from: Type.String(),
  to: Type.String(),
  groupBy: Type.String(),
  timezone: Type.String(),
  generatedAt: Type.String({ format: 'date-time' }),
  filters: Type.Object({ area: Type.Optional(Type.String()), agentId: Type.Optional(Type.Integer()), kind: Type.Optional(Type.String()), priority: Type.Optional(Type.Integer()) }),
  columns: Type.Array(Type.Object({ key: Type.String(), zh: Type.String(), en: Type.String() }), { description: 'the table: every row has these keys' }),
  rows: Type.Array(RowSchema),
  totals: Nullable(RowSchema),
  targets: Type.Optional(Type.Object({ rate60: Type.Number(), rate180: Type.Number() })),
  heatmap: Type.Optional(Type.Array(Type.Object({ weekday: Type.Integer({ description: '1 = Monday … 7 = Sunday' }), hour: Type.Integer(), count: Type.Integer() }))),
  falseAlarmsByDevice: Type.Optional(Type.Array(RowSchema)),
  falseAlarmsByElder: Type.Optional(Type.Array(RowSchema)),
  silentH: Type.Optional(Type.Integer()),
});
type Report = Static<typeof ReportSchema>;
type Q = Static<typeof QuerySchema>;

/** At most this many days in one report (three years). */
const MAX_DAYS = 1100;
const dayNo = (d: string) => Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10))) / 86_400_000;
const iso = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);

/** The range asked for, or this month in the centre's time zone. */
function range(q: Q, timeZone: string, now: Date): { from: string; to: string } {
  const today = localDate(now, timeZone);
  const month = (d: string) => ({ from: `${d.slice(0, 7)}-01`, to: iso(Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)), 0) / 86_400_000) });
  for (const k of ['from', 'to'] as const) if (q[k] !== undefined && !isLocalDate(q[k])) throw badField(`querystring/${k}`, `不是有效日期 / not a valid date: ${q[k]}`);
  const from = q.from ?? (q.to ? month(q.to).from : month(today).from);
  const to = q.to ?? (q.from ? month(q.from).to : month(today).to);
  if (dayNo(to) < dayNo(from)) throw badField('querystring/to', '结束日期早于开始日期 / to is before from');
  if (dayNo(to) - dayNo(from) + 1 > MAX_DAYS) throw badField('querystring/to', `区间过长 / at most ${MAX_DAYS} days in one report`);
  return { from, to };
}

/** `anxin-alarms-2026-11` for a whole month, `anxin-alarms-2026-11-01` for a day, else `anxin-alarms-2026-11-01_2026-11-15`. */
export function reportFileName(report: string, from: string, to: string): string {
  const wholeMonth = from.endsWith('-01') && from.slice(0, 7) === to.slice(0, 7) && dayNo(to) + 1 === Date.UTC(Number(to.slice(0, 4)), Number(to.slice(5, 7)), 1) / 86_400_000;
  return `anxin-${report}-${wholeMonth ? from.slice(0, 7) : from === to ? from : `${from}_${to}`}`;
}

export async function reportRoutes(app: FastifyInstance, o: { db: Db; timezone: string }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db, timezone } = o;
  const staff = requireRole(db, 'agent', 'supervisor', 'admin');
  const tags = ['reports'];

  async function build(req: FastifyRequest, report: ReportName, q: Q): Promise<Report> {
    const user = req.user!;
    let agentId = q.agentId;
    if (user.role === 'agent') {
      if (report !== 'agents') throw new ApiError(403, 'forbidden', '坐席只能查看本人的统计 / agents see only their own figures (the agents report)');
      if (agentId !== undefined && agentId !== user.id) throw new ApiError(403, 'forbidden', '坐席只能查看本人的统计 / agents see only their own figures');
      agentId = user.id;
    }
    const now = new Date();
    const { from, to } = range(q, timezone, now);
    const groupBy: GroupBy = q.groupBy ?? 'day';
    const f: ReportFilter = { from, to, tz: timezone, groupBy, now, area: q.area, agentId, kind: q.kind, priority: q.priority };
    const filters = Object.fromEntries(Object.entries({ area: q.area, agentId, kind: q.kind, priority: q.priority }).filter(([, v]) => v !== undefined));
    const head = { report, from, to, groupBy, timezone, generatedAt: now.toISOString(), filters, columns: REPORT_COLUMNS[report] };
    switch (report) {
      case 'alarms': {
        const a = await alarmsReport(db, f);
        return { ...head, rows: a.rows, totals: null, heatmap: a.heatmap as { weekday: number; hour: number; count: number }[], falseAlarmsByDevice: a.falseByDevice, falseAlarmsByElder: a.falseByElder };
      }
      case 'answering':
        return { ...head, ...(await answeringReport(db, f)), targets: { ...ANSWER_TARGETS } };
      case 'agents':
        return { ...head, rows: await agentsReport(db, f), totals: null };
      case 'calls':
        return { ...head, ...(await callsReport(db, f)) };
      case 'work-orders':
        return { ...head, ...(await workOrdersReport(db, f)) };
      case 'devices': {
        const silentH = q.silentH ?? 24;
        return { ...head, ...(await devicesReport(db, { area: q.area, now, silentH })), silentH };
      }
    }
  }

  r.get(
    '/api/reports/:report',
    {
      schema: {
        tags,
        summary: 'A report (统计报表): alarms, answering, agents, calls, work-orders or devices, over local dates',
        description: 'Supervisors and admins: every report. Agents: the agents report, their own row only; other reports 403. Devices is a snapshot of now (the range does not apply).',
        params: Params,
        querystring: QuerySchema,
        response: { 200: ReportSchema },
      },
      onRequest: staff,
    },
    async (req) => build(req, req.params.report, req.query),
  );

  r.get(
    '/api/reports/:report/export',
    {
      schema: { tags, summary: 'A report as .xlsx or .csv (UTF-8 with BOM): one sheet, zh-CN and English headers, the rows then the totals', params: Params, querystring: ExportQuery },
      onRequest: staff,
    },
    async (req, reply) => {
      const { format = 'xlsx', ...q } = req.query;
      const rep = await build(req, req.params.report, q);
      const body = await exportReport(format, `${rep.report} ${rep.from}`, rep.columns, sheetRows(rep.columns, rep.rows as Row[], (rep.totals ?? null) as Row | null));
      const name = `${reportFileName(rep.report, rep.from, rep.to)}.${format}`;
      reply
        .header('content-type', format === 'xlsx' ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`);
      return reply.send(body);
    },
  );
}
