/**
 * Typed ARI events (ari.md §2.1) and the decoder the adapter applies to every raw WebSocket frame.
 * A frame whose type is not listed here, or whose required fields are missing, becomes an
 * `UnknownAriEvent`: reported, never thrown (ari-client itself crashes the process on unknown types,
 * ari.md §0.2).
 */

export interface CallerId {
  name: string;
  number: string;
}

export interface ChannelSnapshot {
  id: string;
  name: string;
  /** Down, Rsrvd, OffHook, Dialing, Ring, Ringing, Up, Busy, … as ast_state2str() prints them (ari.md §0.4). */
  state: string;
  caller: CallerId;
  connected: CallerId;
  dialplan: { context: string; exten: string; priority: number | null; app_name?: string; app_data?: string };
  creationtime?: string;
  protocol_id?: string;
  language?: string;
}

export interface BridgeSnapshot {
  id: string;
  bridge_type?: string;
  name?: string;
  channels: string[];
}

export interface PlaybackSnapshot {
  id: string;
  media_uri: string;
  target_uri: string;
  /** queued, playing, paused, continuing, done, failed */
  state: string;
}

interface Base {
  /** Asterisk's local time with a UTC offset without a colon (ari.md §0.8). */
  timestamp?: string;
  application?: string;
  asterisk_id?: string;
}

export interface StasisStartEvent extends Base {
  type: 'StasisStart';
  args: string[];
  channel: ChannelSnapshot;
  replace_channel?: ChannelSnapshot;
}
export interface StasisEndEvent extends Base {
  type: 'StasisEnd';
  channel: ChannelSnapshot;
}
export interface ChannelCreatedEvent extends Base {
  type: 'ChannelCreated';
  channel: ChannelSnapshot;
}
export interface ChannelStateChangeEvent extends Base {
  type: 'ChannelStateChange';
  channel: ChannelSnapshot;
}
export interface ChannelDtmfReceivedEvent extends Base {
  type: 'ChannelDtmfReceived';
  digit: string;
  duration_ms: number;
  channel: ChannelSnapshot;
}
export interface ChannelDestroyedEvent extends Base {
  type: 'ChannelDestroyed';
  /** Q.850 cause: 16 normal, 17 busy, 19 no answer, 21 rejected, 34 congestion … (ari.md §2.1). */
  cause: number;
  cause_txt: string;
  tech_cause?: number;
  channel: ChannelSnapshot;
}
export interface ChannelHangupRequestEvent extends Base {
  type: 'ChannelHangupRequest';
  /** The Q.850 cause when the far end hangs up; 32 with soft=true when ARI hung up (ari.md §2.1 quirk). */
  cause?: number;
  soft?: boolean;
  channel: ChannelSnapshot;
}
export interface DialEvent extends Base {
  type: 'Dial';
  peer: ChannelSnapshot;
  caller?: ChannelSnapshot;
  /** '' (placed), RINGING, PROGRESS, ANSWER, BUSY, NOANSWER, CONGESTION, CHANUNAVAIL, CANCEL … */
  dialstatus: string;
  dialstring?: string;
  forward?: string;
}
export interface PlaybackEvent<T extends 'PlaybackStarted' | 'PlaybackContinuing' | 'PlaybackFinished'> extends Base {
  type: T;
  playback: PlaybackSnapshot;
}
export interface ChannelBridgeEvent<T extends 'ChannelEnteredBridge' | 'ChannelLeftBridge'> extends Base {
  type: T;
  bridge: BridgeSnapshot;
  channel: ChannelSnapshot;
}
export interface BridgeEvent<T extends 'BridgeCreated' | 'BridgeDestroyed'> extends Base {
  type: T;
  bridge: BridgeSnapshot;
}
export interface ApplicationReplacedEvent extends Base {
  type: 'ApplicationReplaced';
}

export type AriEvent =
  | StasisStartEvent
  | StasisEndEvent
  | ChannelCreatedEvent
  | ChannelStateChangeEvent
  | ChannelDtmfReceivedEvent
  | ChannelDestroyedEvent
  | ChannelHangupRequestEvent
  | DialEvent
  | PlaybackEvent<'PlaybackStarted'>
  | PlaybackEvent<'PlaybackContinuing'>
  | PlaybackEvent<'PlaybackFinished'>
  | ChannelBridgeEvent<'ChannelEnteredBridge'>
  | ChannelBridgeEvent<'ChannelLeftBridge'>
  | BridgeEvent<'BridgeCreated'>
  | BridgeEvent<'BridgeDestroyed'>
  | ApplicationReplacedEvent;

