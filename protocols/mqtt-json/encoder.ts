/**
 * What the server sends an mqtt-json device: the ack after a message is committed, and the error for a
 * payload it refused. Both carry the device's `msgId` (when it sent one) so the device can match them.
 */

export type MsgId = string | number;

export interface FieldProblem {
  /** JSON pointer into the payload, '' for the whole payload */
  path: string;
  message: string;
}

export type UplinkErrorCode = 'bad_topic' | 'too_large' | 'not_utf8' | 'invalid_json' | 'not_an_object' | 'invalid_payload';

/** `{"msgId":…,"ok":true}` on anxin/down/{id}/ack. */
export function encodeAck(msgId: MsgId): Buffer {
  return Buffer.from(JSON.stringify({ msgId, ok: true }));
}

/** `{"msgId":…,"error":"invalid_payload","problems":[{"path":"/alarms/0","message":"…"}]}` on anxin/down/{id}/error. */
export function encodeError(e: { msgId?: MsgId; error: UplinkErrorCode; problems: FieldProblem[] }): Buffer {
  const body: Record<string, unknown> = {};
  if (e.msgId !== undefined) body.msgId = e.msgId;
  body.error = e.error;
  body.problems = e.problems;
  return Buffer.from(JSON.stringify(body));
}
