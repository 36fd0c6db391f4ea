/**
 * SimulatedWatch against a tiny raw TCP server written here (not our gateway): the server side is a few
 * lines of bracket splitting and hand-written replies, so the simulator is checked against the protocol
 * facts (protocols.md §1), not against our own codec.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeWatch } from '../../../protocols/watch/index.js';
import { SimulatedWatch, type SimulatedWatchOptions } from '../../../simulators/watch/watch.js';

const ID = '8800000015';

interface TestServer {
  port: number;
  /** every frame received, in order */
  frames: string[];
  socket: () => Socket;
  send: (data: string | Buffer) => void;
  close: () => Promise<void>;
}

/** `handler` returns the reply to write for a frame (or nothing). */
async function startServer(handler: (frame: string, content: string) => string | undefined = () => undefined): Promise<TestServer> {
  const frames: string[] = [];
  let sock: Socket | null = null;
  const server: Server = createServer((s) => {
    sock = s;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf(']')) >= 0) {
        const frame = buf.slice(buf.indexOf('['), end + 1);
        buf = buf.slice(end + 1);
        frames.push(frame);
        const content = frame.split('*').slice(3).join('*').slice(0, -1);
        const reply = handler(frame, content);
        if (reply) s.write(reply);
      }
    });
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    frames,
    socket: () => sock!,
    send: (data) => sock!.write(data),
    close: () =>
      new Promise((res) => {
        sock?.destroy();
        server.close(() => res());
      }),
  };
}

const reply = (content: string, mf = '3G', id = ID): string => `[${mf}*${id}*${content.length.toString(16).toUpperCase().padStart(4, '0')}*${content}]`;
const type = (content: string): string => content.split(',')[0]!;
const answerAll = (_f: string, c: string): string | undefined => (type(c) === 'LK' ? reply('LK') : type(c).startsWith('AL') ? reply('AL') : undefined);

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(handler?: Parameters<typeof startServer>[0], options: Partial<SimulatedWatchOptions> = {}) {
  const server = await startServer(handler);
  const watch = new SimulatedWatch({ host: '127.0.0.1', port: server.port, deviceId: ID, lkOnConnect: false, ...options });
  const errors: unknown[] = [];
  watch.on('protocol_error', (e) => errors.push(e));
  cleanup.push(() => server.close(), () => watch.close());
  await watch.connect();
  return { server, watch, errors };
}

