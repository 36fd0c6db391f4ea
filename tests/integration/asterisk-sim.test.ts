/**
 * The simulated Asterisk driven by raw HTTP (fetch) and a raw `ws` event socket: exact event orders and
 * cause codes from ari.md §2–§3, errors from §1, auth and api-docs from §0 and §4.
 * Time runs 10× faster (timeScale 0.1); only orders and counts are asserted, never durations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.ts';
import { describeEvent, getWithHost, makeAri, openEvents, type EventStream } from '../helpers/ari-raw.ts';

const APP = 'alarmhub';
let sim: AsteriskSim;
let ari: ReturnType<typeof makeAri>;
let ev: EventStream;
let seq = 0;
const uid = (p: string) => `${p}-${++seq}`;

const order = (id: string) => ev.forChannel(id).map(describeEvent);
const destroyed = (id: string) => ev.waitFor((e) => e.type === 'ChannelDestroyed' && e.channel.id === id);
const stasisStart = (id: string) => ev.waitFor((e) => e.type === 'StasisStart' && e.channel.id === id);
const stasisEnd = (id: string) => ev.waitFor((e) => e.type === 'StasisEnd' && e.channel.id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function originate(endpoint: string, extra: Record<string, string | number> = {}) {
  const channelId = uid('ch');
  const res = await ari('POST', 'channels', { query: { endpoint, app: APP, channelId, ...extra } });
  return { channelId, res };
}

beforeAll(async () => {
  sim = await startAsteriskSim({
    port: 0,
    timeScale: 0.1,
    app: APP,
    // names this file plays besides the installed core sounds and Anxin's prompts (sounds.ts)
    sounds: ['alarm-for-x', 'press-1', 'a', 'b', 'c', 'd', 'e'],
    directory: {
      endpoints: [
        { match: '8001', action: 'answer', answerAfter: 1 },
        { match: '13900139000', action: 'busy', after: 1 },
        { match: '13700137000', action: 'noanswer' },
        { match: '13600136000', action: 'reject', after: 1 },
        { match: '13500135000', action: 'answer', answerAfter: 0.5, hangupAfter: 1 },
        { match: '13800138000', action: 'answer', answerAfter: 0.5, dtmf: [{ at: 0.5, digits: '1#' }] },
        { match: '0000*', action: 'congestion' },
        { match: 'PJSIP/broken*', action: 'unavailable' },
      ],
    },
  });
  ari = makeAri(sim.url);
  ev = await openEvents(sim.url, APP);
});

afterAll(async () => {
  await ev?.close();
  await sim?.stop();
});

describe('auth and api-docs', () => {
  it('answers 401 with the Asterisk body and realm without credentials, and accepts Basic or api_key', async () => {
    const none = await ari('GET', 'channels', { auth: 'none' });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ message: 'Authentication required' });
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="Asterisk REST Interface"');
    expect((await ari('GET', 'api-docs/resources.json', { auth: 'none' })).status).toBe(401);
    expect((await ari('GET', 'channels', { auth: ['anxin', 'wrong'] })).status).toBe(401);
    expect((await ari('GET', 'channels', { auth: 'basic' })).status).toBe(200);
    expect((await ari('GET', 'channels', { auth: 'apikey' })).status).toBe(200);
  });

  it('refuses the event WebSocket without valid credentials (401) and without app (400)', async () => {
    const attempt = (q: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/ari/events?${q}`);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => undefined);
      });
    expect(await attempt('app=x')).toBe(401);
    expect(await attempt('app=x&api_key=anxin:bad')).toBe(401);
    expect(await attempt('api_key=anxin:anxin')).toBe(400);
  });

  it('rewrites basePath to the Host header used, in resources.json and every resource file', async () => {
    for (const host of [`127.0.0.1:${sim.port}`, `localhost:${sim.port}`, 'pbx.example.test:8088']) {
      const listing = await getWithHost(sim.port, '/ari/api-docs/resources.json', host);
      expect(listing.status).toBe(200);
      expect((listing.json as { basePath: string }).basePath).toBe(`http://${host}/ari`);
      const apis = (listing.json as { apis: { path: string }[] }).apis.map((a) => a.path.replace('/api-docs/', '').replace('.{format}', ''));
      expect(apis).toEqual(expect.arrayContaining(['channels', 'bridges', 'playbacks', 'events', 'asterisk', 'applications']));
      for (const name of apis) {
        const doc = await getWithHost(sim.port, `/ari/api-docs/${name}.json`, host);
        expect(doc.status).toBe(200);
        expect((doc.json as { basePath: string }).basePath).toBe(`http://${host}/ari`);
      }
    }
  });

  it('has a model in events.json for every event type the simulator can send', async () => {
    const doc = await ari('GET', 'api-docs/events.json');
    const models = Object.keys(doc.json.models as object);
    for (const t of ['StasisStart', 'StasisEnd', 'ChannelStateChange', 'ChannelDestroyed', 'ChannelHangupRequest', 'ChannelDtmfReceived', 'Dial',
      'ChannelEnteredBridge', 'ChannelLeftBridge', 'BridgeDestroyed', 'PlaybackStarted', 'PlaybackContinuing', 'PlaybackFinished', 'ChannelVarset', 'ApplicationReplaced']) {
      expect(models).toContain(t);
    }
  });

  it('gives Asterisk errors for unknown paths, trailing slashes and wrong methods', async () => {
    expect(await ari('GET', 'nothing/here').then((r) => [r.status, r.json])).toEqual([404, { message: 'Resource not found' }]);
    expect(await ari('GET', 'channels/').then((r) => [r.status, r.json])).toEqual([404, { message: 'ARI URLs do not end with a slash. Try /ari/channels' }]);
    const wrong = await ari('PUT', 'channels');
    expect([wrong.status, wrong.json]).toEqual([405, { message: 'Invalid method' }]);
    expect(wrong.headers.get('allow')).toContain('POST');
    expect((await ari('POST', 'api-docs/resources.json')).status).toBe(405);
  });

  it('serves asterisk info, ping and the registered application', async () => {
    const info = await ari('GET', 'asterisk/info', { query: { only: 'system,status' } });
    expect(Object.keys(info.json).sort()).toEqual(['status', 'system']);
    expect((await ari('GET', 'asterisk/ping')).json.ping).toBe('pong');
    const apps = await ari('GET', 'applications');
    expect(apps.json.map((a: { name: string }) => a.name)).toContain(APP);
    expect((await ari('GET', `applications/${APP}`)).status).toBe(200);
    expect((await ari('GET', 'applications/nope')).status).toBe(404);
  });
});

describe('originate to app: event orders and causes (ari.md §3.1)', () => {
  it('answered: Dial "" → Ringing → Dial RINGING → Up → Dial ANSWER → Varset STASISSTATUS → StasisStart; our hangup → soft 32 → StasisEnd → Varset → Destroyed 16', async () => {
    const { channelId, res } = await originate('PJSIP/8001', { appArgs: 'elder,42', callerId: '"Centre" <0800123456>', timeout: 30 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: channelId, state: 'Down', caller: { name: 'Centre', number: '0800123456' }, connected: { number: '0800123456' } });
    expect(Object.keys(res.json)).toEqual(['id', 'name', 'state', 'protocol_id', 'caller', 'connected', 'accountcode', 'dialplan', 'creationtime', 'language']);
    expect(res.json.creationtime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/);
    const start = await stasisStart(channelId);
    expect(start.args).toEqual(['elder', '42']);
    expect(start.channel).toMatchObject({ state: 'Up', caller: { number: '0800123456' }, dialplan: { app_name: 'Stasis', app_data: `${APP},elder,42` } });
    expect(start).toMatchObject({ application: APP, asterisk_id: '08:00:27:4e:1b:9c' });
    // orders as captured on Asterisk 22.10.1 (issue 17 item 6)
    expect(order(channelId)).toEqual(['Dial:', 'ChannelStateChange:Ringing', 'Dial:RINGING', 'ChannelStateChange:Up', 'Dial:ANSWER', 'ChannelVarset:STASISSTATUS=', 'StasisStart']);
    expect(ev.forChannel(channelId).find((e) => e.type === 'Dial')?.dialstring).toBe('8001');

    expect((await ari('DELETE', `channels/${channelId}`)).status).toBe(204);
    await destroyed(channelId);
    expect(order(channelId).slice(7)).toEqual(['ChannelHangupRequest:32:soft', 'StasisEnd', 'ChannelVarset:STASISSTATUS=SUCCESS', 'ChannelDestroyed:16']);
    expect(ev.forChannel(channelId).at(-1)?.cause_txt).toBe('Normal Clearing');
    expect(ev.events.some((e) => e.type === 'ChannelCreated')).toBe(false);
    expect((await ari('GET', `channels/${channelId}`)).status).toBe(404);
  });

  it('busy: Dial "" → HangupRequest 17 (tech_cause 486) → Dial BUSY → Destroyed 17, no StasisStart', async () => {
    const { channelId } = await originate('PJSIP/13900139000@trunk');
    const d = await destroyed(channelId);
    expect(d.cause_txt).toBe('User busy');
    expect(d.tech_cause).toBe(486); // PJSIP: the SIP code, as a 486 gave on Asterisk 22.10.1
    expect(order(channelId)).toEqual(['Dial:', 'ChannelHangupRequest:17', 'Dial:BUSY', 'ChannelDestroyed:17']);
  });

  it('busy with cause 0 (Busy() behind a Local channel): Dial BUSY → Destroyed 0, no HangupRequest', async () => {
    sim.directory.add({ match: 'Local/busyapp@far', action: 'busy', cause: 0, after: 0 });
    const { channelId } = await originate('Local/busyapp@far');
    const d = await destroyed(channelId);
    expect(d).not.toHaveProperty('tech_cause');
    expect(order(channelId)).toEqual(['Dial:', 'Dial:BUSY', 'ChannelDestroyed:0']);
  });

  it('no answer: rings until the originate timeout, then only ChannelDestroyed 19 (no Dial NOANSWER)', async () => {
    const { channelId } = await originate('PJSIP/13700137000@trunk', { timeout: 3 });
    const d = await destroyed(channelId);
    expect(d.cause_txt).toBe('User alerting, no answer');
    expect(order(channelId)).toEqual(['Dial:', 'ChannelStateChange:Ringing', 'Dial:RINGING', 'ChannelDestroyed:19']);
  });

  it('rejected: HangupRequest 21 → Dial NOANSWER → Destroyed 21; congestion: HangupRequest 34 → Dial CONGESTION', async () => {
    const rej = await originate('PJSIP/13600136000@trunk');
    expect((await destroyed(rej.channelId)).cause_txt).toBe('Call Rejected');
    expect(order(rej.channelId)).toEqual(['Dial:', 'ChannelStateChange:Ringing', 'Dial:RINGING', 'ChannelHangupRequest:21', 'Dial:NOANSWER', 'ChannelDestroyed:21']);
    const cong = await originate('PJSIP/0000123@trunk');
    await destroyed(cong.channelId);
    expect(order(cong.channelId)).toEqual(['Dial:', 'ChannelHangupRequest:34', 'Dial:CONGESTION', 'ChannelDestroyed:34']);
  });

  it('far end hangs up after N s: HangupRequest 16 (no soft) → StasisEnd → Destroyed 16', async () => {
    const { channelId } = await originate('PJSIP/trunk/sip:13500135000@carrier');
    await destroyed(channelId);
    expect(order(channelId)).toEqual([
      'Dial:', 'ChannelStateChange:Ringing', 'Dial:RINGING', 'ChannelStateChange:Up', 'Dial:ANSWER', 'ChannelVarset:STASISSTATUS=', 'StasisStart',
      'ChannelHangupRequest:16', 'StasisEnd', 'ChannelVarset:STASISSTATUS=SUCCESS', 'ChannelDestroyed:16',
    ]);
    expect(ev.forChannel(channelId).find((e) => e.type === 'ChannelHangupRequest')).not.toHaveProperty('soft');
  });

  it('we cancel while ringing: soft 32 → Dial NOANSWER → Destroyed with the reason given', async () => {
    const { channelId } = await originate('PJSIP/13700137000@trunk', { timeout: 30 });
    await ev.waitFor((e) => e.type === 'Dial' && e.dialstatus === 'RINGING' && e.peer.id === channelId);
    expect((await ari('POST', `channels/${channelId}/answer`)).json).toEqual({ message: 'Channel not in Stasis application' });
    expect((await ari('DELETE', `channels/${channelId}`, { query: { reason: 'no_answer' } })).status).toBe(204);
    await destroyed(channelId);
    expect(order(channelId)).toEqual(['Dial:', 'ChannelStateChange:Ringing', 'Dial:RINGING', 'ChannelHangupRequest:32:soft', 'Dial:NOANSWER', 'ChannelDestroyed:19']);
  });

  it('scripted DTMF arrives as ChannelDtmfReceived per digit after the answer', async () => {
    const { channelId } = await originate('PJSIP/13800138000@trunk');
    await ev.waitFor((e) => e.type === 'ChannelDtmfReceived' && e.digit === '#' && e.channel.id === channelId);
    const dtmf = ev.forChannel(channelId).filter((e) => e.type === 'ChannelDtmfReceived');
    expect(dtmf.map((e) => [e.digit, e.duration_ms])).toEqual([['1', 100], ['#', 100]]);
    expect(order(channelId).indexOf('StasisStart')).toBeLessThan(order(channelId).indexOf('ChannelDtmfReceived:1'));
    await ari('DELETE', `channels/${channelId}`);
    await destroyed(channelId);
  });

  it('accepts every originate parameter in a JSON body (body wins over the query)', async () => {
    const channelId = uid('json');
    const res = await ari('POST', 'channels', {
      query: { endpoint: 'PJSIP/13900139000@trunk' },
      body: { endpoint: 'PJSIP/8001', app: APP, appArgs: 'agent,7', channelId, timeout: 20, variables: { ALARM_ID: '7', X: { value: 'y', report_events: true } } },
    });
    expect(res.status).toBe(200);
    expect(res.json.name).toMatch(/^PJSIP\/8001-[0-9a-f]{8}$/);
    expect(res.json.channelvars).toEqual({ X: 'y' });
    expect((await stasisStart(channelId)).args).toEqual(['agent', '7']);
    expect((await ari('GET', `channels/${channelId}/variable`, { query: { variable: 'ALARM_ID' } })).json).toEqual({ value: '7' });
    await ari('DELETE', `channels/${channelId}`);
    await destroyed(channelId);
  });

  it('a duplicate channelId answers 409 and does not dial twice', async () => {
    const channelId = uid('dup');
    const first = await ari('POST', 'channels', { query: { endpoint: 'PJSIP/13700137000@trunk', app: APP, channelId } });
    const second = await ari('POST', `channels/${channelId}`, { query: { endpoint: 'PJSIP/13700137000@trunk', app: APP } });
    const third = await ari('POST', 'channels', { query: { endpoint: 'PJSIP/8001', app: APP, channelId } });
    expect(first.status).toBe(200);
    expect([second.status, second.json]).toEqual([409, { message: 'Channel with given unique ID already exists' }]);
    expect(third.status).toBe(409);
    await ev.waitFor((e) => e.type === 'Dial' && e.dialstatus === 'RINGING' && e.peer.id === channelId);
    expect(order(channelId).filter((d) => d === 'Dial:')).toHaveLength(1);
    const log = sim.originateLog().filter((o) => o.channelId === channelId);
    expect(log.map((o) => [o.status, o.dialed])).toEqual([[200, true], [409, false], [409, false]]);
    expect(log[0]?.query).toEqual({ endpoint: 'PJSIP/13700137000@trunk', app: APP, channelId });
    expect(sim.callLog().filter((c) => c.channelId === channelId)).toHaveLength(1);
    await ari('DELETE', `channels/${channelId}`);
    await destroyed(channelId);
  });

  it('validates originate like Asterisk (400 / 500 Allocation failed) and hangup (404 / 400)', async () => {
    const post = (query: Record<string, string>) => ari('POST', 'channels', { query }).then((r) => [r.status, r.json]);
    expect(await post({ app: APP })).toEqual([400, { message: 'Endpoint must be specified' }]);
    expect(await post({ endpoint: 'PJSIP', app: APP })).toEqual([400, { message: 'Invalid endpoint specified' }]);
    expect(await post({ endpoint: 'PJSIP/8001' })).toEqual([400, { message: 'Application or extension must be specified' }]);
    expect(await post({ endpoint: 'PJSIP/8001', app: APP, channelId: 'x'.repeat(150) })).toEqual([400, { message: 'Uniqueid length exceeds maximum of 149' }]);
    expect(await post({ endpoint: 'PJSIP/broken-endpoint', app: APP })).toEqual([500, { error: 'Allocation failed' }]);
    expect(await post({ endpoint: 'Bogus/123', app: APP })).toEqual([500, { error: 'Allocation failed' }]);
    expect(await ari('DELETE', 'channels/nope').then((r) => [r.status, r.json])).toEqual([404, { message: 'Channel not found' }]);
    const { channelId } = await originate('PJSIP/13700137000@trunk');
    expect((await ari('DELETE', `channels/${channelId}`, { query: { reason: 'busy', reason_code: '17' } })).status).toBe(400);
    expect(await ari('DELETE', `channels/${channelId}`, { query: { reason: 'bogus' } }).then((r) => [r.status, r.json])).toEqual([400, { message: 'Invalid reason for hangup provided' }]);
    expect((await ari('DELETE', `channels/${channelId}`, { query: { reason_code: '21' } })).status).toBe(204);
    expect((await destroyed(channelId)).cause).toBe(21);
  });
});

describe('create + dial (ari.md §3.4)', () => {
  it('StasisStart at once in Down; answer/play give 412; dial then answer gives Dial ANSWER + Up and no second StasisStart', async () => {
    const channelId = uid('created');
    const res = await ari('POST', 'channels/create', { query: { endpoint: 'PJSIP/8001', app: APP, appArgs: 'agent', channelId } });
    expect(res.json.state).toBe('Down');
    expect((await stasisStart(channelId)).channel.state).toBe('Down');
    expect(await ari('POST', `channels/${channelId}/answer`).then((r) => [r.status, r.json])).toEqual([412, { message: 'Channel in invalid state' }]);
    expect((await ari('POST', `channels/${channelId}/play`, { query: { media: 'sound:hello' } })).status).toBe(412);
    expect((await ari('POST', `channels/${channelId}/dial`, { query: { timeout: 10 } })).status).toBe(204);
    expect(await ari('POST', `channels/${channelId}/dial`).then((r) => [r.status, r.json])).toEqual([409, { message: "Channel is not in the 'Down' state" }]);
    await ev.waitFor((e) => e.type === 'ChannelStateChange' && e.channel.id === channelId && e.channel.state === 'Up');
    expect(order(channelId)).toEqual(['StasisStart', 'Dial:', 'ChannelStateChange:Ringing', 'Dial:RINGING', 'ChannelStateChange:Up', 'Dial:ANSWER']);
    await ari('DELETE', `channels/${channelId}`);
    await destroyed(channelId);
    expect(order(channelId).slice(6)).toEqual(['ChannelHangupRequest:32:soft', 'StasisEnd', 'ChannelDestroyed:16']);
  });
});

describe('bridges (ari.md §1.2, §2.2)', () => {
  it('enter/leave events carry the updated channel list; hangup of a bridged channel → HangupRequest → LeftBridge → StasisEnd → Destroyed', async () => {
    const a = await originate('PJSIP/8001');
    const b = await originate('PJSIP/8001');
    await Promise.all([stasisStart(a.channelId), stasisStart(b.channelId)]);
    const bridgeId = uid('br');
    const created = await ari('POST', 'bridges', { query: { bridgeId, name: 'alarm-42' } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ id: bridgeId, bridge_type: 'mixing', bridge_class: 'stasis', creator: 'Stasis', name: 'alarm-42', channels: [], video_mode: 'talker' });
    expect((await ari('POST', 'bridges', { query: { bridgeId } })).status).toBe(409);

    expect((await ari('POST', `bridges/${bridgeId}/addChannel`, { query: { channel: `${a.channelId},${b.channelId}` } })).status).toBe(204);
    const entered = ev.events.filter((e) => e.type === 'ChannelEnteredBridge' && e.bridge.id === bridgeId);
    expect(entered.map((e) => [e.channel.id, e.bridge.channels])).toEqual([
      [a.channelId, [a.channelId]],
      [b.channelId, [a.channelId, b.channelId]],
    ]);
    expect((await ari('GET', `bridges/${bridgeId}`)).json.channels).toEqual([a.channelId, b.channelId]);

    expect((await ari('POST', `bridges/${bridgeId}/removeChannel`, { query: { channel: a.channelId } })).status).toBe(204);
    const left = await ev.waitFor((e) => e.type === 'ChannelLeftBridge' && e.channel.id === a.channelId);
    expect(left.bridge.channels).toEqual([b.channelId]);
    expect((await ari('POST', `bridges/${bridgeId}/removeChannel`, { query: { channel: a.channelId } })).json).toEqual({ message: 'Channel not in this bridge' });

    await ari('DELETE', `channels/${b.channelId}`);
    await destroyed(b.channelId);
    expect(order(b.channelId).slice(-5)).toEqual(['ChannelHangupRequest:32:soft', 'ChannelLeftBridge', 'StasisEnd', 'ChannelVarset:STASISSTATUS=SUCCESS', 'ChannelDestroyed:16']);
    expect(ev.forChannel(b.channelId).find((e) => e.type === 'ChannelLeftBridge')?.bridge.channels).toEqual([]);

    expect((await ari('DELETE', `bridges/${bridgeId}`)).status).toBe(204);
    expect((await ari('GET', `bridges/${bridgeId}`)).status).toBe(404);
    // b left before the bridge went, yet the app stays subscribed and gets BridgeDestroyed (Asterisk 22.10.1)
    expect((await ev.waitFor((e) => e.type === 'BridgeDestroyed' && e.bridge.id === bridgeId)).bridge.channels).toEqual([]);
    expect(ev.events.some((e) => e.type === 'BridgeCreated')).toBe(false);
    await ari('DELETE', `channels/${a.channelId}`);
    await destroyed(a.channelId);
  });

  it('addChannel errors: 404 bridge, 400 missing/unknown channel, 422 channel not in Stasis', async () => {
    const bridgeId = uid('br');
    await ari('POST', `bridges/${bridgeId}`, { query: { type: 'mixing' } });
    const add = (channel?: string, id = bridgeId) => ari('POST', `bridges/${id}/addChannel`, { query: { channel } }).then((r) => [r.status, r.json]);
    expect(await add('x', 'no-bridge')).toEqual([404, { message: 'Bridge not found' }]);
    expect(await add(undefined)).toEqual([400, { message: 'Missing parameter channel' }]);
    expect(await add('no-channel')).toEqual([400, { message: 'Channel not found' }]);
    const ringing = await originate('PJSIP/13700137000@trunk');
    expect(await add(ringing.channelId)).toEqual([422, { message: 'Channel not in Stasis application' }]);
    await ari('DELETE', `channels/${ringing.channelId}`);
    await ari('DELETE', `bridges/${bridgeId}`);
    await destroyed(ringing.channelId);
  });
});

describe('playback (ari.md §1.4)', () => {
  it('201 + Location, queued body; Started(playing) → Continuing → Finished(done); unknown media fails; finished playback is gone', async () => {
    const { channelId } = await originate('PJSIP/8001');
    await stasisStart(channelId);
    const res = await ari('POST', `channels/${channelId}/play`, { query: { media: 'sound:alarm-for-x,sound:press-1', playbackId: 'pb-1' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/ari/playbacks/pb-1');
    expect(res.json).toEqual({ id: 'pb-1', media_uri: 'sound:alarm-for-x', next_media_uri: 'sound:press-1', target_uri: `channel:${channelId}`, language: 'en', state: 'queued' });
    const bad = await ari('POST', `channels/${channelId}/play/pb-2`, { query: { media: 'video:nothing' } });
    expect(bad.status).toBe(201);
    await ev.waitFor((e) => e.type === 'PlaybackFinished' && e.playback.id === 'pb-2');
    // a sound that is not installed fails at once, as on a real Asterisk (issue 17 item 2)
    await ari('POST', `channels/${channelId}/play/pb-4`, { query: { media: 'sound:anxin-does-not-exist' } });
    await ev.waitFor((e) => e.type === 'PlaybackFinished' && e.playback.id === 'pb-4');
    const pbs = ev.events.filter((e) => e.type.startsWith('Playback') && ['pb-1', 'pb-2', 'pb-4'].includes(e.playback.id));
    expect(pbs.map((e) => `${e.playback.id}:${describeEvent(e)}:${e.playback.media_uri}`)).toEqual([
      'pb-1:PlaybackStarted:playing:sound:alarm-for-x',
      'pb-1:PlaybackContinuing:continuing:sound:press-1',
      'pb-1:PlaybackFinished:done:sound:press-1',
      'pb-2:PlaybackStarted:playing:video:nothing',
      'pb-2:PlaybackFinished:failed:video:nothing',
      'pb-4:PlaybackStarted:playing:sound:anxin-does-not-exist',
      'pb-4:PlaybackFinished:failed:sound:anxin-does-not-exist',
    ]);
    expect((await ari('GET', 'playbacks/pb-1')).status).toBe(404);

    await ari('POST', `channels/${channelId}/play`, { query: { media: 'sound:a,sound:b,sound:c,sound:d,sound:e', playbackId: 'pb-3' } });
    expect((await ari('GET', 'playbacks/pb-3')).json.state).toBe('playing');
    expect((await ari('DELETE', 'playbacks/pb-3')).status).toBe(204);
    expect((await ev.waitFor((e) => e.type === 'PlaybackFinished' && e.playback.id === 'pb-3')).playback.state).toBe('done');
    await ari('DELETE', `channels/${channelId}`);
    await destroyed(channelId);
  });
});

describe('inbound calls injected through the control API (ari.md §3.5)', () => {
  it('ring-and-hang-up caller: StasisStart (Ring, caller.number, dialplan.exten) → HangupRequest 16 → StasisEnd, no ChannelDestroyed', async () => {
    const res = await fetch(`${sim.url}/sim/calls`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from: '0612345678', to: '0800123456', hangupAfter: 2 }),
    });
    const { channel, stasis } = (await res.json()) as { channel: { id: string }; stasis: boolean };
    expect(stasis).toBe(true);
    const start = await stasisStart(channel.id);
    expect(start.args).toEqual(['sos']);
    expect(start.channel).toMatchObject({
      state: 'Ring',
      caller: { number: '0612345678' },
      dialplan: { context: 'from-trunk', exten: '0800123456', app_name: 'Stasis', app_data: `${APP},sos` },
    });
    expect(start.channel.name).toMatch(/^PJSIP\/trunk-[0-9a-f]{8}$/);
    await stasisEnd(channel.id);
    await sleep(50);
    // a dialplan channel is unsubscribed at StasisEnd: no ChannelDestroyed (issue 17 item 1)
    expect(order(channel.id)).toEqual(['StasisStart', 'ChannelHangupRequest:16', 'StasisEnd']);
    expect(sim.callLog().find((c) => c.channelId === channel.id)).toMatchObject({ direction: 'inbound', number: '0612345678', did: '0800123456', endedBy: 'far_end', cause: 16 });
  });

  it('we answer (Ring → Up), the caller presses digits, and we hang up with reason busy', async () => {
    const { channel } = sim.injectCall({ from: '0611111111', to: '0800999999', args: 'service', hangupAfter: null, dtmf: [{ at: 0.2, digits: '9' }] });
    await stasisStart(channel.id);
    expect((await ari('POST', `channels/${channel.id}/ring`)).status).toBe(204);
    expect((await ari('POST', `channels/${channel.id}/answer`)).status).toBe(204);
    await ev.waitFor((e) => e.type === 'ChannelDtmfReceived' && e.channel.id === channel.id);
    await ari('DELETE', `channels/${channel.id}`, { query: { reason: 'busy' } });
    await stasisEnd(channel.id);
    await sleep(50);
    expect(order(channel.id)).toEqual(['StasisStart', 'ChannelStateChange:Up', 'ChannelDtmfReceived:9', 'ChannelHangupRequest:32:soft', 'StasisEnd']);
    expect(sim.callLog().find((c) => c.channelId === channel.id)).toMatchObject({ cause: 17, endedBy: 'app' });
    expect(ev.forChannel(channel.id)[0]?.args).toEqual(['service']);
  });

  it('a call for an app that is not registered never reaches Stasis', () => {
    const r = sim.injectCall({ from: '0612345678', to: '0800123456', app: 'nobody-home' });
    expect(r.stasis).toBe(false);
    expect(sim.channel(r.channel.id)).toBeUndefined();
  });
});

describe('event socket and control API', () => {
  it('a second socket for the same app takes it over; the old one gets ApplicationReplaced', async () => {
    const first = await openEvents(sim.url, 'takeover');
    const second = await openEvents(sim.url, 'takeover');
    const replaced = await first.waitFor((e) => e.type === 'ApplicationReplaced');
    expect(replaced.application).toBe('takeover');
    const { channel } = sim.injectCall({ from: '1', to: '2', app: 'takeover', hangupAfter: 0.2 });
    await second.waitFor((e) => e.type === 'StasisEnd' && e.channel.id === channel.id);
    expect(first.events.some((e) => e.channel?.id === channel.id)).toBe(false);
    await first.close();
    await second.close();
  });

  it('sets endpoint scripts at run time, drives the far end by hand, and logs calls', async () => {
    const put = await fetch(`${sim.url}/sim/directory`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ match: '4242', action: 'noanswer' }) });
    expect(put.status).toBe(200);
    const bad = await fetch(`${sim.url}/sim/directory`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ match: '1', action: 'explode' }) });
    expect(bad.status).toBe(400);
    const { channelId } = await originate('PJSIP/4242@trunk', { timeout: -1 });
    await ev.waitFor((e) => e.type === 'Dial' && e.dialstatus === 'RINGING' && e.peer.id === channelId);
    expect((await fetch(`${sim.url}/sim/channels/${channelId}/answer`, { method: 'POST' })).status).toBe(204);
    await stasisStart(channelId);
    expect((await fetch(`${sim.url}/sim/channels/${channelId}/dtmf`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"digits":"5"}' })).status).toBe(204);
    await ev.waitFor((e) => e.type === 'ChannelDtmfReceived' && e.channel.id === channelId);
    expect((await fetch(`${sim.url}/sim/channels/${channelId}/hangup`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"cause":16}' })).status).toBe(204);
    await destroyed(channelId);
    const calls = (await (await fetch(`${sim.url}/sim/calls`)).json()) as { channelId: string; endedBy: string; dtmfReceived: string; script: string }[];
    expect(calls.find((c) => c.channelId === channelId)).toMatchObject({ endedBy: 'far_end', dtmfReceived: '5', script: '4242' });
    const originates = (await (await fetch(`${sim.url}/sim/originates`)).json()) as { channelId: string }[];
    expect(originates.some((o) => o.channelId === channelId)).toBe(true);
    expect((await fetch(`${sim.url}/sim/directory/4242`, { method: 'DELETE' })).status).toBe(204);

    const putDir = (body: unknown) => fetch(`${sim.url}/sim/directory`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const before = sim.directory.list();
    expect((await putDir([{ match: '1', action: 'explode' }])).status).toBe(400);
    expect(sim.directory.list()).toEqual(before);
    expect((await putDir([{ match: '777', action: 'busy' }])).status).toBe(200);
    expect(sim.directory.lookup('PJSIP/777@trunk').action).toBe('busy');
    expect(sim.directory.lookup('PJSIP/8001').match).toBe('(default)');
    sim.directory.reset();
    expect(sim.directory.lookup('PJSIP/8001').match).toBe('8001');
  });

  it('reset hangs everything up with events and clears the logs', async () => {
    const { channelId } = await originate('PJSIP/8001');
    await stasisStart(channelId);
    expect((await fetch(`${sim.url}/sim/reset`, { method: 'POST' })).status).toBe(204);
    await destroyed(channelId);
    expect(sim.channels()).toEqual([]);
    expect(sim.originateLog()).toEqual([]);
    expect(order(channelId).slice(-3)).toEqual(['StasisEnd', 'ChannelVarset:STASISSTATUS=SUCCESS', 'ChannelDestroyed:16']);
  });

  it('restart() drops sockets and state and listens again on the same port; /sim/events/disconnect closes sockets', async () => {
    const other = await startAsteriskSim({ port: 0, timeScale: 0.1 });
    try {
      const stream = await openEvents(other.url, 'r');
      await makeAri(other.url)('POST', 'channels', { query: { endpoint: 'PJSIP/1@t', app: 'r', channelId: 'before-restart', timeout: -1 } });
      const closed = new Promise((resolve) => stream.ws.once('close', resolve));
      await other.restart();
      await closed;
      expect(other.channels()).toEqual([]);
      const again = await openEvents(other.url, 'r');
      expect(other.apps()).toEqual(['r']);
      expect((await makeAri(other.url)('GET', 'channels/before-restart')).status).toBe(404);
      const closedAgain = new Promise((resolve) => again.ws.once('close', resolve));
      expect((await fetch(`${other.url}/sim/events/disconnect`, { method: 'POST' })).status).toBe(204);
      await closedAgain;
    } finally {
      await other.stop();
    }
  });
});

