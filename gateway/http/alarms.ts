import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { OUTCOME_CODES } from '../../alarms/index.js';
import { ALARM_KINDS } from '../../protocols/message.js';
import { USER_ACTIONS, type AlarmActions, type UserAction } from '../alarms/alarm-actions.js';
import type { Db } from '../store/db.js';
import { answerRates, getAlarm, listAlarms, listEvents } from '../store/alarms.js';
import { listContacts, getElder } from '../store/elders.js';
import { getDevice, listDevices } from '../store/devices.js';
import { listCallsForAlarm, liveStateOf } from '../store/calls.js';
import { requireRole } from './auth.js';
import { notFound } from './errors.js';
import { Id, Paging, elderFor } from './schemas.js';
import { AlarmDetailSchema, AlarmSchema } from './responses.js';

const ActionBody = Type.Object(
  {
    note: Type.Optional(Type.String({ maxLength: 4000 })),
    outcome: Type.Optional(Type.Union(Object.keys(OUTCOME_CODES).map((k) => Type.Literal(k)))),
    satisfaction: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: '满意度 1-5, at follow-up' })),
  },
  { additionalProperties: false },
);

/** Response schemas: the dashboard's types are generated from the OpenAPI document (npm run api-types). */
const OutcomeInfo = Type.Object({ zh: Type.String(), en: Type.String(), followUp: Type.Boolean({ description: 'needs a follow-up call (回访) before it may close' }) });
const Rate = Type.Union([Type.Number(), Type.Null()], { description: 'within / decided; null while none is decided' });
const Stats = Type.Object({
  since: Type.String({ format: 'date-time', description: "start of today in the centre's time zone" }),
  total: Type.Integer(),
  decided60: Type.Integer({ description: 'alarms answered, or whose 60 s window has passed' }),
  decided180: Type.Integer(),
  within60: Type.Integer(),
  within180: Type.Integer(),
  rate60: Rate,
  rate180: Rate,
});

export async function alarmRoutes(app: FastifyInstance, o: { db: Db; actions: AlarmActions; timezone: string }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const staff = requireRole(db, 'agent', 'supervisor', 'admin');

  r.get(
    '/api/alarms',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Alarms, sorted by priority then age (open ones by default)',
        querystring: Type.Object({
          open: Type.Optional(Type.Boolean({ default: true })),
          state: Type.Optional(Type.String({ maxLength: 20 })),
          kind: Type.Optional(Type.Union(ALARM_KINDS.map((k) => Type.Literal(k)))),
          elderId: Type.Optional(Type.Integer({ minimum: 1 })),
          priorityMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
          ...Paging,
        }),
        response: { 200: Type.Array(AlarmSchema) },
      },
      onRequest: staff,
    },
    async (req) => listAlarms(db, { ...req.query, open: req.query.state ? false : (req.query.open ?? true), limit: req.query.limit ?? 100, offset: req.query.offset ?? 0 }),
  );

  r.get(
    '/api/alarms/outcomes',
    { schema: { tags: ['alarms'], summary: 'Outcome codes with zh-CN and English labels', response: { 200: Type.Record(Type.String(), OutcomeInfo) } }, onRequest: staff },
    async () => OUTCOME_CODES,
  );

  r.get('/api/alarms/stats', { schema: { tags: ['alarms'], summary: "Today's answered-within-60 s and 180 s rates", response: { 200: Stats } }, onRequest: requireRole(db, 'supervisor', 'admin', 'agent') }, async () => {
    const now = new Date();
    const start = startOfDay(now, o.timezone);
    const s = await answerRates(db, start, now);
    return { since: start.toISOString(), ...s, rate60: s.decided60 ? s.within60 / s.decided60 : null, rate180: s.decided180 ? s.within180 / s.decided180 : null };
  });

  r.get('/api/alarms/:id', { schema: { tags: ['alarms'], summary: 'One alarm with its timeline, elder, contacts, devices and calls', params: Id, response: { 200: AlarmDetailSchema } }, onRequest: staff }, async (req) => {
    const alarm = await getAlarm(db, req.params.id);
    if (!alarm) throw notFound(`alarm ${req.params.id}`);
    const [timeline, elder, contacts, devices, device, calls] = await Promise.all([
      listEvents(db, alarm.id),
      alarm.elderId ? getElder(db, alarm.elderId) : undefined,
      alarm.elderId ? listContacts(db, alarm.elderId) : [],
      alarm.elderId ? listDevices(db, { elderId: alarm.elderId, limit: 50, offset: 0 }) : [],
      alarm.deviceId ? getDevice(db, alarm.deviceId) : undefined,
      listCallsForAlarm(db, alarm.id),
    ]);
    return { alarm, timeline, elder: elder ? elderFor(elder, req.user?.role) : null, contacts, devices, device: device ?? null, calls: calls.map((x) => ({ ...x, liveState: liveStateOf(x) })) };
  });

  for (const action of USER_ACTIONS) {
    r.post(
      `/api/alarms/:id/${action.replace('_', '-')}`,
      {
        schema: { tags: ['alarms'], summary: `${action} (audited)`, params: Id, body: ActionBody },
        // A bodiless POST (e.g. curl -X POST …/accept) means "no note".
        preValidation: async (req) => {
          req.body ??= {};
        },
        onRequest: staff,
      },
      async (req) => o.actions.act(req.params.id, action as UserAction, req.user!, req.body ?? {}),
    );
  }
}

/** Midnight today in the centre's time zone. */
export function startOfDay(now: Date, tz: string): Date {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const sinceMidnight = ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 + now.getMilliseconds();
  return new Date(now.getTime() - sinceMidnight);
}
