/**
 * Messages between the gateway process and its TCP connection workers (WATCH_WORKERS > 0), sent over the
 * cluster IPC channel with `serialization: 'advanced'` (structured clone: Dates and Buffers survive).
 */
import type { DeviceMessage } from '../../protocols/message.js';
import type { HandleResult } from '../pipeline.js';
import type { Device } from '../store/devices.js';
import type { TcpOptions } from './tcp.js';

/** What a worker is told at start, in the ANXIN_TCP_WORKER environment variable (JSON). */
export interface WorkerSetup {
  protocol: 'watch';
  options: TcpOptions;
  logLevel: string;
}

/** counter name → [labels, increment since the last report] */
export type CounterDeltas = Record<string, [Record<string, string>, number][]>;

export type ToWorker =
  | { t: 'handled'; id: number; r: HandleResult }
  | { t: 'write'; identifier: string; bytes: Uint8Array }
  | { t: 'drop'; identifier: string }
  | { t: 'memory'; id: number; gc: boolean }
  | { t: 'stop'; graceMs: number };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'handle'; id: number; msgs: DeviceMessage[]; remote: string }
  | { t: 'online'; identifier: string; device: Device; raw: string }
  | { t: 'offline'; identifier: string; device: Device }
  | { t: 'stats'; connections: number; counters: CounterDeltas }
  | { t: 'memory'; id: number; rss: number; heapUsed: number }
  | { t: 'stopped' };

/** The counters a TcpTransport touches; workers report their increments, the gateway adds them to its own. */
export const WORKER_COUNTERS = ['frames', 'badFrames', 'refused', 'closed', 'processErrors'] as const;
