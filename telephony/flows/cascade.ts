/**
 * The emergency-contact cascade (ari.md §3.3): contacts are called in order; an answered contact hears a prompt
 * and presses the accept digit (default 1) to take responsibility. Acceptance is recorded through
 * ContactResponsePort and stops the cascade. Busy, no answer, a ring timeout, no digit in time, or a hang-up
 * moves on to the next contact. The list is cycled `rounds` times (default 2); then the supervisor is
 * alerted through SupervisorPort. hangup(callId) stops the cascade (no alert).
 */
import { normalisePhone } from '../phone.ts';
import type { Leg } from '../calls.ts';
import { errText } from '../log.ts';
import type { CallOutcome, CascadeAcceptance, CascadeAttempt, SupervisorAlert } from '../ports.ts';
import { flowIdFor, scaledMs, teardown, type ActiveFlow, type FlowContext, type Ticket } from './context.ts';
import { prompt } from './prompts.ts';
import { dialOut, startFlow } from './skeleton.ts';

export interface CascadeContact {
  number: string;
  contactId?: string;
  name?: string;
}

export interface CascadeRequest {
  idempotencyKey: string;
  alarmId: string;
  elderId?: string;
  /** In calling order. */
  contacts: CascadeContact[];
  /** Times round the list; default cfg.rounds (2). */
  rounds?: number;
  ringTimeoutS?: number;
  /** Default cfg.acceptDigit ('1'). */
  acceptDigit?: string;
  /** Seconds to wait for the digit after the prompt has finished; default cfg.dtmfTimeoutS. */
  dtmfTimeoutS?: number;
  prompt?: string[];
  acceptedPrompt?: string[];
}

export type CascadeStatus = 'accepted' | 'exhausted' | 'cancelled' | 'duplicate';

export interface CascadeResult {
  callId: string;
  status: CascadeStatus;
  acceptedBy?: { round: number; contactIndex: number; contactId?: string; number: string; channelId: string };
  attempts: CascadeAttempt[];
}

interface Slot {
  round: number;
  index: number;
  contact: CascadeContact;
  number: string | undefined;
}

export async function startCascade(ctx: FlowContext, req: CascadeRequest): Promise<Ticket<CascadeResult>> {
  const callId = flowIdFor(req.idempotencyKey);
  const rounds = Math.max(1, Math.floor(req.rounds ?? ctx.cfg.rounds));
  const slots: Slot[] = [];
  for (let round = 1; round <= rounds; round++) {
    req.contacts.forEach((contact, index) => {
      const n = normalisePhone(contact.number, ctx.cfg.areaCode);
      slots.push({ round, index, contact, number: n.ok ? n.number : undefined });
    });
  }
  // The first dialable slot is placed before answering, so a repeated request is reported as a duplicate.
  const attempts: CascadeAttempt[] = [];
  return startFlow<{ next: number; first: { slot: Slot; leg: Leg } | undefined }, CascadeResult>(ctx, callId, 'cascade', {
    duplicate: () => ({ callId, status: 'duplicate', attempts: [] }),
    first: async (flow) => {
      let next = 0;
      while (next < slots.length) {
        const slot = slots[next++] as Slot;
        if (slot.number === undefined) {
          attempts.push(attempt(slot, 'invalid_number'));
          continue;
        }
        const leg = await place(ctx, flow, req, slot);
        return leg && { next, first: { slot, leg } };
      }
      return { next, first: undefined };
    },
    run: (flow, { next, first }) => run(ctx, flow, req, slots, next, first, attempts, rounds),
    failed: (_err, _legs, flow) => ({ callId, status: flow.cancelled ? 'cancelled' : 'exhausted', attempts }),
  });
}

function attempt(slot: Slot, outcome: CascadeAttempt['outcome'], channelId?: string): CascadeAttempt {
  const a: CascadeAttempt = { round: slot.round, contactIndex: slot.index, number: slot.number ?? slot.contact.number, outcome };
  if (slot.contact.contactId) a.contactId = slot.contact.contactId;
  if (channelId) a.channelId = channelId;
  return a;
}

function place(ctx: FlowContext, flow: ActiveFlow, req: CascadeRequest, slot: Slot): Promise<Leg | undefined> {
  const { contactId } = slot.contact;
  return dialOut(ctx, flow, { idempotencyKey: `${req.idempotencyKey}#r${slot.round}c${slot.index}`, party: 'contact', number: slot.number as string, timeoutS: req.ringTimeoutS, alarmId: req.alarmId, elderId: req.elderId, contactId });
}

