import { Type } from '@fastify/type-provider-typebox';
import { normalisePhone } from '../../telephony/phone.js';
import { badField } from './errors.js';

export const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
/** A new password, the same rule wherever one is set (creating a user, an admin's reset, one's own change). */
export const Password = Type.String({ minLength: 8, maxLength: 256, description: 'at least 8 characters' });

export const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
};

export const ContactBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    relation: Type.Optional(Type.String({ maxLength: 50, description: 'family, neighbour, community worker, property security…' })),
    phone: Type.String({ minLength: 3, maxLength: 32 }),
    notes: Type.Optional(Type.String({ maxLength: 500 })),
    altPhones: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 32 }), { maxItems: 4, description: 'further numbers, called after phone' })),
    keyHolder: Type.Optional(Type.Boolean({ description: 'holds a key to the home (持钥匙人)' })),
    nextOfKin: Type.Optional(Type.Boolean({ description: 'next of kin (直系亲属)' })),
    maySms: Type.Optional(Type.Boolean({ description: 'may receive SMS notifications' })),
  },
  { additionalProperties: false },
);

/** Normalised phone, or a 400 naming the field. */
export function phone(value: string, field: string, areaCode?: string): string {
  const r = normalisePhone(value, areaCode);
  if (!r.ok) throw badField(field, `invalid phone number ${JSON.stringify(value)}: ${r.reason}`);
  return r.number;
}

/** ID numbers (身份证号) show their last 4 characters only; the full number is for admins (issue 14). */
export function maskIdNumber(v: string): string {
  return v.length <= 4 ? v : `${'*'.repeat(v.length - 4)}${v.slice(-4)}`;
}

/** What an installer does not need to install a device: health (the family doctor too), access and identity details (issue 15). */
const NOT_FOR_INSTALLERS = ['idNumber', 'birthDate', 'conditions', 'medications', 'allergies', 'doctor', 'accessNotes', 'livesAlone', 'dialect'] as const;

/** An elder record as a role may see it: ID numbers masked but for admins; installers get name, address, phone and the rules. */
export function elderFor<E extends { idNumber?: string | null }>(elder: E, role: string | undefined): E {
  if (role === 'installer') {
    const out: Record<string, unknown> = { ...elder };
    for (const k of NOT_FOR_INSTALLERS) delete out[k];
    return out as E;
  }
  if (role === 'admin' || !elder.idNumber) return elder;
  return { ...elder, idNumber: maskIdNumber(elder.idNumber) };
}
