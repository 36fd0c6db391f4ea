import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import {
  ELDER_CATEGORIES, createElder, deleteElder, getElder, getElderPhoto, listContacts, listElders, setContactsTx, setElderPhoto, updateElder, type ContactInput,
} from '../store/elders.js';
import { listDevices } from '../store/devices.js';
import { checkIdNumber } from '../id-number.js';
import { actorOf, requireRole } from './auth.js';
import { ApiError, badField, notFound } from './errors.js';
import { ElderFullSchema, ElderSchema } from './responses.js';
import { ContactBody, Id, Paging, elderFor, phone } from './schemas.js';
import { DEFAULT_ESCALATION_PLAN, DEFAULT_RULES, resolveEscalationPlan, resolveRules } from '../../alarms/index.js';

/** Per-elder rule overrides and response plans are validated against the schemas in alarms/ (400 per field). */
function checkRules(body: { rules?: unknown; responsePlan?: unknown }): void {
  const fields: { field: string; message: string }[] = [];
  if (body.rules !== undefined) {
    const r = resolveRules(DEFAULT_RULES, body.rules);
    if (!r.ok) fields.push(...r.errors.map((e) => ({ field: `body/rules${e.path}`, message: e.message })));
  }
  if (body.responsePlan !== undefined && body.responsePlan !== null) {
    const r = resolveEscalationPlan(DEFAULT_ESCALATION_PLAN, body.responsePlan);
    if (!r.ok) fields.push(...r.errors.map((e) => ({ field: `body/responsePlan${e.path}`, message: e.message })));
  }
  if (fields.length) throw new ApiError(400, 'validation', fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields);
}

/** The fields of an elder as the API and the bulk import (gateway/import/) accept them. */
export const ElderFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  gender: Type.Optional(Type.Union([Type.Literal('male'), Type.Literal('female'), Type.Literal('other')])),
  idNumber: Type.Optional(Type.String({ pattern: '^[0-9]{17}[0-9Xx]$', description: '18-character resident ID number' })),
  birthDate: Type.Optional(Type.String({ format: 'date' })),
  phone: Type.Optional(Type.String({ maxLength: 32 })),
  address: Type.Optional(Type.String({ maxLength: 300 })),
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  conditions: Type.Optional(Type.String({ maxLength: 2000 })),
  medications: Type.Optional(Type.String({ maxLength: 2000 })),
  allergies: Type.Optional(Type.String({ maxLength: 1000 })),
  dialect: Type.Optional(Type.String({ maxLength: 50 })),
  livesAlone: Type.Optional(Type.Boolean()),
  accessNotes: Type.Optional(Type.String({ maxLength: 1000, description: 'key safe, door code' })),
  rules: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  responsePlan: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  externalKey: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64, pattern: '^[^#\\s][^\\s]*$', description: "the centre's own key for the elder (外部编号), used by the import files" }), Type.Null()])),
  area: Type.Optional(Type.String({ maxLength: 100, description: 'area, community or street office (片区/社区)' })),
  categories: Type.Optional(Type.Array(Type.Union(ELDER_CATEGORIES.map((c) => Type.Literal(c))), { maxItems: 4, uniqueItems: true, description: '失能 disabled, 独居 living_alone, 空巢 empty_nest, 高龄 advanced_age' })),
  doctor: Type.Optional(Type.String({ maxLength: 200, description: 'family doctor (家庭医生)' })),
};

export const CreateElder = Type.Object({ ...ElderFields, contacts: Type.Optional(Type.Array(ContactBody, { maxItems: 20 })) }, { additionalProperties: false });
const PatchElder = Type.Partial(Type.Object(ElderFields), { additionalProperties: false, minProperties: 1 });

function normContacts(list: ContactInput[] | undefined, prefix: string): ContactInput[] {
  return (list ?? []).map((c, i) => ({
    ...c,
    phone: phone(c.phone, `${prefix}/${i}/phone`),
    ...(c.altPhones ? { altPhones: c.altPhones.map((p, j) => phone(p, `${prefix}/${i}/altPhones/${j}`)) } : {}),
  }));
}

/** The ID number, normalised (trimmed, X upper case), or a 400 naming the field: the GB 11643 check character catches a mistyped digit. */
function idNumber<T extends { idNumber?: string }>(body: T): T {
  if (body.idNumber === undefined) return body;
  const r = checkIdNumber(body.idNumber);
  if (!r.ok) throw badField('body/idNumber', r.message);
  return { ...body, idNumber: r.number };
}

