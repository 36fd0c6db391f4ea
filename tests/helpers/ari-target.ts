/**
 * Telephony suites run against two targets (issue 17): the simulator, always, and a real Asterisk when
 * TEST_ARI_URL is set (.ci/run starts one from ../shared/asterisk). With CI=true a missing TEST_ARI_URL throws,
 * so a CI run without Asterisk fails instead of quietly testing the simulator only.
 *
 *   for (const target of targets()) describe(target.name, () => { let t: AriTargetEnv; beforeAll(async () => (t = await target.start())); … });
 *
 * Both targets share the numbers of ../shared/asterisk/README.md (the simulator loads the same numbers,
 * simulators/asterisk/test-numbers.ts). The simulator may run time-scaled; a real Asterisk cannot, so its
 * timeScale is 1: scale waits with `timeScale`, never assume a duration.
 */
import { startAsteriskSim, type AsteriskSim, type EndpointScript } from '../../simulators/asterisk/index.ts';
import { ASTERISK_TEST_NUMBERS } from '../../simulators/asterisk/test-numbers.ts';
import { acquireLock } from './ari-lock.ts';
import { makeAri, openEvents } from './ari-raw.ts';
import { randomBytes } from 'node:crypto';

export interface InboundHandle {
  /** The originated `Local/red@box` channel (the box's side of the call). */
  boxChannelId: string;
  /** The box hangs up (DELETE of its channel); resolves when the request is answered. */
  hangup(): Promise<void>;
}

/** A caller on an inbound (hotline) call placed by the test: it can press digits and hang up. */
export interface CallerHandle {
  /** The channel the hub's app sees (StasisStart from the dialplan). */
  hubChannelId: string;
  /** Presses digits toward the hub (the call must be answered). */
  dtmf(digits: string): Promise<void>;
  /** The caller hangs up (an abandon when the hub has not bridged it yet). */
  hangup(): Promise<void>;
  /** Hangs up if still there and closes what the helper opened. */
  close(): Promise<void>;
}

export interface AriTargetEnv {
  name: 'sim' | 'asterisk';
  url: string;
  username: string;
  password: string;
  /** Multiply scripted seconds by this for waits; 1 on a real Asterisk. */
  timeScale: number;
  trunkTemplate: string;
  agentTemplate: string;
  trunk(number: string): string;
  agent(ext: string): string;
  numbers: {
    answer: string;
    busy: string;
    noAnswer: string;
    reject: string;
    /** Answers, hangs up after 4 s. */
    hangup4s: string;
    press1: string;
    press2: string;
    silent: string;
    echo: string;
    /** Answers and hangs up after `s` seconds (1–999). */
    hangupAfter(s: number): string;
  };
  agents: { answer: string; noAnswer: string };
  /** The app the dialplan sends inbound calls to; take `lockInbound()` before using it. */
  inboundApp: string;
  lines: { red: string; green: string };
  /** The box's caller number when `from` is not given. */
  boxCaller: string;
  /** A one-key box press: originates Local/<line>@box, which dials the line's DID into Stasis(anxin). */
  injectInbound(o: { line: 'red' | 'green'; from?: string }): Promise<InboundHandle>;
  /**
   * An inbound call to `did` from `from` into `inboundApp` (hold lockInbound()). Real server: originate
   * `Local/<did>@from-trunk` (from-trunk's `_X.` sends any DID to Stasis(anxin)) with callerId `from`; its ;1
   * half goes into a test-owned app so the test can press DTMF and hang up. Simulator: an injected call.
   */
  injectCall(o: { did: string; from: string }): Promise<CallerHandle>;
  /** Cross-process lock around the use of `inboundApp` (a no-op on the simulator, which is per test file). */
  lockInbound(): Promise<() => void>;
  /** The simulator itself, for assertions on its logs (undefined on a real Asterisk). */
  sim?: AsteriskSim;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Simulator only: default 0.1. */
  timeScale?: number;
  /** Simulator only: scripts tried before the test numbers. */
  directory?: EndpointScript[];
}

export interface AriTarget {
  name: 'sim' | 'asterisk';
  start(o?: StartOptions): Promise<AriTargetEnv>;
}

const TRUNK = 'Local/{number}@sim-trunk';
const AGENT = 'Local/{ext}@sim-agents';

