/**
 * The responder's one-time link (issue 21): it is in the dispatch SMS (stored even when no SMS transport is set),
 * works for that order and that responder only, until it expires; a guess, an expired link and a link of a
 * reassigned order are refused with a clear word, counted, and logged without the token; each use is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { setResponderLinkExpiry } from '../../gateway/store/responder-links.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

let app: App;
let admin: { authorization: string };
const staff: number[] = [];
let elderId: number;

const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = admin) => {
  const r = await app.http.inject({ method: method as 'POST', url, headers, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: r.statusCode, body: r.json() };
};

/** A new order dispatched to the staff member; answers its id and the token from the SMS it sent. */
async function dispatched(staffId: number, title = '上门查看'): Promise<{ orderId: number; token: string }> {
  const o = await call('POST', '/api/work-orders', { type: 'service', elderId, title });
  expect((await call('POST', `/api/work-orders/${o.body.id}/dispatch`, { staffId })).status).toBe(200);
  let body = '';
  await until(async () => {
    body = (await app.db.query(`SELECT body FROM sms_messages WHERE work_order_id = $1 AND staff_id = $2 ORDER BY id DESC LIMIT 1`, [o.body.id, staffId])).rows[0]?.body ?? '';
    return body.includes('/r/');
  }, 10_000);
  return { orderId: o.body.id, token: /\/r\/([A-Za-z0-9_-]+)/.exec(body)![1]! };
}

const counted = async (result: string) => (await app.metrics.responderLinks.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

beforeAll(async () => {
  app = await startTestApp();
  admin = await login(app);
  const station = await call('POST', '/api/stations', { name: '幸福服务站', area: '幸福社区' });
  for (const [name, phone] of [['张护士', '13800000021'], ['李护士', '13800000022']]) staff.push((await call('POST', '/api/staff', { name, phone, stationId: station.body.id })).body.id);
  elderId = (await call('POST', '/api/elders', { name: '王秀英', address: '幸福路 8 号', accessNotes: '钥匙在 501' })).body.id;
}, 60_000);
afterAll(async () => app?.stop());

describe("the responder's link", () => {
  it('shows the order to its responder and takes accept, arrive (with position) and done (with a result); each use audited', async () => {
    const { orderId, token } = await dispatched(staff[0]!);
    // no SMS transport here: the message is stored as failed (sms_off), the link in it all the same
    expect((await app.db.query(`SELECT state, reason FROM sms_messages WHERE work_order_id = $1`, [orderId])).rows).toEqual([{ state: 'failed', reason: 'sms_off' }]);
    const view = await call('GET', `/api/responder/${token}`, undefined, {});
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ order: { id: orderId, state: 'dispatched', title: '上门查看' }, elder: { name: '王秀英', address: '幸福路 8 号', accessNotes: '钥匙在 501' }, mine: true, steps: ['accept', 'refuse'] });
    expect((await call('POST', `/api/responder/${token}/done`, {}, {})).status).toBe(409); // not yet
    expect((await call('POST', `/api/responder/${token}/accept`, {}, {})).body).toMatchObject({ order: { state: 'accepted' }, steps: ['arrive'] });
    expect((await call('POST', `/api/responder/${token}/arrive`, { lat: 31.2, lon: 121.5 }, {})).body.order.state).toBe('on_site');
    const noResult = await call('POST', `/api/responder/${token}/done`, { result: '  ' }, {});
    expect(noResult).toMatchObject({ status: 400, body: { error: 'result_required' } });
    expect((await call('POST', `/api/responder/${token}/done`, { result: '已测血压 135/85' }, {})).body).toMatchObject({ order: { state: 'done', result: '已测血压 135/85' }, steps: [] });
    const events = (await app.db.query(`SELECT actor, action, detail FROM work_order_events WHERE order_id = $1 ORDER BY id`, [orderId])).rows;
    expect(events.slice(2)).toMatchObject([
      { actor: `staff:${staff[0]}`, action: 'accept', detail: { via: 'link' } },
      { actor: `staff:${staff[0]}`, action: 'arrive', detail: { via: 'link', lat: 31.2, lon: 121.5 } },
      { actor: `staff:${staff[0]}`, action: 'done', detail: { via: 'link', result: '已测血压 135/85' } },
    ]);
    const audit = (await app.db.query(`SELECT action FROM audit_log WHERE actor = $1 AND target = $2 ORDER BY id`, [`staff:${staff[0]}`, `work_order:${orderId}`])).rows.map((r) => r.action);
    expect(audit).toEqual(['responder_link_open', 'work_order_accept', 'work_order_arrive', 'work_order_done']);
  });

  it('refuses a guess (404), an expired link (410) and the link of an order gone to someone else (409); counts them', async () => {
    const before = { unknown: await counted('unknown'), expired: await counted('expired'), notYours: await counted('refused_not_yours') };
    const guess = await call('GET', `/api/responder/${'A'.repeat(24)}`, undefined, {});
    expect(guess).toMatchObject({ status: 404, body: { error: 'link_unknown' } });
    expect((await call('GET', '/api/responder/short', undefined, {})).status).toBe(400); // not even the shape of a token

    const a = await dispatched(staff[0]!, '送药');
    // refused by SMS-free means: the nurse taps 拒单, the order goes back to received; her link no longer acts
    expect((await call('POST', `/api/responder/${a.token}/refuse`, {}, {})).body.order.state).toBe('received');
    expect((await call('POST', `/api/work-orders/${a.orderId}/dispatch`, { staffId: staff[1] })).status).toBe(200);
    const stale = await call('POST', `/api/responder/${a.token}/accept`, {}, {});
    expect(stale).toMatchObject({ status: 409, body: { error: 'not_yours' } });
    expect((await call('GET', `/api/responder/${a.token}`, undefined, {})).body).toMatchObject({ mine: false, steps: [] });

    const b = await dispatched(staff[1]!, '换灯泡');
    await setResponderLinkExpiry(app.db, b.token, new Date(Date.now() - 1000));
    expect(await call('GET', `/api/responder/${b.token}`, undefined, {})).toMatchObject({ status: 410, body: { error: 'link_expired' } });
    expect((await call('POST', `/api/responder/${b.token}/accept`, {}, {})).status).toBe(410);
    expect((await call('GET', `/api/work-orders/${b.orderId}`)).body.order.state).toBe('dispatched');

    expect(await counted('unknown')).toBe(before.unknown + 1);
    expect(await counted('expired')).toBe(before.expired + 2);
    expect(await counted('refused_not_yours')).toBe(before.notYours + 1);
  });
});
