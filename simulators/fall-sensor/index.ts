/** Simulated fall sensors: a native JSON sensor (mqtt-json) and a Zigbee2MQTT bridge with vendor payloads. */
export { NATIVE, VENDORS, isVendor, type SensorState, type Vendor, type VendorFacts } from './facts.js';
export { NativeFallSensor, type AlarmResult, type NativeSensorOptions, type ServerReply } from './native.js';
export { Zigbee2MqttBridgeSim, type BridgeSimOptions } from './zigbee.js';
