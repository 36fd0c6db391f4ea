/**
 * Work orders' service-level timers (issue 21) on the durable job queue: a dispatch sends one job per check (accept,
 * on site), due when the check is; the job carries the dispatch it belongs to, so a later reassignment makes the old
 * jobs find nothing to do. Jobs live in PostgreSQL: a restart, even a kill -9, neither loses nor repeats a check (a
 * check that ran is on the order's timeline; one that found the order on time does nothing).
 */
import { slaDeadlines, type SlaTargets, type WorkOrderType } from '../../workorders/index.js';
import type { Queryable } from '../store/db.js';
import type { JobQueue } from '../store/jobs.js';
import type { WorkOrder } from '../store/workorders.js';
import type { SlaJob, SlaScheduler } from './work-order-service.js';

export const SLA_QUEUE = 'work-order-sla';

export class SlaTimers implements SlaScheduler {
  constructor(
    private readonly jobs: JobQueue,
    private readonly targets: SlaTargets,
  ) {}

  async schedule(c: Queryable, order: WorkOrder): Promise<void> {
    for (const d of slaDeadlines({ type: order.type as WorkOrderType, dispatchedAt: order.dispatchedAt }, this.targets)) {
      const job: SlaJob = { orderId: order.id, check: d.check, dispatchedAt: d.dispatchedAt };
      await this.jobs.send(SLA_QUEUE, job, { startAfter: d.dueAt, singletonKey: `${order.id}:${d.check}:${d.dispatchedAt}`, in: c });
    }
  }
}
