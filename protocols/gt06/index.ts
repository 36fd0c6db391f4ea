/**
 * GT06 (Concox) GPS trackers, protocols.md §2: declared, not decoded yet. Devices can be registered (their
 * identifier rule and reporting interval are here), but without a framer and a decoder the gateway serves no
 * port for them. README "Adding a protocol" says what completes it.
 */
import type { ProtocolModule } from '../message.js';

export const gt06Protocol: ProtocolModule = {
  name: 'gt06',
  label: 'GT06',
  devices: 'GT06 GPS trackers',
  transport: 'tcp',
  defaultPort: 5023,
  settings: {
    host: 'GT06_HOST',
    port: 'GT06_PORT',
    idleTimeoutS: 'GT06_IDLE_TIMEOUT_S',
    maxConnections: 'GT06_MAX_CONNECTIONS',
    workers: 'GT06_WORKERS',
    firstFrameTimeoutS: 'GT06_FIRST_FRAME_TIMEOUT_S',
    partialFrameTimeoutS: 'GT06_PARTIAL_FRAME_TIMEOUT_S',
    maxUnidentifiedPerAddress: 'GT06_MAX_UNIDENTIFIED_PER_ADDRESS',
  },
  identifier: { pattern: /^\d{15,16}$/, hint: 'the 15-digit IMEI' },
  silentIntervalS: 300,
  commands: [],
};
