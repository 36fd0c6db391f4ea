/**
 * Part 7d: care programmes (issue 22): scheduled welfare calls (平安呼叫) and reminders on the durable job queue,
 * check-ins (the green key in a schedule's window) and the agents' care calls. Calls go through telephony when it is
 * up; without it an attempt fails, is retried, and ends as a welfare_check_failed alarm: nobody is silently skipped.
 */
import type { AlarmService } from '../alarms/alarm-service.js';
import { CareService, type WelfareCaller } from '../care/care-service.js';
import type { SmsService } from '../notify/sms-service.js';
import type { Db } from '../store/db.js';
import type { JobQueue } from '../store/jobs.js';
import type { TelephonyPart } from './telephony.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface CarePart extends Part {
  care: CareService;
}

export async function startCare({ cfg, log, bus, health, summary }: PartContext, d: { db: Db; jobs: JobQueue; alarms: AlarmService; sms?: SmsService; telephony: TelephonyPart }): Promise<CarePart> {
  const stops = new Stops(log);
  return stops.starting(async () => {
    const telephony = (): WelfareCaller | undefined => d.telephony.handle()?.telephony;
    const care = new CareService(d.db, bus, d.jobs, { timeZone: cfg.timezone, log: log.child({ part: 'care' }), alarms: d.alarms, sms: d.sms, telephony, maxCalls: cfg.careMaxCalls, ringTimeoutS: cfg.careRingTimeoutS });
    d.alarms.onCheckin((elderId, deviceId, at) => care.checkin(elderId, 'green_key', deviceId, at));
    await care.start();
    stops.add('care', () => care.stop());
    // the calls run where telephony does (issue 24): on this node while it holds it
    await d.telephony.onHolder({ name: 'care-calls', start: () => care.startCalling(), stop: () => care.stopCalling() });
    health.register('care', () =>
      !d.telephony.leading()
        ? { state: 'up', detail: 'welfare calls and reminders run on the node that runs telephony' }
        : { state: telephony() ? 'up' : 'degraded', detail: telephony() ? 'welfare calls through telephony' : 'telephony off: welfare calls fail and escalate' },
    );
    summary.push(`Care         welfare calls and reminders, ${cfg.careMaxCalls} at once${telephony() ? '' : ' (telephony off: calls escalate as failed)'}`);
    return { care, stop: () => stops.stop() };
  });
}
