/**
 * GET /api/elders/:id/vitals/series: an elder's vital signs over 24 h, 7 d or 30 d for the charts in the elder's
 * file (issue 23). The store buckets them (InfluxQL GROUP BY time(), PostgreSQL date_bin), so 30 days of a watch
 * reporting every few minutes arrive as 120 buckets, not thousands of points. The elder's effective alarm
 * thresholds (the default rules with the elder's override merged, as the rule engine judges) come with them.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DEFAULT_RULES, VITAL_NAMES, resolveRules, type RuleSet } from '../../alarms/index.js';
import type { Db } from '../store/db.js';
import { elderRules } from '../store/rule-state.js';
import { VITAL_FIELDS, type TelemetryQuery, type VitalsSeries } from '../store/telemetry/types.js';
import { requireRole } from './auth.js';
import { ApiError, badField, notFound } from './errors.js';
import { Id } from './schemas.js';

/** Bucket widths that divide a day, so buckets start at the centre's midnight: 144, 168 and 120 buckets. */
export const VITAL_RANGES = {
  '24h': { spanS: 86_400, everyS: 600 },
  '7d': { spanS: 7 * 86_400, everyS: 3_600 },
  '30d': { spanS: 30 * 86_400, everyS: 6 * 3_600 },
} as const;
export type VitalRange = keyof typeof VITAL_RANGES;

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Seconds the time zone's clock is ahead of UTC at `at` (+28800 for Asia/Shanghai). */
export function utcOffsetS(at: Date, timeZone: string): number {
  let f = offsetFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormats.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(at)) p[x.type] = Number(x.value);
  const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!);
  return Math.round((local - Math.floor(at.getTime() / 1000) * 1000) / 1000);
}

/**
 * Buckets start at local midnight plus whole buckets, by the zone's offset at the window's end (a daylight-saving
 * change inside the window shifts the older buckets by the hour; the centre's Asia/Shanghai has none).
 */
export function seriesWindow(range: VitalRange, to: Date, timeZone: string) {
  const { spanS, everyS } = VITAL_RANGES[range];
  return { from: new Date(to.getTime() - spanS * 1000), to, everyS, offsetS: -utcOffsetS(to, timeZone) };
}

/** min and max as the rules alarm on them: below min or above max for forSeconds. */
export function vitalThresholds(rules: RuleSet): Partial<Record<(typeof VITAL_NAMES)[number], { min?: number; max?: number }>> {
  const out: ReturnType<typeof vitalThresholds> = {};
  for (const name of VITAL_NAMES) {
    const r = rules.vitals[name];
    if (!r || (r.min === undefined && r.max === undefined)) continue;
    out[name] = { ...(r.min !== undefined ? { min: r.min } : {}), ...(r.max !== undefined ? { max: r.max } : {}) };
  }
  return out;
}

const Stat = Type.Object({ min: Type.Number(), avg: Type.Number(), max: Type.Number(), count: Type.Integer() });
const perField = <T extends Parameters<typeof Type.Optional>[0]>(t: T) => Type.Object(Object.fromEntries(VITAL_FIELDS.map((f) => [f, Type.Optional(t)])));
const Limit = Type.Object({ min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) });

const SeriesAnswer = Type.Object({
  range: Type.String(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  everyS: Type.Integer({ description: 'bucket width, seconds' }),
  timezone: Type.String({ description: 'buckets start at midnight in this zone' }),
  buckets: Type.Array(
    Type.Object({ time: Type.String({ format: 'date-time', description: "the bucket's start" }), fields: perField(Stat) }),
    { description: 'oldest first, only buckets with readings; steps is a daily counter: chart its max' },
  ),
  latest: perField(Type.Object({ time: Type.String({ format: 'date-time' }), value: Type.Number() })),
  thresholds: Type.Object(Object.fromEntries(VITAL_NAMES.map((f) => [f, Type.Optional(Limit)])), { description: "the elder's effective alarm thresholds" }),
});

export async function vitalsSeriesRoutes(app: FastifyInstance, o: { db: Db; query: TelemetryQuery; timezone: string }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/api/elders/:id/vitals/series',
    {
      schema: {
        tags: ['telemetry'],
        summary: "An elder's vital signs per time bucket over 24 h, 7 d or 30 d, with the elder's alarm thresholds",
        params: Id,
        querystring: Type.Object({
          range: Type.Union([Type.Literal('24h'), Type.Literal('7d'), Type.Literal('30d')]),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'end of the window, ISO 8601; default now' })),
        }),
        response: { 200: SeriesAnswer },
      },
      // health data, as /vitals: not for installers (issue 15)
      onRequest: requireRole(o.db, 'agent', 'supervisor', 'admin'),
    },
    async (req) => {
      const to = req.query.to ? new Date(req.query.to) : new Date();
      if (Number.isNaN(to.getTime())) throw badField('querystring/to', 'must be a date-time');
      const row = await elderRules(o.db, req.params.id);
      if (!row) throw notFound(`elder ${req.params.id}`);
      // an invalid stored override is judged by the defaults, as the rule engine does
      const resolved = resolveRules(DEFAULT_RULES, row.rules ?? {});
      const w = seriesWindow(req.query.range, to, o.timezone);
      let s: VitalsSeries;
      try {
        s = await o.query.vitalsSeries(req.params.id, w);
      } catch (e) {
        app.log.warn({ err: { message: (e as Error).message } }, 'telemetry vitals series failed');
        throw new ApiError(503, 'telemetry_unavailable', 'the telemetry store is unavailable; try again shortly');
      }
      return {
        range: req.query.range,
        from: w.from.toISOString(),
        to: w.to.toISOString(),
        everyS: w.everyS,
        timezone: o.timezone,
        buckets: s.buckets.map((b) => ({ time: b.time.toISOString(), fields: b.fields })),
        latest: Object.fromEntries(Object.entries(s.latest).map(([f, v]) => [f, { time: v.time.toISOString(), value: v.value }])),
        thresholds: vitalThresholds(resolved.ok ? resolved.rules : DEFAULT_RULES),
      };
    },
  );
}
