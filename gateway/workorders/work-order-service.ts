/**
 * What people do to work orders (工单): open one, and move it through its lifecycle (workorders/lifecycle.ts).
 * Each write is one transaction under the order's row lock (two agents cannot dispatch one order twice: the second
 * meets the new state and gets 409), with a timeline row and an audit entry; the change is pushed after the commit.
 * Audit details carry ids and scores only: results, reasons and comments may hold personal data and stay in the
 * timeline.
 */
import { DEFAULT_SLA, decide, slaMissed, suggestResponders, type ActionInput, type OrderSnapshot, type SlaCheck, type SlaTargets, type Suggestions, type WorkOrderAction, type WorkOrderState, type WorkOrderType } from '../../workorders/index.js';
import type { Bus } from '../bus.js';
import { Conflict, Invalid, NotFound, invalidField } from '../errors.js';
import { wire, type WorkOrderBrief } from '../ws-messages.js';
import { getAlarm } from '../store/alarms.js';
import { audit } from '../store/audit.js';
import { PG_UNIQUE, pgCode, tx, type Db, type Queryable } from '../store/db.js';
import { getElder } from '../store/elders.js';
import { dutyData, getStaff, getStation } from '../store/stations.js';
import { getUser, type User } from '../store/users.js';
import {
  ONE_OPEN_EMERGENCY,
  addWorkOrderEvent,
  elderOfCall,
  getWorkOrder,
  insertWorkOrder,
  openEmergencyForAlarm,
  staffDispatchedTo,
  updateWorkOrder,
  type WorkOrder,
  type WorkOrderPatch,
} from '../store/workorders.js';

export interface OpenInput {
  type?: WorkOrderType;
  priority?: number;
  alarmId?: number;
  callId?: string;
  elderId?: number;
  title?: string;
  description?: string;
}

export interface ActInput extends ActionInput {
  note?: string;
  /** reply: when the follow-up call (回访) is due (default: at once) and which agent makes it */
  followUpAt?: string;
  followUpAgentId?: number;
}

/** Default priority per type (1 = most urgent), when neither the body nor an alarm says. */
const TYPE_PRIORITY: Record<WorkOrderType, number> = { emergency: 1, complaint: 2, service: 3, enquiry: 4 };
const TYPE_TITLE: Record<WorkOrderType, string> = { emergency: '紧急工单', service: '服务工单', enquiry: '咨询工单', complaint: '投诉工单' };

/** Starts the service-level timers of a dispatch inside its transaction (sla-timers.ts). */
export interface SlaScheduler {
  schedule(c: Queryable, order: WorkOrder): Promise<void>;
}

/** What a responder does from their phone. */
export type ResponderStep = 'accept' | 'refuse' | 'arrive' | 'done';

/** A service-level check that came due (one per dispatch and check). */
export interface SlaJob {
  orderId: number;
  check: SlaCheck;
  dispatchedAt: string;
}

export class WorkOrderService {
  constructor(
    private readonly db: Db,
    private readonly bus?: Bus,
    private readonly sla?: { timers: SlaScheduler; targets?: SlaTargets; timeZone: string },
  ) {}

