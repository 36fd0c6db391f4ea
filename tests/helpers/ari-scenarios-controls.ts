/**
 * Fidelity scenarios for the in-call controls (issue 19): hold in a holding bridge with MOH, channel
 * hold/mute/DTMF, bridge recording with the stored-recording REST calls, and snoop (spy / whisper). Run by
 * ari-capture.ts and ari-fidelity.test.ts against the simulator and a real Asterisk.
 */
import type { AriEvent } from './ari-raw.ts';
import type { Recorder } from './ari-record.ts';
import { ms, uid, type Scenario } from './ari-scenarios.ts';
import type { AriTargetEnv } from './ari-target.ts';

/** One id per process for the snooped channel: the snoop channel's name (`Snoop/<id>-…`) is compared across targets. */
const SNOOPED = uid('snooped');

const is = (type: string, id: string) => (e: AriEvent) => e.type === type && (e.channel?.id === id || e.peer?.id === id);

async function answered(rec: Recorder, t: AriTargetEnv, app: string, endpoint: string, id: string): Promise<void> {
  const res = await rec.call('POST', 'channels', { query: { endpoint, app, appArgs: 'fidelity', channelId: id } });
  if (res.status !== 200) throw new Error(`originate ${endpoint}: HTTP ${res.status} ${res.text}`);
  await rec.waitFor(is('StasisStart', id), ms(t, 5));
}

async function hangupAll(rec: Recorder, ids: string[], bridges: string[]): Promise<void> {
  for (const id of ids) {
    await rec.call('DELETE', `channels/${id}`);
    await rec.waitFor(is('ChannelDestroyed', id), 5000);
  }
  for (const b of bridges) await rec.call('DELETE', `bridges/${b}`);
  await rec.settle();
}

/** The far leg moves from the call's mixing bridge to a holding bridge with MOH, and back. */
export const holdingBridge: Scenario = {
  name: 'hold: far leg to a holding bridge with MOH and back',
  async run(rec, t, app) {
    const [far, agent, br, hold] = [uid('far'), uid('agent'), uid('br'), uid('hold')];
    await rec.call('POST', 'bridges', { query: { type: 'mixing', bridgeId: br, name: 'fidelity' } });
    await rec.call('POST', 'bridges', { query: { type: 'holding', bridgeId: hold, name: 'fidelity-hold' } });
    await answered(rec, t, app, t.trunk(t.numbers.answer), far);
    await answered(rec, t, app, t.agent(t.agents.answer), agent);
    await rec.call('POST', `bridges/${br}/addChannel`, { query: { channel: `${far},${agent}` } });
    await rec.waitFor((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === agent, 3000);
    await rec.call('POST', `bridges/${hold}/addChannel`, { query: { channel: far } });
    await rec.waitFor((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === far && e.bridge?.id === hold, 3000);
    await rec.call('POST', `bridges/${hold}/moh`);
    await new Promise((r) => setTimeout(r, 500));
    await rec.call('DELETE', `bridges/${hold}/moh`);
    await rec.call('POST', `bridges/${br}/addChannel`, { query: { channel: far } });
    await rec.waitFor((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === far && e.bridge?.id === br, 3000);
    await hangupAll(rec, [far, agent], [hold, br]);
    return { [far]: 'far', [agent]: 'agent', [br]: 'bridge', [hold]: 'hold' };
  },
};

/** Channel hold/unhold, mute/unmute, and DTMF sent into an echoing far end (its echo comes back as DTMF). */
export const channelControls: Scenario = {
  name: 'channel hold, mute and DTMF into an echo',
  async run(rec, t, app) {
    const far = uid('far');
    await answered(rec, t, app, t.trunk(t.numbers.echo), far);
    await rec.call('POST', `channels/${far}/hold`);
    await rec.call('DELETE', `channels/${far}/hold`);
    await rec.call('POST', `channels/${far}/mute`, { query: { direction: 'in' } });
    await rec.call('DELETE', `channels/${far}/mute`, { query: { direction: 'in' } });
    await rec.call('POST', `channels/${far}/dtmf`, { query: { dtmf: '12', between: 200, duration: 120 } });
    await rec.waitFor((e) => e.type === 'ChannelDtmfReceived' && e.channel?.id === far && e.digit === '2', ms(t, 4)).catch(() => undefined);
    await rec.settle();
    await hangupAll(rec, [far], []);
    return { [far]: 'far' };
  },
};

/** A bridge recording: RecordingStarted … RecordingFinished, then the stored recording's REST calls. */
export const bridgeRecording: Scenario = {
  name: 'bridge recording, stored file, delete',
  async run(rec, t, app) {
    const [far, agent, br] = [uid('far'), uid('agent'), uid('br')];
    const name = uid('fidelity-rec');
    await rec.call('POST', 'bridges', { query: { type: 'mixing', bridgeId: br } });
    await answered(rec, t, app, t.trunk(t.numbers.echo), far);
    await answered(rec, t, app, t.agent(t.agents.answer), agent);
    await rec.call('POST', `bridges/${br}/addChannel`, { query: { channel: `${far},${agent}` } });
    await rec.waitFor((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === agent, 3000);
    const started = await rec.call('POST', `bridges/${br}/record`, { query: { name, format: 'wav', ifExists: 'fail' } });
    if (started.status !== 201) throw new Error(`record: HTTP ${started.status} ${started.text}`);
    await rec.waitFor((e) => e.type === 'RecordingStarted', 3000);
    await new Promise((r) => setTimeout(r, 1500));
    await rec.call('POST', `recordings/live/${name}/stop`);
    await rec.waitFor((e) => e.type === 'RecordingFinished', 5000);
    await rec.call('GET', `recordings/stored/${name}`);
    await rec.call('GET', `recordings/stored/${name}/file`);
    await rec.call('DELETE', `recordings/stored/${name}`);
    await rec.call('GET', `recordings/stored/${name}`);
    await hangupAll(rec, [far, agent], [br]);
    return { [far]: 'far', [agent]: 'agent', [br]: 'bridge', [name]: 'rec' };
  },
};

/** Snoop on the agent leg (spy both, then whisper out), bridged with a supervisor leg. */
export const snoop: Scenario = {
  name: 'snoop: spy and whisper bridged with a supervisor',
  async run(rec, t, app) {
    const [agent, sup, spy, br] = [SNOOPED, uid('sup'), uid('spy'), uid('br')];
    await answered(rec, t, app, t.agent(t.agents.answer), agent);
    await answered(rec, t, app, t.trunk(t.numbers.answer), sup);
    const s = await rec.call('POST', `channels/${agent}/snoop`, { query: { spy: 'both', whisper: 'out', app, appArgs: 'snoop', snoopId: spy } });
    if (s.status !== 200) throw new Error(`snoop: HTTP ${s.status} ${s.text}`);
    await rec.waitFor(is('StasisStart', spy), 3000);
    await rec.call('POST', 'bridges', { query: { type: 'mixing', bridgeId: br } });
    await rec.call('POST', `bridges/${br}/addChannel`, { query: { channel: `${spy},${sup}` } });
    await rec.waitFor((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === sup, 3000);
    await rec.call('DELETE', `channels/${spy}`);
    await rec.waitFor(is('ChannelDestroyed', spy), 3000).catch(() => undefined);
    await rec.settle();
    await hangupAll(rec, [sup, agent], [br]);
    return { [agent]: 'agent', [sup]: 'sup', [spy]: 'spy', [br]: 'bridge' };
  },
};

export const CONTROL_SCENARIOS: Scenario[] = [holdingBridge, channelControls, bridgeRecording, snoop];
