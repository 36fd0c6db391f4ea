/**
 * Records what an ARI client observes, in the order it observes it: the events of one app's WebSocket and
 * markers for our own HTTP replies (so "Dial "" after the HTTP 200", issue 17 item 6, is visible). Then
 * normalises the record (ids, timestamps, Asterisk id, channel-name suffixes) so a real Asterisk and the
 * simulator can be compared line by line.
 */
import { makeAri, openEvents, type AriEvent, type AriHttpOptions, type EventStream, type HttpResult } from './ari-raw.ts';

export type Entry = { kind: 'event'; event: AriEvent } | { kind: 'http'; method: string; path: string; status: number };

export class Recorder {
  readonly log: Entry[] = [];
  private readonly http: ReturnType<typeof makeAri>;

  private constructor(
    readonly ev: EventStream,
    baseUrl: string,
    user: string,
    pass: string,
  ) {
    this.http = makeAri(baseUrl, user, pass);
    ev.ws.on('message', (data) => this.log.push({ kind: 'event', event: JSON.parse(String(data)) as AriEvent }));
  }

  static async open(baseUrl: string, user: string, pass: string, app: string): Promise<Recorder> {
    return new Recorder(await openEvents(baseUrl, app, { user, pass }), baseUrl, user, pass);
  }

  /** One REST call; its status goes into the log when the reply arrives. */
  async call(method: string, path: string, o: AriHttpOptions = {}): Promise<HttpResult> {
    const res = await this.http(method, path, o);
    this.log.push({ kind: 'http', method, path, status: res.status });
    return res;
  }

  waitFor(pred: (e: AriEvent) => boolean, ms = 10_000): Promise<AriEvent> {
    return this.ev.waitFor(pred, ms);
  }

  /** Waits until no event has arrived for `quietMs` (the tail of a tear-down). */
  async settle(quietMs = 500, maxMs = 5000): Promise<void> {
    const end = Date.now() + maxMs;
    let n = -1;
    while (n !== this.ev.events.length && Date.now() < end) {
      n = this.ev.events.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  close(): Promise<void> {
    return this.ev.close();
  }
}

/** Gives ids short stable names in the order they are first seen: C1, C2 (channels), B1, P1. */
class Aliases {
  private readonly map = new Map<string, string>();
  private readonly counts: Record<string, number> = {};
  constructor(preset: Record<string, string> = {}) {
    for (const [id, name] of Object.entries(preset)) this.map.set(id, name);
  }
  get(id: string, prefix: string): string {
    let a = this.map.get(id);
    if (!a) {
      this.counts[prefix] = (this.counts[prefix] ?? 0) + 1;
      a = `${prefix}${this.counts[prefix]}`;
      this.map.set(id, a);
    }
    return a;
  }
}

const TS_KEYS = new Set(['timestamp', 'creationtime']);

/** A deep copy with ids aliased and volatile values replaced. */
export function normaliseEvent(e: AriEvent, al: Aliases): Record<string, unknown> {
  const walk = (v: unknown, key: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, key === 'channels' ? 'channelId' : key));
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const kind = key === 'bridge' ? 'B' : key === 'playback' ? 'P' : 'C';
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) {
        if (k === 'id' && typeof x === 'string' && key !== '') out[k] = al.get(x, kind);
        else out[k] = walk(x, k === 'id' ? key : k);
      }
      return out;
    }
    if (typeof v !== 'string') return v;
    if (TS_KEYS.has(key)) return '<ts>';
    if (key === 'asterisk_id') return '<eid>';
    if (key === 'channelId') return al.get(v, 'C');
    if (key === 'protocol_id') return v ? '<call-id>' : '';
    if (key === 'target_uri') return v.replace(/^(channel|bridge):(.+)$/, (_m, k: string, id: string) => `${k}:${al.get(id, k === 'bridge' ? 'B' : 'C')}`);
    if (key === 'name') return v.replace(/-[0-9a-f]{8}(;[12])?$/, '-N$1');
    return v;
  };
  return walk(e, '') as Record<string, unknown>;
}

/** One line per entry: `HTTP POST channels 200`, `Dial "" C1`, `ChannelDestroyed 16 C1 (tech_cause)`. */
export function describeEntry(n: Record<string, unknown>): string {
  const ch = (n.channel ?? n.peer) as { id?: string; state?: string } | undefined;
  const who = ch?.id ?? (n.bridge as { id?: string } | undefined)?.id ?? '';
  switch (n.type) {
    case 'Dial':
      return `Dial ${JSON.stringify(n.dialstatus)} ${who}`;
    case 'ChannelStateChange':
      return `ChannelStateChange ${ch?.state} ${who}`;
    case 'ChannelDestroyed':
    case 'ChannelHangupRequest':
      return `${n.type} ${n.cause ?? '-'}${n.soft ? ' soft' : ''}${'tech_cause' in n ? ` tech_cause=${n.tech_cause}` : ''} ${who}`;
    case 'ChannelVarset':
      return `ChannelVarset ${n.variable}=${JSON.stringify(n.value)} ${who}`;
    case 'ChannelDialplan':
      return `ChannelDialplan ${n.dialplan_app}(${n.dialplan_app_data}) ${who}`;
    case 'PlaybackStarted':
    case 'PlaybackFinished':
      return `${n.type} ${(n.playback as { state: string; media_uri: string }).state} ${(n.playback as { media_uri: string }).media_uri}`;
    case 'StasisStart':
      return `StasisStart ${ch?.state} ${who} args=${JSON.stringify(n.args)}`;
    case 'ChannelEnteredBridge':
    case 'ChannelLeftBridge':
      return `${n.type} ${(n.bridge as { id: string; channels: string[] }).id}[${(n.bridge as { channels: string[] }).channels.join(',')}] ${ch?.id}`;
    default:
      return `${n.type} ${who}`;
  }
}

export interface Normalised {
  lines: string[];
  events: Record<string, unknown>[];
}

/** Normalises a record; `preset` names known ids (e.g. {[elderId]: 'elder'}). */
export function normalise(log: Entry[], preset: Record<string, string> = {}): Normalised {
  const al = new Aliases(preset);
  const lines: string[] = [];
  const events: Record<string, unknown>[] = [];
  for (const entry of log) {
    if (entry.kind === 'http') {
      const path = Object.entries(preset).reduce((p, [id, name]) => p.split(id).join(name), entry.path);
      lines.push(`HTTP ${entry.method} ${path} ${entry.status}`);
      continue;
    }
    const n = normaliseEvent(entry.event, al);
    events.push(n);
    lines.push(describeEntry(n));
  }
  return { lines, events };
}
