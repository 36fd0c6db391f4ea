/**
 * A parsed `<mrq>` in the gateway's terms (protocols.md §4): the `deviceId`, `kind`, `alarms`, `restores`, `zone`
 * and `event` fields a DeviceMessage (protocols/message.ts) carries, plus the SCAIP extras (call-back route,
 * heartbeat/test flags). The gateway adds `protocol` and `raw` once SCAIP joins PROTOCOLS.
 *
 * By `mty`:
 *   ME  alarm: raises the device type's alarm (codes.ts, vendor table first). `stc` 19 (cancel) on an ME is the
 *       alarm's withdrawal instead: a restore. Any other `stc`, known or not, still raises.
 *   RE  reset / alarm withdrawn: restores the device type's alarm.
 *   IN  information: `status`, raises nothing (`test` for `stc` 102).
 *   PI  heartbeat: `heartbeat` (every message refreshes the device's last-heard time for the silent-device rule);
 *       `stc` 102 "test transmission" makes it `test`, which also answers the periodic-test rule (Essence's
 *       heartbeat is `PI` + `102`).
 *   absent or unknown `mty`: `stc` 19 → restore, `stc` 102 → test, anything else → alarm. A message to an alarm
 *       receiver whose type we cannot read is treated as an alarm: an operator can dismiss a false one, nobody
 *       can answer one that was absorbed.
 */
import type { AlarmKind, DeviceMessage, MessageKind } from '../message.js';
import { alarmKindFor, deviceTypeInfo, messageType, SCAIP_MESSAGE_TYPE_LABELS, statusInfo, type ScaipCodeInfo, type ScaipMessageType } from './codes.js';
import { parseCha, parseCrd, type CallHandling, type Crd } from './crd.js';
import type { ScaipMrq } from './xml.js';

export interface ScaipDecodeContext {
  receivedAt: Date;
  /** the device registration's vendor (`essence`, `telealarm`, …): picks the vendor's alarm table */
  vendor?: string;
}

/** The DeviceMessage fields a SCAIP message fills, all present. */
export type ScaipMessageFields = Required<Pick<DeviceMessage, 'deviceId' | 'kind' | 'receivedAt' | 'alarms' | 'restores' | 'event'>> &
  Pick<DeviceMessage, 'zone'>;

export interface ScaipNormalised extends ScaipMessageFields {
  /**
   * DeviceMessage.event: `code` the status code (canonical, '' when none), `qualifier` the message type as sent
   * (upper case), `label` English words for message type, status and device type; `known` false when any of the
   * three is not in codes.ts (or a device type had no alarm mapping).
   */
  event: { code: string; qualifier?: string; label: string; known: boolean };
  /** the request's reference (echo it in `<mrs>`) */
  ref: string;
  /** the message type, when it is one of ME/RE/IN/PI */
  messageType?: ScaipMessageType;
  /** the device type (`dty`) with its labels */
  device: ScaipCodeInfo;
  /** the status code (`stc`), when sent */
  status?: ScaipCodeInfo;
  /** a heartbeat (`PI`) */
  heartbeat: boolean;
  /** a test transmission (`stc` 102 outside an ME) */
  test: boolean;
  /** for an alarm raised by the unmapped-device-type rule (codes.ts SCAIP_UNMAPPED_KIND) */
  unmappedDeviceType?: true;
  /** how to reach the unit by voice: `crd` and `cha` */
  callback?: { channel?: Crd; handling?: CallHandling };
  /** `pri` as sent */
  priority?: string;
  /** `lco` / `lva` / `lte` */
  location?: { code?: string; value?: string; text?: string };
  /** `ico` / `ite` */
  info?: { code?: string; text?: string };
  /** the unit's free text: `dte`, then `stt` (kept as text; escape before display) */
  text?: string;
}

function defined<T extends Record<string, unknown>>(o: T): T | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '') out[k] = v;
  return Object.keys(out).length ? (out as T) : undefined;
}

/** What the message means for Anxin. Pure; never throws on a parsed `<mrq>`. */
export function decodeScaip(mrq: ScaipMrq, ctx: ScaipDecodeContext): ScaipNormalised {
  const mty = messageType(mrq.mty);
  const device = deviceTypeInfo(mrq.dty);
  const status = mrq.stc !== undefined && mrq.stc !== '' ? statusInfo(mrq.stc) : undefined;
  const meaning = status?.meaning;
  const mapping = alarmKindFor(mrq.dty, ctx.vendor);

  let kind: MessageKind;
  let alarms: AlarmKind[] = [];
  let restores: AlarmKind[] = [];
  let test = false;
  let raises = false;
  switch (mty) {
    case 'PI':
    case 'IN':
      test = meaning === 'test';
      kind = test ? 'test' : mty === 'PI' ? 'heartbeat' : 'status';
      break;
    case 'RE':
      kind = 'status';
      restores = [mapping.kind];
      break;
    case 'ME':
      if (meaning === 'cancel') {
        kind = 'status';
        restores = [mapping.kind];
      } else {
        kind = 'alarm';
        alarms = [mapping.kind];
        raises = true;
      }
      break;
    default:
      if (meaning === 'cancel') {
        kind = 'status';
        restores = [mapping.kind];
      } else if (meaning === 'test') {
        kind = 'test';
        test = true;
      } else {
        kind = 'alarm';
        alarms = [mapping.kind];
        raises = true;
      }
  }

  const mtyText = mrq.mty?.trim().toUpperCase();
  const parts = [
    mty ? SCAIP_MESSAGE_TYPE_LABELS[mty].en : mtyText ? `Unknown message type ${mtyText}` : 'No message type',
    ...(status ? [status.en] : []),
    device.en,
  ];
  const known = mty !== undefined && (status?.known ?? true) && device.known && (alarms.length + restores.length === 0 || mapping.mapped);
  const event: ScaipNormalised['event'] = { code: status?.code ?? '', label: parts.join(' · '), known };
  if (mtyText) event.qualifier = mtyText;

  const out: ScaipNormalised = {
    deviceId: mrq.cid,
    kind,
    receivedAt: ctx.receivedAt,
    alarms,
    restores,
    event,
    ref: mrq.ref,
    device,
    heartbeat: mty === 'PI',
    test,
  };
  const zone = [mrq.did, mrq.dco].filter((x) => x !== undefined && x !== '').join('/');
  if (zone) out.zone = zone;
  if (mty) out.messageType = mty;
  if (status) out.status = { code: status.code, zh: status.zh, en: status.en, known: status.known };
  if (raises && !mapping.mapped) out.unmappedDeviceType = true;

  const channel = mrq.crd !== undefined && mrq.crd !== '' ? parseCrd(mrq.crd) : undefined;
  const handling = parseCha(mrq.cha);
  if (channel || handling) out.callback = defined({ channel, handling });
  if (mrq.pri) out.priority = mrq.pri;
  const location = defined({ code: mrq.lco, value: mrq.lva, text: mrq.lte });
  if (location) out.location = location;
  const info = defined({ code: mrq.ico, text: mrq.ite });
  if (info) out.info = info;
  const text = [mrq.dte, mrq.stt].filter((x) => x).join(' — ');
  if (text) out.text = text;
  return out;
}

/** SCAIP: the `cid` must equal the SIP From user (§4). Both trimmed; exact otherwise. */
export function cidMatchesFrom(cid: string, fromUser: string | undefined): boolean {
  return fromUser !== undefined && cid.trim() !== '' && cid.trim() === fromUser.trim();
}
