/** Events of the hotline flow (Telephony.on('hotline_*')): the gateway's screen-pop, wallboard and agent states. */
import type { AgentMissReason, AgentRing, HotlineAbandon, HotlineCallInfo, HotlineEmergency, HotlineOverflow, HotlineVoicemail } from '../hotline-ports.ts';
import type { QueueLegSummary } from '../ports.ts';

export interface HotlineQueued {
  call: HotlineCallInfo;
  /** 1-based. */
  position: number;
  at: Date;
}

export interface HotlineAnswered {
  call: HotlineCallInfo;
  userId: string;
  extension: string;
  agentChannelId: string;
  /** The mixing bridge of caller and agent (`<entryId>-br`). */
  bridgeId: string;
  waitMs: number;
  at: Date;
}

export interface HotlineMissed {
  ring: AgentRing;
  reason: AgentMissReason;
  at: Date;
}

export interface HotlineDone {
  call: HotlineCallInfo;
  summary: QueueLegSummary;
}

export interface HotlineEvents {
  /** A hotline call arrived and the caller was matched (before the IVR). */
  hotline_call: HotlineCallInfo;
  /** The IVR's emergency digit (the same object HotlinePort.emergency gets). */
  hotline_emergency: HotlineEmergency;
  /** The caller entered the queue (holding bridge). */
  hotline_queued: HotlineQueued;
  /** The caller's position was announced. */
  hotline_announced: HotlineQueued;
  /** An agent's phone rings with the call (振铃): the screen-pop, while it rings. */
  hotline_ringing: AgentRing;
  /** The ringing agent did not take the call; the next one rings. */
  hotline_missed: HotlineMissed;
  /** The agent answered; caller and agent are bridged. */
  hotline_answered: HotlineAnswered;
  hotline_abandoned: HotlineAbandon;
  hotline_overflow: HotlineOverflow;
  hotline_voicemail: HotlineVoicemail;
  /** The call is over (its call records are written). */
  hotline_done: HotlineDone;
}

export type HotlineEmit = <K extends keyof HotlineEvents>(type: K, e: HotlineEvents[K]) => void;
