/**
 * Reports over a year (issue 23): a database migrated with the real migrations and filled IN SQL (generate_series,
 * INSERT … SELECT) with a year of a centre: 5,000 elders in 20 areas with a watch each, 60 agents, 1,000,000 alarms
 * with a daily and hourly shape (kinds, priorities, false alarms, accept / resolve / close times), 5,000,000 call
 * legs (2.5 M flows: the outside leg and the agent's), 10,000,000 agent state intervals and 20,000 work orders. Then
 * the store's report functions (what GET /api/reports/:report runs) over the whole year by month and by day, with
 * and without a filter, several runs each (median and max), one xlsx export, the first build of the rollups and an
 * incremental refresh after new and late-changed alarms. Baselines from the same run: a plain count(*) of the
 * year's alarms, and each report read straight from the base rows (the unoptimised queries). `--quick`: 1/20.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { REPORT_COLUMNS, exportReport, sheetRows } from '../../gateway/reports/export.js';
import { createPool, type Db } from '../../gateway/store/db.js';
import { migrate } from '../../gateway/store/migrate.js';
import { refreshRollups } from '../../gateway/store/report-rollups.js';
import { agentsReport, alarmsReport, answeringReport, callsReport, workOrdersReport, type GroupBy, type ReportFilter, type Row } from '../../gateway/store/reports.js';
import type { Ctx } from '../lib/measure.js';
import type { ScenarioResult } from '../lib/result.js';
import { createDatabase, dropDatabase } from '../lib/services.js';
import { round } from '../lib/stats.js';

const TZ = 'Asia/Shanghai';
const FROM = '2025-01-01';
const TO = '2025-12-31';
const KINDS = ['sos', 'fall', 'one_key_emergency', 'medical', 'smoke', 'gas', 'geofence_exit', 'vitals_abnormal', 'inactivity', 'help_requested'];
const STATES = ['ready', 'on_call', 'wrap_up', 'ready', 'not_ready', 'handling', 'ringing', 'away', 'on_call', 'ready'];
const REPORTS = { alarms: alarmsReport, answering: answeringReport, agents: agentsReport, calls: callsReport, 'work-orders': workOrdersReport } as const;
type Name = keyof typeof REPORTS;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** The year, in SQL: every row from generate_series, none from JavaScript. */
async function generate(db: Db, scale: number, log: (s: string) => void) {
  const n = { elders: 5000, agents: 60, alarms: Math.round(1_000_000 * scale), flows: Math.round(2_500_000 * scale), states: Math.round(10_000_000 * scale), orders: Math.round(20_000 * scale) };
  // the year's first instant (local midnight) and a shaped local time of day: 80 % between 07:00 and 22:00
  const y0 = `('${FROM}'::timestamp AT TIME ZONE '${TZ}')`;
  const when = `${y0} + floor(random() * 365) * interval '1 day' + (CASE WHEN random() < 0.8 THEN 25200 + random() * 54000 ELSE random() * 86400 END) * interval '1 second'`;
  const q = async (what: string, sql: string) => {
    const t = performance.now();
    await db.query(sql);
    log(`reports: ${what} in ${round((performance.now() - t) / 1000, 1)} s`);
  };
  await q('users', `INSERT INTO users (username, display_name, role, password_hash) SELECT 'agent' || g, '坐席' || g, 'agent', 'x' FROM generate_series(1, ${n.agents}) g`);
  await q('elders', `INSERT INTO elders (name, area) SELECT '老人' || g, '片区' || (g % 20 + 1) FROM generate_series(1, ${n.elders}) g`);
  await q('devices', `INSERT INTO devices (identifier, protocol, elder_id, kind) SELECT '86' || lpad(g::text, 13, '0'), 'watch', g, 'watch' FROM generate_series(1, ${n.elders}) g`);
  await q(
    `${n.alarms.toLocaleString('en')} alarms`,
    `INSERT INTO alarms (kind, priority, alarm_class, state, device_id, elder_id, first_at, last_at, accepted_at, resolved_at, closed_at, owner_id, outcome, test)
     SELECT k.kind, k.priority, CASE WHEN r.c < 0.9 THEN 'operator' ELSE 'condition' END, 'closed', r.elder, r.elder, r.t, r.t,
            r.t + r.acc, r.t + r.acc + r.res, r.t + r.acc + r.res + r.clo, (SELECT min(id) FROM users) + floor(r.o * ${n.agents})::int,
            CASE WHEN r.f < 0.1 THEN 'accidental_press' ELSE 'handled' END, r.f > 0.99
       FROM (SELECT g, ${when} AS t, 1 + floor(random() * ${n.elders})::int AS elder, random() AS c, random() AS o, random() AS f, random() AS kk,
                    (5 + 300 * random() * random() * random()) * interval '1 second' AS acc, (60 + random() * 1800) * interval '1 second' AS res,
                    (random() * 3600) * interval '1 second' AS clo
               FROM generate_series(1, ${n.alarms}) g) r,
            LATERAL (SELECT (ARRAY['${KINDS.join("','")}'])[1 + floor(r.kk * ${KINDS.length})::int] AS kind, CASE WHEN r.kk < 0.6 THEN 1 ELSE 2 END AS priority) k`,
  );
  await q(
    `${(2 * n.flows).toLocaleString('en')} call legs`,
    `INSERT INTO calls (party, direction, created_at, answered_at, ended_at, agent_id, elder_id, flow_id, queue_result, queue_wait_ms)
     SELECT l.party, r.dir, r.t, CASE WHEN r.ok THEN r.t + r.w END, r.t + r.w + r.talk, CASE WHEN l.party = 'agent' THEN r.agent END, r.elder, 'f' || r.g,
            CASE WHEN l.party <> 'agent' AND r.dir = 'inbound' THEN CASE WHEN r.ok THEN 'answered' ELSE 'abandoned' END END,
            CASE WHEN l.party <> 'agent' AND r.dir = 'inbound' THEN floor(extract(epoch FROM r.w) * 1000)::int END
       FROM (SELECT g, ${when} AS t, CASE WHEN random() < 0.7 THEN 'inbound' ELSE 'outbound' END AS dir, random() < 0.93 AS ok,
                    (1 + random() * random() * 90) * interval '1 second' AS w, (20 + random() * 400) * interval '1 second' AS talk,
                    (SELECT min(id) FROM users) + floor(random() * ${n.agents})::int AS agent, 1 + floor(random() * ${n.elders})::int AS elder
               FROM generate_series(1, ${n.flows}) g) r,
            LATERAL (VALUES ('elder'), ('agent')) l(party)`,
  );
  // each agent's intervals back to back through the year, with a gap after every tenth (signed out), the last open
  const per = Math.floor(n.states / n.agents);
  const step = (365 * 86400) / per;
  await q(
    `${(per * n.agents).toLocaleString('en')} agent state intervals`,
    `INSERT INTO agent_state_history (user_id, state, started_at, ended_at)
     SELECT u.id, (ARRAY['${STATES.join("','")}'])[1 + (k % ${STATES.length})], ${y0} + (k * ${step} + u.id % 7) * interval '1 second',
            CASE WHEN k < ${per - 1} THEN ${y0} + (k * ${step} + u.id % 7 + CASE WHEN k % 10 = 9 THEN ${step} * random() ELSE ${step} END) * interval '1 second' END
       FROM users u, generate_series(0, ${per - 1}) k WHERE u.role = 'agent'`,
  );
  await q(
    `${n.orders.toLocaleString('en')} work orders`,
    `INSERT INTO work_orders (type, state, priority, elder_id, title, satisfaction, created_by, received_at)
     SELECT (ARRAY['emergency','service','enquiry','complaint'])[1 + g % 4], (ARRAY['received','done','archived','cancelled'])[1 + g % 4], 1 + g % 5,
            1 + g % ${n.elders}, '工单', CASE WHEN g % 3 = 0 THEN 1 + g % 5 END, (SELECT min(id) FROM users) + g % ${n.agents}, ${when}
       FROM generate_series(1, ${n.orders}) g`,
  );
  await q('work order SLA events', `INSERT INTO work_order_events (order_id, actor, action) SELECT id, 'system', 'sla_overdue' FROM work_orders WHERE id % 9 = 0`);
  await q('VACUUM ANALYZE', 'VACUUM ANALYZE');
  return n;
}

