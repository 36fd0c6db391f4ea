/**
 * GET /api/protocols: the protocol catalogue the console builds its forms from (registration, 设备开通, commands):
 * each protocol's identifier rule, the registration meta it reads, and each command's parameters as JSON Schema.
 * All of it is protocols/index.ts data; nothing here knows a protocol by name.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PROTOCOL_MODULES } from '../../protocols/index.js';
import type { ProtocolModule } from '../../protocols/message.js';
import type { Db } from '../store/db.js';
import { requireRole } from './auth.js';

const open = { additionalProperties: true } as const;
/** A JSON Schema, sent as is. */
const JsonSchema = (description: string) => Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description });

const CommandInfo = Type.Object(
  {
    type: Type.String({ description: 'the command keyword, sent as the body `type` of POST /api/devices/:id/commands' }),
    params: JsonSchema('the parameters besides `type`, as a JSON Schema object'),
    dangerous: Type.Boolean({ description: 'admin-only and needs a reason' }),
    why: Type.Optional(Type.String()),
    common: Type.Boolean({ description: 'an everyday command: locate, SOS numbers, upload interval, find, reset' }),
  },
  open,
);

export const ProtocolInfoSchema = Type.Object(
  {
    name: Type.String(),
    label: Type.String(),
    devices: Type.String(),
    transport: Type.String({ description: 'tcp, mqtt, serial, telephony or ip-receiver (DC-09: TCP and UDP, a frame per account)' }),
    identifierHint: Type.String(),
    identifierIsPhone: Type.Boolean({ description: 'the identifier is a phone number (normalised by the number rules)' }),
    deviceSecret: Type.Boolean({ description: 'devices log in with a secret shown once at registration' }),
    keyHint: Type.Union([Type.String({ description: 'devices share a key with us (DC-09 AES key, SCAIP SIP password): what one looks like; body `key`' }), Type.Null()]),
    keyEncodings: Type.Array(Type.String(), { description: 'how `key` may be written (`keyEncoding`): hex, ascii; empty: as typed' }),
    defaultKind: Type.Union([Type.String(), Type.Null()]),
    settings: Type.Union([JsonSchema('the registration meta fields the protocol reads'), Type.Null()]),
    commands: Type.Array(CommandInfo),
  },
  open,
);

/** TypeBox schemas as plain JSON Schema (their symbol keys are dropped). */
const plain = (schema: object): Record<string, unknown> => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

export function protocolInfo(m: ProtocolModule) {
  const common = new Set(m.commonCommands ?? []);
  return {
    name: m.name,
    label: m.label ?? m.name,
    devices: m.devices ?? `${m.name} devices`,
    transport: m.transport,
    identifierHint: m.identifier.hint,
    identifierIsPhone: m.identifier.phoneNumber === true,
    deviceSecret: m.deviceSecret === true,
    keyHint: m.symmetricKey?.hint ?? null,
    keyEncodings: [...(m.symmetricKey?.encodings ?? [])],
    defaultKind: m.registration?.kind ?? null,
    settings: m.settingsSchema ? plain(m.settingsSchema) : null,
    commands: m.commands.map((type) => {
      const risk = m.commandCodec?.risk({ type }) ?? { dangerous: false, monitor: false };
      const params = m.commandSchemas?.[type];
      return {
        type,
        params: params ? plain(params) : { type: 'object', properties: {} },
        dangerous: risk.dangerous,
        ...(risk.why ? { why: risk.why } : {}),
        common: common.has(type),
      };
    }),
  };
}

export async function protocolRoutes(app: FastifyInstance, o: { db: Db }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // static data: built once
  const catalogue = PROTOCOL_MODULES.map(protocolInfo);
  r.get(
    '/api/protocols',
    { schema: { tags: ['devices'], summary: 'The protocols: identifier rules, registration settings and command parameters (JSON Schema)', response: { 200: Type.Array(ProtocolInfoSchema) } }, onRequest: requireRole(o.db) },
    async () => catalogue,
  );
}
