/**
 * Bulk import and export (issue 20): templates, the dry run, imports as jobs with progress (all or nothing per
 * file, one transaction), and exports with the same columns. Jobs live in this process (a map, kept an hour);
 * one import runs at a time.
 */
import { randomUUID } from 'node:crypto';
import { hashDeviceSecret, newDeviceSecret } from '../device-secrets.js';
import { protocolModule } from '../../protocols/index.js';
import { elderFor } from '../http/schemas.js';
import { audit } from '../store/audit.js';
import { tx, type Db, type Queryable } from '../store/db.js';
import { updateElder, type ElderInput } from '../store/elders.js';
import { exportContacts, exportDevices, exportElders, insertDevices, insertElders, replaceContactsOf } from '../store/import.js';
import { CATEGORY_LABEL, COLUMNS, DEVICE_KIND_LABEL, GENDER_LABEL, KINDS, type Kind } from './columns.js';
import { INSTALLER_HIDDEN, planImport, type Counts, type PlanResult, type RowError } from './plan.js';
import { readUploadOffThread } from './parse.js';
import { readUpload, writeFile, type Format, type ReadResult, type SheetOut } from './workbook.js';

/** Files above this size are read in a child process, off the gateway's event loop (gateway/import/parse.ts). */
export const OFF_THREAD_BYTES = 256 * 1024;
const read = (bytes: Buffer, opts: { kind?: Kind; maxRows: number }): Promise<ReadResult> => (bytes.length > OFF_THREAD_BYTES ? readUploadOffThread : readUpload)(bytes, opts);

export interface ImportLimits {
  /** largest upload, bytes */
  maxBytes: number;
  /** most data rows per sheet */
  maxRows: number;
}
export const DEFAULT_LIMITS: ImportLimits = { maxBytes: 20 * 2 ** 20, maxRows: 50_000 };
/** A dry run answers at most this many problems (with the total). */
export const MAX_ERRORS = 2000;
const CHUNK = 1000;
const JOB_TTL_MS = 3600_000;

export interface DryRun {
  ok: boolean;
  format: Format;
  sheets: Kind[];
  counts: Counts;
  errorCount: number;
  errors: RowError[];
}

export type JobState = 'validating' | 'importing' | 'done' | 'failed';
export interface Job {
  id: string;
  userId: number;
  state: JobState;
  done: number;
  total: number;
  errors: RowError[];
  errorCount: number;
  message?: string;
  counts?: Counts;
  /** MQTT device secrets, handed out once (like POST /api/devices) */
  secrets?: { identifier: string; mqttSecret: string }[];
  startedAt: Date;
  finishedAt?: Date;
}

const asDryRun = (format: Format, r: PlanResult, sheets: Kind[]): DryRun => ({
  ok: r.ok,
  format,
  sheets,
  counts: r.counts,
  errorCount: r.errors.length,
  errors: r.errors.slice(0, MAX_ERRORS),
});

export async function dryRun(db: Db, bytes: Buffer, o: { kind?: Kind; role: string; limits?: ImportLimits }): Promise<DryRun> {
  const file = await read(bytes, { kind: o.kind, maxRows: (o.limits ?? DEFAULT_LIMITS).maxRows });
  const r = await planImport(db, file.sheets, o.role);
  return asDryRun(file.format, r, file.sheets.map((s) => s.kind));
}

