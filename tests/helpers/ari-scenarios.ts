/**
 * Scripted ARI call flows, run the same way against the simulator and a real Asterisk (ari-target.ts): the
 * capture CLI (ari-capture.ts) writes what they observe, the fidelity test compares the two. Each scenario
 * gives its own ids a name (preset) so normalised records read `elder`, `pb`, …
 */
import { randomBytes } from 'node:crypto';
import type { AriEvent } from './ari-raw.ts';
import type { Recorder } from './ari-record.ts';
import type { AriTargetEnv } from './ari-target.ts';

export interface Scenario {
  name: string;
  /** true: needs the app the dialplan sends inbound calls to ("anxin"), so take the target's inbound lock. */
  inbound?: boolean;
  run(rec: Recorder, t: AriTargetEnv, app: string): Promise<Record<string, string>>;
}

export const uid = (p: string): string => `${p}-${randomBytes(4).toString('hex')}`;

const is = (type: string, id: string) => (e: AriEvent) => e.type === type && (e.channel?.id === id || e.peer?.id === id);
const pbIs = (type: string, id: string) => (e: AriEvent) => e.type === type && e.playback?.id === id;

/** Waits long enough for `s` simulated seconds on this target (the simulator may run faster). */
export const ms = (t: AriTargetEnv, s: number): number => Math.max(2000, s * 1000 * t.timeScale * 3 + 2000);

async function originate(rec: Recorder, t: AriTargetEnv, app: string, endpoint: string, channelId: string, extra: Record<string, string | number> = {}) {
  const res = await rec.call('POST', 'channels', { query: { endpoint, app, appArgs: 'fidelity', channelId, ...extra } });
  if (res.status !== 200) throw new Error(`originate ${endpoint}: HTTP ${res.status} ${res.text}`);
  return res;
}

/** Callback: the elder answers, hears a prompt to the end, we hang up. */
export const callback: Scenario = {
  name: 'callback: answer, play a prompt, we hang up',
  async run(rec, t, app) {
    const elder = uid('elder');
    const pb = uid('pb');
    await originate(rec, t, app, t.trunk(t.numbers.answer), elder, { timeout: 30 });
    await rec.waitFor(is('StasisStart', elder), ms(t, 5));
    await rec.call('POST', `channels/${elder}/play`, { query: { media: 'sound:anxin-please-hold', playbackId: pb } });
    await rec.waitFor(pbIs('PlaybackFinished', pb), ms(t, 10));
    await rec.call('DELETE', `channels/${elder}`);
    await rec.waitFor(is('ChannelDestroyed', elder), ms(t, 2));
    await rec.settle();
    return { [elder]: 'elder', [pb]: 'pb' };
  },
};

/** A busy contact through the Local-channel trunk (issue 17 item 3: cause 0 with Dial BUSY). */
export const busy: Scenario = {
  name: 'busy contact',
  async run(rec, t, app) {
    const contact = uid('contact');
    await originate(rec, t, app, t.trunk(t.numbers.busy), contact, { timeout: 20 });
    await rec.waitFor(is('ChannelDestroyed', contact), ms(t, 5));
    await rec.settle();
    return { [contact]: 'contact' };
  },
};

/** No answer within the originate timeout (issue 17 item 4). */
export const noAnswer: Scenario = {
  name: 'no answer within the timeout',
  async run(rec, t, app) {
    const contact = uid('contact');
    await originate(rec, t, app, t.trunk(t.numbers.noAnswer), contact, { timeout: 2 });
    await rec.waitFor(is('ChannelDestroyed', contact), ms(t, 6));
    await rec.settle();
    return { [contact]: 'contact' };
  },
};

/** A sound that is not installed: PlaybackStarted, then PlaybackFinished failed at once (issue 17 item 2). */
export const missingSound: Scenario = {
  name: 'missing sound',
  async run(rec, t, app) {
    const elder = uid('elder');
    const pb = uid('pb');
    await originate(rec, t, app, t.trunk(t.numbers.answer), elder, { timeout: 30 });
    await rec.waitFor(is('StasisStart', elder), ms(t, 5));
    await rec.call('POST', `channels/${elder}/play`, { query: { media: 'sound:anxin-does-not-exist', playbackId: pb } });
    await rec.waitFor(pbIs('PlaybackFinished', pb), 2000);
    await rec.call('DELETE', `channels/${elder}`);
    await rec.waitFor(is('ChannelDestroyed', elder), ms(t, 2));
    await rec.settle();
    return { [elder]: 'elder', [pb]: 'pb' };
  },
};

