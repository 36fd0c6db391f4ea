/**
 * A batch the store refused for good (RejectedBatch) holds good points too: one point with a time InfluxDB
 * cannot store, or a value past a limit, makes it refuse the request (2.x: all of it; 1.x: a "partial write"
 * that keeps what it could parse, but a field type conflict refuses all). The batch is split in halves and each
 * written on its own, recursively, until the refused points stand alone: the good ones are written and only the
 * refused ones are dropped, counted by reason. Rewriting a point 1.x already kept is harmless (a point is keyed
 * by measurement, tags and time: README "Telemetry").
 */
import type { TelemetryPoint } from './types.js';

/**
 * Thrown by a sink when the server refused the batch for good (bad data, a limit such as InfluxDB's
 * max-values-per-tag): sending it again would fail again and hold up every point behind it.
 */
export class RejectedBatch extends Error {}

/** Requests one refused batch may cost: a batch of 5,000 with a few bad points needs ~13 per bad point. */
export const ISOLATE_MAX_REQUESTS = 200;

export interface Isolated<T = TelemetryPoint> {
  written: number;
  /** refused points by reason */
  refused: Map<string, number>;
  /** points not settled because a write failed for a passing reason (server down): retried as usual */
  retry: T[];
  retryError?: unknown;
}

/** The store's reason in a few words, from its message (InfluxDB 1.x and 2.x wordings). */
export function refusalReason(message: string): string {
  if (/time outside range|out of range/i.test(message)) return 'time_out_of_range';
  if (/field type conflict/i.test(message)) return 'field_type_conflict';
  if (/max-values-per-tag/i.test(message)) return 'max_values_per_tag';
  if (/retention policy|beyond retention/i.test(message)) return 'beyond_retention';
  if (/unable to parse|invalid|bad timestamp/i.test(message)) return 'unparseable';
  if (/\b413\b|too large/i.test(message)) return 'too_large';
  return 'other';
}

export async function isolateRefused<T>(batch: T[], first: RejectedBatch, sink: (b: T[]) => Promise<void>, maxRequests = ISOLATE_MAX_REQUESTS): Promise<Isolated<T>> {
  const out: Isolated<T> = { written: 0, refused: new Map(), retry: [] };
  let budget = maxRequests;
  const refuse = (n: number, reason: string): void => void out.refused.set(reason, (out.refused.get(reason) ?? 0) + n);
  const visit = async (part: T[], known?: RejectedBatch): Promise<void> => {
    // after a passing failure the rest is not tried now: it waits for the writer's retry
    if (out.retryError !== undefined) {
      out.retry.push(...part);
      return;
    }
    let refusal = known;
    if (!refusal) {
      if (budget-- <= 0) return refuse(part.length, 'not_isolated');
      try {
        await sink(part);
        out.written += part.length;
        return;
      } catch (e) {
        if (!(e instanceof RejectedBatch)) {
          out.retryError = e;
          out.retry.push(...part);
          return;
        }
        refusal = e;
      }
    }
    if (part.length === 1) return refuse(1, refusalReason(refusal.message));
    const mid = part.length >> 1;
    await visit(part.slice(0, mid));
    await visit(part.slice(mid));
  };
  await visit(batch, first);
  return out;
}
