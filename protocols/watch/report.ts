/**
 * The UD / AL body (protocols.md §1.3), read field by field into the message.
 * Field numbers in the comments are those of the §1.3 table (1 = date).
 */
import type { Cell, DeviceMessage, Position, Wifi } from '../message.js';
import type { FieldReader } from './fields.js';

export type ReportFailure = 'bad_position' | 'bad_number' | 'bad_status';

/** Traccar's hemisphere rule (§1.3): S/W force negative, otherwise keep the number's own sign (empty allowed). */
function coord(value: number | undefined | null, hemisphere: string, negative: string, positive: string, max: number): number | null {
  if (value === undefined || value === null || Math.abs(value) > max) return null;
  if (hemisphere === negative) return -Math.abs(value);
  if (hemisphere === positive || hemisphere === '') return value;
  return null;
}

/**
 * Reads fields 1-16 and the tail into `msg` (position, deviceTime, battery, signal, health, cells, wifis, in
 * that order) and returns the status word (§1.4). On a failure `msg` is left untouched. Fields 1-16 are all
 * read before anything is judged, so the failures keep their order of precedence: fewer than 16 fields or a
 * bad coordinate, then a bad number, then a bad status word.
 */
export function readReport(f: FieldReader, msg: DeviceMessage): number | ReportFailure {
  const deviceTime = f.time(); // 1-2
  const valid = f.flag() === 'A'; // 3
  const latValue = f.num(); // 4
  const latHemisphere = f.flag(); // 5
  const lonValue = f.num(); // 6
  const lonHemisphere = f.flag(); // 7
  const speed = f.num(); // 8
  const course = f.num(); // 9
  const altitude = f.num(); // 10
  const sats = f.int(); // 11
  const gsm = f.int(); // 12
  const battery = f.int(); // 13
  const steps = f.int(); // 14
  const tumbles = f.int(); // 15
  if (!f.has()) return 'bad_position'; // no field 16
  const status = f.statusWord(); // 16
  const lat = coord(latValue, latHemisphere, 'S', 'N', 90);
  const lon = coord(lonValue, lonHemisphere, 'W', 'E', 180);
  if (lat === null || lon === null) return 'bad_position';
  if (speed === null || course === null || altitude === null) return 'bad_number';
  if (sats === null || gsm === null || battery === null || steps === null || tumbles === null) return 'bad_number';
  if (status === null) return 'bad_status';

  // source becomes 'wifi' in readTail when an invalid fix comes with access points
  const source = valid ? 'gps' : 'lbs';
  let position: Position;
  if (speed !== undefined && course !== undefined && altitude !== undefined && sats !== undefined) {
    // the usual case, as one literal (same keys in the same order as below)
    position = { lat, lon, valid, source, speed, course, altitude, satellites: sats };
  } else {
    position = { lat, lon, valid, source };
    if (speed !== undefined) position.speed = speed; // km/h as the device gives it
    if (course !== undefined) position.course = course;
    if (altitude !== undefined) position.altitude = altitude;
    if (sats !== undefined) position.satellites = sats;
  }
  msg.position = position;
  if (deviceTime) msg.deviceTime = deviceTime;
  if (battery !== undefined && battery >= 0 && battery <= 100) msg.battery = battery;
  if (gsm !== undefined && gsm >= 0 && gsm <= 100) msg.signal = gsm;
  const hasSteps = steps !== undefined && steps >= 0;
  const hasTumbles = tumbles !== undefined && tumbles >= 0;
  if (hasSteps && hasTumbles) msg.health = { steps, tumbles };
  else if (hasSteps) msg.health = { steps };
  else if (hasTumbles) msg.health = { tumbles };
  readTail(f, msg, position);
  return status;
}

/**
 * Field 17 on: cell count, TA, MCC, MNC, then LAC/CID/RSSI per cell (TA/MCC/MNC only when count > 0); Wi-Fi
 * count (may be empty), then name/MAC/RSSI per AP; the last field, when present, is the accuracy in metres.
 * Lenient: a broken tail keeps what parsed so far, because the position and the alarm bits before it matter
 * more; a cell or AP is only taken when its three fields are all there. `msg.cells` / `msg.wifis` are only set
 * when they hold something.
 */
function readTail(f: FieldReader, msg: DeviceMessage, position: Position): void {
  const cellCount = f.int();
  if (cellCount === undefined || cellCount === null) return;
  if (cellCount > 0) {
    f.skip(); // timing advance ("connect base station number")
    const mcc = f.int();
    const mnc = f.int();
    if (mcc === undefined || mcc === null || mnc === undefined || mnc === null) return;
    let cells: Cell[] | undefined;
    for (let k = 0; k < cellCount; k++) {
      const lac = f.decOrHex();
      const cid = f.decOrHex();
      if (!f.has()) return;
      const rssi = f.int();
      if (lac === null || cid === null || rssi === null) return;
      const cell: Cell = rssi === undefined ? { mcc, mnc, lac, cid } : { mcc, mnc, lac, cid, rssi };
      if (cells === undefined) msg.cells = cells = [cell];
      else cells.push(cell);
    }
  }
  if (!f.has()) return;
  const wifiCount = f.int() ?? 0; // garbage counts as none
  let wifis: Wifi[] | undefined;
  for (let k = 0; k < wifiCount; k++) {
    const ssid = f.str()!;
    const mac = f.str()?.trim();
    if (mac === undefined || !f.has()) return;
    const rssi = f.int();
    if (rssi === null) return;
    const wifi: Wifi = rssi === undefined ? { ssid, mac } : { ssid, mac, rssi };
    if (wifis === undefined) {
      msg.wifis = wifis = [wifi];
      if (!position.valid) position.source = 'wifi';
    } else {
      wifis.push(wifi);
    }
  }
  if (!f.has()) return;
  const acc = f.lastNum();
  // 0 means "no estimate" on these watches (W9 sends `...,0`), not a perfect fix.
  if (acc !== undefined && acc !== null && acc > 0) position.accuracy = acc;
}
