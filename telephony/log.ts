/** The logger telephony/ writes to; a pino Logger fits. Personal data (numbers) go only in `number` / `caller` keys, which the gateway's logger redacts. */
export interface TelephonyLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};
export const silentLog: TelephonyLog = { debug: noop, info: noop, warn: noop, error: noop };

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
