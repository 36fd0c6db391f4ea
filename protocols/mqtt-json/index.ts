/**
 * `mqtt-json`: Anxin's own JSON uplink for MQTT-native devices (README "MQTT devices").
 *
 * Not a stream protocol, so it has no framer nor frame decoder: the broker delivers whole publishes, and the
 * topic names the device and the kind (`decodeUplink`). The broker ACL has already checked that the
 * authenticated device publishes only under its own `anxin/up/{id}/#`.
 */
import type { DecodeContext, ProtocolModule } from '../message.js';
import { decodeMqttJson, type MqttJsonOutcome } from './decoder.js';
import { UPLINK_KINDS } from './frame.js';
import { UPLINK_SCHEMAS } from './schema.js';

export { decodeMqttJson, type MqttJsonOutcome } from './decoder.js';
export { encodeAck, encodeError, type FieldProblem, type MsgId, type UplinkErrorCode } from './encoder.js';
export { MQTT_JSON_MAX_PAYLOAD, UPLINK_KINDS, downTopic, parseUplinkTopic, uplinkTopic, type UplinkAddress, type UplinkKind } from './frame.js';
export { UPLINK_SCHEMAS, type Uplink } from './schema.js';

export interface MqttJsonProtocol extends ProtocolModule {
  name: 'mqtt-json';
  transport: 'mqtt';
  defaultPort: 1883;
  /** no server → device commands yet; downlink is ack and error only */
  commands: readonly string[];
  kinds: typeof UPLINK_KINDS;
  schemas: typeof UPLINK_SCHEMAS;
  decodeUplink(topic: string, payload: Buffer, ctx: DecodeContext): MqttJsonOutcome;
}

export const mqttJsonProtocol: MqttJsonProtocol = {
  name: 'mqtt-json',
  transport: 'mqtt',
  defaultPort: 1883,
  identifier: { pattern: /^[A-Za-z0-9_.:-]{1,64}$/, hint: '1-64 letters, digits, _ . : -' },
  silentIntervalS: 300,
  // a device logs in to the broker with its identifier and the secret issued at registration
  deviceSecret: true,
  commands: [],
  kinds: UPLINK_KINDS,
  schemas: UPLINK_SCHEMAS,
  decodeUplink: decodeMqttJson,
};
