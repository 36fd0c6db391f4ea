/**
 * Bulk import and export of elders, contacts and devices (issue 20), for installers and admins.
 *
 * Uploads are the file itself as the request body (no multipart): `Content-Type` an .xlsx type, `text/csv` or
 * `application/octet-stream`; the bytes decide (an .xlsx is a zip). A CSV holds one kind (`?kind=`, or the kind
 * its headers show). Installers neither export nor import the fields the API hides from them (health notes,
 * ID number, access notes…), and do not export contacts; agents and supervisors get 403.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { KINDS, type Kind } from '../import/columns.js';
import { ImportService, exportSheets, templateSheets, type ImportLimits } from '../import/service.js';
import { CONTENT_TYPES, ImportFileError, writeFile, type Format } from '../import/workbook.js';
import { actorOf, requireRole } from './auth.js';
import { ApiError, notFound } from './errors.js';

const UPLOAD_TYPES = [
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'text/csv',
  'application/csv',
  'application/vnd.ms-excel',
  'text/plain',
  'application/octet-stream',
];

/** The upload, kept out of the enumerable body (the text guard walks bodies; this one is bytes). */
class Upload {
  declare readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    Object.defineProperty(this, 'bytes', { value: bytes, enumerable: false });
  }
}

const KindQ = Type.Optional(Type.Union(KINDS.map((k) => Type.Literal(k)), { description: 'elders, contacts or devices: for a CSV, which kind it holds (else its headers tell)' }));
const FileQuery = Type.Object({ kind: KindQ });
const OutQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('xlsx'), Type.Literal('csv')], { default: 'xlsx' })),
  kind: Type.Optional(Type.Union([...KINDS.map((k) => Type.Literal(k)), Type.Literal('all')], { description: 'one kind; all (xlsx only, the default) for the three sheets' })),
});

