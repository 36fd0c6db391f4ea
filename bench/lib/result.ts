/** What a scenario reports (bench/results.json keeps these as they are). */
import type { AlarmLatency, WindowResult } from './measure.js';

export type WindowSummary = Omit<WindowResult, 'start' | 'end'> & { connectionsHeld: number; rssMiB: number; heapMiB: number };

export interface ScenarioResult {
  name: string;
  description: string;
  ok: boolean;
  error?: string;
  wallSeconds: number;
  devices?: { watch: number; mqtt: number; gt06?: number };
  connect?: { target: number; ready: number; failed: number; seconds: number };
  /** held by the gateway at the end of the measuring window (watch + MQTT) */
  connectionsHeld?: number;
  /** per connection, after a full GC, against the gateway's own baseline before any device connected */
  memory?: { rssPerConnKB?: number; heapPerConnKB?: number; baselineRssMiB: number; baselineHeapMiB: number };
  offeredPerS?: number;
  window?: WindowSummary;
  alarms?: AlarmLatency;
  /** scenario-specific figures (phases, steps, storm timings, baselines) */
  extra?: Record<string, unknown>;
  notes: string[];
}

export function summarize(w: WindowResult): WindowSummary {
  const { start: _s, end, ...rest } = w;
  return { ...rest, connectionsHeld: end.watchConnections + end.mqttClients, rssMiB: Math.round(end.rss / 2 ** 20), heapMiB: Math.round(end.heapUsed / 2 ** 20) };
}
