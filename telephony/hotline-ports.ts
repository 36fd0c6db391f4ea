/**
 * What the hotline flow (issue 19: hotline numbers, IVR, queue, ACD, overflow, abandon) needs from the gateway,
 * and what it tells it. ports.ts links these in: `TelephonyPorts.hotline` and the ACD methods of
 * `TelephonyPorts.agents`. Every method may be async; a port that throws is logged and the call carries on
 * (an emergency press still queues the caller, a failed pickAgent counts as "nobody ready").
 */
import type { CallerMatch } from './ports.ts';

export type IvrChoice = 'emergency' | 'services';

/** Who is calling a hotline (来电弹屏): an elder, a contact of an elder, or nobody known. */
export interface HotlineCallerMatch {
  /** The caller's own elder file (their phone or a device's SIM), or the elder whose contact is calling. */
  elder?: CallerMatch;
  contact?: { contactId: string; name?: string; relation?: string };
  /** Prompt language for this caller ('zh-CN' default, 'en'). */
  language?: string;
  /** The elder has an open P1/P2 alarm: the caller jumps the queue. */
  priority?: boolean;
  /** Open alarms of the elder (passed through to the screen-pop events). */
  alarmIds?: string[];
}

export interface HotlineCallInfo {
  /** The queue entry id = the caller's channel id = the call record's flowId. */
  entryId: string;
  did: string;
  hotline: string;
  /** Normalised caller number (the raw one when it cannot be normalised). */
  callerNumber: string;
  /** undefined = unknown caller ("new caller" card). */
  match?: HotlineCallerMatch;
  language: string;
  priority: boolean;
  ivrChoice?: IvrChoice;
  arrivedAt: Date;
  /** Issue 19: the call was taken over from a previous run of the hub (restart mid-flow); the IVR choice is not known again. */
  resumed?: boolean;
}

export interface HotlineEmergency extends HotlineCallInfo {
  digit: string;
  at: Date;
}

export interface HotlineAbandon extends HotlineCallInfo {
  /** From entering the queue to the hang-up. */
  waitMs: number;
  /** 1-based position at the hang-up. */
  position: number;
  at: Date;
}

export type OverflowReason = 'max_wait' | 'no_agents';

/** The supervisors' alert (the queue overflowed) and what was done with the caller. */
export interface HotlineOverflow extends HotlineCallInfo {
  reason: OverflowReason;
  to: 'night' | 'voicemail' | 'hangup';
  waitMs: number;
  at: Date;
}

/** A finished voicemail (the caller hung up or the maximum length was reached). */
export interface HotlineVoicemail extends HotlineCallInfo {
  /** The stored recording's name (GET /recordings/stored/{name}/file). */
  recording: string;
  format: string;
  at: Date;
}

export interface HotlinePort {
  /** Matches the caller (number normalised); undefined = unknown caller. */
  matchCaller?(number: string, did: string): Promise<HotlineCallerMatch | undefined>;
  /** The caller pressed the IVR's emergency digit: raise an alarm for their elder (unknown caller: an alarm without one). */
  emergency(e: HotlineEmergency): Promise<void>;
  /** The caller hung up while queued (呼损): put them on the call-back list. */
  abandoned(e: HotlineAbandon): Promise<void>;
  /** The queue overflowed for this caller: alert the supervisors. */
  overflow(e: HotlineOverflow): Promise<void>;
  voicemail?(v: HotlineVoicemail): Promise<void>;
}

/** An agent the ACD may ring. */
export interface AgentPick {
  userId: string;
  extension: string;
  name?: string;
}

/** Why an agent who was rung did not take the call (the gateway sets them 置忙 with this reason). */
export type AgentMissReason = 'no_answer' | 'busy' | 'rejected' | 'failed';

export interface AgentRing {
  userId: string;
  extension: string;
  /** The agent leg's channel id. */
  channelId: string;
  call: HotlineCallInfo;
  at: Date;
}

/** The ACD half of `TelephonyPorts.agents` (optional there, so the ports of the other flows stay valid). */
export interface AcdPort {
  /** The longest-idle ready (置闲) agent not in `exclude` (user ids); undefined = nobody ready. */
  pickAgent?(o: { exclude: string[]; entryId: string; did: string }): Promise<AgentPick | undefined>;
  /** true when any agent is signed in (whatever their state); false sends a waiting caller to overflow at once. */
  anySignedIn?(): Promise<boolean>;
  /** The agent's phone is ringing with a hotline call (振铃). */
  ringing?(r: AgentRing): Promise<void>;
  /** The agent was rung and did not answer within the ring timeout (or refused): set them 置忙. */
  missed?(userId: string, reason: AgentMissReason, r: AgentRing): Promise<void>;
}
