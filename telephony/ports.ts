/**
 * The ports telephony/ needs from the rest of the hub. gateway/ implements them (PostgreSQL, the alarm engine,
 * agent states); tests use in-memory versions. telephony/ imports nothing from gateway/.
 *
 * Every method may be async; a port that throws is logged and the call flow carries on, except
 * `CallLog.claim` and `CallLog.create`: if they fail nothing is dialled.
 */

import type { AcdPort, HotlinePort } from './hotline-ports.ts';

export type * from './hotline-ports.ts';

export type CallDirection = 'outbound' | 'inbound';
export type CallParty = 'elder' | 'contact' | 'agent' | 'unknown';

/**
 * How a call leg ended.
 *  answered          answered, then hung up by either side (talk time in `talkMs`)
 *  accepted_by_dtmf  a cascade contact answered and pressed the accept digit
 *  not_accepted      a cascade contact answered but did not press the accept digit (timeout, other digits, hung up)
 *  busy              cause 17
 *  no_answer         cause 18/19 (ring timeout, ours or Asterisk's), or the far end gave up while ringing
 *  rejected          cause 21
 *  congestion        cause 34/42/44 (network busy)
 *  unreachable       cause 1/3/20/27/28 (bad or unreachable number)
 *  failed            Asterisk refused the originate (e.g. 500 Allocation failed), cause 38/41, or any other cause
 *  cancelled         we hung up before it was answered (hangup(callId), the other leg went away, cascade stopped)
 *  abandoned         inbound: the caller hung up before we answered (the normal end of a one-key-box call)
 *  lost              telephony went down and the channel no longer exists when it came back
 */
export type CallOutcome =
  | 'answered'
  | 'accepted_by_dtmf'
  | 'not_accepted'
  | 'busy'
  | 'no_answer'
  | 'rejected'
  | 'congestion'
  | 'unreachable'
  | 'failed'
  | 'cancelled'
  | 'abandoned'
  | 'lost';

/** One call leg = one ARI channel = one row in `calls`. */
export interface CallRecord {
  /** The ARI channel id: the leg's id everywhere in telephony/ (deterministic from idempotencyKey for outbound legs). */
  channelId: string;
  /** UNIQUE in `calls`. Outbound: `<flow key>#elder`, `#agent`, `#target`, `#r<round>c<index>`; inbound: `inbound:<channelId>`. */
  idempotencyKey: string;
  /** The flow the leg belongs to (the `callId` returned by callback/clickToCall/cascade; inbound: the channel id). */
  flowId: string;
  flow: 'callback' | 'click_to_call' | 'cascade' | 'inbound' | 'hotline' | 'welfare';
  direction: CallDirection;
  party: CallParty;
  /** Normalised (normalisePhone) when possible; for agents the extension. */
  number: string;
  alarmId?: string;
  agentId?: string;
  elderId?: string;
  contactId?: string;
  /** Outbound: the dialled endpoint (`PJSIP/13800138000@trunk`). */
  endpoint?: string;
  /** Inbound: the dialled DID and which line it is. */
  did?: string;
  line?: 'red' | 'green' | 'other';
  /** When we sent the originate / when the inbound call reached the app. */
  createdAt: Date;
}

export interface CallEnd {
  at: Date;
  /** Q.850 cause from ChannelDestroyed; null when no channel existed or it was lost. */
  cause: number | null;
  causeText: string;
  outcome: CallOutcome;
  /** createdAt → at */
  durationMs: number;
  /** answeredAt → at; 0 when never answered */
  talkMs: number;
  /** Extra detail for failures (the ARI error, "telephony down", …). */
  detail?: string;
  /** Hotline caller legs (flow 'hotline'): the queue part of the call (hotline-ports.ts). */
  queue?: QueueLegSummary;
}

/** The queue part of a hotline caller's leg, on its CallLog.ended. */
export interface QueueLegSummary {
  /** The queue entry id (= the caller's channel id). */
  entryId: string;
  hotline: string;
  /** answered: bridged with an agent; abandoned: hung up while queued; night / voicemail: overflow; ivr: hung up in the IVR. */
  result: 'answered' | 'abandoned' | 'night' | 'voicemail' | 'ivr' | 'failed';
  /** Entering the queue → bridged with an agent, overflow, or hang-up. */
  waitMs: number;
  priority: boolean;
  ivrChoice?: 'emergency' | 'services';
  agentId?: string;
  /** Agents rung and not answering, in order. */
  missedAgents?: string[];
  /** Voicemail: the stored recording's name. */
  voicemail?: string;
  /** Issue 19: the call outlived a restart of the hub and was taken over from Asterisk (restart mid-flow). */
  resumed?: boolean;
}

export interface CallLog {
  /**
   * Atomically claims an idempotency key; false if it was ever claimed before (then nothing is dialled).
   * The gateway: INSERT … ON CONFLICT (idempotency_key) DO NOTHING on `calls.idempotency_key UNIQUE`.
   */
  claim(idempotencyKey: string): Promise<boolean>;
  /** The full record of a claimed key, written before the originate is sent. */
  create(record: CallRecord): Promise<void>;
  /** Outbound: the far end answered (StasisStart). Inbound: we answered. */
  answered(channelId: string, at: Date): Promise<void>;
  ended(channelId: string, end: CallEnd): Promise<void>;
  /**
   * Issue 19 (a restart mid-flow): the channel `channelId` outlived the previous run of the hub and is adopted by
   * this one. Make its record live again (the gateway ended it as an orphan at start) and return it, with
   * `answeredAt` when it was answered; undefined when there is no record of it. The leg's later
   * answered/ended go to the same record. Without this method telephony writes a fresh record instead.
   */
  reopen?(channelId: string): Promise<(CallRecord & { answeredAt?: Date }) | undefined>;
  /** Issue 19: an in-call action (hold, transfer, conference, mute, DTMF, supervisor…) for the call's timeline and audit_log. */
  action?(a: CallAction): Promise<void>;
  /** Issue 19: the call's bridge recording was stored (link it to the call record). */
  recorded?(r: CallRecording): Promise<void>;
}

