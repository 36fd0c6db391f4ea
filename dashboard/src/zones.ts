/** A panel's zones (防区): what the installer named each one when registering the panel (devices.meta.zoneNames). */

interface ZonedAlarm {
  zone?: string | null;
  deviceId?: number | null;
}
interface ZonedDevice {
  id: number;
  meta?: Record<string, unknown> | null;
}

/** The name of the alarm's zone on the device that raised it (e.g. 003 → 厨房烟感), or undefined. */
export function zoneNameOf(alarm: ZonedAlarm | undefined, devices: readonly ZonedDevice[]): string | undefined {
  if (!alarm?.zone) return undefined;
  const names = devices.find((d) => d.id === alarm.deviceId)?.meta?.zoneNames;
  if (!names || typeof names !== 'object' || Array.isArray(names)) return undefined;
  const name = Object.hasOwn(names, alarm.zone) ? (names as Record<string, unknown>)[alarm.zone] : undefined;
  return typeof name === 'string' && name.trim() ? name : undefined;
}
