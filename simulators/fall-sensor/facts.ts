/**
 * What the simulated sensors send, written from the facts (protocols.md §5, README "MQTT devices"), not
 * from the server's code, so a misreading on one side shows up as a failing test instead of hiding in both.
 */

/** Anxin's JSON uplink: topic anxin/up/{id}/{kind}; the server answers on anxin/down/{id}/ack|error. */
export const NATIVE = {
  up: (id: string, kind: 'heartbeat' | 'position' | 'alarm' | 'health' | 'status') => `anxin/up/${id}/${kind}`,
  down: (id: string) => `anxin/down/${id}/#`,
  ack: (id: string) => `anxin/down/${id}/ack`,
  error: (id: string) => `anxin/down/${id}/error`,
};

export type Vendor = 'tuya' | 'heiman' | 'owon' | 'ias' | 'cube';

export interface SensorState {
  /** the vendor's alarm value (a fall, or SOS for the IAS button; a drop for the cube) */
  alarm: boolean;
  /** someone in the room (ignored by vendors without presence) */
  present: boolean;
}

export interface VendorFacts {
  /** the Zigbee2MQTT model id, as an installer would register it */
  model: string;
  label: string;
  /** the whole state object Zigbee2MQTT publishes on zigbee2mqtt/<friendly name> */
  payload(s: SensorState): Record<string, unknown>;
}

export const VENDORS: Record<Vendor, VendorFacts> = {
  tuya: {
    model: 'MIR-HE200-TY',
    label: 'Tuya MIR-HE200-TY presence radar with fall detection',
    // fall_down_status: none | maybe_fall | fall (DP116)
    payload: (s) => ({
      presence: s.present,
      occupancy: s.present,
      motion_speed: 0,
      motion_direction: 'standing_still',
      fall_down_status: s.alarm ? 'fall' : 'none',
      tumble_switch: 'ON',
      fall_sensitivity: 5,
      tumble_alarm_time: 1,
      linkquality: 120,
    }),
  },
  heiman: {
    model: 'HS2FD-EF1-3.0',
    label: 'Heiman HS2FD fall detection sensor',
    // fall_status: normal | fall_warning | fall_alarm | unknown
    payload: (s) => ({ occupancy: s.present, sensor_status: s.present ? 'activity' : 'none', fall_status: s.alarm ? 'fall_alarm' : 'normal', linkquality: 96 }),
  },
  owon: {
    model: 'FDS315',
    label: 'OWON FDS315 fall detection radar',
    // status: unoccupied | occupied | sitting | on_the_bed | low_posture | falling
    payload: (s) => ({ status: s.alarm ? 'falling' : s.present ? 'occupied' : 'unoccupied', breathing_rate: s.present ? 14 : 0, location_x: 120, location_y: -35, linkquality: 88 }),
  },
  ias: {
    model: 'IAS-SOS',
    label: 'IAS-zone SOS pendant (sos = zone status bit 1)',
    payload: (s) => ({ sos: s.alarm, tamper: false, battery_low: false, battery: 100, linkquality: 140 }),
  },
  cube: {
    model: 'MFKZQ01LM',
    label: 'Aqara cube: action "fall" means the cube was dropped, not a person',
    payload: (s) => ({ action: s.alarm ? 'fall' : 'shake', battery: 91, voltage: 3005, linkquality: 60 }),
  },
};

export const isVendor = (v: string): v is Vendor => Object.prototype.hasOwnProperty.call(VENDORS, v);
