import type { DeviceMessage, Position } from '../../../protocols/message.ts';
import {
  DEFAULT_RULES,
  evaluateMessage,
  evaluateTick,
  resolveRules,
  type EvalResult,
  type RuleSet,
  type RuleState,
} from '../../../alarms/index.ts';

/** 2025-03-01 10:00:00 in Asia/Shanghai (UTC+8). */
export const T0 = new Date('2025-03-01T02:00:00Z');
export const at = (seconds: number, base: Date = T0): Date => new Date(base.getTime() + seconds * 1000);
export const H = 3600;

export function msg(p: Partial<DeviceMessage> = {}): DeviceMessage {
  return { deviceId: '860000000000001', protocol: 'watch', kind: 'heartbeat', receivedAt: T0, raw: '', ...p };
}

export function rules(override: unknown = {}): RuleSet {
  const r = resolveRules(DEFAULT_RULES, override);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.rules;
}

/** Drives the pure functions like the gateway would: state goes through JSON (the database) between calls. */
export class Device {
  state: RuleState | undefined;
  constructor(public rules: RuleSet) {}
  private keep(r: EvalResult): EvalResult {
    this.state = JSON.parse(JSON.stringify(r.state)) as RuleState;
    return r;
  }
  message(now: Date, p: Partial<DeviceMessage> = {}): EvalResult {
    return this.keep(evaluateMessage(this.rules, this.state, msg({ receivedAt: now, ...p }), now));
  }
  tick(now: Date): EvalResult {
    return this.keep(evaluateTick(this.rules, this.state, now));
  }
}

export const kinds = (r: EvalResult): string[] => r.raise.map((x) => x.kind);

/** A GPS fix `metres` east of (lat, lon). */
export function east(lat: number, lon: number, metres: number, extra: Partial<Position> = {}): Position {
  const dLon = metres / ((Math.PI / 180) * 6_371_008.8 * Math.cos((lat * Math.PI) / 180));
  return { lat, lon: lon + dLon, valid: true, source: 'gps', ...extra };
}

/** A GPS fix `metres` north of (lat, lon). */
export function north(lat: number, lon: number, metres: number, extra: Partial<Position> = {}): Position {
  return { lat: lat + metres / ((Math.PI / 180) * 6_371_008.8), lon, valid: true, source: 'gps', ...extra };
}
