/**
 * `phone`: one-key landline callers (一键通). Not a codec: the device is a telephone, its "message" an inbound call
 * that telephony/ reports (gateway/telephony-service.ts turns it into a `call` DeviceMessage). This module only
 * says how such devices are registered: the identifier is the landline number, checked and normalised by the
 * gateway's phone number rules (telephony/phone.ts; protocols/ may not import it), and it is also the SIM number.
 */
import type { ProtocolModule } from '../message.js';

export const phoneProtocol: ProtocolModule = {
  name: 'phone',
  transport: 'telephony',
  identifier: { pattern: /^.+$/, hint: 'the landline number of the one-key caller', phoneNumber: true },
  // a landline caller never reports on a schedule: never "silent"
  silentIntervalS: 0,
  registration: { kind: 'one_key_caller', simPhoneIsIdentifier: true },
  commands: [],
};
