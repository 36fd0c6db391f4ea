/**
 * 设备开通: an installer's activation test of a device. Starting it opens a window (default 15 min) during which
 * every alarm the device raises is a test alarm, closed at once and never sent to agents
 * (gateway/alarms/alarm-service.ts); the status shows what arrived since (online, battery, position, the test
 * alarms), and finishing signs the device off as activated.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TSchema, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { endActivationTest, finishActivation, getActivation, startActivationTest, testAlarmsSince, type ActivationRow } from '../store/activation.js';
import { getDevice } from '../store/devices.js';
import type { TelemetryQuery } from '../store/telemetry/types.js';
import { actorOf, requireRole } from './auth.js';
import { DeviceStateSchema, type DeviceOnline } from './devices.js';
import { ApiError, notFound } from './errors.js';
import { Id } from './schemas.js';

const DateTime = (description?: string) => Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ActivationSchema = Type.Object(
  {
    deviceId: Type.Integer(),
    identifier: Type.String(),
    protocol: Type.String(),
    kind: Type.String(),
    elderId: Nullable(Type.Integer()),
    activatedAt: Nullable(DateTime('when the activation was signed off; null until then')),
    activatedBy: Nullable(Type.Integer()),
    startedAt: Nullable(DateTime('start of the latest test window')),
    until: Nullable(DateTime('end of the latest test window')),
    active: Type.Boolean({ description: 'the test window is open now: alarms are test alarms' }),
    online: Type.Boolean(),
    lastSeen: Nullable(DateTime()),
    battery: Nullable(Type.Number()),
    signal: Nullable(Type.Number()),
    position: Nullable(Type.Object({ lat: Type.Number(), lon: Type.Number(), at: DateTime() }, { description: 'the newest valid fix since startedAt' })),
    testAlarms: Type.Array(
      Type.Object({ id: Type.Integer(), kind: Type.String(), at: DateTime(), zone: Nullable(Type.String()), line: Type.Optional(Type.String({ description: 'one-key callers: the line called' })) }),
      { description: 'test alarms since startedAt, newest first' },
    ),
  },
  { additionalProperties: true },
);

/** How far a device's clock may lag ours for its fix to count as received in the test window. */
const CLOCK_SLACK_MS = 60_000;

const StartBody = Type.Object(
  { minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 15, description: 'length of the test window' })) },
  { additionalProperties: false },
);

export async function activationRoutes(app: FastifyInstance, o: { db: Db; online?: DeviceOnline; telemetry?: TelemetryQuery }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const install = requireRole(db, 'installer', 'admin');

  /**
   * The newest valid fix since the window opened; a failing telemetry store leaves it out rather than fail the page.
   * A point's time is the device's clock (whole seconds, a little off), so a fix up to CLOCK_SLACK_MS before the
   * start still counts.
   */
  const positionOf = async (a: ActivationRow) => {
    if (!a.startedAt || !o.telemetry) return null;
    try {
      const [row] = await o.telemetry.lastPositions([a.identifier]);
      const { lat, lon, valid } = row?.fields ?? {};
      const since = a.startedAt.getTime() - CLOCK_SLACK_MS;
      if (!row || row.time.getTime() < since || valid === false || typeof lat !== 'number' || typeof lon !== 'number') return null;
      return { lat, lon, at: row.time };
    } catch (e) {
      app.log.warn({ err: { message: (e as Error).message } }, 'activation: telemetry unavailable; position left out');
      return null;
    }
  };

  const status = async (id: number) => {
    const a = await getActivation(db, id);
    if (!a) throw notFound(`device ${id}`);
    const [position, testAlarms] = await Promise.all([positionOf(a), a.startedAt ? testAlarmsSince(db, id, a.startedAt) : []]);
    return { ...a, online: o.online?.(a) ?? false, position, testAlarms };
  };

  r.post(
    '/api/devices/:id/activation',
    {
      schema: { tags: ['devices'], summary: '设备开通: start (or restart) the activation test; the device’s alarms are test alarms until it ends', params: Id, body: StartBody, response: { 200: ActivationSchema } },
      // a bodiless POST starts the default window
      preValidation: async (req) => {
        req.body ??= {};
      },
      onRequest: install,
    },
    async (req) => {
      const minutes = req.body?.minutes ?? 15;
      if (!(await startActivationTest(db, req.params.id, minutes))) throw notFound(`device ${req.params.id}`);
      await audit(db, actorOf(req), 'device_activation_start', `device:${req.params.id}`, { minutes });
      return status(req.params.id);
    },
  );

  r.get(
    '/api/devices/:id/activation',
    { schema: { tags: ['devices'], summary: 'The activation test: online, battery, position and test alarms since it started', params: Id, response: { 200: ActivationSchema } }, onRequest: install },
    async (req) => status(req.params.id),
  );

  r.post(
    '/api/devices/:id/activation/finish',
    { schema: { tags: ['devices'], summary: 'Sign the device off as activated (ends the test); 409 not_bound without an elder', params: Id, response: { 200: DeviceStateSchema } }, onRequest: install },
    async (req) => {
      const d = await getDevice(db, req.params.id);
      if (!d) throw notFound(`device ${req.params.id}`);
      if (d.elderId === null) throw new ApiError(409, 'not_bound', `device ${d.id} is bound to no elder: bind it before signing it off`);
      const done = (await finishActivation(db, d.id, req.user?.id ?? null))!;
      await audit(db, actorOf(req), 'device_activation_finish', `device:${d.id}`, { elderId: d.elderId });
      return { ...done, online: o.online?.(done) ?? false };
    },
  );

  r.post(
    '/api/devices/:id/activation/cancel',
    { schema: { tags: ['devices'], summary: 'End the activation test without signing off: alarms are real again', params: Id, response: { 200: ActivationSchema } }, onRequest: install },
    async (req) => {
      if (!(await endActivationTest(db, req.params.id))) throw notFound(`device ${req.params.id}`);
      await audit(db, actorOf(req), 'device_activation_cancel', `device:${req.params.id}`);
      return status(req.params.id);
    },
  );
}
