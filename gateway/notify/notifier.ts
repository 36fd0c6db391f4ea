/**
 * Who is told what by SMS (issue 21). Each listener runs on its own off the bus (a failing SMS never touches the
 * alarm or the order); numbers come only from our records: elders' contacts marked "may receive SMS" and staff.
 * - an alarm raised (P1, P2; never a test alarm): its elder's SMS contacts;
 * - an alarm resolved: the same contacts, with the outcome;
 * - a work order dispatched (or reassigned) to a staff member: that staff member, with the task, the address and
 *   the access notes, and "reply 1 to accept, 2 to refuse"; a reply from their number acts on their newest
 *   dispatched order.
 */
import { OUTCOME_CODES, isOutcomeCode } from '../../alarms/index.js';
import type { AlarmKind } from '../../protocols/message.js';
import type { Bus } from '../bus.js';
import type { Logger } from '../log.js';
import type { Alarm } from '../store/alarms.js';
import type { Db } from '../store/db.js';
import { getElder, listContacts } from '../store/elders.js';
import { createResponderLink } from '../store/responder-links.js';
import { orderAwaitingStaff, whoIsNumber } from '../store/sms.js';
import { getStaff } from '../store/stations.js';
import type { WorkOrder } from '../store/workorders.js';
import type { WorkOrderService } from '../workorders/work-order-service.js';
import { KIND_NAMES } from './kinds.js';
import type { SmsService } from './sms-service.js';

const timeOf = (d: Date, timeZone: string) => new Intl.DateTimeFormat('zh-CN', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }).format(d);

export function startNotifier(o: { db: Db; bus: Bus; sms: SmsService; workOrders?: WorkOrderService; timeZone: string; log: Logger; publicUrl: () => string; linkTtlH: number }): () => void {
  const { db, bus, sms } = o;
  const kindName = (k: string) => KIND_NAMES[k as AlarmKind]?.['zh-CN'] ?? k;

  async function toContacts(alarm: Alarm, template: 'alarm_raised' | 'alarm_outcome', extra: Record<string, string> = {}): Promise<void> {
    if (!alarm.elderId || alarm.test || alarm.priority > 2) return;
    // a failed welfare call has its own text (welfare_failed, from gateway/care/): one SMS per event, not two
    if (template === 'alarm_raised' && alarm.kind === 'welfare_check_failed') return;
    const elder = await getElder(db, alarm.elderId);
    if (!elder) return;
    for (const c of await listContacts(db, elder.id)) {
      if (!c.maySms || !c.phone) continue;
      await sms.send(template, { elder: elder.name, kind: kindName(alarm.kind), time: timeOf(alarm.firstAt, o.timeZone), ...extra }, { number: c.phone, priority: alarm.priority, public: true, alarmId: alarm.id, elderId: elder.id, contactId: c.id });
    }
  }

  async function toStaff(order: WorkOrder): Promise<void> {
    if (!order.staffId) return;
    const staff = await getStaff(db, order.staffId);
    if (!staff?.phone) return;
    const elder = order.elderId ? await getElder(db, order.elderId) : undefined;
    // a one-time link to the responder's page, for this dispatch (gateway/http/responder.ts)
    const token = await createResponderLink(db, order.id, staff.id, o.linkTtlH);
    await sms.send(
      'dispatch',
      { order: order.id, link: `${o.publicUrl().replace(/\/$/, '')}/r/${token}`, task: order.title, elder: elder?.name ?? '', address: elder?.address ?? '', access: elder?.accessNotes ? `入户：${elder.accessNotes}。` : '' },
      { number: staff.phone, priority: order.priority, workOrderId: order.id, elderId: order.elderId, staffId: staff.id },
    );
  }

  const offs = [
    bus.on('alarm.raised', async ({ alarms }) => {
      for (const a of alarms) await toContacts(a, 'alarm_raised');
    }),
    bus.on('alarm.changed', async ({ alarm, action }) => {
      if (action !== 'resolve' || !alarm.outcome || !isOutcomeCode(alarm.outcome) || alarm.outcome === 'test' || alarm.outcome === 'accidental_press') return;
      await toContacts(alarm, 'alarm_outcome', { outcome: OUTCOME_CODES[alarm.outcome].zh });
    }),
    bus.on('workorder.changed', async ({ order, action }) => {
      if ((action === 'dispatch' || action === 'reassign') && order.state === 'dispatched') await toStaff(order);
      // the one who let it lapse hears so (the order as it was when the check came due: still theirs)
      if (action === 'sla_overdue' && order.staffId) {
        const staff = await getStaff(db, order.staffId);
        const check = order.state === 'dispatched' ? '接单' : '到场';
        if (staff?.phone) await sms.send('sla_overdue', { order: order.id, check }, { number: staff.phone, priority: order.priority, workOrderId: order.id, elderId: order.elderId, staffId: staff.id });
      }
    }),
  ];

  // "1" accepts, "2" refuses the sender's newest order waiting for them; anything else stays on record only.
  sms.onReply(async (reply) => {
    if (reply.kind === 'other' || !o.workOrders) return;
    const who = await whoIsNumber(db, reply.number);
    for (const staffId of who.staffIds) {
      const orderId = await orderAwaitingStaff(db, staffId);
      if (orderId === undefined) continue;
      const r = await o.workOrders.respond(orderId, staffId, reply.kind, 'sms');
      if ('order' in r && !('refused' in r)) return;
    }
    // from a number that is no staff member's, or with nothing waiting: refused, counted, logged without the number
    sms.noteUnmatched();
    o.log.info({ reply: reply.kind }, 'an SMS reply matched no work order waiting for its sender');
  });
  return () => offs.forEach((f) => f());
}
