import { describe, expect, it } from 'vitest';
import { decodeMqttJson, parseUplinkTopic, type MqttJsonOutcome } from '../../../protocols/mqtt-json/index.js';

const receivedAt = new Date('2026-08-01T02:00:00Z');
const decode = (topic: string, body: unknown) => decodeMqttJson(topic, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), { receivedAt });

function ok(out: MqttJsonOutcome) {
  if (!out.ok) throw new Error(`refused: ${out.reason} ${JSON.stringify(out.problems)}`);
  return out;
}
function refused(out: MqttJsonOutcome) {
  if (out.ok) throw new Error('expected a refusal');
  return out;
}

describe('mqtt-json topics', () => {
  it('reads the device and kind from anxin/up/{id}/{kind}', () => {
    expect(parseUplinkTopic('anxin/up/fs-1/alarm')).toEqual({ ok: true, deviceId: 'fs-1', kind: 'alarm' });
    expect(parseUplinkTopic('anxin/up/fs-1/alarm/extra')).toEqual({ ok: false, reason: 'bad_topic', deviceId: 'fs-1' });
    expect(parseUplinkTopic('anxin/up/fs-1/sing')).toEqual({ ok: false, reason: 'bad_topic', deviceId: 'fs-1' });
    expect(parseUplinkTopic('anxin/up/fs-1')).toEqual({ ok: false, reason: 'bad_topic', deviceId: 'fs-1' });
    expect(parseUplinkTopic('zigbee2mqtt/x')).toEqual({ ok: false, reason: 'bad_topic' });
  });
});

describe('mqtt-json decoder', () => {
  it('a fall with a msgId: one alarm message, and the ack to send after commit', () => {
    const out = ok(decode('anxin/up/fs-1/alarm', { msgId: 'a-1', time: '2026-08-01T10:00:00+08:00', alarms: ['fall'], battery: 80 }));
    expect(out.messages).toEqual([
      {
        deviceId: 'fs-1',
        protocol: 'mqtt-json',
        kind: 'alarm',
        receivedAt,
        deviceTime: new Date('2026-08-01T02:00:00Z'),
        alarms: ['fall'],
        battery: 80,
        raw: '{"msgId":"a-1","time":"2026-08-01T10:00:00+08:00","alarms":["fall"],"battery":80}',
      },
    ]);
    expect(out.msgId).toBe('a-1');
    expect(JSON.parse(out.reply!.toString())).toEqual({ msgId: 'a-1', ok: true });
  });

  it('no msgId, no ack', () => {
    const out = ok(decode('anxin/up/fs-1/heartbeat', {}));
    expect(out.messages[0]).toMatchObject({ kind: 'heartbeat' });
    expect(out.reply).toBeUndefined();
  });

  it('status carries presence and occupancy for the inactivity rule, and restores', () => {
    const out = ok(decode('anxin/up/fs-1/status', { msgId: 7, states: { presence: true, occupancy: false }, restores: ['low_battery'] }));
    expect(out.messages[0]).toMatchObject({ kind: 'status', states: { presence: true, occupancy: false }, restores: ['low_battery'] });
    expect(JSON.parse(out.reply!.toString())).toEqual({ msgId: 7, ok: true });
  });

  it('position defaults to a valid GPS fix; health keeps its readings', () => {
    expect(ok(decode('anxin/up/w/position', { position: { lat: 31.23, lon: 121.47, accuracy: 8 } })).messages[0]!.position).toEqual({
      lat: 31.23,
      lon: 121.47,
      accuracy: 8,
      source: 'gps',
      valid: true,
    });
    expect(ok(decode('anxin/up/w/health', { health: { heartRate: 72, spo2: 97 } })).messages[0]!.health).toEqual({ heartRate: 72, spo2: 97 });
  });

  it('refuses bad payloads with a reason and the field at fault, keeping the msgId', () => {
    const r = refused(decode('anxin/up/fs-1/alarm', { msgId: 'a-2', alarms: ['falling'], colour: 'red' }));
    expect(r.reason).toBe('invalid_payload');
    expect(r.msgId).toBe('a-2');
    expect(r.problems).toContainEqual({ path: '/colour', message: 'Unexpected property' });
    expect(r.problems.find((p) => p.path === '/alarms/0')?.message).toMatch(/^expected one of: sos, fall, /);
    const body = JSON.parse(r.reply.toString());
    expect(body).toMatchObject({ msgId: 'a-2', error: 'invalid_payload' });
  });

  it('refuses kinds only the gateway judges (silence, missed tests, a cloned identity)', () => {
    for (const k of ['device_silent', 'receiver_silent', 'test_missed', 'device_clone_suspected']) {
      expect(refused(decode('anxin/up/fs-1/alarm', { alarms: [k] })).problems[0]!.path).toBe('/alarms/0');
      expect(refused(decode('anxin/up/fs-1/status', { restores: [k] })).problems[0]!.path).toBe('/restores/0');
    }
  });

  it('an alarm needs at least one kind; a position needs lat/lon in range', () => {
    expect(refused(decode('anxin/up/fs-1/alarm', { alarms: [] })).problems[0]!.path).toBe('/alarms');
    expect(refused(decode('anxin/up/fs-1/position', { position: { lat: 91, lon: 0 } })).problems[0]!.path).toBe('/position/lat');
    expect(refused(decode('anxin/up/fs-1/heartbeat', { time: 'yesterday' })).problems[0]!.path).toBe('/time');
    expect(refused(decode('anxin/up/fs-1/status', { states: { Presence: true } })).problems[0]!.path).toBe('/states/Presence');
  });

  it.each([
    ['not JSON', '{"alarms": [fall]}', 'invalid_json'],
    ['not an object', '["fall"]', 'not_an_object'],
    ['null', 'null', 'not_an_object'],
  ])('refuses %s', (_, text, reason) => {
    expect(refused(decode('anxin/up/fs-1/alarm', text)).reason).toBe(reason);
  });

  it('refuses invalid UTF-8, oversized payloads and unknown kinds', () => {
    expect(refused(decodeMqttJson('anxin/up/fs-1/alarm', Buffer.from([0x7b, 0xff, 0x7d]), { receivedAt })).reason).toBe('not_utf8');
    expect(refused(decode('anxin/up/fs-1/heartbeat', { pad: 'x'.repeat(20_000) })).reason).toBe('too_large');
    const r = refused(decode('anxin/up/fs-1/party', {}));
    expect(r).toMatchObject({ reason: 'bad_topic', deviceId: 'fs-1' });
  });

  it('never throws on junk', () => {
    for (const junk of ['', ' ', '{', '{"__proto__":{"x":1}}', '{"msgId":{"a":1}}', '1e999', '"str"']) {
      expect(() => decode('anxin/up/x/status', junk)).not.toThrow();
    }
    // __proto__ is an unknown field like any other
    expect(refused(decode('anxin/up/x/status', '{"__proto__":{"x":1}}')).reason).toBe('invalid_payload');
  });
});