  /** Opens an order by hand, from an alarm (an emergency order unless told otherwise), a call or an elder's file. */
  async open(input: OpenInput, user: Pick<User, 'id'>): Promise<WorkOrder> {
    const actor = `user:${user.id}`;
    const order = await tx(this.db, async (c) => {
      let elderId = input.elderId ?? null;
      let priority = input.priority;
      let type = input.type;
      if (input.alarmId !== undefined) {
        const alarm = await getAlarm(c, input.alarmId, true);
        if (!alarm) throw invalidField('body/alarmId', `告警 ${input.alarmId} 不存在 / no alarm ${input.alarmId}`);
        // The green key asks for a service, not an emergency (glossary: 服务订单).
        type ??= alarm.kind === 'one_key_service' ? 'service' : 'emergency';
        elderId ??= alarm.elderId;
        priority ??= alarm.priority;
        const existing = type === 'emergency' ? await openEmergencyForAlarm(c, alarm.id) : undefined;
        if (existing) throw alreadyOpen(alarm.id, existing.id);
      }
      if (input.callId !== undefined) {
        const call = await elderOfCall(c, input.callId);
        if (!call) throw invalidField('body/callId', `通话 ${input.callId} 不存在 / no call ${input.callId}`);
        elderId ??= call.elderId;
      }
      if (input.elderId !== undefined && !(await getElder(c, input.elderId))) throw invalidField('body/elderId', `老人 ${input.elderId} 不存在 / no elder ${input.elderId}`);
      type ??= 'service';
      const source = input.alarmId !== undefined ? 'alarm' : input.callId !== undefined ? 'call' : input.elderId !== undefined ? 'elder' : 'manual';
      const o = await insertWorkOrder(c, {
        type,
        priority: priority ?? TYPE_PRIORITY[type],
        elderId,
        alarmId: input.alarmId ?? null,
        callId: input.callId ?? null,
        title: input.title?.trim() || (input.alarmId !== undefined ? `${TYPE_TITLE[type]}（告警 #${input.alarmId}）` : TYPE_TITLE[type]),
        description: input.description ?? '',
        createdBy: user.id,
      }).catch((e: unknown) => {
        // Two agents opening the same alarm's order at once: the unique index decides, the loser gets the same 409.
        if (pgCode(e) === PG_UNIQUE && (e as { constraint?: string }).constraint === ONE_OPEN_EMERGENCY) throw alreadyOpen(input.alarmId!, null);
        throw e;
      });
      await addWorkOrderEvent(c, o.id, actor, 'open', null, o.state, { source, type: o.type, ...(o.alarmId ? { alarmId: o.alarmId } : {}), ...(o.callId ? { callId: o.callId } : {}), ...(o.elderId ? { elderId: o.elderId } : {}) });
      await audit(c, actor, 'work_order_open', `work_order:${o.id}`, { type: o.type, source, alarmId: o.alarmId, elderId: o.elderId });
      return o;
    });
    this.push(order, 'open', actor);
    return order;
  }

  async act(id: number, action: WorkOrderAction, input: ActInput, user: User, now = new Date()): Promise<WorkOrder> {
    const actor = `user:${user.id}`;
    const order = await tx(this.db, async (c) => {
      const o = await getWorkOrder(c, id, true);
      if (!o) throw new NotFound(`work order ${id}`);
      const responder = action === 'dispatch' || action === 'reassign' ? await this.responder(c, input) : {};
      const d = decide(snapshot(o), action, { ...input, ...responder }, now);
      if (!d.ok) {
        if (d.code === 'illegal_transition' || d.code === 'same_responder') throw new Conflict(d.code, d.message);
        throw new Invalid(d.code, d.message, [{ field: d.field ?? 'body', message: d.message }]);
      }
      const patch: WorkOrderPatch = { ...(d.patch as WorkOrderPatch) };
      if (action === 'reply') {
        if (input.followUpAgentId !== undefined) await this.agentOrFail(c, input.followUpAgentId);
        // the follow-up call is someone's job: the named agent, else whoever replied to the family
        Object.assign(patch, { dueFollowUpAt: input.followUpAt ? new Date(input.followUpAt) : now, followUpAgentId: input.followUpAgentId ?? user.id });
      }
      const updated = await updateWorkOrder(c, o.id, patch);
      await addWorkOrderEvent(c, o.id, actor, action, o.state, updated.state, eventDetail(action, o, updated, input));
      // a (re)dispatch starts its service-level timers in the same commit: no dispatch without them, no timer without it
      if (updated.state === 'dispatched') await this.sla?.timers.schedule(c, updated);
      await audit(c, actor, `work_order_${action}`, `work_order:${o.id}`, {
        from: o.state,
        to: updated.state,
        ...(action === 'dispatch' || action === 'reassign' ? { stationId: updated.stationId, staffId: updated.staffId } : {}),
        ...(action === 'follow_up' ? { satisfaction: updated.satisfaction } : {}),
      });
      return updated;
    });
    this.push(order, action, actor);
    return order;
  }

