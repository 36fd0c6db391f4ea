/**
 * The dry run: every row of every sheet checked the way the API checks a request (the API's own TypeBox schemas,
 * phone numbers by the same number rules, identifiers by each protocol's rule), plus what only a file can get
 * wrong: ID numbers' check characters (GB 11643), birth dates against ID numbers, keys and IMEIs given twice,
 * contacts and devices of elders that exist nowhere. Nothing is written; the result is either a list of every bad
 * row and field or the plan an import carries out.
 */
import { Type } from '@fastify/type-provider-typebox';
import { Compile } from 'typebox/compile';
import { PROTOCOL_NAMES, protocolModule } from '../../protocols/index.js';
import { DomainError } from '../errors.js';
import { RegisterBody, identifierOf } from '../http/devices.js';
import { ElderFields } from '../http/elders.js';
import { ContactBody, elderFor, phone } from '../http/schemas.js';
import { badTextPath } from '../http/text-guard.js';
import type { Queryable } from '../store/db.js';
import { DEVICE_KINDS, type DeviceInput } from '../store/devices.js';
import type { ContactInput, ElderInput } from '../store/elders.js';
import { devicesByIdentifiers, devicesBySimPhone, elderIdsByIdNumber, eldersByKeys, type ElderRef } from '../store/import.js';
import { CATEGORY_LABEL, COLUMNS, DEVICE_KIND_LABEL, GENDERS, codeOf, header, splitList, yesNo, type Kind } from './columns.js';
import { checkIdNumber, isMaskedIdNumber } from './id-number.js';
import type { Cell, SheetRows } from './workbook.js';

export interface RowError {
  sheet: Kind;
  /** the spreadsheet's row number (the header is row 1) */
  row: number;
  /** the column's header as the file wrote it */
  column?: string;
  field?: string;
  message: string;
}

export interface PlannedElder {
  row: number;
  key: string;
  /** set when the key names an elder on record: the row updates it */
  existingId?: number;
  input: ElderInput;
}
export interface PlannedContact extends ContactInput {
  elderKey: string;
  position: number;
}
export interface PlannedDevice extends DeviceInput {
  row: number;
  elderKey?: string;
}

export interface Plan {
  elders: PlannedElder[];
  /** the elders whose contacts a file replaces, by key, with their contacts in order */
  contacts: Map<string, PlannedContact[]>;
  devices: PlannedDevice[];
  /** elders on record the file refers to, by key */
  onRecord: Map<string, ElderRef>;
}

export interface Counts {
  elders: { rows: number; create: number; update: number };
  contacts: { rows: number; elders: number };
  devices: { rows: number; create: number; unchanged: number };
}

export interface PlanResult {
  ok: boolean;
  errors: RowError[];
  counts: Counts;
  plan: Plan;
}

/** Fields an installer neither sees nor imports: those the API leaves out of an elder for installers (http/schemas.ts elderFor). */
export const INSTALLER_HIDDEN: ReadonlySet<string> = (() => {
  const probe = Object.fromEntries(Object.keys(ElderFields).map((k) => [k, 'x']));
  const seen = elderFor(probe, 'installer') as Record<string, unknown>;
  return new Set(Object.keys(probe).filter((k) => !(k in seen)));
})();

// compiled once: a 10,000-row file is checked row by row
const ElderCheck = Compile(Type.Object(ElderFields, { additionalProperties: false }));
const ElderPatchCheck = Compile(Type.Partial(Type.Object(ElderFields, { additionalProperties: false })));
const ContactCheck = Compile(ContactBody);
const DeviceCheck = Compile(RegisterBody);

/** The zh-CN/English message of each field's first schema violation (TypeBox's errors, as the API's validation reports them). */
function schemaErrors(check: { Check(v: unknown): boolean; Errors(v: unknown): unknown[] }, value: unknown): { field: string; message: string }[] {
  if (check.Check(value)) return [];
  const out = new Map<string, string>();
  for (const e of check.Errors(value) as { keyword: string; instancePath: string; params: Record<string, unknown>; message: string }[]) {
    if (e.keyword === 'required') {
      for (const f of (e.params.requiredProperties as string[] | undefined) ?? []) if (!out.has(f)) out.set(f, '必填 / required');
      continue;
    }
    const field = e.instancePath.split('/')[1] ?? '';
    if (out.has(field)) continue;
    const limit = e.params.limit;
    const message =
      e.keyword === 'maxLength' ? `太长：最多 ${String(limit)} 个字符 / too long: at most ${String(limit)} characters`
      : e.keyword === 'minLength' ? '必填 / required'
      : e.keyword === 'maxItems' ? `太多：最多 ${String(limit)} 项 / too many: at most ${String(limit)}`
      : e.keyword === 'additionalProperties' ? '不能导入此列 / this column cannot be imported'
      : `格式不对 / invalid: ${e.message}`;
    out.set(field, message);
  }
  return [...out].map(([field, message]) => ({ field, message }));
}

