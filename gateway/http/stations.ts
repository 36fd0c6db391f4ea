/** Service stations (服务站), their staff and the staff's rotas (排班), issue 21: admins write; agents and supervisors read. */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { rotaProblem } from '../../workorders/index.js';
import { audit } from '../store/audit.js';
import { tx, type Db } from '../store/db.js';
import { createStaff, createStation, deleteStaff, deleteStation, getRota, getStaff, getStation, listStaff, listStations, replaceRota, updateStaff, updateStation } from '../store/stations.js';
import { actorOf, requireRole } from './auth.js';
import { badField, notFound } from './errors.js';
import { Id, phone } from './schemas.js';
import { RotaEntrySchema, StaffSchema, StationSchema } from './responses.js';

const strict = { additionalProperties: false } as const;
const StationFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  area: Type.Optional(Type.String({ maxLength: 100, description: '片区/社区: matched exactly against elders’ area' })),
  lat: Type.Optional(Type.Union([Type.Number({ minimum: -90, maximum: 90 }), Type.Null()])),
  lon: Type.Optional(Type.Union([Type.Number({ minimum: -180, maximum: 180 }), Type.Null()])),
  phone: Type.Optional(Type.Union([Type.String({ minLength: 3, maxLength: 32 }), Type.Null()])),
  active: Type.Optional(Type.Boolean()),
};
const Skill = Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$', description: 'nurse, handyman, volunteer, …' });
const StaffFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  phone: Type.String({ minLength: 3, maxLength: 32 }),
  skills: Type.Optional(Type.Array(Skill, { maxItems: 16, uniqueItems: true })),
  stationId: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  userId: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null(), ], { description: 'the staff member’s own login, if any' })),
  active: Type.Optional(Type.Boolean()),
};
const RotaBody = Type.Object(
  {
    entries: Type.Array(
      Type.Object(
        {
          weekday: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 7, description: '1 = Monday … 7 = Sunday' }), Type.Null()])),
          date: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.Null()])),
          start: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM local time' }),
          end: Type.String({ pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$', description: 'HH:MM; not after start: the shift runs past midnight' }),
        },
        strict,
      ),
      { maxItems: 100 },
    ),
  },
  strict,
);

export async function stationRoutes(app: FastifyInstance, o: { db: Db }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const read = requireRole(db, 'agent', 'supervisor', 'admin');
  const admin = requireRole(db, 'admin');
  const tags = ['stations'];
  const normPhone = <T extends { phone?: string | null }>(b: T): T => (b.phone ? { ...b, phone: phone(b.phone, 'body/phone') } : b);

  r.get('/api/stations', { schema: { tags, querystring: Type.Object({ active: Type.Optional(Type.Boolean()), area: Type.Optional(Type.String({ maxLength: 100 })) }), response: { 200: Type.Array(StationSchema) } }, onRequest: read }, async (req) =>
    listStations(db, req.query),
  );
  r.get('/api/stations/:id', { schema: { tags, params: Id, response: { 200: StationSchema } }, onRequest: read }, async (req) => {
    const s = await getStation(db, req.params.id);
    if (!s) throw notFound(`station ${req.params.id}`);
    return s;
  });
  r.post('/api/stations', { schema: { tags, body: Type.Object(StationFields, strict), response: { 201: StationSchema } }, onRequest: admin }, async (req, reply) => {
    const s = await createStation(db, normPhone(req.body));
    await audit(db, actorOf(req), 'station_create', `station:${s.id}`);
    return reply.status(201).send(s);
  });
  r.patch('/api/stations/:id', { schema: { tags, params: Id, body: Type.Partial(Type.Object(StationFields, strict), { ...strict, minProperties: 1 }), response: { 200: StationSchema } }, onRequest: admin }, async (req) => {
    const s = await updateStation(db, req.params.id, normPhone(req.body));
    if (!s) throw notFound(`station ${req.params.id}`);
    await audit(db, actorOf(req), 'station_update', `station:${s.id}`, { fields: Object.keys(req.body) });
    return s;
  });
  r.delete('/api/stations/:id', { schema: { tags, params: Id }, onRequest: admin }, async (req) => {
    if (!(await deleteStation(db, req.params.id))) throw notFound(`station ${req.params.id}`);
    await audit(db, actorOf(req), 'station_delete', `station:${req.params.id}`);
    return { ok: true };
  });

  r.get(
    '/api/staff',
    { schema: { tags, querystring: Type.Object({ stationId: Type.Optional(Type.Integer({ minimum: 1 })), active: Type.Optional(Type.Boolean()), skill: Type.Optional(Type.String({ maxLength: 32 })) }), response: { 200: Type.Array(StaffSchema) } }, onRequest: read },
    async (req) => listStaff(db, req.query),
  );
  r.get('/api/staff/:id', { schema: { tags, params: Id, response: { 200: StaffSchema } }, onRequest: read }, async (req) => {
    const s = await getStaff(db, req.params.id);
    if (!s) throw notFound(`staff member ${req.params.id}`);
    return s;
  });
  r.post('/api/staff', { schema: { tags, body: Type.Object(StaffFields, strict), response: { 201: StaffSchema } }, onRequest: admin }, async (req, reply) => {
    const s = await createStaff(db, normPhone(req.body));
    await audit(db, actorOf(req), 'staff_create', `staff:${s.id}`, { stationId: s.stationId });
    return reply.status(201).send(s);
  });
  r.patch('/api/staff/:id', { schema: { tags, params: Id, body: Type.Partial(Type.Object(StaffFields, strict), { ...strict, minProperties: 1 }), response: { 200: StaffSchema } }, onRequest: admin }, async (req) => {
    const s = await updateStaff(db, req.params.id, normPhone(req.body));
    if (!s) throw notFound(`staff member ${req.params.id}`);
    await audit(db, actorOf(req), 'staff_update', `staff:${s.id}`, { fields: Object.keys(req.body) });
    return s;
  });
  r.delete('/api/staff/:id', { schema: { tags, params: Id }, onRequest: admin }, async (req) => {
    if (!(await deleteStaff(db, req.params.id))) throw notFound(`staff member ${req.params.id}`);
    await audit(db, actorOf(req), 'staff_delete', `staff:${req.params.id}`);
    return { ok: true };
  });

  r.get('/api/staff/:id/rota', { schema: { tags, summary: 'The duty rota (排班)', params: Id, response: { 200: Type.Array(RotaEntrySchema) } }, onRequest: read }, async (req) => {
    if (!(await getStaff(db, req.params.id))) throw notFound(`staff member ${req.params.id}`);
    return getRota(db, req.params.id);
  });
  r.put('/api/staff/:id/rota', { schema: { tags, summary: 'Replace the duty rota (排班), all or nothing', params: Id, body: RotaBody, response: { 200: Type.Array(RotaEntrySchema) } }, onRequest: admin }, async (req) => {
    const entries = req.body.entries.map((e) => ({ weekday: e.weekday ?? null, date: e.date ?? null, start: e.start, end: e.end }));
    entries.forEach((e, i) => {
      const p = rotaProblem(e);
      if (p) throw badField(`body/entries/${i}/${p.field}`, p.message);
    });
    const rows = await tx(db, async (c) => {
      if (!(await getStaff(c, req.params.id))) throw notFound(`staff member ${req.params.id}`);
      const out = await replaceRota(c, req.params.id, entries);
      await audit(c, actorOf(req), 'rota_update', `staff:${req.params.id}`, { entries: out.length });
      return out;
    });
    return rows;
  });
}
