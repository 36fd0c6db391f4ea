/**
 * Shared shapes of the simulated Asterisk (wire JSON per ari.md §1.4, §2.1, plus the simulator's own records).
 * The simulator imports nothing from the server folders.
 */

export interface CallerIdJson {
  name: string;
  number: string;
}

export interface DialplanJson {
  context: string;
  exten: string;
  priority: number | null;
  app_name: string;
  app_data: string;
}

/** Channel as `ast_channel_snapshot_to_json` serialises it (ari.md §1.4). */
export interface ChannelJson {
  id: string;
  name: string;
  state: string;
  protocol_id: string;
  caller: CallerIdJson;
  connected: CallerIdJson;
  accountcode: string;
  dialplan: DialplanJson;
  creationtime: string;
  language: string;
  channelvars?: Record<string, string>;
}

export interface BridgeJson {
  id: string;
  technology: string;
  bridge_type: string;
  bridge_class: string;
  creator: string;
  name: string;
  channels: string[];
  creationtime: string;
  video_mode: string;
}

export type PlaybackState = 'queued' | 'playing' | 'paused' | 'continuing' | 'done' | 'failed';

export interface PlaybackJson {
  id: string;
  media_uri: string;
  next_media_uri?: string;
  target_uri: string;
  language: string;
  state: PlaybackState;
}

/** One scripted DTMF burst: `digits` pressed starting `at` seconds after the channel is answered (state Up). */
export interface DtmfStep {
  at: number;
  digits: string;
  /** Length of each key press (reported as `duration_ms`); default 100. Not scaled. */
  durationMs?: number;
  /** Silence between key presses; default 150. Not scaled. */
  gapMs?: number;
}

export type EndpointAction = 'answer' | 'busy' | 'noanswer' | 'reject' | 'congestion' | 'fail' | 'unavailable' | 'call';

/**
 * How a dialled endpoint behaves. All times are seconds of simulated time (multiplied by `timeScale`),
 * counted from the moment the dial starts (originate, or POST /channels/{id}/dial), except where noted.
 */
export interface EndpointScript {
  /** answer: the far end echoes (Echo()): DTMF sent into the channel comes back as ChannelDtmfReceived. */
  echo?: boolean;
  /** Endpoint (`PJSIP/8001`, `PJSIP/0612345678@trunk`, `PJSIP/trunk/sip:138…@host`, `Local/100@ctx`), bare number, or a glob with `*`. */
  match: string;
  /** Default `answer`. */
  action?: EndpointAction;
  /** Seconds until the far end rings (180): ChannelStateChange Ringing + Dial RINGING. `null` = never rings.
   *  Default 0.2, except busy/congestion (no ringing). */
  ringAfter?: number | null;
  /** answer: seconds until the far end answers. Default 1. */
  answerAfter?: number;
  /** busy/reject/congestion/fail: seconds until the far end refuses. Default 1. */
  after?: number;
  /** fail: the Q.850 cause (default 38). reject defaults to 21, busy 17, congestion 34. */
  cause?: number;
  /** answer: the far end hangs up this many seconds after the answer. Absent = stays up until we hang up. */
  hangupAfter?: number;
  /** answer: hangupAfter is the dialled number from this offset on, like the dialplan's `Wait(${EXTEN:8})`. */
  hangupAfterFromExten?: number;
  /** Cause of that far-end hangup; default 16. */
  hangupCause?: number;
  /** Digits the far end presses after the answer. */
  dtmf?: DtmfStep[];
  /** Free text, shown in the call log. */
  label?: string;
  /** call: originating this endpoint places a call into the dialplan, like `Local/red@box` on the real server
   *  (Dial(Local/96110@from-trunk) → Stasis): an inbound call to this DID. */
  callTo?: string;
  /** call: the caller number when the originate gives no callerId. */
  callFrom?: string;
  /** call: the Stasis app; default the simulator's `app` option. */
  callApp?: string;
}

export interface DirectoryFile {
  default?: Omit<EndpointScript, 'match'>;
  endpoints: EndpointScript[];
}

export interface InboundCallOptions {
  /** Caller ID number (the elder's line). */
  from: string;
  /** The dialled DID; becomes `dialplan.exten`. */
  to: string;
  callerName?: string;
  /** Stasis app; default: the sim's `app` option, else the only registered app. */
  app?: string;
  /** Stasis args (dialplan `Stasis(app,args…)`); a string is split on ','. Default: the sim's `inboundArgs` (['sos']). */
  args?: string[] | string;
  /** The caller hangs up this many seconds after the call starts (answered or not). Default 11 (one-key box). `null` = never. */
  hangupAfter?: number | null;
  /** The caller hangs up this many seconds after we answer (if that comes first). */
  hangupAfterAnswer?: number;
  /** Cause of the caller's hangup; default 16. */
  hangupCause?: number;
  /** Digits the caller presses after we answer. */
  dtmf?: DtmfStep[];
  channelId?: string;
  /** PJSIP endpoint the call comes in on (channel name `PJSIP/<trunk>-…`); default `trunk`. */
  trunk?: string;
  /** Dialplan context; default `from-trunk`. */
  context?: string;
}

export interface InboundCallResult {
  channel: ChannelJson;
  /** false when the app is not registered: Stasis() failed, the dialplan fallback hung up, the app saw nothing. */
  stasis: boolean;
}

export interface OriginateLogEntry {
  seq: number;
  op: 'originate' | 'create' | 'dial';
  receivedAt: string;
  receivedAtMs: number;
  method: string;
  path: string;
  /** The raw query string as received (without '?'). */
  rawQuery: string;
  query: Record<string, string>;
  /** The parsed request body (JSON or form), or null. */
  body: unknown;
  /** Merged parameters (query, then body overrides). */
  params: Record<string, string>;
  channelId: string | undefined;
  endpoint: string | undefined;
  status: number;
  response: unknown;
  /** True when this request started a dial (false for rejected duplicates and errors). */
  dialed: boolean;
}

export interface CallLogEntry {
  channelId: string;
  name: string;
  direction: 'outbound' | 'inbound';
  endpoint: string;
  /** outbound: the dialled number; inbound: the caller's number. */
  number: string;
  /** inbound: the DID. */
  did?: string;
  app?: string;
  args: string[];
  script?: string;
  createdAt: string;
  ringingAt?: string;
  answeredAt?: string;
  stasisStartAt?: string;
  endedAt?: string;
  cause?: number;
  cause_txt?: string;
  endedBy?: 'app' | 'far_end' | 'timeout' | 'dialplan' | 'reset';
  dtmfReceived: string;
  dtmfSent: string;
  playbacks: string[];
}

export interface EventLogEntry {
  seq: number;
  at: number;
  application: string;
  event: Record<string, unknown> & { type: string };
}

export interface RequestLogEntry {
  seq: number;
  at: number;
  method: string;
  url: string;
  status: number;
}
