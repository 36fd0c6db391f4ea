/**
 * Projects a recorded ARI session onto what the simulator models, so a real Asterisk's record and the
 * simulator's can be compared (tests/integration/ari-fidelity.test.ts). Per entity (a channel, with its
 * playbacks and bridge events; a bridge), because the interleaving of different channels depends on timing.
 */
import { describeEntry, normalise, type Entry } from './ari-record.ts';

/**
 * Event types the simulator does not send, and why it may leave them out:
 *  - ChannelDialplan: one per dialplan application a channel runs (Ringing(), Wait(), Answer() of the far
 *    end's dialplan). The simulator has no dialplan, and the app never acts on these.
 *  - ChannelCallerId, ChannelConnectedLine: caller-id and connected-line updates; the app reads the caller
 *    from StasisStart only.
 *  - ChannelVarset other than STASISSTATUS: BRIDGEPEER and the like, set by the bridging core for the
 *    dialplan; the app relies on no variable but the ones it sets itself. STASISSTATUS is kept: it is the
 *    "ChannelVarset before StasisStart" of issue 17 item 6.
 */
export const UNMODELLED_TYPES = new Set(['ChannelDialplan', 'ChannelCallerId', 'ChannelConnectedLine']);
export const MODELLED_VARIABLES = new Set(['STASISSTATUS']);

/** Pairs Asterisk publishes from two threads, so either order occurs (seen both ways in the captures);
 *  put in the first order given. */
const RACY_PAIRS: [string, string][] = [
  ['Dial ""', 'ChannelStateChange Ringing'],
  // a busy far end: the dial's start and the hangup request (seen both ways on Asterisk 22.10.1 under load)
  ['Dial ""', 'ChannelHangupRequest'],
];

type Json = Record<string, unknown> & { type: string };
const chOf = (e: Json) => (e.channel ?? e.peer) as { id: string; name: string } | undefined;

/** The events the simulator models (raw, not normalised). */
function modelled(log: Entry[]): Json[] {
  const evs = log.flatMap((x) => (x.kind === 'event' ? [x.event as Json] : []));
  const inStasis = new Set(evs.filter((e) => e.type === 'StasisStart').map((e) => chOf(e)?.id));
  return evs.filter((e) => {
    if (UNMODELLED_TYPES.has(e.type)) return false;
    if (e.type === 'ChannelVarset' && !MODELLED_VARIABLES.has(String(e.variable))) return false;
    // The far half (;2) of a Local channel the app originated: the simulator models a Local channel as one
    // channel. A ;2 half that entered Stasis (an inbound line) is kept.
    const ch = chOf(e);
    return !(ch && /;2$/.test(ch.name) && !inStasis.has(ch.id));
  });
}

/** Normalised lines per entity: `{elder: ['Dial ""', 'ChannelStateChange Ringing', …], bridge: [...]}`. */
export function project(log: Entry[], preset: Record<string, string>): Record<string, string[]> {
  const { events } = normalise(modelled(log).map((event) => ({ kind: 'event', event })), preset);
  const out: Record<string, string[]> = {};
  for (const e of events as Json[]) {
    const ch = chOf(e);
    const pb = e.playback as { target_uri: string } | undefined;
    const key = pb ? pb.target_uri.replace(/^\w+:/, '') : (ch?.id ?? (e.bridge as { id: string } | undefined)?.id ?? '?');
    const b = e.bridge as { channels: string[] } | undefined;
    if (b) b.channels = [...b.channels].sort(); // the bridge's list comes from a hash container: order is meaningless
    (out[key] ??= []).push(describeEntry(e));
  }
  for (const lines of Object.values(out)) {
    for (let i = 0; i + 1 < lines.length; i++) {
      for (const [first, second] of RACY_PAIRS) {
        if (lines[i]!.startsWith(second) && lines[i + 1]!.startsWith(first)) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
      }
    }
  }
  return out;
}

/** Sorted key sets per event type (top level and the channel object): shapes, e.g. whether tech_cause is there. */
export function shapes(log: Entry[]): Record<string, string> {
  const out: Record<string, Set<string>> = {};
  for (const e of modelled(log)) {
    const ch = chOf(e) as Record<string, unknown> | undefined;
    const keys = `${Object.keys(e).sort().join(',')}${ch ? ` channel{${Object.keys(ch).sort().join(',')}}` : ''}`;
    (out[e.type] ??= new Set()).add(keys);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort().join(' | ')]));
}

/** The StasisStart channels (normalised): what the app reads (name, state, caller, connected, dialplan, args). */
export function stasisStarts(log: Entry[], preset: Record<string, string>): unknown[] {
  const { events } = normalise(modelled(log).map((event) => ({ kind: 'event', event })), preset);
  return events.filter((e) => e.type === 'StasisStart').map((e) => {
    const c = e.channel as Record<string, unknown>;
    return { args: e.args, id: c.id, name: c.name, state: c.state, caller: c.caller, connected: c.connected, dialplan: c.dialplan };
  });
}