export type AriEventType = AriEvent['type'];
export type AriEventOf<T extends AriEventType> = Extract<AriEvent, { type: T }>;

/** A frame the adapter could not decode: an event type it does not know, bad JSON, or missing fields. */
export interface UnknownAriEvent {
  type: string;
  reason: string;
  raw: unknown;
}

// ---------------------------------------------------------------- decoding

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);

class Bad extends Error {}

function callerId(v: unknown): CallerId {
  return isObj(v) ? { name: str(v.name), number: str(v.number) } : { name: '', number: '' };
}

function channel(v: unknown, field: string): ChannelSnapshot {
  if (!isObj(v) || typeof v.id !== 'string' || v.id === '') throw new Bad(`${field}: missing channel id`);
  const dp = isObj(v.dialplan) ? v.dialplan : {};
  const out: ChannelSnapshot = {
    id: v.id,
    name: str(v.name),
    state: str(v.state, 'Unknown'),
    caller: callerId(v.caller),
    connected: callerId(v.connected),
    dialplan: {
      context: str(dp.context),
      exten: str(dp.exten),
      priority: typeof dp.priority === 'number' ? dp.priority : null,
      app_name: str(dp.app_name),
      app_data: str(dp.app_data),
    },
  };
  if (typeof v.creationtime === 'string') out.creationtime = v.creationtime;
  if (typeof v.protocol_id === 'string') out.protocol_id = v.protocol_id;
  if (typeof v.language === 'string') out.language = v.language;
  return out;
}

function bridge(v: unknown): BridgeSnapshot {
  if (!isObj(v) || typeof v.id !== 'string') throw new Bad('bridge: missing id');
  return {
    id: v.id,
    bridge_type: str(v.bridge_type),
    name: str(v.name),
    channels: Array.isArray(v.channels) ? v.channels.filter((c): c is string => typeof c === 'string') : [],
  };
}

function playback(v: unknown): PlaybackSnapshot {
  if (!isObj(v) || typeof v.id !== 'string') throw new Bad('playback: missing id');
  return { id: v.id, media_uri: str(v.media_uri), target_uri: str(v.target_uri), state: str(v.state) };
}

function num(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw new Bad(`${field}: not a number`);
}

const DECODERS: { [K in AriEventType]: (e: Obj, base: Base) => AriEventOf<K> } = {
  StasisStart: (e, b) => {
    const out: StasisStartEvent = {
      ...b,
      type: 'StasisStart',
      args: Array.isArray(e.args) ? e.args.map((a) => String(a)) : [],
      channel: channel(e.channel, 'channel'),
    };
    if (e.replace_channel !== undefined) out.replace_channel = channel(e.replace_channel, 'replace_channel');
    return out;
  },
  StasisEnd: (e, b) => ({ ...b, type: 'StasisEnd', channel: channel(e.channel, 'channel') }),
  ChannelCreated: (e, b) => ({ ...b, type: 'ChannelCreated', channel: channel(e.channel, 'channel') }),
  ChannelStateChange: (e, b) => ({ ...b, type: 'ChannelStateChange', channel: channel(e.channel, 'channel') }),
  ChannelDtmfReceived: (e, b) => {
    if (typeof e.digit !== 'string') throw new Bad('digit missing');
    return { ...b, type: 'ChannelDtmfReceived', digit: e.digit, duration_ms: typeof e.duration_ms === 'number' ? e.duration_ms : 0, channel: channel(e.channel, 'channel') };
  },
  ChannelDestroyed: (e, b) => {
    const out: ChannelDestroyedEvent = { ...b, type: 'ChannelDestroyed', cause: num(e.cause, 'cause'), cause_txt: str(e.cause_txt), channel: channel(e.channel, 'channel') };
    if (typeof e.tech_cause === 'number') out.tech_cause = e.tech_cause;
    return out;
  },
  ChannelHangupRequest: (e, b) => {
    const out: ChannelHangupRequestEvent = { ...b, type: 'ChannelHangupRequest', channel: channel(e.channel, 'channel') };
    if (typeof e.cause === 'number') out.cause = e.cause;
    if (typeof e.soft === 'boolean') out.soft = e.soft;
    return out;
  },
  Dial: (e, b) => {
    const out: DialEvent = { ...b, type: 'Dial', peer: channel(e.peer, 'peer'), dialstatus: str(e.dialstatus) };
    if (e.caller !== undefined) out.caller = channel(e.caller, 'caller');
    if (typeof e.dialstring === 'string') out.dialstring = e.dialstring;
    if (typeof e.forward === 'string') out.forward = e.forward;
    return out;
  },
  PlaybackStarted: (e, b) => ({ ...b, type: 'PlaybackStarted', playback: playback(e.playback) }),
  PlaybackContinuing: (e, b) => ({ ...b, type: 'PlaybackContinuing', playback: playback(e.playback) }),
  PlaybackFinished: (e, b) => ({ ...b, type: 'PlaybackFinished', playback: playback(e.playback) }),
  ChannelEnteredBridge: (e, b) => ({ ...b, type: 'ChannelEnteredBridge', bridge: bridge(e.bridge), channel: channel(e.channel, 'channel') }),
  ChannelLeftBridge: (e, b) => ({ ...b, type: 'ChannelLeftBridge', bridge: bridge(e.bridge), channel: channel(e.channel, 'channel') }),
  BridgeCreated: (e, b) => ({ ...b, type: 'BridgeCreated', bridge: bridge(e.bridge) }),
  BridgeDestroyed: (e, b) => ({ ...b, type: 'BridgeDestroyed', bridge: bridge(e.bridge) }),
  ApplicationReplaced: (_e, b) => ({ ...b, type: 'ApplicationReplaced' }),
};

