/**
 * The watch status word (protocols.md §1.4), as data: which bit means what. Every bit is decoded on its own.
 * The decoder reads these tables; the tests read them too instead of keeping their own copy.
 */
import type { AlarmKind } from '../message.js';

/** Status bits that raise an alarm, in bit order (18/19 are the device's own fences, see STATE_BITS). */
export const ALARM_STATUS_BITS: readonly (readonly [bit: number, alarm: AlarmKind])[] = [
  [16, 'sos'],
  [17, 'low_battery'],
  [20, 'removed'],
  [21, 'fall'],
  [22, 'vitals_abnormal'], // vendor: abnormal heart rate (Traccar maps it to fallDown, contradicting the vendor)
];

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
  // Fence events are the device's own geofence; Anxin evaluates geofences itself, so no alarm is raised.
  deviceFenceExit: 18,
  deviceFenceEnter: 19,
} as const;
