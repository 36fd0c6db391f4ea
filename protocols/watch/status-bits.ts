/**
 * The watch status word (protocols.md §1.4), as data: which bit means what. Every bit is decoded on its own.
 * The decoder reads these tables; the tests read them too instead of keeping their own copy.
 */
import type { AlarmKind } from '../message.js';

/** Status bits that raise an alarm, in bit order. */
export const ALARM_STATUS_BITS: readonly (readonly [bit: number, alarm: AlarmKind])[] = [
  [16, 'sos'],
  [17, 'low_battery'],
  // The watch's own fence, set by the family in its companion app: leaving it must reach someone (issue 18).
  [18, 'geofence_exit'],
  [20, 'removed'],
  [21, 'fall'],
  [22, 'vitals_abnormal'], // vendor: abnormal heart rate (Traccar maps it to fallDown, contradicting the vendor)
];

/** Status bits that end an alarm: entering the watch's own fence again ends its geofence_exit. */
export const RESTORE_STATUS_BITS: readonly (readonly [bit: number, alarm: AlarmKind])[] = [[19, 'geofence_exit']];

/** The event bits: an alarm frame with all of them clear is an unspecified alarm (or a low-battery one). */
export const EVENT_BITS = { first: 16, last: 22 } as const;

/** Status bits reported as states (DeviceMessage.states), each a flag of its own. */
export const STATE_BITS = {
  lowBattery: 0,
  outOfFence: 1,
  inFence: 2,
  worn: 3, // vendor: "watch state"; meaning uncertain [?]
  static: 4, // vendor: "device no-moving state" (Traccar reads it as motion, contradicting the vendor)
  powerCut: 14,
  // The device's own fence events, also kept as states (18 raises geofence_exit, 19 restores it).
  deviceFenceExit: 18,
  deviceFenceEnter: 19,
} as const;
