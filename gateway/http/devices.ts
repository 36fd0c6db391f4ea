import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Value } from '@sinclair/typebox/value';
import { hashDeviceSecret, newDeviceSecret } from '../device-secrets.js';
import { PROTOCOL_NAMES, protocolModule } from '../../protocols/index.js';
import { tx, type Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { getElder } from '../store/elders.js';
import type { KeyVault } from '../device-keys.js';
import { DEVICE_KINDS, deleteDevice, getDevice, listDevices, listUnknownDevices, registerDevice, setDeviceKeySealed, updateDevice, type Device } from '../store/devices.js';
import { actorOf, requireRole } from './auth.js';
import { ApiError, badField, notFound } from './errors.js';
import { DeviceSchema } from './responses.js';
import { Id, Paging, phone } from './schemas.js';

/** Whether the device has a live session now: a TCP connection holding it, or its MQTT login (gateway/parts/http.ts). */
export type DeviceOnline = (device: Pick<Device, 'identifier' | 'protocol'>) => boolean;

/** A device as the /api/devices routes send it: with `online`. */
export const DeviceStateSchema = Type.Object({ ...DeviceSchema.properties, online: Type.Boolean({ description: 'a live TCP or MQTT session right now (never for phone, Contact ID or Zigbee devices)' }) }, { additionalProperties: true });

/** The identifier as stored, or a 400: each protocol's rule (protocols/index.ts); phone numbers by the number rules. */
export function identifierOf(protocol: string, identifier: string, field = 'body/identifier'): string {
  const rule = protocolModule(protocol)!.identifier;
  if (rule.phoneNumber) return phone(identifier, field);
  if (!rule.pattern.test(identifier)) throw badField(field, `not a valid ${protocol} identifier: expected ${rule.hint}`);
  return rule.normalise ? rule.normalise(identifier) : identifier;
}

/** The registration meta: the protocol's own settings (its settingsSchema, checked by `checkMeta`). */
const Meta = Type.Object(
  {
    vendor: Type.Optional(Type.String({ maxLength: 32, description: 'panel vendor for the Contact ID code table, e.g. climax' })),
    zoneNames: Type.Optional(Type.Record(Type.String({ pattern: '^[0-9]{3}$' }), Type.String({ minLength: 1, maxLength: 50 }), { additionalProperties: false, description: 'Contact ID: zone number → its name (GET /api/protocols settings)' })),
  },
  { additionalProperties: Type.Union([Type.String({ maxLength: 200 }), Type.Number(), Type.Boolean()]) },
);

/** A device's symmetric key (DC-09 AES), given at registration or replaced later; never returned. */
const KeyText = Type.String({ minLength: 1, maxLength: 64, description: 'DC-09: the AES key (32/48/64 hex digits, or 16/24/32 ASCII characters as keyEncoding says); stored sealed, never returned' });
const KeyFields = {
  key: Type.Optional(KeyText),
  keyEncoding: Type.Optional(Type.Union([Type.Literal('hex'), Type.Literal('ascii')], { description: 'how `key` is written: hex (default) or ascii (the characters are the key bytes, as Ajax and Home Assistant take it)' })),
};

/** A 400 naming the first field of `meta` the protocol's settings schema refuses (GET /api/protocols shows them). */
function checkMeta<M extends Record<string, unknown> | undefined>(protocol: string, meta: M): M {
  const schema = protocolModule(protocol)!.settingsSchema;
  if (!schema || !meta) return meta;
  // the body's meta values may arrive as text (the API's coercion reads `60` as "60" for a string-or-number field):
  // read them as the protocol's schema types them
  const typed = Value.Convert(schema, structuredClone(meta)) as M;
  const first = Value.Errors(schema, typed).First();
  if (first) throw badField(`body/meta${first.path}`, first.message);
  return typed;
}

/** The key sealed for storage, or a 400 naming the field. */
function sealKey(protocol: string, b: { key?: string; keyEncoding?: 'hex' | 'ascii' }, vault: KeyVault | undefined): string | undefined {
  if (b.key === undefined) {
    if (b.keyEncoding !== undefined) throw badField('body/key', 'keyEncoding given without a key');
    return undefined;
  }
  const rule = protocolModule(protocol)!.symmetricKey;
  if (!rule) throw badField('body/key', `${protocol} devices take no key`);
  if (b.keyEncoding !== undefined && !rule.encodings?.includes(b.keyEncoding)) throw badField('body/keyEncoding', `${protocol} keys are written as typed`);
  let bytes: Buffer;
  try {
    bytes = rule.parseKey(b.key, b.keyEncoding ?? 'hex');
  } catch (e) {
    throw badField('body/key', `not a valid key: ${(e as Error).message}`);
  }
  if (!vault) throw new ApiError(503, 'unavailable', 'device keys cannot be stored here: no key file (DEVICE_KEYS_FILE)');
  return vault.seal(bytes);
}

export const RegisterBody = Type.Object(
  {
    identifier: Type.String({ minLength: 1, maxLength: 64, description: 'IMEI, watch id, Contact ID account, MQTT client id' }),
    protocol: Type.Union(PROTOCOL_NAMES.map((p) => Type.Literal(p))),
    model: Type.Optional(Type.String({ maxLength: 100 })),
    kind: Type.Optional(Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)))),
    simPhone: Type.Optional(Type.String({ maxLength: 32, description: 'SIM or landline number' })),
    meta: Type.Optional(Meta),
    elderId: Type.Optional(Type.Integer({ minimum: 1 })),
    ...KeyFields,
  },
  { additionalProperties: false },
);

