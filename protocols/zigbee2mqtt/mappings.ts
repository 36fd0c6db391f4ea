/**
 * Which Zigbee2MQTT state properties mean what, per device model, kept as data in the style of
 * zigbee-herdsman-converters' definitions (protocols.md §5). Zigbee2MQTT has already turned clusters into
 * named properties; this table turns those properties into Anxin alarms and states.
 *
 * Choosing a mapping (decoder.ts `selectMapping`):
 * 1. the registered device's `model`, matched case-insensitively against `id` and `models` (the whole model
 *    text or any word of it, so "Tuya MIR-HE200-TY" matches);
 * 2. when the device has no model: the `device.model` Zigbee2MQTT adds with `include_device_information`;
 * 3. still none: `detect`, a property whose value is one of a known set (first entry in table order wins);
 * 4. a model that matches no entry is ignored and counted, never guessed from keys.
 * `action` is never used for detection: the Aqara cube's `{"action":"fall"}` is a dropped cube.
 */
import type { AlarmKind } from '../message.js';

export type Scalar = string | number | boolean;

export interface AlarmRule {
  /** the Zigbee2MQTT property */
  key: string;
  /** raises `alarm` when the property becomes this value */
  when: Scalar;
  alarm: AlarmKind;
  /** clears `alarm` when the property becomes this value (condition alarms only) */
  restoreWhen?: Scalar;
}

export interface StateRule {
  /** name in DeviceMessage.states; `presence` and `occupancy` feed the inactivity rule */
  state: 'presence' | 'occupancy';
  key: string;
  /** values meaning false; absent = the property is itself a boolean */
  falseWhen?: readonly Scalar[];
}

export interface ZigbeeMapping {
  id: string;
  vendor: string;
  /** Zigbee2MQTT model ids (and aliases) this entry applies to */
  models: readonly string[];
  description: string;
  detect?: { key: string; oneOf: readonly Scalar[] };
  alarms: readonly AlarmRule[];
  states: readonly StateRule[];
}

/** IAS zone status bits that every IAS device reports alongside its own alarm bit. */
const IAS_COMMON: readonly AlarmRule[] = [
  { key: 'tamper', when: true, alarm: 'tamper' },
  { key: 'battery_low', when: true, alarm: 'low_battery', restoreWhen: false },
];

export const ZIGBEE_MAPPINGS: readonly ZigbeeMapping[] = [
  {
    id: 'tuya-mir-he200-ty',
    vendor: 'Tuya',
    models: ['MIR-HE200-TY'],
    description: 'human presence radar with fall function; fall_down_status none | maybe_fall | fall (DP116)',
    detect: { key: 'fall_down_status', oneOf: ['none', 'maybe_fall', 'fall'] },
    alarms: [{ key: 'fall_down_status', when: 'fall', alarm: 'fall' }],
    states: [
      { state: 'presence', key: 'presence' },
      { state: 'occupancy', key: 'occupancy' },
    ],
  },
  {
    id: 'heiman-hs2fd',
    vendor: 'Heiman',
    models: ['HS2FD-EF1-3.0', 'HS2FD'],
    description: 'fall detection sensor; fall_status normal | fall_warning | fall_alarm | unknown',
    detect: { key: 'fall_status', oneOf: ['normal', 'fall_warning', 'fall_alarm', 'unknown'] },
    alarms: [{ key: 'fall_status', when: 'fall_alarm', alarm: 'fall' }],
    states: [{ state: 'occupancy', key: 'occupancy' }],
  },
  {
    id: 'owon-fds315',
    vendor: 'OWON',
    models: ['FDS315'],
    description: 'fall detection radar; status unoccupied | occupied | sitting | on_the_bed | low_posture | falling',
    detect: { key: 'status', oneOf: ['unoccupied', 'occupied', 'sitting', 'on_the_bed', 'low_posture', 'falling'] },
    alarms: [{ key: 'status', when: 'falling', alarm: 'fall' }],
    states: [{ state: 'occupancy', key: 'status', falseWhen: ['unoccupied'] }],
  },
  {
    id: 'ias-sos',
    vendor: 'generic',
    models: ['IAS-SOS'],
    description: 'IAS-zone SOS pendant or button (fz.ias_sos_alarm*): sos = zone status bit 1',
    detect: { key: 'sos', oneOf: [true, false] },
    alarms: [{ key: 'sos', when: true, alarm: 'sos' }, ...IAS_COMMON],
    states: [],
  },
  {
    id: 'aqara-cube',
    vendor: 'Aqara',
    models: ['MFKZQ01LM', 'CTP-R01'],
    description: 'magic cube: {"action":"fall"} means the cube was dropped, never a person; maps to nothing',
    alarms: [],
    states: [],
  },
];
