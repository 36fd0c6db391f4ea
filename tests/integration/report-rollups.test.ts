/**
 * The reports' hourly rollups (issue 23, 0017_report_rollups.sql, gateway/store/report-rollups.ts) stay exactly
 * equal to the direct aggregates over the base rows: on seeded random fixtures (alarms, call flows, agent state
 * intervals over the last 40 days up to a second ago, three areas, four agents) every report × grouping × filter
 * read through the rollups equals the same report read from the base rows (`direct: true`, the queries that
 * tests/integration/reports.test.ts checks by hand). Then: late changes (an alarm accepted days later, a state
 * interval across local midnight, a back-dated alarm, an elder moving area) show at once; the refresh is
 * incremental (a clean hour is not recomputed); and it is safe with concurrent refreshes, an uncommitted write, and a
 * refresh killed half way.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Db } from '../../gateway/store/db.js';
import { refreshRollups, rollupsReady, wholeHourZone } from '../../gateway/store/report-rollups.js';
import { agentsReport, alarmsReport, answeringReport, callsReport, type GroupBy, type ReportFilter } from '../../gateway/store/reports.js';
import { createMigratedDatabase } from '../helpers/db.js';

const TZ = 'Asia/Shanghai';
const DAY = 86_400_000;
let db: Db;
let agents: number[];
const now = new Date();
const local = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
const RANGE = { from: local(new Date(now.getTime() - 38 * DAY)), to: local(now) };
const REPORTS = { alarms: alarmsReport, answering: answeringReport, agents: agentsReport, calls: callsReport } as const;
const q = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;
const base = (extra: Partial<ReportFilter> = {}): ReportFilter => ({ ...RANGE, tz: TZ, groupBy: 'day', now: new Date(), ...extra });

/** Every report through the rollups equals the same read from the base rows. */
async function expectSame(f: ReportFilter): Promise<void> {
  for (const [name, run] of Object.entries(REPORTS)) {
    const fast = await run(db, f);
    const direct = await run(db, { ...f, direct: true });
    expect(fast, `${name} ${JSON.stringify({ ...f, now: undefined })}`).toEqual(direct);
  }
}

const dirtyCount = async () => Number((await q(`SELECT count(*) AS n FROM report_dirty`))[0].n);
const todayCount = async (kind: string) => {
  const r = await alarmsReport(db, base({ from: local(now), to: local(now), kind }));
  return r.rows.reduce((s, x) => s + Number(x.count), 0);
};

