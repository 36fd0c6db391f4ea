import { createHash } from 'node:crypto';
import { ALARM_PRIORITY, isAlarmKind, type AlarmKind, type DeviceMessage } from '../protocols/message.js';
import type { Bus } from './bus.js';
import type { Metrics } from './metrics.js';
import type { AlarmSink } from './pipeline.js';
import { tx, type Db } from './store/db.js';
import { claimMessage, clearOpen, raiseOrRepeat, recordMessageAlarms, type Alarm } from './store/alarms.js';
import type { Device } from './store/devices.js';

/** Condition alarms can clear by themselves; the rest need an operator (architecture.md, lifecycle). */
const CONDITION: ReadonlySet<string> = new Set(['low_battery', 'device_silent', 'power_cut', 'receiver_silent', 'geofence_exit', 'vitals_abnormal', 'inactivity', 'test_missed']);

export function alarmClassOf(kind: string): 'operator' | 'condition' {
  return CONDITION.has(kind) ? 'condition' : 'operator';
}

/** Same frame from the same device = same key. Frames without a device time repeat legitimately, so they get a window. */
export function dedupKey(msg: DeviceMessage): { key: string; windowS: number | null } {
  const h = createHash('sha1').update(msg.raw).digest('hex');
  return { key: `${msg.protocol}:${msg.deviceId}:${msg.zone ?? ''}:${h}`, windowS: msg.deviceTime ? null : 120 };
}

export interface AlarmCandidate {
  kind: AlarmKind;
  detail?: Record<string, unknown>;
}

/**
 * Commits alarms from device messages: one transaction per message, keyed for de-duplication,
 * so a retransmission never creates a second alarm and the device is acknowledged only after COMMIT.
 */
export class AlarmService implements AlarmSink {
  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly metrics: Metrics,
  ) {}

  async handle(msg: DeviceMessage, device: Device): Promise<void> {
    const raise = (msg.alarms ?? []).filter(isAlarmKind).map((kind) => ({ kind }));
    const clear = (msg.restores ?? []).filter(isAlarmKind);
    if (!raise.length && !clear.length) return;
    await this.commit(msg, device, raise, clear);
  }

  async commit(msg: DeviceMessage, device: Device, raise: AlarmCandidate[], clear: AlarmKind[]): Promise<Alarm[]> {
    const { key, windowS } = dedupKey(msg);
    const sourceKey = msg.zone ? `${device.identifier}#${msg.zone}` : device.identifier;
    const changes: { alarm: Alarm; action: string }[] = [];
    const done = await tx(this.db, async (c) => {
      const seen = await claimMessage(c, key, windowS);
      if (seen) return false;
      const ids: number[] = [];
      for (const r of raise) {
        const { alarm, created } = await raiseOrRepeat(c, {
          kind: r.kind,
          priority: ALARM_PRIORITY[r.kind],
          alarmClass: alarmClassOf(r.kind),
          deviceId: device.id,
          elderId: device.elderId,
          sourceKey,
          zone: msg.zone ?? null,
          at: msg.deviceTime && Math.abs(msg.deviceTime.getTime() - msg.receivedAt.getTime()) < 86_400_000 ? msg.deviceTime : msg.receivedAt,
          lat: msg.position?.valid ? msg.position.lat : null,
          lon: msg.position?.valid ? msg.position.lon : null,
          detail: { ...r.detail, protocol: msg.protocol, raw: msg.raw.slice(0, 500) },
        });
        ids.push(alarm.id);
        changes.push({ alarm, action: created ? 'raised' : 'repeated' });
      }
      for (const k of clear) {
        const cleared = await clearOpen(c, sourceKey, k);
        if (cleared) changes.push({ alarm: cleared, action: 'cleared' });
      }
      await recordMessageAlarms(c, key, ids);
      return true;
    });
    if (!done) {
      this.metrics.duplicates.inc({ protocol: msg.protocol });
      return [];
    }
    for (const ch of changes) {
      if (ch.action === 'raised') this.metrics.alarmsRaised.inc({ kind: ch.alarm.kind });
      if (ch.action === 'repeated') this.metrics.alarmsRepeated.inc({ kind: ch.alarm.kind });
      this.bus.emit('alarm.changed', { alarm: ch.alarm, action: ch.action, actor: 'device' });
    }
    return changes.map((c) => c.alarm);
  }
}
