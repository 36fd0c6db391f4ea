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
    // An alarm resolved with "service staff dispatched" or "visit dispatched" opens its emergency order at once, in the
    // resolving agent's name, for dispatch from the 工单 view (one per alarm: one already open is left alone).
    stops.add('resolve-opens-order', bus.on('alarm.changed', async ({ alarm, action }) => {
      if (action !== 'resolve' || !alarm.ownerId || (alarm.outcome !== 'service_dispatched' && alarm.outcome !== 'visit_dispatched')) return;
      await workOrders.open({ alarmId: alarm.id, type: 'emergency' }, { id: alarm.ownerId }).catch((e: unknown) => {
        if ((e as { code?: string }).code !== 'alarm_has_order') throw e;
      });
    }));
    health.register('work_order_sla', () => ({ state: 'up', detail: `${missed} service-level checks missed since start` }));
    return { workOrders, jobs, stop: () => stops.stop() };
  });
}
