/**
 * MQTT already frames messages, so "framing" for mqtt-json is addressing: which device and which kind a
 * publish is, read from its topic, and a cap on the payload size. The broker authenticates the device and
 * its ACL keeps it to `anxin/up/{id}/#`, so the id in the topic is the authenticated one.
 */

export const UPLINK_KINDS = ['heartbeat', 'position', 'alarm', 'health', 'status'] as const;
export type UplinkKind = (typeof UPLINK_KINDS)[number];

/** A JSON uplink larger than this is refused by the decoder (the broker has its own, larger packet cap). */
export const MQTT_JSON_MAX_PAYLOAD = 16 * 1024;

export const uplinkTopic = (deviceId: string, kind: UplinkKind) => `anxin/up/${deviceId}/${kind}`;
/** Where the server answers: `ack` after the message is committed, `error` for a refused payload. */
export const downTopic = (deviceId: string, what: 'ack' | 'error') => `anxin/down/${deviceId}/${what}`;

export type UplinkAddress = { ok: true; deviceId: string; kind: UplinkKind } | { ok: false; reason: 'bad_topic'; deviceId?: string };

/** `anxin/up/{deviceId}/{kind}` → its parts; anything else (extra levels, unknown kind) is `bad_topic`. */
export function parseUplinkTopic(topic: string): UplinkAddress {
  const parts = topic.split('/');
  if (parts[0] !== 'anxin' || parts[1] !== 'up' || !parts[2]) return { ok: false, reason: 'bad_topic' };
  const deviceId = parts[2];
  const kind = parts[3];
  if (parts.length !== 4 || !(UPLINK_KINDS as readonly string[]).includes(kind ?? '')) return { ok: false, reason: 'bad_topic', deviceId };
  return { ok: true, deviceId, kind: kind as UplinkKind };
}
