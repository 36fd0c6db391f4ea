/**
 * One telephony/ instance on an ARI target (tests/helpers/ari-target.ts) for the flow suites
 * (tests/integration/telephony-{callback,click-to-call,cascade}.test.ts), with the in-memory ports, the call
 * updates, and every ARI event the hub's own app received. The events are what both targets can be asserted
 * on alike: playbacks, bridge entries, DTMF, who asked for a hang-up (a soft ChannelHangupRequest is the app's
 * DELETE, a hard one the far end), and how many times a channel was dialled (Dial "" once per originate).
 * The simulator's own logs (`t.sim`) stay available for what only it records.
 */
import type { AriEvent } from '../../telephony/ari.ts';
import { createTelephony, type CallUpdate, type Telephony, type TelephonyOptions } from '../../telephony/index.ts';
import type { AriTarget, AriTargetEnv, StartOptions } from './ari-target.ts';
import { makeAri } from './ari-raw.ts';
import { memoryPorts, type MemoryPorts, type StoredCall } from './telephony-memory.ts';
import { expect } from 'vitest';

export interface FlowTarget {
  t: AriTargetEnv;
  tel: Telephony;
  m: MemoryPorts;
  app: string;
  updates: CallUpdate[];
  events: AriEvent[];
  ari: ReturnType<typeof makeAri>;
  /** An idempotency key unique to this process and target (a real Asterisk outlives the run; channel ids follow the key). */
  key(name: string): string;
  /** Options for another telephony/ instance on the same target (e.g. another process, another trunk). */
  options(o: Partial<TelephonyOptions> & { app: string }): TelephonyOptions;
  /** Clears the updates and events (and the simulator's logs) before a test. */
  reset(): void;
  /** media_uri of every PlaybackStarted on the channel, in order. */
  played(channelId: string): string[];
  /** `<media_uri> <state>` of every PlaybackFinished on the channel, in order. */
  finished(channelId: string): string[];
  /** Channels that entered the bridge, in order. */
  entered(bridgeId: string): string[];
  /** Digits received on the channel. */
  dtmf(channelId: string): string;
  /** Originates of the channel id: a Dial with an empty dialstatus starts every dial attempt. */
  dials(channelId: string): number;
  /** Who asked for the hang-up first: 'app' (a soft request: our DELETE) or 'far_end'; undefined when nobody did (a timeout). */
  hungUpBy(channelId: string): 'app' | 'far_end' | undefined;
  /** ChannelDestroyed's cause. */
  destroyedCause(channelId: string): number | undefined;
  /** Which of these channels / this bridge still exist on the target (GET /channels, GET /bridges). */
  live(o: { channels?: string[]; bridges?: string[] }): Promise<string[]>;
  /**
   * What is still live after up to `ms`: a real Asterisk destroys a bridge asynchronously after DELETE answers (its
   * recorder channel leaves first), so a check right after `done` can still list it. A leak stays listed.
   */
  gone(o: { channels?: string[]; bridges?: string[] }, ms?: number): Promise<string[]>;
  /** Cause of a ring timeout: 19 on the simulator and on Asterisk 22.7+, 0 on older servers (issue 17 item 4). */
  noAnswerCauses: (number | null)[];
  stop(): Promise<void>;
}

export async function startFlowTarget(target: AriTarget, app: string, o: { start?: StartOptions; telephony?: Partial<TelephonyOptions> } = {}): Promise<FlowTarget> {
  const t = await target.start(o.start);
  const m = memoryPorts();
  const updates: CallUpdate[] = [];
  const events: AriEvent[] = [];
  const options = (x: Partial<TelephonyOptions> & { app: string }): TelephonyOptions => ({
    url: t.url,
    username: t.username,
    password: t.password,
    trunkTemplate: t.trunkTemplate,
    agentTemplate: t.agentTemplate,
    redDid: t.lines.red,
    greenDid: t.lines.green,
    callerId: '"Anxin" <96110>',
    ports: m.ports,
    timeScale: t.timeScale,
    ...x,
  });
  const tel = createTelephony(options({ defaults: { ringTimeoutS: 3, agentRingTimeoutS: 3, dtmfTimeoutS: 3 }, ...o.telephony, app }));
  tel.on('call', (u) => updates.push(u));
  tel.ari.on('event', (e) => events.push(e));
  await tel.start();
  const ari = makeAri(t.url, t.username, t.password);
  const suffix = `${t.name}-${process.pid}-${Date.now().toString(36)}`;
  const of = <T extends AriEvent['type']>(type: T) => events.filter((e): e is Extract<AriEvent, { type: T }> => e.type === type);
  const live = async ({ channels = [], bridges = [] }: { channels?: string[]; bridges?: string[] }): Promise<string[]> => {
    const ch = await ari('GET', 'channels');
    const br = await ari('GET', 'bridges');
    const ids = [...(ch.json as { id: string }[]).map((c) => c.id), ...(br.json as { id: string }[]).map((b) => b.id)];
    return [...channels, ...bridges].filter((id) => ids.includes(id));
  };
  return {
    t,
    tel,
    m,
    app,
    updates,
    events,
    ari,
    options,
    key: (name) => `${name}-${suffix}`,
    reset() {
      updates.length = 0;
      events.length = 0;
      t.sim?.reset();
    },
    played: (id) => of('PlaybackStarted').filter((e) => e.playback.target_uri === `channel:${id}`).map((e) => e.playback.media_uri),
    finished: (id) => of('PlaybackFinished').filter((e) => e.playback.target_uri === `channel:${id}`).map((e) => `${e.playback.media_uri} ${e.playback.state}`),
    entered: (bridgeId) => of('ChannelEnteredBridge').filter((e) => e.bridge.id === bridgeId).map((e) => e.channel.id),
    dtmf: (id) => of('ChannelDtmfReceived').filter((e) => e.channel.id === id).map((e) => e.digit).join(''),
    dials: (id) => of('Dial').filter((e) => e.peer.id === id && e.dialstatus === '').length,
    hungUpBy(id) {
      const r = of('ChannelHangupRequest').find((e) => e.channel.id === id);
      return r && (r.soft ? 'app' : 'far_end');
    },
    destroyedCause: (id) => of('ChannelDestroyed').find((e) => e.channel.id === id)?.cause,
    live,
    async gone(o, ms = 5000) {
      const end = Date.now() + ms;
      for (;;) {
        const left = await live(o);
        if (left.length === 0 || Date.now() > end) return left;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    noAnswerCauses: t.sim ? [19] : [0, 19],
    async stop() {
      await tel.stop();
      await t.stop();
    },
  };
}

/** The record's times: end after creation, duration and talk time consistent, answered or not. */
export function expectTimes(c: StoredCall | undefined, answered: boolean): void {
  expect(c?.end).toBeDefined();
  const end = c?.end;
  if (!c || !end) return;
  expect(end.at.getTime()).toBeGreaterThanOrEqual(c.createdAt.getTime());
  expect(end.durationMs).toBe(end.at.getTime() - c.createdAt.getTime());
  if (answered) {
    expect(c.answeredAt).toBeInstanceOf(Date);
    expect(c.answeredAt!.getTime()).toBeGreaterThanOrEqual(c.createdAt.getTime());
    expect(end.talkMs).toBe(end.at.getTime() - c.answeredAt!.getTime());
    expect(end.talkMs).toBeGreaterThan(0);
    expect(end.durationMs).toBeGreaterThan(end.talkMs);
  } else {
    expect(c.answeredAt).toBeUndefined();
    expect(end.talkMs).toBe(0);
  }
}
