/**
 * Domain errors: what the gateway's services refuse, and why, without knowing about HTTP. The HTTP layer answers
 * each kind with its status in one place (http/errors.ts); `code` is the API's `error` field and `fields` its
 * per-field messages.
 */

export interface FieldProblem {
  field: string;
  message: string;
}

/** not_found → 404, conflict → 409, forbidden → 403, invalid → 400 */
export type DomainErrorKind = 'not_found' | 'conflict' | 'forbidden' | 'invalid';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    readonly fields?: FieldProblem[],
  ) {
    super(message);
  }
}

/** Something named does not exist: `alarm 7 not found`. */
export class NotFound extends DomainError {
  constructor(what: string) {
    super('not_found', 'not_found', `${what} not found`);
  }
}

/** The request clashes with the current state (already accepted, illegal transition, bound elsewhere). */
export class Conflict extends DomainError {
  constructor(code: string, message: string) {
    super('conflict', code, message);
  }
}

/** This user may not do this. */
export class Forbidden extends DomainError {
  constructor(code: string, message: string) {
    super('forbidden', code, message);
  }
}

/** The request is not valid; `fields` says where. */
export class Invalid extends DomainError {
  constructor(code: string, message: string, fields?: FieldProblem[]) {
    super('invalid', code, message, fields);
  }
}

/** One field is not valid: `body/reason: a reason of at least 4 characters is required`. */
export const invalidField = (field: string, message: string) => new Invalid('validation', `${field}: ${message}`, [{ field, message }]);