const RowErrorSchema = Type.Object({
  sheet: Type.String(),
  row: Type.Integer(),
  column: Type.Optional(Type.String()),
  field: Type.Optional(Type.String()),
  message: Type.String(),
});
const CountsSchema = Type.Object({
  elders: Type.Object({ rows: Type.Integer(), create: Type.Integer(), update: Type.Integer() }),
  contacts: Type.Object({ rows: Type.Integer(), elders: Type.Integer() }),
  devices: Type.Object({ rows: Type.Integer(), create: Type.Integer(), unchanged: Type.Integer() }),
});
const DryRunSchema = Type.Object({
  ok: Type.Boolean(),
  format: Type.String(),
  sheets: Type.Array(Type.String()),
  counts: CountsSchema,
  errorCount: Type.Integer({ description: 'all problems found; errors lists the first 2000' }),
  errors: Type.Array(RowErrorSchema),
});
const JobSchema = Type.Object({
  id: Type.String(),
  state: Type.Unsafe<string>({ type: 'string', enum: ['validating', 'importing', 'done', 'failed'] }),
  done: Type.Integer(),
  total: Type.Integer(),
  errorCount: Type.Integer(),
  errors: Type.Array(RowErrorSchema),
  message: Type.Optional(Type.String()),
  counts: Type.Optional(CountsSchema),
  secrets: Type.Optional(Type.Array(Type.Object({ identifier: Type.String(), mqttSecret: Type.String() }), { description: 'MQTT devices\' secrets: shown once, to the importer' })),
  startedAt: Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' }),
  finishedAt: Type.Optional(Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' })),
});

function fileName(what: string, format: Format, kind: string): string {
  const day = new Date().toISOString().slice(0, 10);
  return `anxin-${what}-${kind}-${day}.${format}`;
}

export async function importRoutes(app: FastifyInstance, o: { db: Db; limits?: ImportLimits; onDeviceChanged?: (identifier: string) => void }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const service = new ImportService(db, { limits: o.limits, onDevicesChanged: (ids) => ids.forEach((id) => o.onDeviceChanged?.(id)) });
  const maxBytes = service.limits.maxBytes;
  const tooLarge = () => new ApiError(413, 'too_large', `文件过大：最大 ${Math.round(maxBytes / 2 ** 20)} MiB / the file is too large: at most ${Math.round(maxBytes / 2 ** 20)} MiB`);
  const allowed = requireRole(db, 'installer', 'admin');

  // The raw file as the body, read here with the import's own size limit (this plugin's routes only).
  app.addContentTypeParser(UPLOAD_TYPES, (req: FastifyRequest, payload, done) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return done(tooLarge(), undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    payload.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > maxBytes) {
        failed = true;
        payload.resume();
        done(tooLarge(), undefined);
        return;
      }
      chunks.push(c);
    });
    payload.on('end', () => !failed && done(null, new Upload(Buffer.concat(chunks))));
    payload.on('error', (e) => !failed && ((failed = true), done(e, undefined)));
  });

  const bytesOf = (body: unknown): Buffer => {
    if (body instanceof Upload) return body.bytes;
    throw new ApiError(415, 'not_a_spreadsheet', '不是表格文件：请上传 .xlsx 或 .csv 文件本身作为请求体 / not a spreadsheet: send the .xlsx or .csv file itself as the body (Content-Type: an .xlsx type, text/csv or application/octet-stream)');
  };
  const fileError = (e: unknown): never => {
    if (e instanceof ImportFileError) throw new ApiError(e.status, e.status === 413 ? 'too_large' : 'not_a_spreadsheet', e.message);
    throw e;
  };
  const role = (req: FastifyRequest) => req.user!.role;

  r.get(
    '/api/import/template',
    { schema: { tags: ['import'], summary: 'Import template (导入模板): the headers and one example row; xlsx with three sheets, or one CSV per kind', querystring: OutQuery }, onRequest: allowed },
    async (req, reply) => {
      const format = req.query.format ?? 'xlsx';
      const kinds = kindsFor(format, req.query.kind);
      const body = await writeFile(format, templateSheets(kinds, role(req)));
      return reply.header('content-type', CONTENT_TYPES[format]).header('content-disposition', `attachment; filename="${fileName('template', format, req.query.kind ?? 'all')}"`).send(body);
    },
  );

  r.post(
    '/api/import/dry-run',
    { schema: { tags: ['import'], summary: 'Check an import file (试导入): every bad row and field, nothing written', querystring: FileQuery, response: { 200: DryRunSchema } }, onRequest: allowed },
    async (req) => {
      const bytes = bytesOf(req.body);
      return service.dryRun(bytes, req.query.kind as Kind | undefined, role(req)).catch(fileError);
    },
  );

  r.post(
    '/api/import',
    { schema: { tags: ['import'], summary: 'Import a file (批量导入): all or nothing, in one transaction; answers a job to follow with GET /api/import/:jobId', querystring: FileQuery, response: { 202: JobSchema } }, onRequest: allowed },
    async (req, reply) => {
      const bytes = bytesOf(req.body);
      const running = service.busy();
      if (running) throw new ApiError(409, 'import_running', `另一个导入正在进行 / another import is running (job ${running}); try again when it has finished`);
      const job = service.start(bytes, req.query.kind as Kind | undefined, { id: req.user!.id, role: role(req) }, actorOf(req));
      return reply.status(202).send(service.job(job.id, req.user!)!);
    },
  );

  r.get(
    '/api/import/:jobId',
    { schema: { tags: ['import'], summary: 'An import job: state, progress (done of total), problems', params: Type.Object({ jobId: Type.String({ maxLength: 64 }) }), response: { 200: JobSchema } }, onRequest: allowed },
    async (req) => {
      const job = service.job(req.params.jobId, req.user!);
      if (!job) throw notFound(`import job ${req.params.jobId.slice(0, 64)}`);
      return job;
    },
  );

  r.get(
    '/api/export',
    { schema: { tags: ['import'], summary: 'Export (导出) with the import columns: ID numbers masked but for admins; installers get no health notes and no contacts', querystring: OutQuery }, onRequest: allowed },
    async (req, reply) => {
      const format = req.query.format ?? 'xlsx';
      let kinds = kindsFor(format, req.query.kind);
      if (role(req) === 'installer') {
        if (req.query.kind === 'contacts') throw new ApiError(403, 'forbidden', '安装人员不能导出联系人 / installers do not export contacts');
        kinds = kinds.filter((k) => k !== 'contacts');
      }
      const sheets = await exportSheets(db, kinds, role(req));
      const body = await writeFile(format, sheets);
      await audit(db, actorOf(req), 'export', `export:${req.query.kind ?? 'all'}`, { format, rows: Object.fromEntries(sheets.map((s) => [s.kind, s.rows.length])) });
      return reply.header('content-type', CONTENT_TYPES[format]).header('content-disposition', `attachment; filename="${fileName('export', format, req.query.kind ?? 'all')}"`).header('cache-control', 'no-store').send(body);
    },
  );
}

function kindsFor(format: Format, kind: Kind | 'all' | undefined): Kind[] {
  if (kind && kind !== 'all') return [kind];
  if (format === 'csv') throw new ApiError(400, 'validation', 'querystring/kind: CSV 每个文件一种数据，请指定 kind / a CSV holds one kind: give kind=elders, contacts or devices', [{ field: 'querystring/kind', message: 'required for csv' }]);
  return [...KINDS];
}