async function run(
  ctx: FlowContext,
  flow: ActiveFlow,
  req: CascadeRequest,
  slots: Slot[],
  from: number,
  first: { slot: Slot; leg: Leg } | undefined,
  attempts: CascadeAttempt[],
  rounds: number,
): Promise<CascadeResult> {
  const callId = flow.id;
  let pending = first;
  let i = from;
  for (;;) {
    if (flow.cancelled) break;
    let current = pending;
    pending = undefined;
    if (!current) {
      const slot = slots[i++];
      if (!slot) break;
      if (slot.number === undefined) {
        attempts.push(attempt(slot, 'invalid_number'));
        continue;
      }
      if (ctx.adapter.health().state !== 'up') await ctx.adapter.waitUntilUp(scaledMs(ctx, ctx.cfg.downWaitS));
      try {
        const leg = await place(ctx, flow, req, slot);
        if (!leg) {
          attempts.push(attempt(slot, 'duplicate'));
          continue;
        }
        current = { slot, leg };
      } catch (err) {
        ctx.log.error({ err: errText(err), callId }, 'telephony: cascade attempt not placed');
        attempts.push(attempt(slot, 'failed'));
        continue;
      }
    }
    const outcome = await tryContact(ctx, flow, req, current.slot, current.leg);
    attempts.push(attempt(current.slot, outcome, current.leg.channelId));
    if (outcome === 'accepted_by_dtmf') {
      await teardown(ctx, flow);
      const by: NonNullable<CascadeResult['acceptedBy']> = {
        round: current.slot.round,
        contactIndex: current.slot.index,
        number: current.slot.number as string,
        channelId: current.leg.channelId,
      };
      if (current.slot.contact.contactId) by.contactId = current.slot.contact.contactId;
      return { callId, status: 'accepted', acceptedBy: by, attempts };
    }
  }
  await teardown(ctx, flow);
  if (flow.cancelled) return { callId, status: 'cancelled', attempts };
  const alert: SupervisorAlert = { reason: 'cascade_exhausted', at: new Date(), alarmId: req.alarmId, cascadeId: callId, rounds, attempts: [...attempts] };
  if (req.elderId) alert.elderId = req.elderId;
  try {
    await ctx.ports.supervisor.alert(alert);
  } catch (err) {
    ctx.log.error({ err: errText(err), callId }, 'telephony: supervisor.alert failed');
  }
  return { callId, status: 'exhausted', attempts };
}

/** One contact: ring; on answer play the prompt and wait for the accept digit. */
async function tryContact(ctx: FlowContext, flow: ActiveFlow, req: CascadeRequest, slot: Slot, leg: Leg): Promise<CallOutcome> {
  if (!(await leg.answered)) return (await leg.ended).outcome;
  leg.setOutcome('not_accepted'); // until the digit comes: a hang-up or a timeout from here on is "not accepted"
  const digit = req.acceptDigit ?? ctx.cfg.acceptDigit;
  let timer: NodeJS.Timeout | undefined;
  let settle!: (v: { accepted: boolean; digit?: string }) => void;
  const decision = new Promise<{ accepted: boolean; digit?: string }>((r) => (settle = r));
  const offDtmf = leg.on('ChannelDtmfReceived', (e) => e.digit === digit && settle({ accepted: true, digit: e.digit }));
  void leg.ended.then(() => settle({ accepted: false }));
  const pressPrompt = prompt(ctx, leg, 'cascadePrompt', req.prompt);
  let decided = false;
  void pressPrompt.finished.then(() => {
    if (!decided) timer = setTimeout(() => settle({ accepted: false }), scaledMs(ctx, req.dtmfTimeoutS ?? ctx.cfg.dtmfTimeoutS));
  });
  const d = await decision;
  decided = true;
  offDtmf();
  if (timer) clearTimeout(timer);

  if (!d.accepted || flow.cancelled) {
    await leg.hangup('normal');
    return (await leg.ended).outcome;
  }
  leg.setOutcome('accepted_by_dtmf');
  await pressPrompt.stop();
  const a: CascadeAcceptance = {
    cascadeId: flow.id,
    alarmId: req.alarmId,
    contactIndex: slot.index,
    round: slot.round,
    number: slot.number as string,
    channelId: leg.channelId,
    digit: d.digit ?? digit,
    at: new Date(),
  };
  if (req.elderId) a.elderId = req.elderId;
  if (slot.contact.contactId) a.contactId = slot.contact.contactId;
  try {
    await ctx.ports.contacts.accepted(a);
  } catch (err) {
    ctx.log.error({ err: errText(err), callId: flow.id }, 'telephony: contacts.accepted failed');
  }
  if (leg.live) await prompt(ctx, leg, 'cascadeAccepted', req.acceptedPrompt).finished;
  return 'accepted_by_dtmf';
}
