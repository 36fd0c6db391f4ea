/**
 * Messages between the gateway process and its TCP connection workers (WATCH_WORKERS > 0), sent over the
 * cluster IPC channel with `serialization: 'advanced'` (structured clone: Dates and Buffers survive).
 */
import type { DeviceMessage } from '../../protocols/message.js';
import type { Device } from '../store/devices.js';
import type { TcpHandleResult, TcpOptions } from './tcp.js';

/** What a worker is told at start, in the ANXIN_TCP_WORKER environment variable (JSON). */
export interface WorkerSetup {
  /** the TCP protocol's name in protocols/index.ts */
  protocol: string;
  options: TcpOptions;
  logLevel: string;
}

/** counter name → [labels, increment since the last report] */
export type CounterDeltas = Record<string, [Record<string, string>, number][]>;

export type ToWorker =
  /** the pipeline's answer; `r.session` says whether the connection holds the device's session */
  | { t: 'handled'; id: number; r: TcpHandleResult }
  | { t: 'write'; identifier: string; bytes: Uint8Array }
  /** the device's session moved to another connection from the same address: close this one */
  | { t: 'drop'; identifier: string; conn: number }
  | { t: 'memory'; id: number; gc: boolean }
  | { t: 'stop'; graceMs: number };

export type FromWorker =
  | { t: 'ready' }
  /** `conn` numbers the connection within the worker */
  | { t: 'handle'; id: number; conn: number; msgs: DeviceMessage[]; remote: string }
  /** an identified connection closed; sent after its last frame was answered */
  | { t: 'gone'; conn: number; identifier: string; device: Device }
  | { t: 'stats'; connections: number; unidentified: number; counters: CounterDeltas }
  | { t: 'memory'; id: number; rss: number; heapUsed: number }
  | { t: 'stopped' };

/** The counters a TcpTransport touches; workers report their increments, the gateway adds them to its own. */
export const WORKER_COUNTERS = ['frames', 'badFrames', 'bytesReceived', 'bytesDiscarded', 'framesDropped', 'refused', 'closed', 'processErrors'] as const;
