/**
 * GET /api/wallboard (大屏, issue 23): everything the wall screen shows, in one read. The wallboard kiosk account may
 * call this and nothing else that shows data; supervisors and admins may open the board too. Visitors can see the
 * wall: elder names are masked (张*兰), no phone, ID number or address leaves here, positions are rounded.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { answerRates } from '../store/alarms.js';
import { listAgentStatus } from '../store/agents.js';
import { ANSWER_TARGETS } from '../store/reports.js';
import { boardCounts, boardDevices, boardLatest, boardQueue, elderDensity, type BoardAlarm } from '../store/wallboard.js';
import { startOfDay } from './alarms.js';
import { requireRole } from './auth.js';
import type { WallAlarm } from '../ws-messages.js';
import type { DeviceOnline } from './devices.js';

/** A device that holds no session (Zigbee, Contact ID, a phone line) counts as online when heard from this recently. */
const RECENT_MIN = 15;

/**
 * 张秀兰 → 张*兰, 欧阳建国 → 欧*国, 王芳 → 王*, 李 → 李: enough for the staff to know whom, not for a visitor to read;
 * one star whatever the length, so the wall does not tell the name's length either.
 */
export function maskName(name: string | null): string | null {
  if (name === null) return null;
  const c = Array.from(name.trim());
  if (c.length <= 1) return c.join('');
  if (c.length === 2) return `${c[0]}*`;
  return `${c[0]}*${c[c.length - 1]}`;
}

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);
const Alarm = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  priority: Type.Integer(),
  state: Type.String(),
  firstAt: Type.String({ format: 'date-time' }),
  elderName: Type.Union([Type.String(), Type.Null()], { description: 'masked: first and last character only (张*兰)' }),
  area: Type.String({ description: '片区/社区' }),
  ownerName: Type.Union([Type.String(), Type.Null()], { description: 'the agent who holds it' }),
  lat: Nullable(Type.Number({ description: 'rounded to 3 decimals (~100 m): the alarm’s own fix, else the elder’s home' })),
  lon: Nullable(Type.Number()),
});
const Rate = Type.Union([Type.Number(), Type.Null()], { description: 'within / decided (as /api/alarms/stats); null while none is decided' });
const Board = Type.Object({
  at: Type.String({ format: 'date-time' }),
  since: Type.String({ format: 'date-time', description: "start of today in the centre's time zone" }),
  kpi: Type.Object({
    total: Type.Integer({ description: 'operator alarms today' }),
    open: Type.Integer({ description: 'unhandled or in hand now' }),
    waiting: Type.Integer({ description: 'not yet taken by anyone' }),
    within60: Type.Integer(),
    within180: Type.Integer(),
    decided60: Type.Integer(),
    decided180: Type.Integer(),
    rate60: Rate,
    rate180: Rate,
    target60: Type.Number(),
    target180: Type.Number(),
    avgAnswerS: Type.Union([Type.Number(), Type.Null()], { description: 'mean seconds from raised to accepted, today' }),
    callsWaiting: Type.Integer({ description: 'hotline callers waiting in the queue now' }),
  }),
  queue: Type.Array(Alarm),
  latest: Type.Array(Alarm, { description: 'today’s last 10 alarms, newest first' }),
  agents: Type.Object({
    counts: Type.Record(Type.String(), Type.Integer(), { description: 'signed-in agents per state' }),
    list: Type.Array(Type.Object({ userId: Type.Integer(), name: Type.String(), state: Type.String(), since: Type.String({ format: 'date-time' }) })),
  }),
  elders: Type.Array(Type.Object({ lat: Type.Number(), lon: Type.Number(), n: Type.Integer() }), { description: 'homes per rounded point (~100 m): the density layer; no names' }),
  devices: Type.Object({ online: Type.Integer(), total: Type.Integer() }),
});

/** Homes and the device list change slowly: read at most this often, so a burst of pushes costs the alarm queries only. */
const SLOW_MS = 15_000;

export const forWall = (a: BoardAlarm): WallAlarm => ({ ...a, firstAt: a.firstAt.toISOString(), elderName: maskName(a.elderName) });

export async function wallboardRoutes(app: FastifyInstance, o: { db: Db; timezone: string; online?: DeviceOnline }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  let slow: { at: number; read: Promise<[Awaited<ReturnType<typeof elderDensity>>, Awaited<ReturnType<typeof boardDevices>>]> } | undefined;
  const slowParts = () => {
    if (!slow || Date.now() - slow.at > SLOW_MS) {
      const read = Promise.all([elderDensity(db), boardDevices(db, RECENT_MIN)]);
      slow = { at: Date.now(), read };
      read.catch(() => (slow = undefined)); // a failed read is not kept
    }
    return slow.read;
  };
  r.get(
    '/api/wallboard',
    {
      schema: { tags: ['wallboard'], summary: 'The wallboard (大屏): today’s figures, the queue, agents by state, the map layers, devices online', response: { 200: Board } },
      onRequest: requireRole(db, 'wallboard', 'supervisor', 'admin'),
    },
    async () => {
      const now = new Date();
      const since = startOfDay(now, o.timezone);
      const [rates, counts, queue, latest, agents, [elders, devices]] = await Promise.all([
        answerRates(db, since, now), boardCounts(db, since, now), boardQueue(db), boardLatest(db, since), listAgentStatus(db), slowParts(),
      ]);
      const signedIn = agents.filter((a) => a.signedIn && a.role !== 'installer' && a.role !== 'wallboard');
      const byState: Record<string, number> = {};
      for (const a of signedIn) byState[a.state] = (byState[a.state] ?? 0) + 1;
      return {
        at: now.toISOString(),
        since: since.toISOString(),
        kpi: {
          ...rates, ...counts,
          rate60: rates.decided60 ? rates.within60 / rates.decided60 : null,
          rate180: rates.decided180 ? rates.within180 / rates.decided180 : null,
          target60: ANSWER_TARGETS.rate60,
          target180: ANSWER_TARGETS.rate180,
        },
        queue: queue.map(forWall),
        latest: latest.map(forWall),
        agents: { counts: byState, list: signedIn.map((a) => ({ userId: a.userId, name: a.displayName || a.username, state: a.state, since: new Date(a.since).toISOString() })) },
        elders,
        devices: { online: devices.filter((d) => d.recent || o.online?.(d)).length, total: devices.length },
      };
    },
  );
}