/** A one-key box press: the call enters Stasis from the dialplan; we ring, answer and hang up (issue 17 item 1). */
export const inbound: Scenario = {
  name: 'inbound one-key press: ring, answer, we hang up',
  inbound: true,
  async run(rec, t) {
    const box = await t.injectInbound({ line: 'red' });
    const start = await rec.waitFor((e) => e.type === 'StasisStart' && e.channel?.dialplan?.exten === t.lines.red, ms(t, 5));
    const id = String(start.channel.id);
    await rec.call('POST', `channels/${id}/ring`);
    await rec.call('POST', `channels/${id}/answer`);
    await rec.waitFor((e) => e.type === 'ChannelStateChange' && e.channel?.id === id && e.channel.state === 'Up', 3000);
    await rec.call('DELETE', `channels/${id}`);
    await rec.waitFor(is('StasisEnd', id), 3000);
    await rec.settle(1000);
    await box.hangup();
    return { [id]: 'line' };
  },
};

/** The box hangs up before we answer ("ring and hang up, call me back"). */
export const inboundAbandon: Scenario = {
  name: 'inbound one-key press: the box hangs up unanswered',
  inbound: true,
  async run(rec, t) {
    const box = await t.injectInbound({ line: 'green' });
    const start = await rec.waitFor((e) => e.type === 'StasisStart' && e.channel?.dialplan?.exten === t.lines.green, ms(t, 5));
    const id = String(start.channel.id);
    await box.hangup();
    await rec.waitFor(is('StasisEnd', id), 3000);
    await rec.settle(1000);
    return { [id]: 'line' };
  },
};

/** Two answered legs in a mixing bridge, both hung up, then the bridge destroyed. */
export const bridge: Scenario = {
  name: 'bridge: two legs, both hung up, then the bridge destroyed',
  async run(rec, t, app) {
    const elder = uid('elder');
    const agent = uid('agent');
    const br = uid('br');
    await rec.call('POST', 'bridges', { query: { type: 'mixing', bridgeId: br, name: 'fidelity' } });
    await originate(rec, t, app, t.trunk(t.numbers.answer), elder);
    await originate(rec, t, app, t.agent(t.agents.answer), agent);
    await rec.waitFor(is('StasisStart', elder), ms(t, 5));
    await rec.waitFor(is('StasisStart', agent), ms(t, 5));
    await rec.call('POST', `bridges/${br}/addChannel`, { query: { channel: elder } });
    await rec.call('POST', `bridges/${br}/addChannel`, { query: { channel: agent } });
    await rec.waitFor((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === agent, 3000);
    await rec.call('DELETE', `channels/${elder}`);
    await rec.waitFor(is('ChannelDestroyed', elder), 3000);
    await rec.call('DELETE', `channels/${agent}`);
    await rec.waitFor(is('ChannelDestroyed', agent), 3000);
    await rec.call('DELETE', `bridges/${br}`);
    await rec.settle();
    return { [elder]: 'elder', [agent]: 'agent', [br]: 'bridge' };
  },
};

export const SCENARIOS: Scenario[] = [callback, busy, noAnswer, missingSound, inbound, inboundAbandon, bridge];

/** Busy over PJSIP (a SIPp UAS answering 486 on `port`): cause 17 and tech_cause 486 (capture only). */
export function busyPjsip(port: number): Scenario {
  return {
    name: `busy contact over PJSIP (SIPp 486 on port ${port})`,
    async run(rec, t, app) {
      const contact = uid('contact');
      await originate(rec, t, app, `PJSIP/trunk/sip:${t.numbers.busy}@127.0.0.1:${port}`, contact, { timeout: 20 });
      await rec.waitFor(is('ChannelDestroyed', contact), ms(t, 5));
      await rec.settle();
      return { [contact]: 'contact' };
    },
  };
}
