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
 * Not registered in protocols/index.ts yet: SCAIP is not in PROTOCOLS (protocols/message.ts).
 */
import { SCAIP_MAX_BODY } from './xml.js';

export * from './codes.js';
export * from './crd.js';
export * from './decoder.js';
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
} as const;