  /**
   * A service-level check came due. If the order is still on that dispatch and short of the milestone, the miss goes
   * on its timeline and in the audit log, everyone's list is told (the supervisors see it as an alert), and where the
   * target says so the order goes to the next on-duty responder, with new timers. Answers whether it was missed.
   */
  async slaCheck(job: SlaJob, now = new Date()): Promise<boolean> {
    const targets = this.sla?.targets ?? DEFAULT_SLA;
    const out = await tx(this.db, async (c) => {
      const o = await getWorkOrder(c, job.orderId, true);
      if (!o || !slaMissed({ state: o.state as WorkOrderState, dispatchedAt: o.dispatchedAt }, job.check, job.dispatchedAt)) return null;
      const target = targets[o.type as WorkOrderType]?.[job.check];
      await addWorkOrderEvent(c, o.id, 'system', 'sla_overdue', o.state, o.state, { check: job.check, dispatchedAt: job.dispatchedAt, withinS: target?.withinS ?? null, stationId: o.stationId, staffId: o.staffId });
      await audit(c, 'system', 'work_order_sla_overdue', `work_order:${o.id}`, { check: job.check, stationId: o.stationId, staffId: o.staffId });
      if (!target?.escalate) return { order: o, escalated: undefined };
      const next = await this.nextResponder(c, o, now);
      if (!next) return { order: o, escalated: undefined };
      const d = decide(snapshot(o), 'reassign', { staffId: next.id, stationId: next.stationId }, now);
      if (!d.ok) return { order: o, escalated: undefined };
      const updated = await updateWorkOrder(c, o.id, { ...(d.patch as WorkOrderPatch) });
      await addWorkOrderEvent(c, o.id, 'system', 'reassign', o.state, updated.state, { reason: 'sla', check: job.check, stationId: updated.stationId, staffId: updated.staffId, previous: { stationId: o.stationId, staffId: o.staffId } });
      await audit(c, 'system', 'work_order_reassign', `work_order:${o.id}`, { from: o.state, to: updated.state, reason: 'sla', stationId: updated.stationId, staffId: updated.staffId });
      await this.sla?.timers.schedule(c, updated);
      return { order: o, escalated: updated };
    });
    if (!out) return false;
    this.push(out.order, 'sla_overdue', 'system');
    if (out.escalated) this.push(out.escalated, 'reassign', 'system');
    return true;
  }

  /**
   * The nearest on-duty staff member who has not had the order yet: an order nobody accepts goes down the list once,
   * not round and round (the supervisor is alerted at each miss).
   */
  private async nextResponder(c: Queryable, o: WorkOrder, now: Date): Promise<{ id: number; stationId: number | null } | undefined> {
    const elder = o.elderId ? await getElder(c, o.elderId) : undefined;
    const duty = await dutyData(c);
    const had = new Set([...(await staffDispatchedTo(c, o.id)), ...(o.staffId !== null ? [o.staffId] : [])]);
    const s = suggestResponders({ elder: { area: elder?.area ?? null, lat: elder?.lat ?? null, lon: elder?.lon ?? null }, ...duty, now, timeZone: this.sla?.timeZone ?? 'Asia/Shanghai', limit: 50 });
    return s.staff.find((x) => !had.has(x.id));
  }

  /**
   * The responder's own steps (an SMS reply, or their page): accept or refuse (back to received for the next
   * dispatch) while it waits for them, arrive once accepted (with their position if the phone gave it), done with a
   * result once there. Only the staff member it is dispatched to. Answers the order, or a reason it was refused.
   */
  async respond(id: number, staffId: number, step: ResponderStep, via: string, input: { result?: string; lat?: number; lon?: number } = {}, now = new Date()): Promise<{ order: WorkOrder } | { refused: 'not_yours' | 'illegal_transition' | 'result_required'; order?: WorkOrder }> {
    const actor = `staff:${staffId}`;
    const out = await tx(this.db, async (c) => {
      const o = await getWorkOrder(c, id, true);
      if (!o || o.staffId !== staffId) return { refused: 'not_yours' as const, order: o };
      const action: WorkOrderAction = step === 'refuse' ? 'reassign' : step;
      if (step === 'refuse' && o.state !== 'dispatched') return { refused: 'illegal_transition' as const, order: o };
      const d = decide(snapshot(o), action, step === 'done' ? { result: input.result } : {}, now);
      if (!d.ok) return { refused: d.code === 'result_required' ? ('result_required' as const) : ('illegal_transition' as const), order: o };
      const updated = await updateWorkOrder(c, o.id, { ...(d.patch as WorkOrderPatch) });
      const detail: Record<string, unknown> = { via };
      if (step === 'refuse') Object.assign(detail, { refused: true, previous: { stationId: o.stationId, staffId: o.staffId } });
      if (step === 'arrive' && input.lat !== undefined && input.lon !== undefined) Object.assign(detail, { lat: input.lat, lon: input.lon });
      if (step === 'done') detail.result = updated.result;
      await addWorkOrderEvent(c, o.id, actor, action, o.state, updated.state, detail);
      await audit(c, actor, `work_order_${step}`, `work_order:${o.id}`, { from: o.state, to: updated.state, via });
      return { order: updated, action };
    });
    if ('refused' in out) return out;
    this.push(out.order, out.action, actor);
    return { order: out.order };
  }

