/**
 * Zigbee2MQTT fall, presence and SOS sensors (protocols.md §5). Each Zigbee device is registered on its own
 * (protocol `zigbee2mqtt`, identifier = friendly name or IEEE address); the bridge in
 * gateway/transports/zigbee2mqtt.ts reads `{prefix}/+` and decodes with this module.
 */
import type { ProtocolModule } from '../message.js';

export { ZIGBEE_MAX_PAYLOAD, parseStatePayload, parseStateTopic } from './frame.js';
export { decodeZigbee2mqtt, detectMapping, mappingForModel, reportedIeee, selectMapping, type MappingChoice, type ZigbeeInput, type ZigbeeOutcome } from './decoder.js';
export { ZIGBEE_MAPPINGS, type AlarmRule, type Scalar, type StateRule, type ZigbeeMapping } from './mappings.js';

/** Zigbee2MQTT's default base topic. */
export const ZIGBEE2MQTT_DEFAULT_PREFIX = 'zigbee2mqtt';

/** Read from a Zigbee2MQTT bridge, which holds the radio network: no per-device login, no commands. */
export const zigbee2mqttProtocol: ProtocolModule = {
  name: 'zigbee2mqtt',
  transport: 'mqtt',
  identifier: { pattern: /^[^#+/]{1,64}$|^0x[0-9a-f]{16}$/i, hint: 'the Zigbee friendly name or IEEE address' },
  silentIntervalS: 3600,
  commands: [],
};