beforeAll(async () => {
  db = createPool(await createMigratedDatabase('rollups'), 8);
  agents = (await q(`INSERT INTO users (username, role, password_hash) SELECT 'agent' || g, 'agent', 'x' FROM generate_series(1, 4) g RETURNING id`)).map((r) => Number(r.id));
  await q(`INSERT INTO elders (name, area) SELECT '老人' || g, (ARRAY['幸福社区', '和平社区', '江苏路'])[1 + g % 3] FROM generate_series(1, 30) g`);
  await q(`INSERT INTO devices (identifier, protocol, elder_id) SELECT 'imei-' || id, 'watch', id FROM elders`);
  // one session, seeded: the same fixtures every run
  const c: pg.PoolClient = await db.connect();
  try {
    await c.query(`SELECT setseed(0.23)`);
    const span = `now() - random() * interval '40 days'`;
    await c.query(
      `INSERT INTO alarms (kind, priority, alarm_class, state, first_at, last_at, accepted_at, resolved_at, closed_at, owner_id, elder_id, device_id, outcome, test)
       SELECT (ARRAY['sos', 'fall', 'inactivity'])[1 + floor(r.k * 3)::int], 1 + floor(r.k * 2)::int, CASE WHEN r.c < 0.8 THEN 'operator' ELSE 'condition' END, 'closed',
              r.t, r.t, CASE WHEN r.a < 0.9 THEN r.t + r.acc END, CASE WHEN r.a < 0.7 THEN r.t + r.acc * 3 END, CASE WHEN r.a < 0.5 THEN r.t + r.acc * 9 END,
              CASE WHEN r.o < 0.85 THEN ${agents[0]} + floor(r.o / 0.85 * 4)::int END, CASE WHEN r.e < 0.9 THEN 1 + floor(r.e / 0.9 * 30)::int END,
              CASE WHEN r.e < 0.9 THEN 1 + floor(r.e / 0.9 * 30)::int END, CASE WHEN r.f < 0.15 THEN 'accidental_press' END, r.f > 0.97
         FROM (SELECT ${span} AS t, random() AS k, random() AS c, random() AS a, random() AS o, random() AS e, random() AS f,
                      (1 + random() * 400) * interval '1 second' AS acc FROM generate_series(1, 2000)) r`,
    );
    // the last minutes: not yet decided within 60 / 180 s
    await c.query(`INSERT INTO alarms (kind, priority, state, first_at, last_at, elder_id) SELECT 'sos', 1, 'raised', now() - g * interval '20 seconds', now(), 1 + g % 30 FROM generate_series(1, 12) g`);
    await c.query(
      `INSERT INTO calls (party, direction, created_at, answered_at, ended_at, agent_id, elder_id, flow_id, queue_result, queue_wait_ms)
       SELECT l.party, r.dir, r.t, CASE WHEN r.ok THEN r.t + r.w END, CASE WHEN r.ok AND r.e < 0.95 THEN r.t + r.w + r.talk END,
              CASE WHEN l.party = 'agent' THEN r.agent END, CASE WHEN r.e < 0.9 THEN 1 + floor(r.e / 0.9 * 30)::int END, CASE WHEN r.e < 0.97 THEN 'f' || r.g END,
              CASE WHEN l.party <> 'agent' AND r.dir = 'inbound' THEN CASE WHEN r.ok THEN 'answered' WHEN r.e < 0.5 THEN 'abandoned' ELSE 'voicemail' END END,
              CASE WHEN l.party <> 'agent' AND r.dir = 'inbound' AND r.e < 0.8 THEN floor(random() * 60000)::int END
         FROM (SELECT g, ${span} AS t, CASE WHEN random() < 0.7 THEN 'inbound' ELSE 'outbound' END AS dir, random() < 0.85 AS ok, random() AS e,
                      (1 + random() * 60) * interval '1 second' AS w, (10 + random() * 600) * interval '1 second' AS talk, ${agents[0]} + floor(random() * 4)::int AS agent
                 FROM generate_series(1, 800) g) r,
              LATERAL (SELECT * FROM (VALUES ('elder'), ('agent'), ('contact')) v(party) WHERE v.party <> 'contact' OR r.e > 0.8) l`,
    );
    // each agent's intervals back to back from 41 days ago, 1 minute to 5 hours long, the last one open
    await c.query(
      `INSERT INTO agent_state_history (user_id, state, started_at, ended_at)
       SELECT u, (ARRAY['ready', 'on_call', 'not_ready', 'wrap_up', 'away'])[1 + k % 5], s, CASE WHEN e < now() THEN e END
         FROM (SELECT u, k, now() - interval '41 days' + sum(len) OVER w - len AS s, now() - interval '41 days' + sum(len) OVER w AS e
                 FROM (SELECT u, k, (60 + random() * random() * 18000) * interval '1 second' AS len
                         FROM unnest($1::bigint[]) u, generate_series(1, 3000) k) x
               WINDOW w AS (PARTITION BY u ORDER BY k)) y
        WHERE s < now()`,
      [agents],
    );
  } finally {
    c.release();
  }
});

afterAll(async () => {
  await db?.end();
});