export async function deviceRoutes(app: FastifyInstance, o: { db: Db; onChanged: (identifier: string) => void; online?: DeviceOnline; vault?: KeyVault }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const withOnline = (d: Device) => ({ ...d, online: o.online?.(d) ?? false });
  const write = requireRole(db, 'installer', 'admin');
  const read = requireRole(db, 'agent', 'supervisor', 'installer', 'admin');

  r.post('/api/devices', { schema: { tags: ['devices'], summary: 'Register a device (设备开通); MQTT devices get their secret once, here', body: RegisterBody }, onRequest: write }, async (req, reply) => {
    const { key, keyEncoding, ...b } = req.body;
    const proto = protocolModule(b.protocol)!;
    b.identifier = identifierOf(b.protocol, b.identifier);
    if (b.simPhone) b.simPhone = phone(b.simPhone, 'body/simPhone');
    if (proto.registration?.simPhoneIsIdentifier) b.simPhone ??= b.identifier;
    if (b.elderId && !(await getElder(db, b.elderId))) throw badField('body/elderId', `elder ${b.elderId} does not exist`);
    // A random 144-bit secret, kept as a salted HMAC (device-secrets.ts); it is shown once, here.
    const secret = proto.deviceSecret ? newDeviceSecret() : undefined;
    const hash = secret ? hashDeviceSecret(secret) : undefined;
    b.meta = checkMeta(b.protocol, b.meta);
    const sealed = sealKey(b.protocol, { key, keyEncoding }, o.vault);
    const device = await registerDevice(db, { ...b, kind: b.kind ?? (proto.registration?.kind as typeof b.kind) }, hash, sealed);
    o.onChanged(device.identifier);
    // the audit says a key was set, never which
    await audit(db, actorOf(req), 'device_register', `device:${device.id}`, { protocol: device.protocol, elderId: device.elderId, ...(sealed ? { key: 'set' } : {}) });
    return reply.status(201).send(secret ? { ...withOnline(device), mqttSecret: secret } : withOnline(device));
  });

  r.get(
    '/api/devices',
    {
      schema: {
        tags: ['devices'],
        querystring: Type.Object({
          elderId: Type.Optional(Type.Integer({ minimum: 1 })),
          protocol: Type.Optional(Type.String()),
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a substring of the identifier, model or SIM number' })),
          unbound: Type.Optional(Type.Boolean({ description: 'true: only devices bound to no elder' })),
          ...Paging,
        }),
        response: { 200: Type.Array(DeviceStateSchema) },
      },
      onRequest: read,
    },
    async (req) => {
      const q = req.query;
      const list = await listDevices(db, { elderId: q.elderId, protocol: q.protocol, q: q.q, unbound: q.unbound, limit: q.limit ?? 100, offset: q.offset ?? 0 });
      return list.map((d) => withOnline(d));
    },
  );

  r.get('/api/devices/unregistered', { schema: { tags: ['devices'], summary: 'Devices that spoke to us but are not registered (awaiting registration / 待开通)' }, onRequest: read }, async () =>
    listUnknownDevices(db),
  );

  r.get('/api/devices/:id', { schema: { tags: ['devices'], params: Id, response: { 200: DeviceStateSchema } }, onRequest: read }, async (req) => {
    const d = await getDevice(db, req.params.id);
    if (!d) throw notFound(`device ${req.params.id}`);
    return withOnline(d);
  });

  r.post('/api/devices/:id/bind', { schema: { tags: ['devices'], summary: 'Bind the device to an elder (发放终端)', params: Id, body: Type.Object({ elderId: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }) }, onRequest: write }, async (req) => {
    const d = await getDevice(db, req.params.id);
    if (!d) throw notFound(`device ${req.params.id}`);
    if (!(await getElder(db, req.body.elderId))) throw badField('body/elderId', `elder ${req.body.elderId} does not exist`);
    if (d.elderId && d.elderId !== req.body.elderId) throw new ApiError(409, 'conflict', `device ${d.id} is bound to elder ${d.elderId}; unbind it first`);
    const updated = await updateDevice(db, d.id, { elderId: req.body.elderId });
    o.onChanged(d.identifier);
    await audit(db, actorOf(req), 'device_bind', `device:${d.id}`, { elderId: req.body.elderId });
    return updated && withOnline(updated);
  });

  r.post('/api/devices/:id/unbind', { schema: { tags: ['devices'], params: Id }, onRequest: write }, async (req) => {
    const d = await getDevice(db, req.params.id);
    if (!d) throw notFound(`device ${req.params.id}`);
    const updated = await updateDevice(db, d.id, { elderId: null });
    o.onChanged(d.identifier);
    await audit(db, actorOf(req), 'device_unbind', `device:${d.id}`, { elderId: d.elderId });
    return updated && withOnline(updated);
  });

  const PatchBody = Type.Object(
    {
      model: Type.Optional(Type.String({ maxLength: 100 })),
      state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('registered')])),
      simPhone: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()])),
      meta: Type.Optional(Meta),
      key: Type.Optional(Type.Union([KeyText, Type.Null()], { description: 'a new key (replaces the old one), or null to remove it' })),
      keyEncoding: KeyFields.keyEncoding,
    },
    { additionalProperties: false, minProperties: 1 },
  );
  r.patch('/api/devices/:id', { schema: { tags: ['devices'], params: Id, body: PatchBody }, onRequest: write }, async (req) => {
    const d = await getDevice(db, req.params.id);
    if (!d) throw notFound(`device ${req.params.id}`);
    const { key, keyEncoding, ...patch } = req.body;
    if (patch.simPhone) patch.simPhone = phone(patch.simPhone, 'body/simPhone');
    patch.meta = checkMeta(d.protocol, patch.meta);
    // sealed (or refused) before anything is written
    const sealed = key === null ? null : sealKey(d.protocol, { key, keyEncoding }, o.vault);
    let updated: Device | undefined = d;
    await tx(db, async (c) => {
      if (Object.keys(patch).length) updated = await updateDevice(c, d.id, patch);
      if (sealed !== undefined) updated = await setDeviceKeySealed(c, d.id, sealed);
    });
    o.onChanged(d.identifier);
    const fields = Object.keys(req.body).filter((f) => f !== 'keyEncoding');
    await audit(db, actorOf(req), 'device_update', `device:${d.id}`, { fields, ...(key === null ? { key: 'removed' } : key !== undefined ? { key: 'replaced' } : {}) });
    return updated && withOnline(updated);
  });

  r.delete('/api/devices/:id', { schema: { tags: ['devices'], params: Id }, onRequest: requireRole(db, 'admin') }, async (req, reply) => {
    const d = await getDevice(db, req.params.id);
    if (!d || !(await deleteDevice(db, d.id))) throw notFound(`device ${req.params.id}`);
    o.onChanged(d.identifier);
    await audit(db, actorOf(req), 'device_delete', `device:${d.id}`);
    return reply.status(204).send();
  });
}