describe('SimulatedWatch', () => {
  it('LK is answered: the promise resolves and the reply is recorded', async () => {
    const { server, watch, errors } = await setup(answerAll);
    await watch.sendLK();
    expect(server.frames).toEqual([`[3G*${ID}*0009*LK,0,0,80]`]);
    expect(watch.received.map((r) => [r.role, r.frame])).toEqual([['reply', reply('LK')]]);
    expect(errors).toEqual([]);
  });

  it('LK on connect, like a real watch', async () => {
    const server = await startServer(answerAll);
    const watch = new SimulatedWatch({ host: '127.0.0.1', port: server.port, deviceId: ID });
    cleanup.push(() => server.close(), () => watch.close());
    await watch.connect();
    await until(() => watch.received.length === 1);
    expect(server.frames[0]).toMatch(/^\[3G\*8800000015\*[0-9A-F]{4}\*LK,/);
  });

  it('LK unanswered is resent every lkRetryMs (and reported) until answered', async () => {
    let seen = 0;
    const { server, watch } = await setup((_f, c) => (type(c) === 'LK' && ++seen >= 3 ? reply('LK') : undefined), { lkRetryMs: 20 });
    let unanswered = 0;
    watch.on('unanswered', () => unanswered++);
    await watch.sendLK();
    expect(server.frames.filter((f) => f.includes('*LK'))).toHaveLength(3);
    expect(unanswered).toBe(2);
    await new Promise((r) => setTimeout(r, 80));
    expect(server.frames).toHaveLength(3); // no resend once answered
  });

  it('a wrong LK reply is a protocol error', async () => {
    const { watch, errors } = await setup((_f, c) => (type(c) === 'LK' ? reply('LK', 'SG') : undefined), { lkRetryMs: 1000 });
    void watch.sendLK().catch(() => undefined);
    await until(() => errors.length > 0);
    const wrongLen = await setup((_f, c) => (type(c) === 'LK' ? `[3G*${ID}*0003*LK]` : undefined), { lkRetryMs: 1000 });
    void wrongLen.watch.sendLK().catch(() => undefined);
    await until(() => wrongLen.errors.length > 0);
    expect(String((wrongLen.errors[0] as { reason: string }).reason)).toMatch(/LEN/);
  });

  it('AL is resent with identical bytes until acknowledged, then resolved exactly once', async () => {
    let seen = 0;
    const { server, watch, errors } = await setup((_f, c) => (type(c) === 'AL' && ++seen >= 3 ? reply('AL') : undefined), { alarmRetryMs: 20 });
    let acked = 0;
    watch.on('alarm_acked', () => acked++);
    const result = await watch.sendAlarm('sos');
    const alFrames = server.frames.filter((f) => f.includes('*AL,'));
    expect(alFrames).toHaveLength(3);
    expect(new Set(alFrames).size).toBe(1);
    expect(alFrames[0]).toContain(',00010000,');
    expect(result.attempts).toBe(3);
    expect(result.ackedAt).toBeGreaterThanOrEqual(result.sentAt);
    await new Promise((r) => setTimeout(r, 80));
    expect(server.frames.filter((f) => f.includes('*AL,'))).toHaveLength(3);
    expect(acked).toBe(1);
    expect(errors).toEqual([]);
  });

  it('fall and removal alarms carry their status bits; an AL reply with nothing pending is an error', async () => {
    const { server, watch, errors } = await setup(answerAll);
    await watch.sendAlarm('fall');
    await watch.sendAlarm('removed', { type: 'AL_LTE' });
    expect(server.frames[0]).toContain(',00200000,');
    expect(server.frames[1]).toMatch(/\*AL_LTE,.*,00100000,/);
    server.send(reply('AL'));
    await until(() => errors.length === 1);
  });

  it('CR: echo CR, then a UD at once', async () => {
    const { server, watch } = await setup(answerAll);
    server.send(reply('CR'));
    await until(() => server.frames.length >= 2);
    expect(server.frames[0]).toBe(`[3G*${ID}*0002*CR]`);
    expect(server.frames[1]).toMatch(/^\[3G\*8800000015\*[0-9A-F]{4}\*UD,\d{6},\d{6},A,/);
    expect(watch.received[0]).toMatchObject({ role: 'command', keyword: 'CR' });
  });

  it('UPLOAD,n: echo and change the UD interval', async () => {
    const { server, watch } = await setup(answerAll, { uploadUnitMs: 1 });
    const intervals: number[] = [];
    watch.on('interval', (ms: number) => intervals.push(ms));
    server.send(reply('UPLOAD,20'));
    await until(() => server.frames.filter((f) => f.includes('*UD,')).length >= 3);
    expect(server.frames[0]).toBe(`[3G*${ID}*0006*UPLOAD]`);
    expect(watch.udIntervalMs).toBe(20);
    expect(intervals).toEqual([20]);
  });

  it('FIND: echo and emit find; other known commands are echoed', async () => {
    const { server, watch } = await setup(answerAll);
    const found = once(watch, 'find');
    server.send(reply('FIND') + reply('SOS1,123456789') + reply('LSSET,5+8'));
    await found;
    await until(() => server.frames.length >= 3);
    expect(server.frames).toEqual([`[3G*${ID}*0004*FIND]`, `[3G*${ID}*0004*SOS1]`, `[3G*${ID}*0007*LSSET,5]`]);
  });

  it('replies split across chunks, and several frames in one chunk, are handled', async () => {
    const { server, watch, errors } = await setup(() => undefined);
    const lk = watch.sendLK();
    const bytes = Buffer.from(reply('LK') + reply('CR'));
    for (const b of bytes) {
      server.send(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    await lk;
    await until(() => server.frames.some((f) => f.includes('*UD,')));
    expect(watch.received.map((r) => r.keyword)).toEqual(['LK', 'CR']);
    expect(errors).toEqual([]);
  });

  it('health readings: bphrt and btemp2 expect their replies; heart and oxygen none', async () => {
    const { server, watch, errors } = await setup((_f, c) => (type(c) === 'bphrt' ? reply('bphrt') : type(c) === 'btemp2' ? reply('btemp2') : undefined));
    watch.sendHealth({ systolic: 120, diastolic: 80, heartRate: 70, spo2: 97, temperature: 36.55 });
    watch.sendHealth({ heartRate: 66 });
    await until(() => watch.received.length === 2);
    expect(server.frames.map((f) => f.split('*')[3])).toEqual(['bphrt,120,80,70,,,,]', 'oxygen,0,97]', 'btemp2,1,36.55]', 'heart,66]']);
    expect(errors).toEqual([]);
  });

  it('ZJ dialect: frames and expected replies carry the index', async () => {
    const { server, watch, errors } = await setup(
      (_f, c) => (c.endsWith('LK,0,0,80') ? `[ZJ*${ID}*0003*0002*LK]` : undefined),
      { manufacturer: 'ZJ', zjIndex: '0003' },
    );
    await watch.sendLK();
    expect(server.frames[0]).toBe(`[ZJ*${ID}*0003*0009*LK,0,0,80]`);
    expect(errors).toEqual([]);
  });

  it('a path is walked point by point', async () => {
    const { server, watch } = await setup(undefined, { path: [[1.5, 2.5], [-3.25, -4.75]] });
    watch.sendUD();
    watch.sendUD();
    watch.sendUD();
    await until(() => server.frames.length === 3);
    expect(server.frames.map((f) => f.split(',').slice(4, 8).join(','))).toEqual([
      '1.500000,N,2.5000000,E',
      '3.250000,S,4.7500000,W',
      '1.500000,N,2.5000000,E',
    ]);
  });

  it('cross-check: our decoder reads every simulator frame and its replies satisfy the simulator', async () => {
    const decoded: string[] = [];
    const { watch, errors } = await setup((frame) => {
      const out = decodeWatch(Buffer.from(frame, 'latin1'), { receivedAt: new Date() });
      if (!out.ok) throw new Error(`decoder rejected ${frame}: ${out.reason}`);
      decoded.push(`${out.messages[0]!.kind}:${(out.messages[0]!.alarms ?? []).join('+')}`);
      return out.reply?.toString('latin1');
    });
    await watch.sendLK();
    watch.sendUD([48.85, 2.35]);
    await watch.sendAlarm('fall');
    watch.sendHealth({ systolic: 120, diastolic: 80, heartRate: 70, temperature: 36.6 });
    await until(() => watch.received.length === 4);
    expect(decoded).toEqual(['heartbeat:', 'position:', 'alarm:fall', 'health:', 'health:']);
    expect(errors).toEqual([]);
  });

  it('close rejects what is still pending', async () => {
    const { watch } = await setup(() => undefined, { alarmRetryMs: 1000 });
    const p = watch.sendAlarm('sos');
    await watch.close();
    await expect(p).rejects.toThrow(/closed/);
  });
});