describe('rollups equal the direct aggregates', () => {
  it('reads the rollups at all: the first report builds them, nothing is left dirty', async () => {
    expect(await dirtyCount()).toBeGreaterThan(0);
    await alarmsReport(db, base());
    expect(await dirtyCount()).toBe(0);
    const n = await q(`SELECT (SELECT sum(alarms) FROM report_alarm_hours) AS a, (SELECT sum(calls) FROM report_call_hours) AS c, (SELECT count(*) FROM report_agent_days WHERE source = 'states') AS s`);
    expect(Number(n[0].a)).toBeGreaterThan(1800);
    expect(Number(n[0].c)).toBeGreaterThan(700);
    expect(Number(n[0].s)).toBeGreaterThan(100);
  });

  for (const groupBy of ['day', 'week', 'month'] as GroupBy[]) {
    it(`every report by ${groupBy}, with no filter and each filter`, async () => {
      const filters: Partial<ReportFilter>[] = [{}, { area: '幸福社区' }, { agentId: agents[1] }, { kind: 'fall' }, { priority: 1 }, { area: '和平社区', kind: 'sos', priority: 1 }, { area: '无此社区' }];
      for (const extra of filters) await expectSame(base({ groupBy, ...extra }));
    });
  }

  it('ranges: one day, a range ending in the past, one reaching into the future, one wholly in the future', async () => {
    const d = (days: number) => local(new Date(now.getTime() + days * DAY));
    for (const [from, to] of [[d(-10), d(-10)], [d(-30), d(-12)], [d(-3), d(20)], [d(5), d(9)], [d(0), d(0)]]) await expectSame(base({ from, to }));
  });

  it('a whole-hour zone reads the rollups; a half-hour zone (Asia/Kolkata) reads the base rows, the same figures', async () => {
    expect(await wholeHourZone(db, 'Asia/Shanghai', RANGE.from, RANGE.to)).toBe(true);
    expect(await wholeHourZone(db, 'America/New_York', '2026-01-01', '2026-12-31')).toBe(true);
    expect(await wholeHourZone(db, 'Asia/Kolkata', RANGE.from, RANGE.to)).toBe(false);
    expect(await wholeHourZone(db, 'Australia/Lord_Howe', '2026-01-01', '2026-12-31')).toBe(false);
    await expectSame(base({ tz: 'Asia/Kolkata' }));
    await expectSame(base({ tz: 'America/New_York', groupBy: 'week' }));
  });
});

describe('late changes show at once', () => {
  it('an alarm of 20 days ago accepted and resolved now', async () => {
    const [a] = await q(
      `SELECT id, first_at FROM alarms WHERE accepted_at IS NULL AND alarm_class = 'operator' AND NOT test AND first_at < now() - interval '20 days' ORDER BY id LIMIT 1`,
    );
    const day = local(a.first_at);
    const before = (await answeringReport(db, base({ from: day, to: day }))).totals;
    await q(`UPDATE alarms SET accepted_at = now(), resolved_at = now(), owner_id = $2 WHERE id = $1`, [a.id, agents[2]]);
    const after = (await answeringReport(db, base({ from: day, to: day }))).totals;
    expect(after.answered).toBe(Number(before.answered) + 1);
    expect(after.within180).toBe(before.within180);
    await expectSame(base());
  });

  it('a back-dated alarm, and an elder moving to another area', async () => {
    const day = local(new Date(now.getTime() - 25 * DAY));
    const count = async (area?: string) => (await alarmsReport(db, base({ from: day, to: day, area }))).rows.reduce((s, x) => s + Number(x.count), 0);
    const [all, area] = [await count(), await count('江苏路')];
    await q(`INSERT INTO alarms (kind, priority, state, first_at, last_at, elder_id) VALUES ('fall', 1, 'closed', $1, $1, 2)`, [new Date(now.getTime() - 25 * DAY)]);
    expect(await count()).toBe(all + 1);
    expect((await q(`SELECT area FROM elders WHERE id = 2`))[0].area).toBe('江苏路');
    expect(await count('江苏路')).toBe(area + 1);
    await q(`UPDATE elders SET area = '幸福社区' WHERE id = 2`);
    expect(await count('江苏路')).toBeLessThan(area + 1);
    await expectSame(base({ area: '幸福社区' }));
    await expectSame(base({ area: '江苏路', groupBy: 'week' }));
  });

  it('a state interval across local midnight counts on both days', async () => {
    // 23:00 → 01:00 local, 12 days ago, for an agent with no interval then (moved out of the way first)
    const d = local(new Date(now.getTime() - 12 * DAY));
    const start = new Date(`${d}T23:00:00+08:00`);
    const next = local(new Date(start.getTime() + 2 * 3600_000));
    const [u] = (await q(`INSERT INTO users (username, role, password_hash) VALUES ('night', 'agent', 'x') RETURNING id`)).map((r) => Number(r.id));
    const secs = async (from: string, to: string) => (await agentsReport(db, base({ from, to, agentId: u }))).map((r) => r.readyS);
    expect(await secs(d, d)).toEqual([0]);
    await q(`INSERT INTO agent_state_history (user_id, state, started_at, ended_at) VALUES ($1, 'ready', $2, $3)`, [u, start, new Date(start.getTime() + 2 * 3600_000)]);
    expect(await secs(d, d)).toEqual([3600]);
    expect(await secs(next, next)).toEqual([3600]);
    expect(await secs(d, next)).toEqual([7200]);
    await expectSame(base({ agentId: u }));
  });

  it("today's figures include an alarm raised a second ago", async () => {
    const before = await todayCount('medical');
    await q(`INSERT INTO alarms (kind, priority, state, first_at, last_at) VALUES ('medical', 1, 'raised', now() - interval '1 second', now())`);
    expect(await todayCount('medical')).toBe(before + 1);
    const t = (await answeringReport(db, base({ from: local(now), to: local(now), kind: 'medical' }))).totals;
    expect(Number(t.alarms)).toBe(before + 1);
    expect(Number(t.decided60)).toBe(before); // not yet decided: raised a second ago, not answered
  });
});