interface Timing {
  report: string;
  groupBy: GroupBy;
  filter: string;
  medianMs: number;
  maxMs: number;
  rows: number;
}

export async function reportsBench(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const scale = ctx.quick ? 1 / 20 : 1;
  const runs = ctx.quick ? 3 : 5;
  const notes: string[] = [];
  const name = `bench_reports_${process.pid}`;
  const url = await createDatabase(ctx.pgAdminUrl, name);
  await migrate(url);
  const db = createPool(url, 8);
  const load = () => loadavg()[0]!.toFixed(1);
  try {
    const loadBefore = load();
    const tGen = performance.now();
    const n = await generate(db, scale, ctx.log);
    const genS = (performance.now() - tGen) / 1000;
    const area = '片区3';
    const agentId = Number((await db.query(`SELECT min(id) + 7 AS id FROM users WHERE role = 'agent'`)).rows[0].id);

    // the first build of the rollups (every hour of the year is dirty after the load)
    ctx.log('reports: building the rollups');
    let s = performance.now();
    const built = await refreshRollups(db, { waitMs: 600_000 });
    const buildS = (performance.now() - s) / 1000;
    await db.query('VACUUM ANALYZE report_alarm_hours, report_alarm_area_hours, report_call_hours, report_call_area_hours, report_agent_hours, report_agent_days');
    const rollupRows = (
      await db.query(
        `SELECT (SELECT count(*) FROM report_alarm_hours) + (SELECT count(*) FROM report_alarm_area_hours) AS a, (SELECT count(*) FROM report_call_hours) + (SELECT count(*) FROM report_call_area_hours) AS c,
                (SELECT count(*) FROM report_agent_hours) + (SELECT count(*) FROM report_agent_days) AS s`,
      )
    ).rows[0];

    const now = new Date();
    const base: ReportFilter = { from: FROM, to: TO, tz: TZ, groupBy: 'month', now };
    const count = (r: unknown) => (Array.isArray(r) ? r.length : ((r as { rows: Row[] }).rows?.length ?? 0));

    // baselines: a plain count over the year, and each report straight from the base rows (once: they are slow)
    const countMs: number[] = [];
    for (let i = 0; i < runs; i++) countMs.push(await timed(() => db.query(`SELECT count(*) FROM alarms WHERE first_at >= $1 AND first_at < $2`, [`${FROM}T00:00:00+08:00`, '2026-01-01T00:00:00+08:00'])));
    const countMedian = median(countMs);
    const direct: Record<string, number> = {};
    for (const r of Object.keys(REPORTS) as Name[]) {
      ctx.log(`reports: ${r} from the base rows (baseline)`);
      direct[r] = await timed(() => REPORTS[r](db, { ...base, direct: true }));
    }

    const timings: Timing[] = [];
    const filters: [string, Partial<ReportFilter>][] = [['none', {}], [`area ${area}`, { area }], [`agent ${agentId}`, { agentId }], ['kind fall', { kind: 'fall' }]];
    for (const r of Object.keys(REPORTS) as Name[]) {
      for (const groupBy of ['month', 'day'] as GroupBy[]) {
        for (const [label, extra] of filters) {
          if (r === 'work-orders' && label.startsWith('kind')) continue; // no kind filter on work orders
          const f = { ...base, groupBy, ...extra };
          const ms: number[] = [];
          let rowsOut = 0;
          for (let i = 0; i < runs; i++) {
            const t = performance.now();
            rowsOut = count(await REPORTS[r](db, f));
            ms.push(performance.now() - t);
          }
          timings.push({ report: r, groupBy, filter: label, medianMs: round(median(ms), 1)!, maxMs: round(Math.max(...ms), 1)!, rows: rowsOut });
          ctx.log(`reports: ${r} by ${groupBy}, filter ${label}: median ${round(median(ms), 1)} ms, max ${round(Math.max(...ms), 1)} ms`);
        }
      }
    }

    // one export: the alarms report by day as xlsx, as GET /api/reports/alarms/export does
    s = performance.now();
    const rep = await alarmsReport(db, { ...base, groupBy: 'day' });
    const xlsx = await exportReport('xlsx', `alarms ${FROM}`, REPORT_COLUMNS.alarms, sheetRows(REPORT_COLUMNS.alarms, rep.rows, null));
    const exportMs = performance.now() - s;

    // incremental refresh: 1,000 new alarms over the year and 1,000 late changes (accepted again, an owner moved)
    const nNew = 1000;
    await db.query(
      `INSERT INTO alarms (kind, priority, state, elder_id, first_at, last_at, accepted_at) SELECT 'sos', 1, 'accepted', 1 + g % ${n.elders}, t, t, t + interval '20 seconds'
         FROM (SELECT g, ('${FROM}'::timestamptz + random() * interval '364 days') AS t FROM generate_series(1, ${nNew}) g) x`,
    );
    await db.query(`UPDATE alarms SET accepted_at = accepted_at + interval '1 second', owner_id = ${agentId} WHERE id IN (SELECT id FROM alarms ORDER BY id LIMIT ${nNew})`);
    const dirty = Number((await db.query(`SELECT count(DISTINCT hour) AS n FROM report_dirty`)).rows[0].n);
    s = performance.now();
    await refreshRollups(db, { waitMs: 60_000 });
    const refreshMs = performance.now() - s;
    const afterMs = await timed(() => alarmsReport(db, { ...base, groupBy: 'day' }));

    const worst = timings.reduce((a, b) => (b.maxMs > a.maxMs ? b : a));
    const slowMedian = timings.reduce((a, b) => (b.medianMs > a.medianMs ? b : a));
    const met = timings.every((t) => t.medianMs <= 1000);
    const loadAfter = load();
    notes.push(
      `a year in ${TZ}: ${n.alarms.toLocaleString('en')} alarms, ${(2 * n.flows).toLocaleString('en')} call legs, ${n.states.toLocaleString('en')} agent state intervals, ${n.orders.toLocaleString('en')} work orders, generated in SQL in ${round(genS, 0)} s; rollups built in ${round(buildS, 1)} s (${Number(rollupRows.a).toLocaleString('en')} alarm, ${Number(rollupRows.c).toLocaleString('en')} call, ${Number(rollupRows.s).toLocaleString('en')} agent rollup rows)`,
      `every report over the year (${timings.length} combinations: by month and by day × no filter, area, agent, kind; ${runs} runs each): slowest median ${slowMedian.medianMs} ms (${slowMedian.report} by ${slowMedian.groupBy}, ${slowMedian.filter}), slowest single run ${worst.maxMs} ms (${worst.report} by ${worst.groupBy}, ${worst.filter}); target ≤ 1000 ms ${met ? 'met' : 'NOT met'}`,
      `baselines: count(*) of the year's alarms ${round(countMedian, 1)} ms; the unoptimised queries on the base rows (by month, no filter): ${Object.entries(direct).map(([k, v]) => `${k} ${round(v, 0)} ms`).join(', ')}`,
      `export of the alarms report by day as xlsx: ${round(exportMs, 0)} ms (${round(xlsx.length / 1024, 0)} KiB); refresh after ${nNew} new back-dated alarms + ${nNew} late changes (${dirty} dirty hours): ${round(refreshMs, 0)} ms, the report after it ${round(afterMs, 0)} ms`,
      `machine: ${cpus().length} cores shared with other work, load average ${loadBefore} before, ${loadAfter} after`,
    );
    return {
      name: 'reports',
      description: `reports over a year of data (${n.alarms.toLocaleString('en')} alarms, ${(2 * n.flows).toLocaleString('en')} calls, ${n.states.toLocaleString('en')} agent states) from the hourly rollups, against count(*) and the unoptimised queries`,
      ok: true,
      wallSeconds: Math.round((Date.now() - t0) / 1000),
      extra: {
        rowsGenerated: n,
        generateS: round(genS, 1),
        rollupBuildS: round(buildS, 1),
        rollupBuildHours: built?.hours,
        rollupRows: { alarms: Number(rollupRows.a), calls: Number(rollupRows.c), agents: Number(rollupRows.s) },
        countAlarmsYearMs: round(countMedian, 1),
        directMs: Object.fromEntries(Object.entries(direct).map(([k, v]) => [k, round(v, 1)])),
        timings,
        slowestMedianMs: slowMedian.medianMs,
        slowestMaxMs: worst.maxMs,
        exportXlsxMs: round(exportMs, 1),
        refreshAfterNewAlarms: { alarms: nNew, changed: nNew, dirtyHours: dirty, ms: round(refreshMs, 1) },
        loadAverage: { before: Number(loadBefore), after: Number(loadAfter) },
      },
      notes,
    };
  } finally {
    await db.end();
    await dropDatabase(ctx.pgAdminUrl, name);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
