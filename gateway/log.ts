import pino, { type Logger } from 'pino';

/**
 * Elders' personal data never goes into logs: these keys are censored wherever they appear
 * (two levels deep covers request bodies and repository rows).
 */
const PERSONAL = ['name', 'idNumber', 'phone', 'address', 'birthDate', 'conditions', 'medications', 'allergies', 'accessNotes', 'password', 'passwordHash', 'token', 'authorization', 'caller', 'number'];
const redact = [
  ...PERSONAL,
  ...PERSONAL.map((k) => `*.${k}`),
  ...PERSONAL.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: redact, censor: '[redacted]' }, base: { app: 'anxin' } });
}

export type { Logger };
