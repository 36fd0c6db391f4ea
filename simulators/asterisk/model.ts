/** In-memory channels, bridges and playbacks, and their wire JSON. */
import type { BridgeJson, CallerIdJson, CallLogEntry, ChannelJson, DialplanJson, EndpointScript, InboundCallOptions, PlaybackJson } from './types.ts';
import { astTimestamp } from './util.ts';

export type ChannelMode = 'originate' | 'create' | 'inbound';

export interface DialState {
  /** 'pending' until the far end reacts; 'answered' or 'failed' once it did. */
  status: 'idle' | 'pending' | 'ringing' | 'answered' | 'failed';
  dialstring: string;
  /** Channel id given as `caller` to POST /channels/{id}/dial. */
  callerId?: string;
  /** Seconds; null = no timeout. */
  timeout: number | null;
}

export class SimChannel {
  state = 'Down';
  readonly creationtime = astTimestamp();
  caller: CallerIdJson = { name: '', number: '' };
  connected: CallerIdJson = { name: '', number: '' };
  dialplan: DialplanJson = { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' };
  language = 'en';
  protocolId = '';
  accountcode = '';
  variables: Record<string, string> = {};
  /** Variables whose changes are reported in `channelvars` (report_events). */
  reported = new Set<string>();

  /** Apps subscribed to this channel's topic. */
  readonly apps = new Set<string>();
  /** The Stasis app the channel runs in (or will run in, after the answer). */
  stasisApp?: string;
  stasisArgs: string[] = [];
  inStasis = false;
  bridgeId?: string;
  hangingUp = false;
  destroyed = false;
  dial: DialState = { status: 'idle', dialstring: '', timeout: null };
  /** Q.850 → SIP code of a PJSIP refusal: `tech_cause` on HangupRequest and ChannelDestroyed (absent when 0). */
  techCause = 0;
  /** A call placed through `Local/<line>@box` and the inbound line channel it made: each other's far end. */
  peerId?: string;
  /** Options of an injected inbound call (DTMF and hang-up after our answer). */
  inbound?: InboundCallOptions;
  readonly timers = new Set<NodeJS.Timeout>();
  /** Playback ids queued on this channel, the first one playing. */
  readonly playQueue: string[] = [];
  log: CallLogEntry;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly mode: ChannelMode,
    readonly endpoint: string,
    readonly script: EndpointScript | undefined,
    number: string,
  ) {
    this.log = {
      channelId: id,
      name,
      direction: mode === 'inbound' ? 'inbound' : 'outbound',
      endpoint,
      number,
      args: [],
      script: script?.match,
      createdAt: new Date().toISOString(),
      dtmfReceived: '',
      dtmfSent: '',
      playbacks: [],
    };
  }

  toJSON(): ChannelJson {
    const j: ChannelJson = {
      id: this.id,
      name: this.name,
      state: this.state,
      protocol_id: this.protocolId,
      caller: { ...this.caller },
      connected: { ...this.connected },
      accountcode: this.accountcode,
      dialplan: { ...this.dialplan },
      creationtime: this.creationtime,
      language: this.language,
    };
    if (this.reported.size) {
      j.channelvars = Object.fromEntries([...this.reported].map((k) => [k, this.variables[k] ?? '']));
    }
    return j;
  }
}

export class SimBridge {
  readonly creationtime = astTimestamp();
  readonly channels: string[] = [];
  /** Apps subscribed to the bridge: a channel's app joins when it enters and stays after it leaves, so
   *  BridgeDestroyed reaches it even when the bridge is empty (captured on Asterisk 22.10.1). */
  readonly apps = new Set<string>();
  /** POST /bridges/{id}/moh is on (issue 19: a bridge playback in a holding bridge with MOH fails). */
  moh = false;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly types: string[],
  ) {}

  get bridgeType(): string {
    return this.types.includes('holding') ? 'holding' : 'mixing';
  }

  toJSON(): BridgeJson {
    const technology = this.bridgeType === 'holding' ? 'holding_bridge' : this.channels.length > 2 ? 'softmix' : 'simple_bridge';
    return {
      id: this.id,
      technology,
      bridge_type: this.bridgeType,
      bridge_class: 'stasis',
      creator: 'Stasis',
      name: this.name,
      channels: [...this.channels],
      creationtime: this.creationtime,
      video_mode: 'talker',
    };
  }
}

export class SimPlayback {
  state: PlaybackJson['state'] = 'queued';
  index = 0;
  timer?: NodeJS.Timeout;

  constructor(
    readonly id: string,
    readonly media: string[],
    readonly target: { kind: 'channel' | 'bridge'; id: string },
    readonly language: string,
  ) {}

  toJSON(): PlaybackJson {
    const j: PlaybackJson = {
      id: this.id,
      media_uri: this.media[this.index] ?? this.media[0] ?? '',
      target_uri: `${this.target.kind}:${this.target.id}`,
      language: this.language,
      state: this.state,
    };
    const next = this.media[this.index + 1];
    if (next !== undefined) j.next_media_uri = next;
    return j;
  }
}