describe('calls by agent (report_call_agent_hours, 0019)', () => {
  it('a flow with two agent legs, a transfer and a late answer counts once per agent, in the outside leg\'s hour', async () => {
    const [a1, a2, a3] = [agents[0]!, agents[1]!, agents[3]!];
    const t = new Date(now.getTime() - 15 * DAY);
    const day = local(t);
    const calls = async (agentId: number) => (await callsReport(db, base({ from: day, to: day, agentId }))).totals;
    const before = await Promise.all([a1, a2, a3].map(calls));
    // the elder's call, queued, answered by a1 (two legs of a1: a re-dial), not yet answered in the record
    await q(
      `INSERT INTO calls (party, direction, created_at, agent_id, elder_id, flow_id, queue_wait_ms) VALUES
         ('elder', 'inbound', $1, NULL, 3, 'late-flow', 12000),
         ('agent', 'inbound', $1::timestamptz + interval '10 seconds', $2, NULL, 'late-flow', NULL),
         ('agent', 'inbound', $1::timestamptz + interval '50 seconds', $2, NULL, 'late-flow', NULL)`,
      [t, a1],
    );
    let after = await Promise.all([a1, a2, a3].map(calls));
    expect(after[0]!.calls).toBe(Number(before[0]!.calls) + 1);
    expect(after[1]!.calls).toBe(before[1]!.calls);
    // transferred to a2 two hours later (another hour than the outside leg's): a2 is on the call now
    await q(`INSERT INTO calls (party, direction, created_at, agent_id, flow_id) VALUES ('agent', 'inbound', $1::timestamptz + interval '2 hours', $2, 'late-flow')`, [t, a2]);
    after = await Promise.all([a1, a2, a3].map(calls));
    expect(after[1]!.calls).toBe(Number(before[1]!.calls) + 1);
    // answered late (recorded days after)
    await q(`UPDATE calls SET answered_at = created_at + interval '12 seconds', queue_result = 'answered' WHERE flow_id = 'late-flow' AND party = 'elder'`);
    after = await Promise.all([a1, a2, a3].map(calls));
    expect(after[0]!.answered).toBe(Number(before[0]!.answered) + 1);
    expect(after[1]!.answered).toBe(Number(before[1]!.answered) + 1);
    expect(after[2]).toEqual(before[2]);
    // a2's leg given to a3 instead
    await q(`UPDATE calls SET agent_id = $1 WHERE flow_id = 'late-flow' AND agent_id = $2`, [a3, a2]);
    after = await Promise.all([a1, a2, a3].map(calls));
    expect(after[1]).toEqual(before[1]);
    expect(after[2]!.calls).toBe(Number(before[2]!.calls) + 1);
    for (const agentId of [a1, a2, a3]) {
      await expectSame(base({ agentId }));
      await expectSame(base({ agentId, groupBy: 'week', from: day, to: day }));
    }
    // the leg deleted: a3 no longer on it
    await q(`DELETE FROM calls WHERE flow_id = 'late-flow' AND agent_id = $1`, [a3]);
    expect(await calls(a3)).toEqual(before[2]);
    await expectSame(base({ agentId: a3 }));
  });
});

