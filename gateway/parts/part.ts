/**
 * What every part starter shares (gateway/app.ts starts them in order and stops them in reverse): the context it
 * starts in, and the stop list a part keeps of what it started.
 */
import type { Bus } from '../bus.js';
import type { Config } from '../config.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

export interface PartContext {
  cfg: Config;
  log: Logger;
  metrics: Metrics;
  health: Health;
  bus: Bus;
  /** what listens where, and which parts are embedded or simulated (printed at start) */
  summary: string[];
}

/** A started part: stopping it closes what it started, in reverse order; it never throws. */
export interface Part {
  stop(): Promise<void>;
}

/** Steps to undo, run in reverse; a failing step is logged and the others still run. */
export class Stops implements Part {
  private readonly steps: { name: string; fn: () => unknown }[] = [];

  constructor(private readonly log: Logger) {}

  add(name: string, fn: () => unknown): void {
    this.steps.push({ name, fn });
  }

  async stop(): Promise<void> {
    for (const s of this.steps.splice(0).reverse()) {
      try {
        await s.fn();
      } catch (e) {
        this.log.error({ err: e, part: s.name }, 'error while stopping');
      }
    }
  }

  /** Runs a part's start; if it throws, undoes what was started so far and rethrows. */
  async starting<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }
}
