/**
 * The durable job queue (pg-boss, in the same PostgreSQL, schema `pgboss`): timers that must survive a restart or
 * a kill -9, such as work orders' service levels (issue 21). A job can be sent inside the caller's transaction, so
 * the timer exists exactly when the change that needs it was committed.
 */
import PgBoss from 'pg-boss';
import type { Logger } from '../log.js';
import type { Queryable } from './db.js';

export interface JobOptions {
  startAfter: Date;
  /** one job per key while it waits (a retried request cannot start a second timer) */
  singletonKey: string;
  /** send inside this transaction */
  in?: Queryable;
}

export class JobQueue {
  private readonly boss: PgBoss;

  constructor(databaseUrl: string, log: Logger, private readonly pollS = 1) {
    // two connections: the workers' polling and the sends outside a transaction; maintenance runs on them too
    this.boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', max: 2, application_name: 'anxin-jobs', schedule: false });
    this.boss.on('error', (e) => log.warn({ err: e }, 'job queue error'));
  }

  async start(): Promise<void> {
    await this.boss.start();
  }

  /** Handles the jobs of a queue (created if new), one at a time; a handler that throws is retried later. */
  async work<T extends object>(queue: string, handler: (data: T) => Promise<void>): Promise<void> {
    await this.boss.createQueue(queue, { name: queue, retryLimit: 5, retryDelay: 10 });
    await this.boss.work<T>(queue, { pollingIntervalSeconds: this.pollS, batchSize: 1 }, async (jobs) => {
      for (const j of jobs) await handler(j.data);
    });
  }

  /** Stops handling the queue's jobs here (another node handles them now); a job being handled finishes. */
  async stopWork(queue: string): Promise<void> {
    await this.boss.offWork(queue);
  }

  async send(queue: string, data: object, o: JobOptions): Promise<void> {
    const db = o.in ? { executeSql: (text: string, values: unknown[]) => o.in!.query(text, values) } : undefined;
    await this.boss.send(queue, data, { startAfter: o.startAfter, singletonKey: o.singletonKey, ...(db ? { db } : {}) });
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: 5000, wait: true });
  }
}
