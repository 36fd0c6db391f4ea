/**
 * Telemetry reads for the agent's map and charts. The backend (InfluxDB 1.x, 2.x/3.x or PostgreSQL) is behind
 * TelemetryQuery; a failing telemetry store answers 503 and never touches alarms.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { getElder } from '../store/elders.js';
import { VITAL_FIELDS, type TelemetryQuery, type TelemetryRow, type TimeWindow } from '../store/telemetry/types.js';
import { requireRole } from './auth.js';
import { ApiError, badField, notFound } from './errors.js';
import { Id } from './schemas.js';
import { vitalsSeriesRoutes } from './vitals-series.js';

/** A longer window would be more points than a chart can show; page by windows instead. */
export const MAX_WINDOW_DAYS = 31;

const Window = {
  from: Type.String({ format: 'date-time', description: 'start, ISO 8601 (inclusive)' }),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'end, ISO 8601 (inclusive); default now' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 2000 })),
};

const Row = Type.Object({
  time: Type.String({ format: 'date-time' }),
  device: Type.String(),
  elderId: Type.Union([Type.Integer(), Type.Null()]),
  fields: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean(), Type.String()])),
});
const Rows = { 200: Type.Array(Row) };

function timeWindow(q: { from: string; to?: string; limit?: number }): TimeWindow {
  const from = new Date(q.from);
  const to = q.to ? new Date(q.to) : new Date();
  if (!(from < to)) throw badField('querystring/from', 'must be before to');
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * 86_400_000) throw badField('querystring/to', `the window must be at most ${MAX_WINDOW_DAYS} days`);
  return { from, to, limit: q.limit ?? 2000 };
}

export async function telemetryRoutes(app: FastifyInstance, o: { db: Db; query: TelemetryQuery; timezone: string }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  await vitalsSeriesRoutes(app, o);
  const read = requireRole(o.db, 'agent', 'supervisor', 'installer', 'admin');

  /** Store errors become 503: the dashboard retries; the reason is logged without the query's values. */
  const ask = async (what: string, fn: () => Promise<TelemetryRow[]>) => {
    try {
      return (await fn()).map((row) => ({ ...row, time: row.time.toISOString() }));
    } catch (e) {
      app.log.warn({ err: { message: (e as Error).message } }, `telemetry ${what} failed`);
      throw new ApiError(503, 'telemetry_unavailable', 'the telemetry store is unavailable; try again shortly');
    }
  };
  const elder = async (id: number) => {
    if (!(await getElder(o.db, id))) throw notFound(`elder ${id}`);
  };

  r.get(
    '/api/telemetry/last-positions',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'The newest position of each device, for the map',
        querystring: Type.Object({ device: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 500 })) }),
        response: Rows,
      },
      onRequest: read,
    },
    async (req) => ask('last positions', () => o.query.lastPositions(req.query.device)),
  );

  r.get(
    '/api/elders/:id/track',
    { schema: { tags: ['telemetry'], summary: "An elder's positions in a time window, oldest first", params: Id, querystring: Type.Object(Window), response: Rows }, onRequest: read },
    async (req) => {
      const w = timeWindow(req.query);
      await elder(req.params.id);
      return ask('track', () => o.query.track(req.params.id, w));
    },
  );

  r.get(
    '/api/elders/:id/vitals',
    {
      schema: {
        tags: ['telemetry'],
        summary: "An elder's vital signs in a time window, oldest first",
        params: Id,
        querystring: Type.Object({ ...Window, field: Type.Optional(Type.Union(VITAL_FIELDS.map((f) => Type.Literal(f)))) }),
        response: Rows,
      },
      // Vital signs are health data: for the people who answer alarms, not installers (issue 15).
      onRequest: requireRole(o.db, 'agent', 'supervisor', 'admin'),
    },
    async (req) => {
      const w = timeWindow(req.query);
      await elder(req.params.id);
      return ask('vitals', () => o.query.vitals(req.params.id, { ...w, field: req.query.field }));
    },
  );
}