/** A row of GET /api/elders. */
const ElderListItem = Type.Object(
  {
    ...ElderSchema.properties,
    openAlarms: Type.Integer({ description: 'alarms not closed or cleared (test alarms left out)' }),
    devices: Type.Array(Type.String(), { description: "identifiers of the elder's devices" }),
    hasPhoto: Type.Boolean(),
  },
  { additionalProperties: true },
);
const ElderPage = Type.Object({ items: Type.Array(ElderListItem), total: Type.Integer() }, { additionalProperties: true });

const PHOTO_MAX = 1024 * 1024;
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The image type the bytes themselves show (magic numbers), whatever the request claimed. */
export function imageTypeOf(b: Buffer): (typeof PHOTO_TYPES)[number] | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG)) return 'image/png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

const tooLarge = () => new ApiError(413, 'too_large', '照片不能超过 1 MB / a photo may be at most 1 MB');

/** What an agent may set when creating a new caller's record from a call. */
const NEW_CALLER_FIELDS = new Set(['name', 'phone', 'gender', 'address', 'contacts']);

export async function elderRoutes(app: FastifyInstance, o: { db: Db; onRulesChanged?: (elderId: number) => void }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const write = requireRole(db, 'installer', 'admin');
  const read = requireRole(db, 'agent', 'supervisor', 'installer', 'admin');
  // Contacts' details are for the people who call them, not for installers (issue 15).
  const staff = requireRole(db, 'agent', 'supervisor', 'admin');

  // Photos come as the raw image (image/*), read here with a limit of their own, for this plugin's routes only.
  app.addContentTypeParser(/^image\//, (req, payload, done) => {
    if (Number(req.headers['content-length']) > PHOTO_MAX) return done(tooLarge(), undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onEnd);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > PHOTO_MAX) {
        stop();
        return done(tooLarge(), undefined);
      }
      chunks.push(chunk);
    };
    const onEnd = (err?: Error) => {
      stop();
      if (err) return done(Object.assign(err, { statusCode: 400 }), undefined);
      // raw bytes: the text guard (text-guard.ts) leaves Buffers alone
      done(null, Buffer.concat(chunks, size));
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
  });

  r.post('/api/elders', { schema: { tags: ['elders'], summary: 'Create an elder record (老人档案) with ordered emergency contacts; agents and supervisors: a new caller’s record (建档: name, phone, gender, address, contacts)', body: CreateElder }, onRequest: read }, async (req, reply) => {
    if (req.user!.role === 'agent' || req.user!.role === 'supervisor') {
      // 建档 from a call: who they are and how to reach them; the rest (medical notes, rules, plans) is the file's owners'
      const extra = Object.keys(req.body).filter((k) => !NEW_CALLER_FIELDS.has(k));
      if (extra.length) throw new ApiError(403, 'forbidden_fields', `坐席建档只能填写姓名、电话、性别、地址和联系人 / agents may set only name, phone, gender, address and contacts (not ${extra.join(', ')})`);
    }
    const { contacts, ...input } = idNumber(req.body);
    checkRules(input);
    if (input.phone) input.phone = phone(input.phone, 'body/phone');
    const elder = await createElder(db, input, normContacts(contacts, 'body/contacts'));
    await audit(db, actorOf(req), 'elder_create', `elder:${elder.id}`);
    return reply.status(201).send(elderFor(elder, req.user?.role));
  });

  r.get(
    '/api/elders',
    {
      schema: {
        tags: ['elders'],
        summary: 'Find elders: q matches the name, phone, address, area, a device identifier or SIM number, or the last 4–6 characters of the ID number (not for installers)',
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 100 })),
          area: Type.Optional(Type.String({ maxLength: 100, description: 'exactly this area (片区/社区)' })),
          category: Type.Optional(Type.Union(ELDER_CATEGORIES.map((c) => Type.Literal(c)))),
          ...Paging,
        }),
        response: { 200: ElderPage },
      },
      onRequest: read,
    },
    async (req) => {
      const { q, area, category } = req.query;
      // Installers never see the ID number, so they cannot search by it either.
      const page = await listElders(db, { q, area, category, idSuffix: req.user!.role !== 'installer', limit: req.query.limit ?? 100, offset: req.query.offset ?? 0 });
      return { ...page, items: page.items.map((e) => elderFor(e, req.user?.role)) };
    },
  );

  r.get('/api/elders/:id', { schema: { tags: ['elders'], summary: 'One elder with contacts (not for installers) and devices', params: Id, response: { 200: ElderFullSchema } }, onRequest: read }, async (req) => {
    const elder = await getElder(db, req.params.id);
    if (!elder) throw notFound(`elder ${req.params.id}`);
    const [contacts, devices] = await Promise.all([listContacts(db, elder.id), listDevices(db, { elderId: elder.id, limit: 100, offset: 0 })]);
    return { ...elderFor(elder, req.user?.role), ...(req.user?.role === 'installer' ? {} : { contacts }), devices };
  });

  r.patch('/api/elders/:id', { schema: { tags: ['elders'], params: Id, body: PatchElder }, onRequest: write }, async (req) => {
    const patch = idNumber({ ...req.body });
    checkRules(patch);
    if (patch.phone) patch.phone = phone(patch.phone, 'body/phone');
    const elder = await updateElder(db, req.params.id, patch);
    if (!elder) throw notFound(`elder ${req.params.id}`);
    await audit(db, actorOf(req), 'elder_update', `elder:${elder.id}`, { fields: Object.keys(req.body) });
    if (req.body.rules !== undefined || req.body.responsePlan !== undefined) o.onRulesChanged?.(elder.id);
    return elderFor(elder, req.user?.role);
  });

  r.delete('/api/elders/:id', { schema: { tags: ['elders'], params: Id }, onRequest: requireRole(db, 'admin') }, async (req, reply) => {
    if (!(await deleteElder(db, req.params.id))) throw notFound(`elder ${req.params.id}`);
    await audit(db, actorOf(req), 'elder_delete', `elder:${req.params.id}`);
    return reply.status(204).send();
  });

  r.put(
    '/api/elders/:id/photo',
    { schema: { tags: ['elders'], summary: 'Store the elder’s photo: the raw image (image/jpeg, image/png or image/webp, at most 1 MB) as the body', params: Id, consumes: [...PHOTO_TYPES] }, onRequest: write },
    async (req, reply) => {
      const body: unknown = req.body;
      const type = Buffer.isBuffer(body) ? imageTypeOf(body) : undefined;
      if (!Buffer.isBuffer(body) || !type) throw new ApiError(415, 'unsupported_image', '照片须为 JPEG、PNG 或 WebP 图片 / the photo must be a JPEG, PNG or WebP image');
      if (!(await setElderPhoto(db, req.params.id, { bytes: body, type }))) throw notFound(`elder ${req.params.id}`);
      await audit(db, actorOf(req), 'elder_photo_set', `elder:${req.params.id}`, { type, bytes: body.length });
      return reply.status(204).send();
    },
  );

  r.get('/api/elders/:id/photo', { schema: { tags: ['elders'], summary: 'The elder’s photo (404 if none)', params: Id }, onRequest: read }, async (req, reply) => {
    const photo = await getElderPhoto(db, req.params.id);
    if (!photo) throw notFound(`photo of elder ${req.params.id}`);
    // A face is personal data: no shared cache keeps it, and the browser never takes it for anything but an image.
    return reply
      .type(photo.type)
      .header('cache-control', 'private, no-store')
      .header('x-content-type-options', 'nosniff')
      .header('last-modified', photo.updatedAt.toUTCString())
      .send(photo.bytes);
  });

  r.delete('/api/elders/:id/photo', { schema: { tags: ['elders'], summary: 'Remove the elder’s photo', params: Id }, onRequest: write }, async (req, reply) => {
    if (!(await setElderPhoto(db, req.params.id, null))) throw notFound(`elder ${req.params.id}`);
    await audit(db, actorOf(req), 'elder_photo_delete', `elder:${req.params.id}`);
    return reply.status(204).send();
  });

  r.get('/api/elders/:id/contacts', { schema: { tags: ['elders'], params: Id }, onRequest: staff }, async (req) => {
    if (!(await getElder(db, req.params.id))) throw notFound(`elder ${req.params.id}`);
    return listContacts(db, req.params.id);
  });

  r.put(
    '/api/elders/:id/contacts',
    { schema: { tags: ['elders'], summary: 'Replace the ordered emergency contacts (紧急联系人)', params: Id, body: Type.Array(ContactBody, { maxItems: 20 }) },
      onRequest: write },
    async (req) => {
      if (!(await getElder(db, req.params.id))) throw notFound(`elder ${req.params.id}`);
      const saved = await setContactsTx(db, req.params.id, normContacts(req.body, 'body'));
      await audit(db, actorOf(req), 'contacts_replace', `elder:${req.params.id}`, { count: saved.length });
      return saved;
    },
  );
}
