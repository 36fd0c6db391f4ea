/**
 * What fleet devices send, written from the protocol facts (protocols.md §1 for the watch, README "MQTT
 * devices" for mqtt-json), never from the server's encoders, so a misreading on one side shows up as a
 * failure instead of hiding in both.
 */
import { writeFrame } from '../watch/wire.js';

export const WATCH_MANUFACTURER = '3G';

/** Status words (protocols.md §1.4): bit 3 worn; bit 16 SOS; bit 21 fall. */
export const WATCH_STATUS = { worn: '00000008', sos: '00010008', fall: '00200008' } as const;

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** UD/AL body (protocols.md §1.3): date, time, fix, lat, N/S, lon, E/W, speed, course, altitude, satellites, GSM, battery, steps, tumbles, status, then one cell, no Wi-Fi. */
export function watchReport(type: 'UD' | 'AL', lat: number, lon: number, battery: number, steps: number, status: string, at = new Date()): string {
  const date = `${two(at.getUTCDate())}${two(at.getUTCMonth() + 1)}${two(at.getUTCFullYear() % 100)}`;
  const time = `${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}`;
  return `${type},${date},${time},A,${Math.abs(lat).toFixed(6)},${lat < 0 ? 'S' : 'N'},${Math.abs(lon).toFixed(7)},${lon < 0 ? 'W' : 'E'},0.00,0.0,10.0,8,80,${battery},${steps},0,${status},1,1,460,0,9360,4082,131,0,10.0`;
}

export const watchFrame = (deviceId: string, content: string): Buffer => writeFrame(WATCH_MANUFACTURER, deviceId, content);

/** Heartbeat `LK,steps,tumbles,battery`; the server must answer `[3G*id*0002*LK]`. */
export const watchLK = (deviceId: string, steps: number, battery: number): Buffer => watchFrame(deviceId, `LK,${steps},0,${battery}`);

/** Blood pressure + heart rate; answered `bphrt` (protocols.md §1.2). */
export const watchHealth = (deviceId: string, systolic: number, diastolic: number, heartRate: number): Buffer => watchFrame(deviceId, `bphrt,${systolic},${diastolic},${heartRate},,,,`);

/** mqtt-json topics (README "MQTT devices"). */
export const MQTT = {
  up: (id: string, kind: 'heartbeat' | 'position' | 'alarm' | 'health' | 'status') => `anxin/up/${id}/${kind}`,
  down: (id: string) => `anxin/down/${id}/#`,
  ackSuffix: '/ack',
};

/** A deterministic spread of positions over a city district, per device index. */
export function positionOf(i: number): [number, number] {
  return [31.15 + ((i * 7919) % 10_000) * 1e-5, 121.38 + ((i * 104_729) % 10_000) * 1.2e-5];
}
