/**
 * Zigbee2MQTT state messages: topic `{prefix}/{friendly name}`, payload one JSON object with every exposed
 * property (protocols.md §5). Only single-level names are read (`{prefix}/+`): `bridge/...`, `.../set`,
 * `.../availability` are not device state, and Anxin's zigbee2mqtt identifiers cannot contain `/`.
 */

/** Zigbee2MQTT state payloads are a few hundred bytes; anything far larger is not a state message. */
export const ZIGBEE_MAX_PAYLOAD = 16 * 1024;

/** The friendly name in `{prefix}/{name}`, or null for any other topic. */
export function parseStateTopic(topic: string, prefix: string): string | null {
  if (!topic.startsWith(`${prefix}/`)) return null;
  const name = topic.slice(prefix.length + 1);
  if (name === '' || name.includes('/') || name === 'bridge') return null;
  return name;
}

/** The state object, or null when the payload is not a JSON object (older `online`/`offline` texts, garbage). */
export function parseStatePayload(payload: Buffer): { value: Record<string, unknown>; text: string } | null {
  if (payload.length > ZIGBEE_MAX_PAYLOAD) return null;
  const text = payload.toString('utf8');
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    return { value: v as Record<string, unknown>, text };
  } catch {
    return null;
  }
}