function common(url: string, username: string, password: string, timeScale: number) {
  const ari = makeAri(url, username, password);
  return {
    url,
    username,
    password,
    timeScale,
    trunkTemplate: TRUNK,
    agentTemplate: AGENT,
    trunk: (n: string) => TRUNK.replace('{number}', n),
    agent: (e: string) => AGENT.replace('{ext}', e),
    numbers: {
      answer: '13800000001',
      busy: '13800000002',
      noAnswer: '13800000003',
      reject: '13800000004',
      hangup4s: '13800000007',
      press1: '13900000003',
      silent: '13900000005',
      press2: '13900000006',
      echo: '13900000009',
      hangupAfter: (s: number) => `13810000${String(Math.round(s)).padStart(3, '0')}`,
    },
    agents: { answer: '8001', noAnswer: '8002' },
    inboundApp: 'anxin',
    lines: { red: '96110', green: '96120' },
    boxCaller: '02112345678',
    async injectInbound(o: { line: 'red' | 'green'; from?: string }): Promise<InboundHandle> {
      const boxChannelId = `box-${randomBytes(4).toString('hex')}`;
      // The box's own leg goes to a far end that answers and stays silent once we answer the line.
      const res = await ari('POST', 'channels', {
        query: { endpoint: `Local/${o.line}@box`, context: 'sim-trunk', extension: '13900000005', priority: 1, channelId: boxChannelId, callerId: o.from },
      });
      if (res.status !== 200) throw new Error(`inbound via Local/${o.line}@box: HTTP ${res.status} ${res.text}`);
      return {
        boxChannelId,
        async hangup() {
          await ari('DELETE', `channels/${boxChannelId}`);
        },
      };
    },
  };
}

const simTarget: AriTarget = {
  name: 'sim',
  async start(o = {}) {
    const sim = await startAsteriskSim({
      port: 0,
      timeScale: o.timeScale ?? 0.1,
      app: 'anxin',
      directory: { default: ASTERISK_TEST_NUMBERS.default, endpoints: [...(o.directory ?? []), ...ASTERISK_TEST_NUMBERS.endpoints] },
    });
    return {
      name: 'sim',
      ...common(sim.url, sim.username, sim.password, sim.timeScale),
      lockInbound: async () => () => undefined,
      async injectCall(o) {
        const r = sim.injectCall({ from: o.from, to: o.did, args: [], hangupAfter: null, channelId: `caller-${randomBytes(4).toString('hex')}` });
        const id = r.channel.id;
        const gone = () => !sim.channel(id);
        return {
          hubChannelId: id,
          dtmf: async (digits) => sim.pressDigits(id, digits),
          hangup: async () => (gone() ? undefined : sim.farEndHangup(id, 16)),
          close: async () => (gone() ? undefined : sim.farEndHangup(id, 16)),
        };
      },
      sim,
      stop: () => sim.stop(),
    };
  },
};

function asteriskTarget(url: string, username: string, password: string): AriTarget {
  return {
    name: 'asterisk',
    async start() {
      const info = await makeAri(url, username, password)('GET', 'asterisk/info');
      if (info.status !== 200) throw new Error(`TEST_ARI_URL ${url}: GET /ari/asterisk/info gave HTTP ${info.status}`);
      return {
        name: 'asterisk',
        ...common(url, username, password, 1),
        lockInbound: () => acquireLock('ari-app-anxin'),
        injectCall: (o) => injectRealCall(url, username, password, o),
        stop: async () => undefined,
      };
    },
  };
}

/** A real caller: Local/<did>@from-trunk, the ;1 half (the caller) in a test-owned app, the ;2 half into Stasis(anxin). */
async function injectRealCall(url: string, username: string, password: string, o: { did: string; from: string }): Promise<CallerHandle> {
  const ari = makeAri(url, username, password);
  const tag = randomBytes(4).toString('hex');
  const app = `caller-${tag}`;
  const ev = await openEvents(url, app, { user: username, pass: password });
  const caller = `caller-${tag}`;
  const hub = `caller-${tag}-hub`;
  const up = ev.waitFor((e) => e.type === 'StasisStart' && e.channel?.id === caller, 60_000);
  up.catch(() => undefined);
  const res = await ari('POST', 'channels', { query: { endpoint: `Local/${o.did}@from-trunk`, app, channelId: caller, otherChannelId: hub, callerId: o.from, timeout: -1 } });
  if (res.status !== 200) {
    await ev.close();
    throw new Error(`call to ${o.did}: HTTP ${res.status} ${res.text}`);
  }
  const hangup = async () => {
    await ari('DELETE', `channels/${caller}`);
  };
  return {
    hubChannelId: hub,
    async dtmf(digits) {
      await up;
      const r = await ari('POST', `channels/${caller}/dtmf`, { query: { dtmf: digits, duration: 120 } });
      if (r.status !== 204) throw new Error(`dtmf: HTTP ${r.status} ${r.text}`);
    },
    hangup,
    async close() {
      await hangup().catch(() => undefined);
      await ev.close();
    },
  };
}

/** The simulator, plus the real Asterisk of TEST_ARI_URL; with CI=true and no TEST_ARI_URL it throws. */
export function targets(): AriTarget[] {
  const url = process.env.TEST_ARI_URL;
  if (!url && process.env.CI === 'true') {
    throw new Error('CI=true but TEST_ARI_URL is not set: the telephony suites must also run against the real Asterisk (issue 17, .ci/run)');
  }
  const list: AriTarget[] = [simTarget];
  if (url) list.push(asteriskTarget(url, process.env.TEST_ARI_USERNAME ?? 'anxin', process.env.TEST_ARI_PASSWORD ?? 'anxin'));
  return list;
}