  /** Dispatch suggestions for an order's elder (the nearest on-duty stations and staff). */
  async suggest(id: number, timeZone: string, opts: { skill?: string; limit?: number; now?: Date } = {}): Promise<Suggestions & { orderId: number; elderId: number | null }> {
    const o = await getWorkOrder(this.db, id);
    if (!o) throw new NotFound(`work order ${id}`);
    const elder = o.elderId ? await getElder(this.db, o.elderId) : undefined;
    const duty = await dutyData(this.db);
    const s = suggestResponders({
      elder: { area: elder?.area ?? null, lat: elder?.lat ?? null, lon: elder?.lon ?? null },
      ...duty,
      now: opts.now ?? new Date(),
      timeZone,
      skill: opts.skill,
      limit: opts.limit,
    });
    return { orderId: o.id, elderId: o.elderId, ...s };
  }

  /** The responder named in a dispatch: it must exist and be active; a staff member brings their station along. */
  private async responder(c: Queryable, input: ActInput): Promise<{ stationId: number | null; staffId: number | null }> {
    let stationId = input.stationId ?? null;
    const staffId = input.staffId ?? null;
    if (staffId !== null) {
      const m = await getStaff(c, staffId);
      if (!m) throw invalidField('body/staffId', `人员 ${staffId} 不存在 / no staff member ${staffId}`);
      if (!m.active) throw invalidField('body/staffId', `人员 ${staffId} 已停用 / staff member ${staffId} is not active`);
      if (stationId === null) stationId = m.stationId;
    }
    if (stationId !== null) {
      const s = await getStation(c, stationId);
      if (!s) throw invalidField('body/stationId', `服务站 ${stationId} 不存在 / no station ${stationId}`);
      if (!s.active) throw invalidField('body/stationId', `服务站 ${stationId} 已停用 / station ${stationId} is not active`);
    }
    return { stationId, staffId };
  }

  private async agentOrFail(c: Queryable, userId: number): Promise<void> {
    const u = await getUser(c, userId);
    if (!u || u.disabled || u.role === 'installer' || u.role === 'wallboard') throw invalidField('body/followUpAgentId', `用户 ${userId} 不是可用的坐席 / user ${userId} is not an active agent`);
  }

  private push(order: WorkOrder, action: string, actor: string): void {
    this.bus?.emit('workorder.changed', { order, action, actor });
    this.bus?.emit('ws.push', { to: { roles: ['agent', 'supervisor', 'admin'] }, message: { type: 'work_order', action, order: wire(order) as unknown as WorkOrderBrief } });
  }
}

function alreadyOpen(alarmId: number, orderId: number | null): Conflict {
  const which = orderId === null ? '' : ` #${orderId}`;
  return new Conflict('alarm_has_order', `告警 #${alarmId} 已有未结的紧急工单${which} / alarm ${alarmId} already has an open emergency work order${which}`);
}

function snapshot(o: WorkOrder): OrderSnapshot {
  return { type: o.type as WorkOrderType, state: o.state as WorkOrderState, stationId: o.stationId, staffId: o.staffId, result: o.result, satisfaction: o.satisfaction };
}

/** The timeline row's detail: what the action carried (free text stays here, never in the audit log). */
function eventDetail(action: WorkOrderAction, before: WorkOrder, after: WorkOrder, i: ActInput): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  if (i.note) d.note = i.note;
  if (action === 'dispatch' || action === 'reassign') Object.assign(d, { stationId: after.stationId, staffId: after.staffId, ...(action === 'reassign' ? { previous: { stationId: before.stationId, staffId: before.staffId } } : {}) });
  if (action === 'done') d.result = after.result;
  if (action === 'follow_up') Object.assign(d, { satisfaction: after.satisfaction, ...(after.followUpComment ? { comment: after.followUpComment } : {}) });
  if (action === 'cancel') d.reason = after.cancelReason;
  if (action === 'reply') Object.assign(d, { dueFollowUpAt: after.dueFollowUpAt, followUpAgentId: after.followUpAgentId });
  return d;
}
