/**
 * Part 7b: work orders (issue 21). The service the API uses, and its service-level timers on the durable job queue
 * (pg-boss in the same PostgreSQL): a check that comes due while the process is down runs when it is back.
 */
import { resolveSla } from '../../workorders/index.js';
import type { Db } from '../store/db.js';
import { JobQueue } from '../store/jobs.js';
import { SLA_QUEUE, SlaTimers } from '../workorders/sla-timers.js';
import { WorkOrderService, type SlaJob } from '../workorders/work-order-service.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface WorkOrdersPart extends Part {
  workOrders: WorkOrderService;
  /** the durable job queue, shared with the SMS part (held messages) */
  jobs: JobQueue;
}

export async function startWorkOrders({ cfg, log, bus, health }: PartContext, db: Db, databaseUrl: string): Promise<WorkOrdersPart> {
  const stops = new Stops(log);
  return stops.starting(async () => {
    const jobs = new JobQueue(databaseUrl, log.child({ part: 'jobs' }), cfg.jobPollS);
    await jobs.start();
    stops.add('jobs', () => jobs.stop());
    const { targets } = resolveSla(cfg.workOrderSla); // its problems were refused by loadConfig
    const workOrders = new WorkOrderService(db, bus, { timers: new SlaTimers(jobs, targets), targets, timeZone: cfg.timezone });
    let missed = 0;
    await jobs.work<SlaJob>(SLA_QUEUE, async (job) => {
      if (await workOrders.slaCheck(job)) missed++;
    });
    health.register('work_order_sla', () => ({ state: 'up', detail: `${missed} service-level checks missed since start` }));
    return { workOrders, jobs, stop: () => stops.stop() };
  });
}
