/**
 * What each role may do with elders, alarms, contacts and users, as a table (issue 15 and 20): installers see no
 * medical or identity details (conditions, medications, allergies, the family doctor, the ID number) in the file or
 * the list, accept no alarms and read no contacts; agents and supervisors create no users; agents and supervisors
 * do not edit the file; the admin does all of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { DeviceMessage } from '../../protocols/message.js';
import { login, startTestApp } from '../helpers/app.js';

const ROLES = ['agent', 'supervisor', 'installer', 'admin'] as const;
type Role = (typeof ROLES)[number];
const MEDICAL = ['conditions', 'medications', 'allergies', 'doctor', 'idNumber'] as const;

let app: App;
const auth = {} as Record<Role, { authorization: string }>;
let elderId: number;
let n = 0;

const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

/** A fresh open alarm of the elder, on a device of its own. */
async function newAlarm(): Promise<number> {
  const deviceId = `86470099${String(++n).padStart(7, '0')}`;
  expect((await inject('POST', '/api/devices', auth.admin, { identifier: deviceId, protocol: 'watch', elderId })).statusCode).toBe(201);
  const msg: DeviceMessage = { deviceId, protocol: 'watch', kind: 'alarm', receivedAt: new Date(), deviceTime: new Date(), raw: `role-matrix-${n}`, alarms: ['sos'] };
  expect((await app.pipeline.handle([msg])).ok).toBe(true);
  return Number((await app.db.query('SELECT id FROM alarms WHERE source_key = $1 ORDER BY id DESC LIMIT 1', [deviceId])).rows[0].id);
}

/** Each case: what a role does, and whether it may. `may` is checked both ways: allowed must work, refused must be 403. */
interface Case {
  what: string;
  may: Role[];
  run: (role: Role) => Promise<{ statusCode: number; json: () => unknown }>;
  /** further checks of an allowed answer */
  seen?: (role: Role, body: unknown) => void;
}

const CASES: Case[] = [
  {
    what: 'reads medical and identity notes in GET /api/elders/:id',
    may: ['agent', 'supervisor', 'admin'],
    run: (role) => inject('GET', `/api/elders/${elderId}`, auth[role]),
  },
  {
    what: 'reads medical and identity notes in GET /api/elders',
    may: ['agent', 'supervisor', 'admin'],
    run: (role) => inject('GET', '/api/elders', auth[role]),
  },
  {
    what: 'accepts an alarm',
    may: ['agent', 'supervisor', 'admin'],
    run: async (role) => inject('POST', `/api/alarms/${await newAlarm()}/accept`, auth[role]),
    seen: (role, body) => expect((body as { ownerId: number | null }).ownerId, role).not.toBeNull(),
  },
  {
    what: 'reads the emergency contacts',
    may: ['agent', 'supervisor', 'admin'],
    run: (role) => inject('GET', `/api/elders/${elderId}/contacts`, auth[role]),
    seen: (role, body) => expect((body as { name: string }[]).map((c) => c.name), role).toEqual(['周建华']),
  },
  {
    what: 'creates a user',
    may: ['admin'],
    run: (role) => inject('POST', '/api/users', auth[role], { username: `rm-new-${role}`, role: 'agent', password: 'password-123' }),
  },
  {
    what: 'edits the elder’s file (PATCH)',
    may: ['installer', 'admin'],
    run: (role) => inject('PATCH', `/api/elders/${elderId}`, auth[role], { address: `上海市徐汇区漕溪北路 ${role} 号` }),
  },
];

beforeAll(async () => {
  app = await startTestApp({}, { LOGIN_RATE_PER_MIN: '1000' });
  auth.admin = await login(app);
  for (const role of ['agent', 'supervisor', 'installer'] as const) {
    expect((await inject('POST', '/api/users', auth.admin, { username: `rm-${role}`, role, password: 'password-123' })).statusCode).toBe(201);
    auth[role] = await login(app, `rm-${role}`, 'password-123');
  }
  const e = await inject('POST', '/api/elders', auth.admin, {
    name: '周玉珍', phone: '13800001234', address: '上海市徐汇区漕溪北路 1 号', idNumber: '110101194501171234',
    conditions: '冠心病', medications: '硝酸甘油', allergies: '磺胺', doctor: '吴医生',
    contacts: [{ name: '周建华', relation: '儿子', phone: '13900005678' }],
  });
  expect(e.statusCode, e.body).toBe(201);
  elderId = e.json().id;
});
afterAll(async () => app?.stop());

describe('role matrix', () => {
  for (const c of CASES) {
    for (const role of ROLES) {
      const allowed = c.may.includes(role);
      it(`${role} ${allowed ? 'may' : 'may not'}: ${c.what}`, async () => {
        const r = await c.run(role);
        if (c.what.startsWith('reads medical')) {
          // The file is readable by all; what differs is what it carries.
          expect(r.statusCode).toBe(200);
          const body = r.json() as Record<string, unknown> & { items?: Record<string, unknown>[] };
          const elder = body.items ? body.items.find((x) => x.id === elderId)! : body;
          for (const k of MEDICAL) {
            if (allowed) expect(elder[k], `${role} ${k}`).toBeTruthy();
            else expect(elder, `${role} ${k}`).not.toHaveProperty(k);
          }
          if (!allowed) for (const text of ['冠心病', '硝酸甘油', '磺胺', '吴医生', '110101', '****']) expect(JSON.stringify(body), text).not.toContain(text);
          else expect(String(elder.idNumber)).toBe(role === 'admin' ? '110101194501171234' : '**************1234');
          return;
        }
        if (allowed) {
          expect([200, 201], `${role}: ${JSON.stringify(r.json())}`).toContain(r.statusCode);
          c.seen?.(role, r.json());
        } else {
          expect(r.statusCode, `${role}: ${JSON.stringify(r.json())}`).toBe(403);
        }
      });
    }
  }
});
