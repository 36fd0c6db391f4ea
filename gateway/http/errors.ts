import type { FastifyError, FastifyInstance } from 'fastify';
import { PG_FK, PG_UNIQUE, pgCode } from '../store/db.js';
import type { Metrics } from '../metrics.js';
import { DomainError, NotFound, invalidField, type DomainErrorKind } from '../errors.js';

/** An error with an HTTP status and per-field messages; thrown by HTTP handlers, answered in one place. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: { field: string; message: string }[],
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new NotFound(what);
export const badField = invalidField;

/** The status each kind of domain error (gateway/errors.ts) is answered with. */
const DOMAIN_STATUS: Record<DomainErrorKind, number> = { not_found: 404, conflict: 409, forbidden: 403, invalid: 400 };

/** Maps unique-constraint names to the message an installer understands. */
const UNIQUE_MESSAGES: Record<string, string> = {
  devices_identifier_key: 'a device with this identifier (IMEI) is already registered',
  devices_sim_phone_key: 'this phone number is already bound to another device',
  elders_id_number_key: 'an elder with this ID number already exists',
  elders_external_key_key: 'an elder with this external key (外部编号) already exists',
  users_username_key: 'this username is taken',
};

export function installErrorHandler(app: FastifyInstance, metrics?: Metrics): void {
  app.setErrorHandler((err: FastifyError & { validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] }, req, reply) => {
    let status = 500;
    let body: Record<string, unknown>;
    if (err instanceof ApiError || err instanceof DomainError) {
      status = err instanceof ApiError ? err.status : DOMAIN_STATUS[err.kind];
      body = { error: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) };
    } else if (err.validation) {
      status = 400;
      const fields = err.validation.map((v) => {
        const extra = v.params?.additionalProperty ? `/${String(v.params.additionalProperty)}` : v.params?.missingProperty ? `/${String(v.params.missingProperty)}` : '';
        const field = `${err.validationContext ?? 'body'}${v.instancePath}${extra}`;
        const message = v.params?.additionalProperty ? 'unknown field' : (v.message ?? 'invalid');
        return { field, message };
      });
      body = { error: 'validation', message: fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields };
    } else if (pgCode(err) === PG_UNIQUE) {
      status = 409;
      const constraint = (err as unknown as { constraint?: string }).constraint ?? '';
      body = { error: 'conflict', message: UNIQUE_MESSAGES[constraint] ?? 'already exists' };
    } else if (pgCode(err) === PG_FK) {
      status = 400;
      body = { error: 'reference', message: 'a referenced record does not exist' };
    } else if (err.statusCode && err.statusCode < 500) {
      status = err.statusCode;
      body = { error: err.code ?? 'bad_request', message: err.message };
    } else if (isDbDown(err)) {
      status = 503;
      body = { error: 'database_unavailable', message: 'the database is unavailable; try again shortly' };
    } else {
      req.log.error({ err }, 'unhandled error');
      body = { error: 'internal', message: 'internal error' };
    }
    metrics?.httpErrors.inc({ status: String(status) });
    reply.status(status).send(body);
  });
}

function isDbDown(err: unknown): boolean {
  const code = pgCode(err) ?? '';
  const msg = (err as Error).message ?? '';
  return ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08001'].includes(code) || /timeout exceeded when trying to connect|Connection terminated/.test(msg);
}
