/**
 * Fidelity scenarios for the hotline queue (issue 19), run by ari-fidelity.test.ts against the simulator and a
 * real Asterisk: a caller in a holding bridge with MOH hears a position announcement (a channel playback; a
 * bridge playback fails while MOH is on), leaves the bridge; and the voicemail's channel recording.
 */
import type { AriEvent } from './ari-raw.ts';
import { ms, uid, type Scenario } from './ari-scenarios.ts';

const is = (type: string, id: string) => (e: AriEvent) => e.type === type && (e.channel?.id === id || e.peer?.id === id);
const pbIs = (type: string, id: string) => (e: AriEvent) => e.type === type && e.playback?.id === id;

export const queueHolding: Scenario = {
  name: 'queue: holding bridge with MOH, position announcement, caller leaves',
  async run(rec, t, app) {
    const [caller, hold, bpb, cpb] = [uid('caller'), uid('hold'), uid('bpb'), uid('cpb')];
    await rec.call('POST', 'bridges', { query: { type: 'holding', bridgeId: hold, name: 'fidelity-queue' } });
    const res = await rec.call('POST', 'channels', { query: { endpoint: t.trunk(t.numbers.answer), app, appArgs: 'fidelity', channelId: caller } });
    if (res.status !== 200) throw new Error(`originate: HTTP ${res.status} ${res.text}`);
    await rec.waitFor(is('StasisStart', caller), ms(t, 5));
    await rec.call('POST', `bridges/${hold}/addChannel`, { query: { channel: caller } });
    await rec.waitFor(is('ChannelEnteredBridge', caller), 3000);
    await rec.call('POST', `bridges/${hold}/moh`);
    await rec.call('POST', `bridges/${hold}/play`, { query: { media: 'sound:digits/3', playbackId: bpb } });
    await rec.waitFor(pbIs('PlaybackFinished', bpb), 3000);
    await rec.call('POST', `channels/${caller}/play`, { query: { media: 'sound:digits/1', playbackId: cpb } });
    await rec.waitFor(pbIs('PlaybackFinished', cpb), ms(t, 5));
    await rec.call('DELETE', `bridges/${hold}/moh`);
    await rec.call('POST', `bridges/${hold}/removeChannel`, { query: { channel: caller } });
    await rec.waitFor(is('ChannelLeftBridge', caller), 3000);
    await rec.call('DELETE', `channels/${caller}`);
    await rec.waitFor(is('ChannelDestroyed', caller), 3000);
    await rec.call('DELETE', `bridges/${hold}`);
    await rec.settle();
    return { [caller]: 'caller', [hold]: 'hold', [bpb]: 'bpb', [cpb]: 'cpb' };
  },
};

export const voicemailRecording: Scenario = {
  name: 'voicemail: channel recording ended by the hang-up, stored, name taken',
  async run(rec, t, app) {
    const caller = uid('caller');
    const name = uid('fidelity-vm');
    const res = await rec.call('POST', 'channels', { query: { endpoint: t.trunk(t.numbers.answer), app, appArgs: 'fidelity', channelId: caller } });
    if (res.status !== 200) throw new Error(`originate: HTTP ${res.status} ${res.text}`);
    await rec.waitFor(is('StasisStart', caller), ms(t, 5));
    const r = await rec.call('POST', `channels/${caller}/record`, { query: { name, format: 'wav', maxDurationSeconds: 30, ifExists: 'fail', beep: 'false' } });
    if (r.status !== 201) throw new Error(`record: HTTP ${r.status} ${r.text}`);
    await rec.waitFor((e) => e.type === 'RecordingStarted', 3000);
    await new Promise((res2) => setTimeout(res2, 500));
    await rec.call('DELETE', `channels/${caller}`);
    await rec.waitFor((e) => e.type === 'RecordingFinished', 3000);
    await rec.waitFor(is('ChannelDestroyed', caller), 3000);
    await rec.call('GET', `recordings/stored/${name}`);
    await rec.call('DELETE', `recordings/stored/${name}`);
    await rec.settle();
    return { [caller]: 'caller', [name]: 'vm' };
  },
};

/** A caller hangs up during an announcement: the playback ends `failed` after the ChannelHangupRequest. */
export const hangupMidPrompt: Scenario = {
  name: 'queue: the caller hangs up during an announcement',
  async run(rec, t, app) {
    const [caller, pb] = [uid('caller'), uid('pb')];
    const res = await rec.call('POST', 'channels', { query: { endpoint: t.trunk(t.numbers.answer), app, appArgs: 'fidelity', channelId: caller } });
    if (res.status !== 200) throw new Error(`originate: HTTP ${res.status} ${res.text}`);
    await rec.waitFor(is('StasisStart', caller), ms(t, 5));
    await rec.call('POST', `channels/${caller}/play`, { query: { media: 'sound:anxin-queue-voicemail', playbackId: pb } });
    await rec.waitFor(pbIs('PlaybackStarted', pb), 3000);
    await rec.call('DELETE', `channels/${caller}`);
    await rec.waitFor(is('ChannelDestroyed', caller), 3000);
    await rec.settle();
    return { [caller]: 'caller', [pb]: 'pb' };
  },
};

export const HOTLINE_SCENARIOS: Scenario[] = [queueHolding, voicemailRecording, hangupMidPrompt];
