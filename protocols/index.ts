/**
 * The protocol registry: one module object per protocol folder (protocols/message.ts ProtocolModule). The gateway
 * loops over this list: a TCP server per `tcp` module that has a framer and a decoder (its port and limits read
 * from the settings the module names), identifier rules for registration, silence intervals, commands.
 * No gateway file imports a protocol folder directly; it imports this file and protocols/message.ts.
 *
 * Adding a protocol: a folder protocols/<name>/ whose index.ts exports its module object, its name in PROTOCOLS
 * (protocols/message.ts, the closed set a DeviceMessage may carry), and one line in PROTOCOL_MODULES below
 * (README "Adding a protocol").
 */
import { contactIdProtocol } from './contactid/index.js';
import { dc09Protocol } from './dc09/index.js';
import { gt06Protocol } from './gt06/index.js';
import type { Protocol, ProtocolModule, TcpProtocol } from './message.js';
import { mqttJsonProtocol } from './mqtt-json/index.js';
import { phoneProtocol } from './phone/index.js';
import { scaipProtocol } from './scaip/index.js';
import { watchProtocol } from './watch/index.js';
import { zigbee2mqttProtocol } from './zigbee2mqtt/index.js';

/** Every protocol, in the order of PROTOCOLS (protocols/message.ts). */
export const PROTOCOL_MODULES: readonly ProtocolModule[] = [
  watchProtocol,
  gt06Protocol,
  contactIdProtocol,
  mqttJsonProtocol,
  zigbee2mqttProtocol,
  // one-key landline callers: a telephony pseudo-protocol (no codec; registration rules only)
  phoneProtocol,
  // IP alarm panels (SIA DC-09): their own TCP and UDP server, gateway/transports/dc09.ts
  dc09Protocol,
  // social-alarm carephones (SCAIP): SIP MESSAGE to the gateway's own SIP port, gateway/transports/scaip.ts
  scaipProtocol,
];

const BY_NAME = new Map<string, ProtocolModule>(PROTOCOL_MODULES.map((m) => [m.name, m]));

export function protocolModule(name: string): ProtocolModule | undefined {
  return BY_NAME.get(name);
}

/** A TCP module the gateway can serve: it has a port, its settings, a framer and a decoder. */
export function isTcpProtocol(m: ProtocolModule): m is TcpProtocol {
  return m.transport === 'tcp' && m.defaultPort !== undefined && !!m.settings && !!m.createFramer && !!m.decode;
}

/** The TCP protocols the gateway starts a server for. */
export const TCP_PROTOCOLS: readonly TcpProtocol[] = PROTOCOL_MODULES.filter(isTcpProtocol);

/** Names of the protocols whose devices can be registered (every module). */
export const PROTOCOL_NAMES = PROTOCOL_MODULES.map((m) => m.name) as readonly Protocol[];

// What the gateway's own transports for the non-TCP protocols use (serial receivers, MQTT, Zigbee2MQTT).
// `encodeAck`/`encodeNak` are Contact ID's (the receiver's ACK and NAK bytes).
export {
  ReceiverFramer,
  RECEIVER_SERIAL_DEFAULTS,
  RECEIVER_TIMING,
  VENDOR_CODE_TABLES,
  decodeReceiverLine,
  encodeAck,
  encodeNak,
  isKnownVendor,
  parseReceiverLine,
  type ParseOptions,
  type ReceiverLine,
} from './contactid/index.js';
export { decodeMqttJson, downTopic } from './mqtt-json/index.js';
export { decodeZigbee2mqtt, parseStatePayload, parseStateTopic, reportedIeee } from './zigbee2mqtt/index.js';
