/**
 * SCAIP (SS 91100 / CLC/TS 50134-9, protocols.md §4): the pure codec for social-alarm units that report over SIP.
 * Strings and bytes in, values out; no I/O, no timers.
 *
 * A server reads a SIP request with `parseSip` (one UDP datagram, or a stream buffer), answers a MESSAGE whose
 * Content-Type is `application/scaip+xml` with `buildResponse(req, 200, 'OK')`, reads the body with `parseMrq`,
 * checks `cidMatchesFrom(mrq.cid, fromUser(req))`, turns it into Anxin's terms with `decodeScaip`, and once the
 * message is stored sends `buildMrs({ ref, snu: 0 })` back in a new MESSAGE (`buildMessage`), as the observed
 * receivers do (§4 "Delivery of the response"). A body that does not parse is answered with the failure's `snu`
 * (and its `ref` when readable).
 *
 * The gateway serves it on its own SIP port (gateway/transports/scaip.ts, `transport: 'sip'`): the unit's `cid` is
 * its registration identifier.
 */
import { Type } from '@sinclair/typebox';
import type { DeviceMessage, ProtocolModule } from '../message.js';
import { SCAIP_VENDOR_KINDS } from './codes.js';
import type { ScaipNormalised } from './decoder.js';
import { SCAIP_MAX_BODY } from './xml.js';

export * from './codes.js';
export * from './crd.js';
export * from './decoder.js';
export * from './digest.js';
export * from './sip.js';
export * from './xml.js';

/** Defaults as data. */
export const SCAIP_DEFAULTS = {
  /** largest `<mrq>` body read, bytes */
  maxBody: SCAIP_MAX_BODY,
  /**
   * A guess, not from the spec: §4 names `hbo`/`hbi` but gives no interval. Hourly is the period assumed for the
   * silent-device rule until a unit's integration guide (or its `hbo`) says otherwise.
   */
  heartbeatIntervalS: 3600,
  /** the MESSAGE body type (§4) */
  contentType: 'application/scaip+xml',
  /** SIP over UDP/TCP (RFC 3261 §19.1.2) */
  sipPort: 5060,
  /** a resend of a message with the same `ref` within this long is the same message */
  repeatWindowS: 600,
} as const;

/**
 * The decoded message as the pipeline takes it. `raw` is the `<mrq>` text (the audit trail); `repeat` keys on the
 * unit's `ref`, which a unit keeps when it sends the message again for want of an `<mrs>`; `callbackNumber` is
 * the number `crd` gives for a GSM or telephone voice channel.
 */
export function toDeviceMessage(n: ScaipNormalised, body: string): DeviceMessage {
  const msg: DeviceMessage = {
    deviceId: n.deviceId.trim(),
    protocol: 'scaip',
    kind: n.kind,
    receivedAt: n.receivedAt,
    event: n.event,
    raw: body,
    repeat: { key: `ref:${n.ref}`, windowS: SCAIP_DEFAULTS.repeatWindowS },
  };
  if (n.alarms.length) msg.alarms = n.alarms;
  if (n.restores.length) msg.restores = n.restores;
  if (n.zone !== undefined) msg.zone = n.zone;
  const ch = n.callback?.channel;
  if (ch && (ch.scheme === 'gsm' || ch.scheme === 'tel') && ch.number) msg.callbackNumber = ch.number;
  return msg;
}

export const scaipProtocol: ProtocolModule = {
  name: 'scaip',
  label: 'SCAIP',
  devices: 'social-alarm carephones over SIP (Essence, Doro, Telealarm, Possum)',
  transport: 'sip',
  // the controller id (`cid`); Doro pads it with a space, trimmed
  identifier: { pattern: /^\s*[0-9A-Za-z._-]{1,32}\s*$/, hint: "the unit's SCAIP controller id (cid), e.g. 26317", normalise: (s) => s.trim() },
  // heartbeats (PI) come as often as each unit is set to: per unit, meta.supervisionS
  silentIntervalS: 0,
  registration: { kind: 'one_key_caller' },
  commands: [],
  // the unit's SIP password (RFC 3261 §22 digest): with one set, its messages must be authenticated
  symmetricKey: {
    hint: 'SIP password: 8-64 printable characters, as set in the unit',
    parseKey: (text) => {
      if (!/^[\x21-\x7e]{8,64}$/.test(text)) throw new Error('a SIP password is 8-64 printable characters, no spaces');
      return Buffer.from(text, 'latin1');
    },
  },
  settingsSchema: Type.Object({
    vendor: Type.Optional(Type.Union(Object.keys(SCAIP_VENDOR_KINDS).map((v) => Type.Literal(v)), { description: "the unit's maker: picks its device-type table" })),
    supervisionS: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 * 7, description: "the unit's heartbeat (PI) interval in seconds: silent past it (0 = not supervised)" })),
  }),
};
