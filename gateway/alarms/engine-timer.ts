/**
 * The alarm engine's timer: every few seconds, one pass of what is not driven by device messages: journal entries
 * waiting for PostgreSQL, the time-based rules (silent devices, inactivity, missed tests), rule-state persistence,
 * and once an hour the pruning of old de-duplication keys.
 */
import type { DeviceMessage } from '../../protocols/message.js';
import type { Logger } from '../log.js';
import { pruneProcessedMessages } from '../store/alarms.js';
import type { Db } from '../store/db.js';
import type { AlarmService } from './alarm-service.js';
import type { RuleEngine } from './rule-engine.js';

export class EngineTimer {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private lastPrune = 0;
  /**
   * Whether this node runs the time-based rules and the pruning: one node of several does (a singleton, issue 24).
   * Journal retries and rule-state saving stay on every node: each node's journal and rule states are its own.
   */
  leading = true;

  constructor(
    private readonly db: Db,
    private readonly alarms: AlarmService,
    private readonly rules: RuleEngine,
    private readonly log: Logger,
    private readonly intervalMs = 5000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.pass(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private pass(): void {
    // One pass at a time: the first pass over a large registry loads every elder's rules and can outlast 5 s.
    if (this.busy) return;
    this.busy = true;
    void this.run()
      .catch((e) => this.log.warn({ err: e }, 'alarm engine tick failed; will retry'))
      .finally(() => (this.busy = false));
  }

  private async run(): Promise<void> {
    if (this.alarms.journalDepth > 0) await this.alarms.replay();
    if (this.leading) await this.timeRules();
    // Right after the tick's commits: with several nodes, a node the device reconnects to reads what the tick
    // raised (device_silent active) from the saved state, so the device's next message clears it (issue 24).
    await this.rules.persist();
    if (this.leading) await this.prune();
  }

  private async timeRules(): Promise<void> {
    for (const t of await this.rules.tick(new Date())) {
      const msg: DeviceMessage = { deviceId: t.identifier, protocol: t.protocol as never, kind: 'status', receivedAt: new Date(), raw: `rules:${t.outcome.raise.map((r) => r.kind).join('+')}-${t.outcome.clear.join('+')}:${Date.now()}` };
      await this.alarms.commit(msg, { id: t.deviceId, identifier: t.identifier, elderId: t.elderId, protocol: t.protocol }, t.outcome.raise, t.outcome.clear);
    }
  }

  private async prune(): Promise<void> {
    if (Date.now() - this.lastPrune > 3_600_000) {
      this.lastPrune = Date.now();
      await pruneProcessedMessages(this.db);
    }
  }
}