describe('refresh', () => {
  it('is incremental: only dirty hours are recomputed', async () => {
    await rollupsReady(db);
    const [h] = await q(`SELECT hour FROM report_alarm_hours WHERE hour < now() - interval '5 days' ORDER BY hour LIMIT 1`);
    // a clean hour tampered with stays as it is: the refresh does not touch it …
    await q(`UPDATE report_alarm_hours SET alarms = alarms + 1000 WHERE hour = $1`, [h.hour]);
    await q(`INSERT INTO alarms (kind, priority, state, first_at, last_at) VALUES ('sos', 1, 'closed', now() - interval '3 days', now())`);
    expect(await dirtyCount()).toBe(1);
    const r = await refreshRollups(db, { waitMs: 1000 });
    expect(r!.hours).toEqual({ alarms: 1, calls: 0, states: 0 });
    expect(Number((await q(`SELECT sum(alarms) AS n FROM report_alarm_hours WHERE hour = $1`, [h.hour]))[0].n)).toBeGreaterThan(1000);
    const day = local(h.hour);
    const fast = await alarmsReport(db, base({ from: day, to: day }));
    const direct = await alarmsReport(db, base({ from: day, to: day, direct: true }));
    expect(fast.rows).not.toEqual(direct.rows);
    // … until a write marks it dirty
    await q(`INSERT INTO report_dirty (source, hour) VALUES ('alarms', $1)`, [h.hour]);
    await expectSame(base({ from: day, to: day }));
    // a repeat (count, last_at) changes no figure and marks nothing
    await q(`UPDATE alarms SET count = count + 1, last_at = now() WHERE id IN (SELECT id FROM alarms ORDER BY id LIMIT 50)`);
    expect(await dirtyCount()).toBe(0);
  });

  it('concurrent refreshes and reports: one refresh at a time, the same figures', async () => {
    await q(`UPDATE alarms SET priority = 3 - priority WHERE id % 7 = 0`);
    await q(`UPDATE agent_state_history SET state = 'away' WHERE id % 11 = 0 AND ended_at IS NOT NULL`);
    await q(`UPDATE calls SET queue_result = 'abandoned' WHERE id % 13 = 0 AND queue_result IS NOT NULL`);
    const runs = await Promise.all([refreshRollups(db, { waitMs: 0 }), refreshRollups(db, { waitMs: 10_000 }), rollupsReady(db), alarmsReport(db, base()), agentsReport(db, base())]);
    expect(runs[0] !== null || runs[1] !== null).toBe(true);
    expect(await dirtyCount()).toBe(0);
    await expectSame(base());
    await expectSame(base({ groupBy: 'month', priority: 2 }));
  });

  it('a write committed after a refresh began is taken by the next one', async () => {
    const c = await db.connect();
    try {
      await c.query('BEGIN');
      await c.query(`INSERT INTO alarms (kind, priority, state, first_at, last_at) VALUES ('gas', 1, 'closed', now() - interval '9 days', now())`);
      await refreshRollups(db, { waitMs: 1000 }); // does not see the uncommitted alarm, nor its dirty hour
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    expect(await dirtyCount()).toBe(1);
    await expectSame(base({ kind: 'gas' }));
  });

  it('a refresh killed half way leaves the dirty hours for the next; a report meanwhile reads the base rows', async () => {
    await q(`UPDATE alarms SET accepted_at = first_at + interval '5 seconds' WHERE id % 5 = 0 AND accepted_at IS NULL`);
    const dirty = await dirtyCount();
    expect(dirty).toBeGreaterThan(0);
    const c = await db.connect();
    const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    c.on('error', () => undefined);
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(230017)');
    await c.query(`DELETE FROM report_dirty`);
    await c.query(`DELETE FROM report_alarm_hours`);
    // the lock is held: a report does not wait for it for ever, it reads the base rows
    const during = await answeringReport(db, base({ groupBy: 'week' }));
    expect(during).toEqual(await answeringReport(db, base({ groupBy: 'week', direct: true })));
    await q(`SELECT pg_terminate_backend($1)`, [pid]);
    c.release(true);
    expect(await dirtyCount()).toBe(dirty);
    expect(Number((await q(`SELECT count(*) AS n FROM report_alarm_hours`))[0].n)).toBeGreaterThan(0);
    await expectSame(base());
  }, 30_000);

  it('TRUNCATE (no DELETE trigger fires) empties the rollups of what it emptied', async () => {
    await q(`TRUNCATE agent_state_history`);
    await expectSame(base());
    await q(`TRUNCATE alarms CASCADE`); // calls reference alarms: emptied too
    expect(Number((await q(`SELECT count(*) AS n FROM report_alarm_hours`))[0].n)).toBe(0);
    await expectSame(base());
  });
});
