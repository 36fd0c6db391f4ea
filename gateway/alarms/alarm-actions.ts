/**
 * What people do to alarms: accept, release, note, resolve, follow up, close. Each is one transaction under
 * the alarm's row lock (so two agents can never own one alarm: the loser gets 409), a timeline row, and an
 * audit entry.
 */
import { OUTCOME_CODES, transition, type AlarmAction, type AlarmState, type OutcomeCode } from '../../alarms/index.js';
import type { AgentStates } from './agent-states.js';
import type { Bus } from '../bus.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../errors.js';
import { tx, type Db } from '../store/db.js';
import { addEvent, getAlarm, updateAlarm, type Alarm, type AlarmPatch } from '../store/alarms.js';
import type { AgentStatus } from '../store/agents.js';
import { hasLiveCall } from '../store/calls.js';
import { audit } from '../store/audit.js';
import type { User } from '../store/users.js';

export const USER_ACTIONS = ['accept', 'release', 'note', 'resolve', 'follow_up', 'close'] as const;
export type UserAction = (typeof USER_ACTIONS)[number];

export interface ActionBody {
  note?: string;
  outcome?: string;
  satisfaction?: number;
}

const isLead = (u: User) => u.role === 'supervisor' || u.role === 'admin';

export class AlarmActions {
  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly agents?: AgentStates,
  ) {}

  async act(alarmId: number, action: UserAction, user: User, body: ActionBody = {}): Promise<Alarm> {
    const actor = `user:${user.id}`;
    const agentChanges: AgentStatus[] = [];
    const result = await tx(this.db, async (c) => {
      const a = await getAlarm(c, alarmId, true);
      if (!a) throw new NotFound(`alarm ${alarmId}`);
      const owned = a.ownerId === user.id;
      if (['release', 'resolve'].includes(action) && a.ownerId !== null && !owned && !isLead(user)) {
        throw new Forbidden('not_owner', `alarm ${alarmId} belongs to another agent`);
      }
      if (action === 'accept' && a.ownerId !== null) {
        throw new Conflict('already_accepted', `alarm ${alarmId} was already accepted by user ${a.ownerId}`);
      }
      let state = a.state as AlarmState;
      const steps: AlarmAction[] = [];
      // Implicit steps the lifecycle requires: a raised alarm is presented by being opened; resolving starts the work.
      if (action === 'accept' && state === 'raised') steps.push('present');
      if (action === 'resolve' && state === 'accepted') steps.push('start');
      steps.push(action);
      // Resolving or closing while a call of this alarm is still live is allowed (the dashboard asks first), and said.
      const duringCall = (action === 'resolve' || action === 'close') && (await hasLiveCall(c, a.id));
      const patch: AlarmPatch = {};
      const followUpRequired = a.outcome ? OUTCOME_CODES[a.outcome as OutcomeCode]?.followUp ?? true : true;
      for (const step of steps) {
        const t = transition(state, step, { alarmClass: a.alarmClass, outcome: body.outcome, note: body.note, followUpRequired });
        if (!t.ok) {
          if (t.code === 'illegal_transition') throw new Conflict(t.code, t.message);
          throw new Invalid(t.code, t.message, [{ field: 'body/outcome', message: t.message }]);
        }
        await addEvent(c, a.id, actor, step, state, t.next, { ...(body.note && step === action ? { note: body.note } : {}), ...(step === 'resolve' ? { outcome: body.outcome } : {}), ...(step === 'follow_up' && body.satisfaction ? { satisfaction: body.satisfaction } : {}), ...(duringCall && step === action ? { duringCall: true } : {}) });
        state = t.next;
      }
      patch.state = state;
      if (action === 'accept') Object.assign(patch, { ownerId: user.id, acceptedAt: new Date(), nextStepAt: null });
      if (action === 'release') Object.assign(patch, { ownerId: null, escStartedAt: new Date(), escDone: [], nextStepAt: new Date() });
      if (action === 'resolve') Object.assign(patch, { outcome: body.outcome, resolvedAt: new Date() });
      if (action === 'close') patch.closedAt = new Date();
      const updated = await updateAlarm(c, a.id, patch);
      await audit(c, actor, `alarm_${action}`, `alarm:${a.id}`, { from: a.state, to: state, ...(body.outcome ? { outcome: body.outcome } : {}), ...(duringCall ? { duringCall: true } : {}) });
      // The agent's state follows the alarms they hold (the owner's, when a supervisor resolves for them).
      if (this.agents && action === 'accept') agentChanges.push(...[await this.agents.accepted(c, user.id)].filter((x) => x !== undefined));
      if (this.agents && (action === 'resolve' || action === 'release') && a.ownerId !== null) {
        agentChanges.push(...[await this.agents.putDown(c, a.ownerId)].filter((x) => x !== undefined));
      }
      return updated;
    });
    this.bus.emit('alarm.changed', { alarm: result, action, actor });
    for (const s of agentChanges) this.agents?.emit(s);
    return result;
  }

  /**
   * A supervisor gives an open alarm to another agent (改派, issue 19). An accepted one changes owner: the old
   * owner's state follows as after a release, the new owner's as after an accept. One nobody accepted yet is
   * presented to them (a screen-pop), and they accept it as usual.
   */
  async reassign(alarmId: number, toUserId: number, by: User, reason?: string): Promise<Alarm> {
    const actor = `user:${by.id}`;
    const agentChanges: AgentStatus[] = [];
    const result = await tx(this.db, async (c) => {
      const a = await getAlarm(c, alarmId, true);
      if (!a) throw new NotFound(`alarm ${alarmId}`);
      if (!['raised', 'presented', 'accepted', 'in_progress'].includes(a.state)) throw new Conflict('illegal_transition', `alarm ${alarmId} is ${a.state}: only an open alarm can be reassigned`);
      if (a.ownerId === toUserId) throw new Conflict('already_owner', `alarm ${alarmId} already belongs to user ${toUserId}`);
      let patch: AlarmPatch;
      if (a.ownerId !== null) patch = { ownerId: toUserId, acceptedAt: new Date() };
      else {
        const t = a.state === 'raised' ? transition('raised', 'present', { alarmClass: a.alarmClass }) : undefined;
        patch = { state: t?.ok ? t.next : (a.state as AlarmState), presentedTo: [...new Set([...a.presentedTo, toUserId])] };
      }
      const updated = await updateAlarm(c, a.id, patch);
      await addEvent(c, a.id, actor, 'reassign', a.state, updated.state, { from: a.ownerId, to: toUserId, ...(reason ? { note: reason } : {}) });
      await audit(c, actor, 'alarm_reassign', `alarm:${a.id}`, { from: a.ownerId, to: toUserId, ...(reason ? { reason } : {}) });
      if (this.agents && a.ownerId !== null) {
        agentChanges.push(...[await this.agents.accepted(c, toUserId), await this.agents.putDown(c, a.ownerId)].filter((x) => x !== undefined));
      }
      return updated;
    });
    this.bus.emit('alarm.changed', { alarm: result, action: 'reassign', actor });
    if (result.ownerId === null) this.bus.emit('alarm.presented', { alarm: result, userIds: [toUserId], step: 'reassign' });
    for (const s of agentChanges) this.agents?.emit(s);
    return result;
  }
}
