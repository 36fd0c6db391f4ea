/**
 * The gateway on a GSM modem (短信猫, SMS_TRANSPORT=modem) over a socat pseudo-terminal and the simulated modem:
 * a dispatched work order texts the staff member (a long Chinese text in parts, reassembled by the modem), the
 * status report marks it delivered, and their reply "1" accepts the order. Needs socat: outside CI a missing socat
 * skips with a message; with CI=true it fails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { createPtyPair, findSocat, type PtyPair } from '../../simulators/alarm-receiver/pty.ts';
import { SimulatedModem } from '../../simulators/modem/modem.ts';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

const socat = findSocat();
const skip = socat === null && process.env.CI !== 'true';
if (skip) console.warn('skipping the gateway-on-a-modem test: socat is not installed (apt-get install socat)');

let app: App | undefined;
let pty: PtyPair | undefined;
let sim: SimulatedModem | undefined;
afterAll(async () => {
  await app?.stop();
  await sim?.close();
  await pty?.close();
});

describe.skipIf(skip)('SMS through a GSM modem, end to end', () => {
  it('a dispatch texts the nurse through the modem, the status report marks it delivered, and her reply 1 accepts the order', async () => {
    if (socat === null) throw new Error('CI=true but socat is not installed');
    pty = await createPtyPair();
    sim = new SimulatedModem({ path: pty.a });
    await sim.open();
    app = await startTestApp({}, { SMS_TRANSPORT: 'modem', MODEM_PATH: pty.b, SMS_QUIET_HOURS: 'off' });
    const admin = await login(app);
    const call = async (method: string, url: string, body?: unknown) => {
      const r = await app!.http.inject({ method: method as 'POST', url, headers: admin, ...(body === undefined ? {} : { payload: body as object }) });
      return { status: r.statusCode, body: r.json() };
    };
    const station = await call('POST', '/api/stations', { name: '幸福服务站', area: '幸福社区' });
    const nurse = await call('POST', '/api/staff', { name: '张护士', phone: '13800138099', stationId: station.body.id });
    const elder = await call('POST', '/api/elders', { name: '王秀英', address: '上海市徐汇区漕溪北路 88 弄 3 号 502 室', accessNotes: '钥匙在 501 邻居家，门禁密码 2580#，老人耳背，请多按几次门铃并耐心等待' });
    const order = await call('POST', '/api/work-orders', { type: 'service', elderId: elder.body.id, title: '上门测量血压并协助服药' });
    expect((await call('POST', `/api/work-orders/${order.body.id}/dispatch`, { staffId: nurse.body.id })).status).toBe(200);

    const m = await until(() => sim!.messages.find((x) => x.to.endsWith('13800138099')), 20_000);
    expect(m.parts).toBeGreaterThan(1);
    expect(m.text).toContain('门禁密码 2580#');
    await until(async () => (await app!.db.query(`SELECT state FROM sms_messages WHERE work_order_id = $1 AND direction = 'out'`, [order.body.id])).rows[0]?.state === 'delivered', 20_000);

    sim.injectInbound('+8613800138099', '1');
    await until(async () => (await call('GET', `/api/work-orders/${order.body.id}`)).body.order.state === 'accepted', 20_000);
    const last = (await call('GET', `/api/work-orders/${order.body.id}`)).body.timeline.at(-1);
    expect(last).toMatchObject({ action: 'accept', actor: `staff:${nurse.body.id}`, detail: { via: 'sms' } });
  }, 90_000);
});
