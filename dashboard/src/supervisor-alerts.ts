/** Supervisor alerts (WS supervisor_alert): banners that stay until acknowledged; a repeat of one is counted. */
import { store } from './store';
import type { Alarm } from './types';

let nextId = 0;

export function raiseSupervisorAlert(alarm: Alarm, reason: string): void {
  store.set((s) => {
    const same = s.supAlerts.find((x) => x.alarmId === alarm.id && x.reason === reason);
    if (same) return { supAlerts: s.supAlerts.map((x) => (x === same ? { ...x, count: x.count + 1, at: Date.now() } : x)) };
    return { supAlerts: [...s.supAlerts, { id: ++nextId, alarmId: alarm.id, kind: alarm.kind, priority: alarm.priority, elderId: alarm.elderId, reason, count: 1, at: Date.now() }] };
  });
}

export function acknowledgeAlert(id: number): void {
  store.set((s) => ({ supAlerts: s.supAlerts.filter((x) => x.id !== id) }));
}

export function acknowledgeAllAlerts(): void {
  store.set({ supAlerts: [] });
}

/** The locale key of a reason ('not accepted in time' → supAlert.overdue). */
export function reasonKey(reason: string): 'supAlert.overdue' | 'supAlert.cascadeInterrupted' | 'supAlert.cascadeExhausted' | 'supAlert.noAgentReady' | 'supAlert.other' {
  if (/not accepted|overdue|timeout/i.test(reason)) return 'supAlert.overdue';
  if (/cascade_interrupted/i.test(reason)) return 'supAlert.cascadeInterrupted';
  if (/cascade/i.test(reason)) return 'supAlert.cascadeExhausted';
  if (/no.agent/i.test(reason)) return 'supAlert.noAgentReady';
  return 'supAlert.other';
}
