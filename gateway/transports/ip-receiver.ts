import type { DeviceMessage } from '../../protocols/message.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { HandleResult } from '../pipeline.js';
import type { Device } from '../store/devices.js';

/**
 * What an IP receiver (DC-09, SCAIP) needs of the gateway: it looks each message's device up itself, since the
 * message, not the connection, says who it is from.
 */
export interface IpReceiverDeps {
  /** the registered device of that identifier, any protocol (null: none, or disabled) */
  lookup(identifier: string): Promise<Device | null>;
  /** the device's key (a DC-09 AES key, a SCAIP SIP password), opened, if it has one */
  keyOf(identifier: string): Promise<Buffer | undefined>;
  handle(msgs: DeviceMessage[], remote: string): Promise<HandleResult>;
  /** counts, logs and lists an identifier as awaiting registration */
  unknown(identifier: string, remote: string): Promise<void>;
  metrics: Metrics;
  log: Logger;
}
