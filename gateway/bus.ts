/**
 * A typed in-process event bus (Zigbee2MQTT style): every listener runs on its own, so one that
 * throws or rejects is logged and counted, and the others still run.
 */
import type { DeviceMessage } from '../protocols/message.js';
import type { Device } from './store/devices.js';
import type { Alarm } from './store/alarms.js';
import type { Logger } from './log.js';

export interface BusEvents {
  'device.message': { msg: DeviceMessage; device: Device };
  'device.unknown': { identifier: string; protocol: string; remote?: string };
  'device.online': { device: Device; protocol: string };
  'device.offline': { device: Device; protocol: string };
  /** a device in its activation test (设备开通) raised this alarm: stored as a test alarm, already closed */
  'device.test_alarm': { alarm: Alarm };
  'alarm.changed': { alarm: Alarm; action: string; actor: string };
  /** a commit created these alarms (after their alarm.changed): escalation runs its first step at once */
  'alarm.raised': { alarms: Alarm[] };
  /** screen-pop: the alarm is presented to these agents */
  'alarm.presented': { alarm: Alarm; userIds: number[]; step: string };
  'supervisor.alert': { alarm: Alarm; reason: string };
  /** escalation reached the automatic callback and contact cascade */
  'alarm.callback': { alarm: Alarm; plan: Record<string, unknown> };
  /** a call leg changed (telephony/ CallUpdate) */
  'call.changed': { update: import('../telephony/calls.js').CallUpdate };
  /** a dashboard-ready view of a call leg change */
  'call.pushed': { call: Record<string, unknown> & { agentId: number | null } };
  'agent.changed': { userId: number; state: string; extension: string | null; wrapUpUntil?: string | null; reason?: string | null };
  /** sessions ended by logout, a disabled account, a password reset or a role change: live sockets close */
  'session.revoked': { tokenHash?: string; userId?: number; reason: string };
  'command.result': { deviceId: number; commandId: number; state: string; result?: string };
  /**
   * A message for some dashboards only (issue 19: the hotline screen-pop to the ringing agent, queue alerts to
   * supervisors): users by id and/or by role. The message's `type` is its WebSocket type.
   */
  /** every dashboard on this node gets a fresh snapshot (events from other nodes may have been missed: issue 24) */
  'ws.resync': { reason: string };
  'ws.push': { to: { userIds?: number[]; roles?: string[] }; message: import('./ws-messages.js').PushMessage };
  /** a hotline caller was put on the call-back list (abandoned in the queue, or left a voicemail) */
  'hotline.callback': { request: import('./store/callbacks.js').CallbackRequest };
  /** the hotline queue overflowed for a caller (max wait, or nobody signed in): the supervisors' alert */
  'hotline.overflow': { entryId: string; did: string; reason: string; to: string; waitMs: number; priority: boolean; elderId: number | null; at: Date };
  /** a work order (工单) was opened or changed state (issue 21): SMS and SLA timers listen here */
  'workorder.changed': { order: import('./store/workorders.js').WorkOrder; action: string; actor: string };
  /** an SMS was stored or changed state (sent, delivered, failed, suppressed, held, received) */
  'sms.changed': { message: import('./store/sms.js').SmsMessage };
}

type Listener<K extends keyof BusEvents> = (payload: BusEvents[K]) => void | Promise<void>;

export class Bus {
  private listeners = new Map<keyof BusEvents, Set<Listener<keyof BusEvents>>>();
  failures = 0;

  constructor(private readonly log?: Logger) {}

  on<K extends keyof BusEvents>(event: K, fn: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as Listener<keyof BusEvents>);
    return () => set.delete(fn as Listener<keyof BusEvents>);
  }

  emit<K extends keyof BusEvents>(event: K, payload: BusEvents[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of set) {
      try {
        const r = fn(payload);
        if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((e) => this.fail(event, e));
      } catch (e) {
        this.fail(event, e);
      }
    }
  }

  private fail(event: string, e: unknown): void {
    this.failures++;
    this.log?.error({ event, err: e }, 'bus listener failed');
  }
}