export type CallActionKind =
  | 'connected'
  | 'hold'
  | 'unhold'
  | 'mute'
  | 'unmute'
  | 'dtmf'
  | 'transfer_blind'
  | 'consult'
  | 'transfer_complete'
  | 'transfer_cancel'
  | 'transfer_failed'
  | 'conference_add'
  | 'party_joined'
  | 'party_left'
  | 'recording_started'
  | 'recording_stopped'
  | 'listen'
  | 'whisper'
  | 'barge'
  | 'supervisor_left'
  | 'ended';

/** One action on a bridged call (telephony event `call_action`, CallLog.action). */
export interface CallAction {
  /** The call (flow id). */
  callId: string;
  action: CallActionKind;
  /** Who asked: the user id given to the control function; 'system' for what telephony did by itself. */
  by: string;
  at: Date;
  /** The leg concerned (held, muted, added, left…). */
  channelId?: string;
  /** Action-specific: { direction }, { digits }, { number | extension }, { recording }, { reason }… */
  detail?: Record<string, unknown>;
}

/** A stored recording of a call (ARI stored recording `name`, fetched through Telephony.recordings). */
export interface CallRecording {
  callId: string;
  name: string;
  format: string;
  startedAt: Date;
  endedAt: Date;
  /** Seconds, as Asterisk reports it (RecordingFinished.duration); undefined if it reported none. */
  durationS?: number;
  /** 'done', or 'failed' (then the file may be missing). */
  state: string;
}

export interface CallerMatch {
  elderId: string;
  name?: string;
  deviceId?: string;
}

export interface CallerDirectory {
  /** `number` is normalised with normalisePhone (e.g. `02112345678`, `13800138000`); undefined = unknown caller. */
  lookupCaller(number: string): Promise<CallerMatch | undefined>;
}

export type OneKeyKind = 'one_key_emergency' | 'one_key_service';

/** A landline one-key caller's press (protocols.md §6): red DID → one_key_emergency, green DID → one_key_service. */
export interface OneKeyEvent {
  /** Stable for every press folded into this event. */
  eventId: string;
  kind: OneKeyKind;
  line: 'red' | 'green';
  did: string;
  /** Normalised caller number (the raw one when it cannot be normalised). */
  callerNumber: string;
  rawCallerNumber: string;
  /** undefined = "unknown caller" (still an alarm). */
  elder?: CallerMatch;
  /** Presses folded into this event so far (1 for `pressed`). */
  count: number;
  firstAt: Date;
  lastAt: Date;
  /** The inbound channels, one per press. */
  channelIds: string[];
}

export interface OneKeyPort {
  /** The first press of a window: raise (or let de-duplication fold) the alarm. */
  pressed(e: OneKeyEvent): Promise<void>;
  /** A further press of the same event within the window: bump the count. Called in order, after `pressed`. */
  repeated(e: OneKeyEvent): Promise<void>;
}

export interface CascadeAcceptance {
  cascadeId: string;
  alarmId: string;
  elderId?: string;
  contactId?: string;
  contactIndex: number;
  round: number;
  number: string;
  /** The accepting leg (its CallLog outcome is accepted_by_dtmf). */
  channelId: string;
  digit: string;
  at: Date;
}

export interface ContactResponsePort {
  /** A contact pressed the accept digit: record that they take responsibility (the cascade stops). */
  accepted(a: CascadeAcceptance): Promise<void>;
}

export interface CascadeAttempt {
  round: number;
  contactIndex: number;
  contactId?: string;
  number: string;
  /** Absent when the number was invalid or the attempt was a duplicate (nothing dialled). */
  channelId?: string;
  outcome: CallOutcome | 'invalid_number' | 'duplicate';
}

export type SupervisorAlert = {
  reason: 'cascade_exhausted';
  at: Date;
  alarmId: string;
  elderId?: string;
  cascadeId: string;
  rounds: number;
  attempts: CascadeAttempt[];
};

export interface SupervisorPort {
  alert(a: SupervisorAlert): Promise<void>;
}

export type AgentPhoneState = 'ringing' | 'on_call' | 'idle';

export interface AgentPhoneChange {
  /** Known for legs the hub placed to an agent (callback agent leg, click-to-call). */
  agentId?: string;
  extension: string;
  state: AgentPhoneState;
  previous: AgentPhoneState;
  /** The channel whose event caused the change. */
  channelId: string;
  at: Date;
}

export interface AgentPhonePort extends AcdPort {
  /** The agent's phone changed state; the gateway derives ready / not ready / on call / wrap-up. */
  phoneStateChanged(change: AgentPhoneChange): Promise<void>;
}

export interface TelephonyPorts {
  calls: CallLog;
  callers: CallerDirectory;
  oneKey: OneKeyPort;
  contacts: ContactResponsePort;
  supervisor: SupervisorPort;
  agents: AgentPhonePort;
  /** Hotline numbers (TelephonyOptions.hotlines): caller match, emergency press, abandon, overflow, voicemail. Without it the calls are still queued, but nothing is raised. */
  hotline?: HotlinePort;
}