/** Writes a checked plan in one transaction; progress after each chunk. Returns the MQTT secrets issued. */
export async function commitPlan(c: Queryable, r: PlanResult, progress: (done: number) => void = () => undefined): Promise<{ identifier: string; mqttSecret: string }[]> {
  let done = 0;
  const step = (n: number) => progress((done += n));
  const { elders, contacts, devices, onRecord } = r.plan;
  const ids = new Map<string, number>([...onRecord].map(([k, e]) => [k, e.id]));
  const creates = elders.filter((e) => !e.existingId);
  for (let i = 0; i < creates.length; i += CHUNK) {
    const part = creates.slice(i, i + CHUNK);
    const got = await insertElders(c, part.map((e) => ({ ...e.input, externalKey: e.key })));
    for (const [k, id] of got) ids.set(k, id);
    step(part.length);
  }
  for (const e of elders.filter((x) => x.existingId)) {
    await updateElder(c, e.existingId!, e.input as Partial<ElderInput>);
    step(1);
  }
  const groups = [...contacts];
  for (let i = 0; i < groups.length; i += CHUNK / 2) {
    const part = groups.slice(i, i + CHUNK / 2);
    const elderIds = part.map(([k]) => ids.get(k)!);
    const rows = part.flatMap(([k, list]) => list.map(({ elderKey: _k, ...ct }) => ({ ...ct, elderId: ids.get(k)! })));
    await replaceContactsOf(c, elderIds, rows);
    step(rows.length);
  }
  const secrets: { identifier: string; mqttSecret: string }[] = [];
  for (let i = 0; i < devices.length; i += CHUNK) {
    const part = devices.slice(i, i + CHUNK).map(({ row: _r, elderKey, ...d }) => {
      let mqttSecretHash: string | undefined;
      if (protocolModule(d.protocol)?.deviceSecret) {
        const mqttSecret = newDeviceSecret();
        secrets.push({ identifier: d.identifier, mqttSecret });
        mqttSecretHash = hashDeviceSecret(mqttSecret);
      }
      return { ...d, elderId: elderKey ? ids.get(elderKey)! : null, mqttSecretHash };
    });
    await insertDevices(c, part);
    step(part.length);
  }
  return secrets;
}

const totalOf = (r: PlanResult) => r.plan.elders.length + [...r.plan.contacts.values()].reduce((n, l) => n + l.length, 0) + r.plan.devices.length;

export class ImportService {
  private jobs = new Map<string, Job>();
  private running: string | undefined;

  constructor(
    private readonly db: Db,
    private readonly o: { limits?: ImportLimits; onDevicesChanged?: (identifiers: string[]) => void } = {},
  ) {}

  get limits(): ImportLimits {
    return this.o.limits ?? DEFAULT_LIMITS;
  }

  dryRun(bytes: Buffer, kind: Kind | undefined, role: string): Promise<DryRun> {
    return dryRun(this.db, bytes, { kind, role, limits: this.limits });
  }

  /** The running import's id, if one runs. */
  busy(): string | undefined {
    return this.running;
  }

  /** Starts an import of one file; the job checks it again (the database may have changed since a dry run), then writes it. */
  start(bytes: Buffer, kind: Kind | undefined, user: { id: number; role: string }, actor: string): Job {
    this.expire();
    const job: Job = { id: randomUUID(), userId: user.id, state: 'validating', done: 0, total: 0, errors: [], errorCount: 0, startedAt: new Date() };
    this.jobs.set(job.id, job);
    this.running = job.id;
    void this.run(job, bytes, kind, user.role, actor).finally(() => {
      if (this.running === job.id) this.running = undefined;
      job.finishedAt = new Date();
    });
    return job;
  }

  private async run(job: Job, bytes: Buffer, kind: Kind | undefined, role: string, actor: string): Promise<void> {
    let format: Format | undefined;
    try {
      const file = await read(bytes, { kind, maxRows: this.limits.maxRows });
      format = file.format;
      const r = await planImport(this.db, file.sheets, role);
      job.counts = r.counts;
      if (!r.ok) {
        job.state = 'failed';
        job.errorCount = r.errors.length;
        job.errors = r.errors.slice(0, MAX_ERRORS);
        job.message = `${r.errors.length} 处错误，未导入任何数据 / ${r.errors.length} problems: nothing was imported`;
        await audit(this.db, actor, 'import_rejected', `import:${job.id}`, { format, errors: r.errors.length });
        return;
      }
      job.total = totalOf(r);
      job.state = 'importing';
      const secrets = await tx(this.db, async (c) => {
        const s = await commitPlan(c, r, (done) => (job.done = done));
        // who, what, how many: never a name or a number
        await audit(c, actor, 'import', `import:${job.id}`, { format, sheets: file.sheets.map((x) => x.kind), ...r.counts });
        return s;
      });
      if (secrets.length) job.secrets = secrets;
      job.state = 'done';
      this.o.onDevicesChanged?.(r.plan.devices.map((d) => d.identifier));
    } catch (e) {
      job.state = 'failed';
      job.done = 0;
      job.message = `${(e as Error).message.slice(0, 300)}; 未导入任何数据 / nothing was imported`;
      await audit(this.db, actor, 'import_failed', `import:${job.id}`, { format: format ?? null }).catch(() => undefined);
    }
  }