function dateOf(v: string): string | undefined {
  const m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(v) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d || y < 1880 || dt.getTime() > Date.now()) return undefined;
  return `${m[1]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** A phone by the API's rule (http/schemas.ts phone()), or the message. */
function phoneOf(v: string): { number?: string; message?: string } {
  try {
    return { number: phone(v, 'phone') };
  } catch (e) {
    const reason = e instanceof DomainError ? (e.fields?.[0]?.message ?? e.message) : String(e);
    return { message: `不是有效的中国电话号码 / not a valid Chinese phone number: ${reason.replace(/^invalid phone number "[^"]*": /, '')}` };
  }
}

const KEY_RE = /^[^#\s][^\s]{0,63}$/;

/** The checks of a large file yield to the event loop now and then: the gateway's alarm path shares it. */
const YIELD_EVERY = 500;
const breathe = () => new Promise<void>((res) => setImmediate(res));

export async function planImport(db: Queryable, sheets: SheetRows[], role: string): Promise<PlanResult> {
  const errors: RowError[] = [];
  let ticks = 0;
  const byKind = new Map(sheets.map((s) => [s.kind, s]));
  const err = (s: SheetRows, row: number, field: string | undefined, message: string) =>
    errors.push({ sheet: s.kind, row, ...(field ? { column: s.headers.get(field) ?? header(COLUMNS[s.kind].find((c) => c.key === field)!), field } : {}), message });
  /** A cell's text, or undefined after noting why it cannot be used. */
  const textOf = (s: SheetRows, r: { row: number; cells: Map<string, Cell> }, field: string): string | undefined => {
    const c = r.cells.get(field);
    if (!c) return '';
    if (c.problem) return void err(s, r.row, field, c.problem);
    if (badTextPath(c.text, '')) return void err(s, r.row, field, '含有无法保存的字符（NUL 或不成对的代理项）/ holds characters that cannot be stored (NUL, unpaired surrogates)');
    return c.text;
  };

  const eldersSheet = byKind.get('elders');
  const contactsSheet = byKind.get('contacts');
  const devicesSheet = byKind.get('devices');

  // Everything the file refers to that may be on record, in one look-up each.
  const keys = new Set<string>();
  for (const s of sheets) for (const r of s.rows) {
    const k = r.cells.get(s.kind === 'elders' ? 'key' : 'elderKey')?.text;
    if (k) keys.add(k);
  }
  const onRecord = await eldersByKeys(db, [...keys]);

  // ---- elders
  const elders: PlannedElder[] = [];
  const fileKeys = new Map<string, number>();
  const fileIds = new Map<string, number>();
  const idNumbersWanted: { n: string; row: number; existingId?: number }[] = [];
  if (eldersSheet) {
    const s = eldersSheet;
    for (const r of s.rows) {
      if (++ticks % YIELD_EVERY === 0) await breathe();
      const before = errors.length;
      const key = textOf(s, r, 'key') ?? '';
      const existing = onRecord.get(key);
      if (!key) err(s, r.row, 'key', '必填 / required: every elder needs a key that contacts and devices can name');
      else if (key.startsWith('#')) {
        if (!/^#\d+$/.test(key) || !existing) err(s, r.row, 'key', `没有编号为 ${key.slice(0, 20)} 的老人记录 / no elder on record with id ${key.slice(0, 20)} (keys beginning with # name existing records; give a new elder another key)`);
      } else if (!KEY_RE.test(key)) err(s, r.row, 'key', '编号最多 64 个字符，不含空格，不以 # 开头 / a key has at most 64 characters, no spaces, and does not begin with #');
      if (key && fileKeys.has(key)) err(s, r.row, 'key', `编号重复（第 ${fileKeys.get(key)} 行）/ key given twice (row ${fileKeys.get(key)})`);
      else if (key) fileKeys.set(key, r.row);

      const input: Record<string, unknown> = {};
      for (const field of s.present) {
        if (field === 'key') continue;
        const text = textOf(s, r, field);
        if (text === undefined) continue;
        if (role === 'installer' && INSTALLER_HIDDEN.has(field)) {
          if (text) err(s, r.row, field, '安装人员不能导入此列（仅限管理员）/ installers may not import this column (admins only); leave it empty');
          continue;
        }
        switch (field) {
          case 'gender':
            if (!text) input.gender = null;
            else if (GENDERS[text.toLowerCase()]) input.gender = GENDERS[text.toLowerCase()];
            else err(s, r.row, field, '应为 男/女/其他 / must be 男 (male), 女 (female) or 其他 (other)');
            break;
          case 'birthDate':
            if (!text) input.birthDate = null;
            else {
              const d = dateOf(text);
              if (d) input.birthDate = d;
              else err(s, r.row, field, '日期无效，应为 YYYY-MM-DD / not a valid date: write YYYY-MM-DD');
            }
            break;
          case 'idNumber':
            if (!text) input.idNumber = null;
            else if (isMaskedIdNumber(text)) {
              // an export for a non-admin: the number on record stays as it is
              if (!existing?.idNumber || !existing.idNumber.endsWith(text.slice(-4).toUpperCase())) err(s, r.row, field, '身份证号被遮盖，请填写完整号码 / the ID number is masked: enter the full number');
            } else {
              const id = checkIdNumber(text);
              if (!id.ok) err(s, r.row, field, id.message);
              else {
                input.idNumber = id.number;
                idNumbersWanted.push({ n: id.number, row: r.row, existingId: existing?.id });
                const prev = fileIds.get(id.number);
                if (prev) err(s, r.row, field, `身份证号重复（第 ${prev} 行）/ ID number given twice (row ${prev})`);
                else fileIds.set(id.number, r.row);
              }
            }
            break;
          case 'phone':
            if (!text) input.phone = null;
            else {
              const p = phoneOf(text);
              if (p.number) input.phone = p.number;
              else err(s, r.row, field, p.message!);
            }
            break;
          case 'livesAlone':
            if (!text) input.livesAlone = false;
            else if (yesNo(text) === undefined) err(s, r.row, field, '应为 是/否 / must be 是 (yes) or 否 (no)');
            else input.livesAlone = yesNo(text);
            break;
          case 'categories': {
            const codes = splitList(text).map((c) => ({ c, code: codeOf(CATEGORY_LABEL, c) }));
            const bad = codes.filter((c) => !c.code);
            if (bad.length) err(s, r.row, field, `未知类别 / unknown category ${bad.map((b) => JSON.stringify(b.c.slice(0, 20))).join(', ')}: use 失能, 独居, 空巢, 高龄`);
            else input.categories = [...new Set(codes.map((c) => c.code!))];
            break;
          }
          default:
            input[field] = text;
        }
      }
      // the birth date inside the ID number and the one given must agree; an ID number alone gives the birth date
      if (typeof input.idNumber === 'string') {
        const fromId = input.idNumber.slice(6, 14).replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');
        if (typeof input.birthDate === 'string' && input.birthDate !== fromId) err(s, r.row, 'birthDate', `出生日期与身份证号不一致（身份证号为 ${fromId}）/ the birth date disagrees with the ID number (${fromId})`);
        else if (!input.birthDate && !(role === 'installer')) input.birthDate = fromId;
      }
      const checked: Record<string, unknown> = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));
      if (!key.startsWith('#') && key) checked.externalKey = key;
      for (const e of schemaErrors(existing ? ElderPatchCheck : ElderCheck, checked)) {
        if (e.field !== 'externalKey' && !errors.slice(before).some((x) => x.field === e.field)) err(s, r.row, e.field, e.message);
      }
      if (errors.length === before) {
        if (!existing) input.externalKey = key;
        elders.push({ row: r.row, key, existingId: existing?.id, input: input as unknown as ElderInput });
      }
    }
    // ID numbers already on record for another elder
    const taken = await elderIdsByIdNumber(db, idNumbersWanted.map((x) => x.n));
    for (const w of idNumbersWanted) {
      const owner = taken.get(w.n);
      if (owner !== undefined && owner !== w.existingId) err(s, w.row, 'idNumber', '已有老人使用此身份证号 / an elder with this ID number is already on record');
    }
  }
  const elderKnown = (k: string) => fileKeys.has(k) || onRecord.has(k);

  // ---- contacts
  const contacts = new Map<string, (PlannedContact & { row: number; order?: number })[]>();
  let contactRows = 0;
  if (contactsSheet) {
    const s = contactsSheet;
    for (const r of s.rows) {
      if (++ticks % YIELD_EVERY === 0) await breathe();
      contactRows++;
      const before = errors.length;
      const key = textOf(s, r, 'elderKey') ?? '';
      if (!key) err(s, r.row, 'elderKey', '必填 / required');
      else if (!elderKnown(key)) err(s, r.row, 'elderKey', `找不到老人编号 ${JSON.stringify(key.slice(0, 64))}（本文件和现有记录中都没有）/ no elder with this key, in this file or on record`);
      const c: Record<string, unknown> = {};
      let order: number | undefined;
      for (const field of s.present) {
        if (field === 'elderKey') continue;
        const text = textOf(s, r, field);
        if (text === undefined) continue;
        switch (field) {
          case 'order':
            if (!text) break;
            if (!/^\d{1,2}$/.test(text) || Number(text) < 1) err(s, r.row, field, '应为 1 到 20 的数字 / must be a number from 1 to 20');
            else order = Number(text);
            break;
          case 'phones': {
            const nums = splitList(text);
            if (!nums.length) {
              err(s, r.row, field, '必填 / required: at least one phone number');
              break;
            }
            const out: string[] = [];
            for (const n of nums) {
              const p = phoneOf(n);
              if (p.number) out.push(p.number);
              else err(s, r.row, field, `${JSON.stringify(n.slice(0, 32))}: ${p.message}`);
            }
            c.phone = out[0];
            if (nums.length > 1) c.altPhones = out.slice(1);
            break;
          }
          case 'keyHolder':
          case 'nextOfKin':
          case 'maySms':
            if (!text) c[field] = false;
            else if (yesNo(text) === undefined) err(s, r.row, field, '应为 是/否 / must be 是 (yes) or 否 (no)');
            else c[field] = yesNo(text);
            break;
          default:
            c[field] = text;
        }
      }
      for (const e of schemaErrors(ContactCheck, c))
        if (!errors.slice(before).some((x) => x.field === e.field || (e.field === 'phone' && x.field === 'phones'))) err(s, r.row, e.field === 'phone' || e.field === 'altPhones' ? 'phones' : e.field, e.message);
      if (errors.length > before || !key) continue;
      const list = contacts.get(key) ?? [];
      const clash = order !== undefined && list.find((x) => x.order === order);
      if (clash) err(s, r.row, 'order', `顺序重复（第 ${clash.row} 行）/ the same order as row ${clash.row} for this elder`);
      else if (list.length >= 20) err(s, r.row, 'elderKey', '每位老人最多 20 个联系人 / at most 20 contacts per elder');
      else list.push({ ...(c as unknown as ContactInput), elderKey: key, position: 0, row: r.row, order });
      contacts.set(key, list);
    }
    for (const list of contacts.values()) {
      list.sort((a, b) => (a.order ?? 1e9) - (b.order ?? 1e9) || a.row - b.row);
      list.forEach((x, i) => (x.position = i + 1));
    }
  }

  // ---- devices
  const devices: PlannedDevice[] = [];
  let unchanged = 0;
  if (devicesSheet) {
    const s = devicesSheet;
    const seenIds = new Map<string, number>();
    const seenSims = new Map<string, number>();
    const candidates: { row: number; d: PlannedDevice }[] = [];
    for (const r of s.rows) {
      if (++ticks % YIELD_EVERY === 0) await breathe();
      const before = errors.length;
      const t = (f: string) => textOf(s, r, f) ?? '';
      const protocol = t('protocol');
      const raw = t('identifier');
      const elderKey = t('elderKey');
      const mod = protocol ? protocolModule(protocol.toLowerCase()) : undefined;
      if (!protocol) err(s, r.row, 'protocol', '必填 / required');
      else if (!mod) err(s, r.row, 'protocol', `未知协议 ${JSON.stringify(protocol.slice(0, 32))} / unknown protocol: use one of ${PROTOCOL_NAMES.join(', ')}`);
      let identifier = raw;
      if (!raw) err(s, r.row, 'identifier', '必填 / required');
      else if (mod) {
        try {
          identifier = identifierOf(mod.name, raw, 'identifier');
        } catch (e) {
          err(s, r.row, 'identifier', `设备号无效 / ${e instanceof DomainError ? (e.fields?.[0]?.message ?? e.message) : String(e)}`);
        }
      }
      const d: Record<string, unknown> = { identifier, protocol: mod?.name ?? protocol };
      const kindText = t('kind');
      if (kindText) {
        const k = codeOf(DEVICE_KIND_LABEL, kindText);
        if (!k) err(s, r.row, 'kind', `未知类型 / unknown kind: use ${DEVICE_KINDS.map((x) => `${DEVICE_KIND_LABEL[x]} (${x})`).join(', ')}`);
        else d.kind = k;
      } else if (mod?.registration?.kind) d.kind = mod.registration.kind;
      else d.kind = 'watch';
      if (t('model')) d.model = t('model');
      const sim = t('simPhone');
      if (sim) {
        const p = phoneOf(sim);
        if (p.number) d.simPhone = p.number;
        else err(s, r.row, 'simPhone', p.message!);
      } else if (mod?.registration?.simPhoneIsIdentifier && identifier) d.simPhone = identifier;
      if (elderKey && !elderKnown(elderKey)) err(s, r.row, 'elderKey', `找不到老人编号 ${JSON.stringify(elderKey.slice(0, 64))}（本文件和现有记录中都没有）/ no elder with this key, in this file or on record`);
      const { elderKey: _k, ...body } = { ...d, elderKey };
      for (const e of schemaErrors(DeviceCheck, body)) if (!errors.slice(before).some((x) => x.field === e.field)) err(s, r.row, e.field, e.message);
      if (identifier && seenIds.has(identifier)) err(s, r.row, 'identifier', `设备号重复（第 ${seenIds.get(identifier)} 行）/ duplicate identifier (IMEI): also on row ${seenIds.get(identifier)}`);
      else if (identifier) seenIds.set(identifier, r.row);
      if (typeof d.simPhone === 'string') {
        if (seenSims.has(d.simPhone)) err(s, r.row, 'simPhone', `SIM 卡号重复（第 ${seenSims.get(d.simPhone)} 行）/ SIM number also on row ${seenSims.get(d.simPhone)}`);
        else seenSims.set(d.simPhone, r.row);
      }
      if (errors.length === before) candidates.push({ row: r.row, d: { ...(d as unknown as DeviceInput), row: r.row, ...(elderKey ? { elderKey } : {}) } });
    }
    const registered = await devicesByIdentifiers(db, candidates.map((c) => c.d.identifier));
    const sims = await devicesBySimPhone(db, candidates.map((c) => c.d.simPhone).filter((x): x is string => !!x));
    for (const { row, d } of candidates) {
      const had = registered.get(d.identifier);
      if (had) {
        // a device exactly as on record (an export imported again) is left as it is; any other is a duplicate
        const elderId = d.elderKey ? onRecord.get(d.elderKey)?.id : null;
        const same = had.protocol === d.protocol && had.kind === d.kind && (had.model ?? '') === (d.model ?? had.model ?? '') && (had.simPhone ?? null) === (d.simPhone ?? null) && had.elderId === (elderId ?? null) && !(d.elderKey && fileKeys.has(d.elderKey) && !onRecord.has(d.elderKey));
        if (same) unchanged++;
        else err(s, row, 'identifier', '设备号已注册（登记信息不同）/ duplicate identifier (IMEI): already registered with other details; change it on the device page');
        continue;
      }
      const simOwner = d.simPhone ? sims.get(d.simPhone) : undefined;
      if (simOwner !== undefined && simOwner !== d.identifier) {
        err(s, row, 'simPhone', '此号码已绑定到另一台设备 / this number is already bound to another device');
        continue;
      }
      devices.push(d);
    }
  }

  errors.sort((a, b) => KIND_ORDER[a.sheet] - KIND_ORDER[b.sheet] || a.row - b.row);
  const plannedContacts = new Map<string, PlannedContact[]>([...contacts].map(([k, v]) => [k, v.map(({ row: _r, order: _o, ...c }) => c)]));
  const counts: Counts = {
    elders: { rows: eldersSheet?.rows.length ?? 0, create: elders.filter((e) => !e.existingId).length, update: elders.filter((e) => e.existingId).length },
    contacts: { rows: contactRows, elders: contacts.size },
    devices: { rows: devicesSheet?.rows.length ?? 0, create: devices.length, unchanged },
  };
  return { ok: errors.length === 0, errors, counts, plan: { elders, contacts: plannedContacts, devices, onRecord } };
}

const KIND_ORDER: Record<Kind, number> = { elders: 0, contacts: 1, devices: 2 };
