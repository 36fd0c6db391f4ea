/**
 * Zigbee2MQTT fall, presence and SOS sensors (protocols.md §5). Each Zigbee device is registered on its own
 * (protocol `zigbee2mqtt`, identifier = friendly name or IEEE address); the bridge in
 * gateway/transports/zigbee2mqtt.ts reads `{prefix}/+` and decodes with this module.
 */
export { ZIGBEE_MAX_PAYLOAD, parseStatePayload, parseStateTopic } from './frame.js';
export { decodeZigbee2mqtt, detectMapping, mappingForModel, reportedIeee, selectMapping, type MappingChoice, type ZigbeeInput, type ZigbeeOutcome } from './decoder.js';
export { ZIGBEE_MAPPINGS, type AlarmRule, type Scalar, type StateRule, type ZigbeeMapping } from './mappings.js';

/** Zigbee2MQTT's default base topic. */
export const ZIGBEE2MQTT_DEFAULT_PREFIX = 'zigbee2mqtt';