  /** A job as its owner (or an admin) sees it; the MQTT secrets only once. */
  job(id: string, user: { id: number; role: string }): Omit<Job, 'userId'> | undefined {
    this.expire();
    const job = this.jobs.get(id);
    if (!job || (job.userId !== user.id && user.role !== 'admin')) return undefined;
    const { userId: _u, ...out } = job;
    if (job.secrets && job.userId === user.id) delete job.secrets;
    else if (job.secrets) delete out.secrets;
    return { ...out };
  }

  private expire(): void {
    const now = Date.now();
    for (const [id, j] of this.jobs) if (j.finishedAt && now - j.finishedAt.getTime() > JOB_TTL_MS) this.jobs.delete(id);
  }
}

// ---- export and templates

const yes = (b: boolean | null | undefined) => (b ? '是' : '否');

/** The file's rows of each kind as `role` may see them: ID numbers masked but for admins, installers without health notes and contacts. */
export async function exportSheets(db: Queryable, kinds: Kind[], role: string): Promise<SheetOut[]> {
  const out: SheetOut[] = [];
  const keyOf = (id: number | null, key: string | null) => (id === null ? '' : (key ?? `#${id}`));
  for (const kind of kinds) {
    const columns = COLUMNS[kind].filter((c) => kind !== 'elders' || role !== 'installer' || !INSTALLER_HIDDEN.has(c.key));
    let rows: Record<string, string>[] = [];
    if (kind === 'elders') {
      rows = (await exportElders(db)).map((raw) => {
        const e = elderFor(raw, role) as typeof raw;
        return {
          key: keyOf(e.id, e.externalKey ?? null),
          name: e.name,
          gender: e.gender ? GENDER_LABEL[e.gender] : '',
          birthDate: e.birthDate ?? '',
          idNumber: e.idNumber ?? '',
          phone: e.phone ?? '',
          address: e.address ?? '',
          area: e.area ?? '',
          livesAlone: yes(e.livesAlone),
          dialect: e.dialect ?? '',
          categories: (e.categories ?? []).map((c) => CATEGORY_LABEL[c] ?? c).join('、'),
          conditions: e.conditions ?? '',
          medications: e.medications ?? '',
          allergies: e.allergies ?? '',
          doctor: e.doctor ?? '',
          accessNotes: e.accessNotes ?? '',
        };
      });
    } else if (kind === 'contacts') {
      rows = (await exportContacts(db)).map((c) => ({
        elderKey: keyOf(c.elderId, c.elderKey),
        order: String(c.position),
        name: c.name,
        relation: c.relation,
        phones: [c.phone, ...c.altPhones].join('; '),
        keyHolder: yes(c.keyHolder),
        nextOfKin: yes(c.nextOfKin),
        maySms: yes(c.maySms),
        notes: c.notes,
      }));
    } else {
      rows = (await exportDevices(db)).map((d) => ({
        identifier: d.identifier,
        protocol: d.protocol,
        kind: DEVICE_KIND_LABEL[d.kind] ?? d.kind,
        model: d.model,
        simPhone: d.simPhone ?? '',
        elderKey: keyOf(d.elderId, d.elderKey),
      }));
    }
    out.push({ kind, columns, rows: rows.map((r) => columns.map((c) => r[c.key] ?? '')) });
  }
  return out;
}

export function templateSheets(kinds: Kind[], role: string): SheetOut[] {
  return kinds.map((kind) => {
    const columns = COLUMNS[kind].filter((c) => kind !== 'elders' || role !== 'installer' || !INSTALLER_HIDDEN.has(c.key));
    return { kind, columns, rows: [columns.map((c) => c.example)] };
  });
}

export { KINDS, writeFile };