/** The `reason` of a frame whose type the adapter does not decode (as opposed to a known type with fields missing). */
export const UNKNOWN_TYPE_REASON = 'event type not known to the adapter';

export type Decoded = { ok: true; event: AriEvent } | { ok: false; unknown: UnknownAriEvent };

/** REST results (ari-client resource instances or plain JSON) as snapshots; throw on a missing id. */
export const parseChannel = (v: unknown): ChannelSnapshot => channel(v, 'channel');
export const parseBridge = (v: unknown): BridgeSnapshot => bridge(v);
export const parsePlayback = (v: unknown): PlaybackSnapshot => playback(v);

/** Decodes one WebSocket text frame. Never throws. */
export function decodeEvent(frame: unknown): Decoded {
  let raw: unknown = frame;
  try {
    if (Buffer.isBuffer(frame)) raw = JSON.parse(frame.toString('utf8'));
    else if (typeof frame === 'string') raw = JSON.parse(frame);
  } catch {
    return { ok: false, unknown: { type: '', reason: 'invalid JSON', raw: String(frame).slice(0, 500) } };
  }
  if (!isObj(raw) || typeof raw.type !== 'string') return { ok: false, unknown: { type: '', reason: 'no event type', raw } };
  const type = raw.type;
  if (!Object.prototype.hasOwnProperty.call(DECODERS, type)) return { ok: false, unknown: { type, reason: UNKNOWN_TYPE_REASON, raw } };
  const base: Base = {};
  if (typeof raw.timestamp === 'string') base.timestamp = raw.timestamp;
  if (typeof raw.application === 'string') base.application = raw.application;
  if (typeof raw.asterisk_id === 'string') base.asterisk_id = raw.asterisk_id;
  try {
    const event = (DECODERS[type as AriEventType] as (e: Obj, b: Base) => AriEvent)(raw, base);
    return { ok: true, event };
  } catch (err) {
    return { ok: false, unknown: { type, reason: err instanceof Bad ? err.message : String(err), raw } };
  }
}

/** The channel ids an event concerns: channel, Dial peer/caller, replace_channel, a playback's `channel:` target. */
export function channelIdsOf(e: AriEvent): string[] {
  switch (e.type) {
    case 'Dial':
      return e.caller ? [e.peer.id, e.caller.id] : [e.peer.id];
    case 'PlaybackStarted':
    case 'PlaybackContinuing':
    case 'PlaybackFinished':
      return e.playback.target_uri.startsWith('channel:') ? [e.playback.target_uri.slice('channel:'.length)] : [];
    case 'BridgeCreated':
    case 'BridgeDestroyed':
    case 'ApplicationReplaced':
      return [];
    case 'StasisStart':
      return e.replace_channel ? [e.channel.id, e.replace_channel.id] : [e.channel.id];
    default:
      return [e.channel.id];
  }
}

/** Q.850 cause text for the codes the hub classifies (ari.md §2.1), for records when Asterisk gives none. */
export const CAUSE_TEXT: Readonly<Record<number, string>> = {
  1: 'Unallocated (unassigned) number',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  20: 'Subscriber absent',
  21: 'Call Rejected',
  26: 'Answered elsewhere',
  27: 'Destination out of order',
  28: 'Invalid number format',
  31: 'Normal, unspecified',
  34: 'Circuit/channel congestion',
  38: 'Network out of order',
  41: 'Temporary failure',
  42: 'Switching equipment congestion',
  44: 'Requested channel not available',
  58: 'Bearer capability not available',
  127: 'Interworking, unspecified',
};
