/**
 * The SMPP transport (sms/smpp/) against the simulated SMSC (simulators/smsc/) on loopback: concatenation and
 * reassembly, receipts, inbound replies, a dropped bind, throttling, a wrong password.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SmppSender, type SmppOptions } from '../../sms/smpp/client.ts';
import type { SmsInbound, SmsReceipt } from '../../sms/port.ts';
import { SimulatedSmsc, type SmscOptions } from '../../simulators/smsc/smsc.ts';
import { until } from '../helpers/until.ts';

const LONG = '老人跌倒报警请立即处理'.repeat(14).slice(0, 150); // 150 characters: 67 + 67 + 16

let smsc: SimulatedSmsc | undefined;
let sender: SmppSender | undefined;

afterEach(async () => {
  await sender?.stop();
  await smsc?.close();
  sender = smsc = undefined;
});

async function setup(o: SmscOptions = {}, c: Partial<SmppOptions> = {}) {
  smsc = new SimulatedSmsc(o);
  const port = await smsc.listen();
  sender = new SmppSender({ host: '127.0.0.1', port, systemId: 'anxin', password: 'secret', source: '10690000', reconnectFirstMs: 50, reconnectMaxMs: 200, throttleDelayMs: 50, ...c });
  const receipts: SmsReceipt[] = [];
  const inbound: SmsInbound[] = [];
  sender.onReceipt((r) => receipts.push(r));
  sender.onInbound((m) => inbound.push(m));
  await sender.start();
  await sender.whenUp(5000);
  return { smsc, sender, receipts, inbound };
}

describe('SMPP transport through the simulated SMSC', () => {
  it('binds as a transceiver with interface_version 0x34', async () => {
    const { smsc } = await setup();
    const bind = await new Promise<{ interfaceVersion: number }>((resolve) => {
      smsc.once('bind', resolve);
      smsc.dropBinds();
    });
    expect(bind.interfaceVersion).toBe(0x34);
  });

  it('a 150-character Chinese text goes as 3 UCS2 parts and the SMSC reassembles it intact; receipts update the ref', async () => {
    const { smsc, sender, receipts } = await setup();
    const r = await sender.send({ to: '13800138000', text: LONG, ref: 'msg-1' });
    expect(r.parts).toBe(3);
    expect(r.messageIds).toHaveLength(3);
    const m = await until(() => smsc.messages[0]);
    expect(m).toMatchObject({ text: LONG, parts: 3, destination: '8613800138000', source: '10690000' });
    expect(smsc.submits.every((s) => s.dataCoding === 8 && s.esmClass === 0x40 && s.registeredDelivery === 1 && s.destTon === 1)).toBe(true);
    await until(() => receipts.length === 3);
    expect(receipts.every((x) => x.ref === 'msg-1' && x.state === 'delivered')).toBe(true);
    expect(receipts.at(-1)!.messageState).toBe('delivered');
    expect(receipts.map((x) => x.part).sort()).toEqual([1, 2, 3]);
  });

  it('a receipt with the text only, quoting the id in decimal, and an UNDELIV stat', async () => {
    const { sender, receipts } = await setup({ receiptStyle: 'text', receiptIdDecimal: true, receiptStat: 'UNDELIV' });
    const r = await sender.send({ to: '+8613800138000', text: '你好', ref: 'msg-2' });
    await until(() => receipts.length === 1);
    expect(receipts[0]).toMatchObject({ ref: 'msg-2', messageId: r.messageIds[0], state: 'undeliverable', messageState: 'undeliverable', final: true, error: '001' });
  });

  it('a receipt that arrives before its submit_sm_resp is kept until the resp maps the id', async () => {
    const { smsc, sender, receipts } = await setup({ receiptBeforeResp: true });
    smsc.slow(150);
    const r = await sender.send({ to: '13800138000', text: '先回执', ref: 'msg-early' });
    await until(() => receipts.length === 1);
    expect(receipts[0]).toMatchObject({ ref: 'msg-early', messageId: r.messageIds[0], state: 'delivered' });
  });

  it('an inbound "1" and a concatenated reply (parts out of order) reach the callback with the sender', async () => {
    const { smsc, inbound } = await setup();
    expect(smsc.injectMo('8613912345678', '1')).toBe(1);
    await until(() => inbound.length === 1);
    expect(inbound[0]).toMatchObject({ from: '+8613912345678', text: '1', to: '10690000' });
    smsc.injectMo('13912345678', LONG, { reverse: true });
    await until(() => inbound.length === 2);
    expect(inbound[1]).toMatchObject({ from: '+8613912345678', text: LONG });
  });

  it('a dropped bind reconnects and the next message goes through', async () => {
    const { smsc, sender } = await setup();
    const downs: string[] = [];
    sender.onState((s) => downs.push(s));
    smsc.dropBinds();
    await until(() => downs.includes('down'));
    await sender.whenUp(5000);
    await sender.send({ to: '13800138000', text: '重连后', ref: 'msg-3' });
    expect(smsc.messages.at(-1)?.text).toBe('重连后');
    expect(smsc.binds).toBe(2);
  });

  it('a message sent while the bind is down waits for the reconnect', async () => {
    const { smsc, sender } = await setup();
    smsc.dropBinds();
    await until(() => sender.state === 'down');
    await sender.send({ to: '13800138000', text: '排队', ref: 'msg-4' });
    expect(smsc.messages.at(-1)?.text).toBe('排队');
  });

  it('ESME_RTHROTTLED is retried later, the parts stay in order', async () => {
    const { smsc, sender } = await setup();
    smsc.throttleNext(3);
    let throttled = 0;
    smsc.on('throttled', () => throttled++);
    const r = await sender.send({ to: '13800138000', text: LONG, ref: 'msg-5' });
    expect(throttled).toBe(3);
    expect(r.parts).toBe(3);
    await until(() => smsc.messages[0]);
    expect(smsc.messages[0]!.text).toBe(LONG);
  });

  it('a slow SMSC past the response timeout fails the send (not final), and the link stays usable', async () => {
    const { smsc, sender } = await setup({}, { responseTimeoutMs: 200 });
    smsc.slow(500);
    await expect(sender.send({ to: '13800138000', text: '慢', ref: 'msg-6' })).rejects.toMatchObject({ code: 'response-timeout', final: false });
    smsc.slow(100);
    await expect(sender.send({ to: '13800138000', text: '快', ref: 'msg-7' })).resolves.toMatchObject({ parts: 1 });
  });

  it('a wrong password is refused and the sender keeps retrying without going up', async () => {
    smsc = new SimulatedSmsc({ password: 'other' });
    const port = await smsc.listen();
    sender = new SmppSender({ host: '127.0.0.1', port, systemId: 'anxin', password: 'secret', source: '10690000', reconnectFirstMs: 20, reconnectMaxMs: 50 });
    await sender.start();
    await until(() => smsc!.binds >= 2);
    expect(sender.state).toBe('down');
    expect(sender.lastReason).toBe('bind-0x0e'); // ESME_RINVPASWD
  });

  it('an unanswered enquire_link drops the link after two misses and it comes back', async () => {
    const { smsc, sender } = await setup({}, { enquireLinkMs: 100, responseTimeoutMs: 100 });
    smsc.ignoreEnquireLink();
    await until(() => sender.state === 'down', 5000);
    smsc.ignoreEnquireLink(false);
    await sender.whenUp(5000);
  });
});
