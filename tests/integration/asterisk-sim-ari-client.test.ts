/**
 * The simulated Asterisk driven by the real `ari-client` 2.2.0: connect (api-docs + basePath), events
 * promoted to resource instances (a missing model or resource would crash the client, ari.md §0.2–0.3),
 * originate, answer, play, DTMF, bridges, hangups, error bodies.
 * ari-client has no types; it is loaded with createRequire and typed loosely here (no .d.ts needed).
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;
const require = createRequire(import.meta.url);
const ari = require('ari-client') as { connect(url: string, user: string, pass: string): Promise<Any> };

const APP = 'alarmhub';
let sim: AsteriskSim;
let client: Any;
const seen: { type: string; ids: string[] }[] = [];

/** Waits for an instance event (`ch.once(type)`), with a timeout. */
function once(resource: Any, type: string, timeoutMs = 5000): Promise<[Any, Any]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${type} not received for ${resource.id}`)), timeoutMs);
    resource.once(type, (event: Any, instance: Any) => {
      clearTimeout(timer);
      resolve([event, instance]);
    });
  });
}

/** Rejection body of an ari-client call, parsed ({"message": …}); the HTTP status is lost (ari.md §4.3). */
async function errorBody(p: Promise<unknown>): Promise<Any> {
  try {
    await p;
  } catch (err) {
    return JSON.parse((err as Error).message);
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  sim = await startAsteriskSim({
    port: 0,
    timeScale: 0.1,
    app: APP,
    sounds: ['alarm-for-x', 'press-1'], // besides the core sounds and Anxin's prompts (sounds.ts)
    directory: [
      { match: 'PJSIP/agent*', action: 'answer', answerAfter: 0.5 },
      { match: '13800138000', action: 'answer', answerAfter: 1, dtmf: [{ at: 1, digits: '1' }] },
      { match: '13900139000', action: 'busy' },
      { match: '13700137000', action: 'noanswer' },
    ],
  });
  client = await ari.connect(sim.url, sim.username, sim.password);
  client.on('*', (event: Any) => {
    seen.push({ type: event.type, ids: [event.channel?.id, event.peer?.id, event.playback?.id, event.bridge?.id].filter(Boolean) });
  });
  await client.start(APP);
});

afterAll(async () => {
  client?.stop();
  await sim?.stop();
});

describe('ari-client against the simulator', () => {
  it('connects (api-docs with rewritten basePath), exposes the resources, and registers the app', async () => {
    for (const r of ['channels', 'bridges', 'playbacks', 'asterisk', 'applications', 'events']) expect(client[r]).toBeDefined();
    const info = await client.asterisk.getInfo();
    expect(info.system.entity_id).toBe('08:00:27:4e:1b:9c');
    const apps = await client.applications.list();
    expect(apps.map((a: Any) => a.name)).toContain(APP);
    expect(sim.requestLog().some((r) => r.url === '/ari/api-docs/resources.json' && r.status === 401)).toBe(true); // the unauthenticated preflight
  });

  it('originate with a client-made id: events reach the instance, StasisStart last; play, DTMF and hangup', async () => {
    const ch = client.Channel();
    const types: string[] = [];
    for (const t of ['Dial', 'ChannelStateChange', 'StasisStart', 'ChannelDtmfReceived', 'ChannelHangupRequest', 'StasisEnd', 'ChannelDestroyed']) {
      ch.on(t, (e: Any) => types.push(t === 'Dial' ? `Dial:${e.dialstatus}` : t === 'ChannelStateChange' ? `State:${e.channel.state}` : t));
    }
    const started = once(ch, 'StasisStart');
    const created = await ch.originate({ endpoint: 'PJSIP/13800138000@trunk', app: APP, appArgs: 'contact,42,1', callerId: 'Anxin <0800123456>', timeout: 25 });
    expect(created.id).toBe(ch.id);
    expect(created.state).toBe('Down');
    const [startEvent, startCh] = await started;
    expect(startEvent.args).toEqual(['contact', '42', '1']);
    expect(startCh.id).toBe(ch.id);
    expect(typeof startCh.answer).toBe('function');

    const playback = client.Playback();
    const finished = once(playback, 'PlaybackFinished');
    const queued = await ch.play({ media: ['sound:alarm-for-x', 'sound:press-1'] }, playback);
    expect(queued.id).toBe(playback.id);
    const dtmf = await once(ch, 'ChannelDtmfReceived');
    expect(dtmf[0].digit).toBe('1');
    expect((await finished)[0].playback.state).toBe('done');

    const gone = once(ch, 'ChannelDestroyed');
    await ch.hangup();
    expect((await gone)[0].cause).toBe(16);
    expect(types).toEqual([
      'Dial:', 'State:Ringing', 'Dial:RINGING', 'State:Up', 'Dial:ANSWER', 'StasisStart',
      'ChannelDtmfReceived', 'ChannelHangupRequest', 'StasisEnd', 'ChannelDestroyed',
    ]);
  });

  it('bridges two answered legs; ChannelEnteredBridge/LeftBridge promote {bridge, channel}', async () => {
    const elder = client.Channel();
    const agent = client.Channel();
    const up = Promise.all([once(elder, 'StasisStart'), once(agent, 'StasisStart')]);
    await elder.originate({ endpoint: 'PJSIP/agent-elder', app: APP, appArgs: 'elder,7' });
    await agent.originate({ endpoint: 'PJSIP/agent1', app: APP, appArgs: 'agent,7' });
    await up;

    const bridge = client.Bridge();
    const entered: [string, string[]][] = [];
    bridge.on('ChannelEnteredBridge', (_e: Any, objs: Any) => entered.push([objs.channel.id, objs.bridge.channels]));
    const made = await bridge.create({ type: 'mixing', name: 'alarm-7' });
    expect(made.id).toBe(bridge.id);
    const bothIn = once(agent, 'ChannelEnteredBridge');
    await bridge.addChannel({ channel: [elder.id, agent.id] });
    await bothIn;
    expect(entered).toEqual([
      [elder.id, [elder.id]],
      [agent.id, [elder.id, agent.id]],
    ]);

    const left = once(elder, 'ChannelLeftBridge');
    const elderGone = once(elder, 'ChannelDestroyed');
    await elder.hangup();
    const [leftEvent, objs] = await left;
    expect(leftEvent.bridge.channels).toEqual([agent.id]);
    expect(objs.bridge.id).toBe(bridge.id);
    await elderGone;

    expect(await errorBody(bridge.removeChannel({ channel: elder.id }))).toEqual({ message: 'Channel not found' });
    await bridge.destroy();
    const agentGone = once(agent, 'ChannelDestroyed');
    await agent.hangup({ reason: 'normal' });
    await agentGone;
  });

  it('busy and no-answer legs end in ChannelDestroyed 17 / 19 without StasisStart', async () => {
    const busy = client.Channel();
    const ringing = client.Channel();
    const busyGone = once(busy, 'ChannelDestroyed');
    const ringGone = once(ringing, 'ChannelDestroyed');
    await busy.originate({ endpoint: 'PJSIP/13900139000@trunk', app: APP });
    await ringing.originate({ endpoint: 'PJSIP/13700137000@trunk', app: APP, timeout: 2 });
    expect((await busyGone)[0].cause).toBe(17);
    expect((await ringGone)[0].cause).toBe(19);
    expect(seen.some((s) => s.type === 'StasisStart' && (s.ids.includes(busy.id) || s.ids.includes(ringing.id)))).toBe(false);
  });

  it('loses the HTTP status but keeps Asterisk error bodies (404, 409 duplicate, 409 not in Stasis)', async () => {
    expect(await errorBody(client.channels.get({ channelId: 'nope' }))).toEqual({ message: 'Channel not found' });
    const ch = client.Channel();
    await ch.originate({ endpoint: 'PJSIP/13700137000@trunk', app: APP, timeout: -1 });
    expect(await errorBody(client.channels.originate({ endpoint: 'PJSIP/13700137000@trunk', app: APP, channelId: ch.id }))).toEqual({
      message: 'Channel with given unique ID already exists',
    });
    expect(await errorBody(ch.answer())).toEqual({ message: 'Channel not in Stasis application' });
    expect(sim.originateLog().filter((o) => o.channelId === ch.id && o.dialed)).toHaveLength(1);
    const gone = once(ch, 'ChannelDestroyed');
    await ch.hangup({ reason: 'no_answer' });
    expect((await gone)[0].cause).toBe(19);
  });

  it('receives an injected inbound SOS call, answers it, and sees the caller hang up', async () => {
    const started = new Promise<Any>((resolve) => {
      const onStart = (event: Any, channel: Any) => {
        if (event.args[0] !== 'sos') return;
        client.removeListener('StasisStart', onStart);
        resolve(channel);
      };
      client.on('StasisStart', onStart);
    });
    sim.injectCall({ from: '0612345678', to: '0800123456', hangupAfter: null, hangupAfterAnswer: 0.5 });
    const channel = await started;
    expect(channel.state).toBe('Ring');
    expect(channel.caller.number).toBe('0612345678');
    expect(channel.dialplan.exten).toBe('0800123456');
    const upEvent = once(channel, 'ChannelStateChange');
    await channel.answer();
    expect((await upEvent)[0].channel.state).toBe('Up');
    const [end] = await once(channel, 'StasisEnd');
    expect(end.channel.id).toBe(channel.id);
  });
});
