/**
 * Call recording playback (issue 19 "Recording"): the WAV is fetched from Asterisk through ARI and streamed by
 * Anxin, never served or redirected to Asterisk (the browser must not reach ARI or need its credentials). Agents,
 * supervisors and admins may play; installers may not. Every playback is in audit_log (who, which call, which alarm).
 */
import { VIA_TELEPHONY_NODE } from './holder-forward.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { callSummary } from '../store/call-log.js';
import { getCallbackRequest } from '../store/callbacks.js';
import { actorOf, requireRole } from './auth.js';
import { CallParams, control, telephonyOf, type TelephonyGetter } from './call-access.js';
import { ApiError } from './errors.js';

const gone = (id: string) => new ApiError(404, 'no_recording', `该通话没有录音（或已按保留期删除）/ call ${id} has no recording (or retention deleted it)`);

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → [start, end] inclusive; undefined when absent or not satisfiable. */
export function byteRange(header: string | undefined, size: number): [number, number] | undefined | 'bad' {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!header) return undefined;
  if (!m || (m[1] === '' && m[2] === '')) return 'bad';
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? 'bad' : [start, end];
}

export async function recordingRoutes(app: FastifyInstance, o: { db: Db; telephony: TelephonyGetter }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;

  r.get(
    '/api/calls/:id/recording',
    {
      schema: { tags: ['calls'], summary: "Play a call's recording (audio/wav, Range supported); each playback is audited", params: CallParams },
      onRequest: requireRole(db, 'agent', 'supervisor', 'admin'),
      config: VIA_TELEPHONY_NODE,
    },
    async (req, reply) => {
      const id = req.params.id;
      const call = await callSummary(db, id);
      if (!call) throw gone(id);
      const tel = telephonyOf(o.telephony);
      // The call record names it once stored (CallLog.recorded); a call still being stored is found by its fixed name.
      const name = call.recording ?? tel.recordings.nameFor(id);
      const wav = await control(() => tel.recordings.file(name));
      if (!wav) throw gone(id);
      return sendWav(req, reply, wav, name, () =>
        audit(db, actorOf(req), 'recording_play', `call:${id}`, { recording: name, ...(call.alarmId ? { alarmId: call.alarmId } : {}), ...(call.elderId ? { elderId: call.elderId } : {}) }),
      );
    },
  );

  r.get(
    '/api/callbacks/:id/recording',
    {
      schema: { tags: ['calls'], summary: "Play a call-back row's voicemail (留言; audio/wav, Range supported); each playback is audited", params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) },
      onRequest: requireRole(db, 'agent', 'supervisor', 'admin'),
      config: VIA_TELEPHONY_NODE,
    },
    async (req, reply) => {
      const row = await getCallbackRequest(db, req.params.id);
      const none = new ApiError(404, 'no_recording', `该回拨记录没有留言（或已按保留期删除）/ call-back ${req.params.id} has no voicemail (or retention deleted it)`);
      if (!row?.recording) throw none;
      const name = row.recording;
      const wav = await control(() => telephonyOf(o.telephony).recordings.file(name));
      if (!wav) throw none;
      return sendWav(req, reply, wav, name, () =>
        audit(db, actorOf(req), 'voicemail_play', `callback:${row.id}`, { recording: name, ...(row.elderId ? { elderId: row.elderId } : {}) }),
      );
    },
  );
}

/** Sends a WAV with Range support; `played` (the audit row) runs once per playback: the request from the start. */
async function sendWav(req: FastifyRequest, reply: FastifyReply, wav: Buffer, name: string, played: () => Promise<unknown>) {
  const range = byteRange(req.headers.range, wav.length);
  // A player fetches the file in ranges: one playback is the request from the start (or the whole file).
  if (range === undefined || (range !== 'bad' && range[0] === 0)) await played();
  reply.header('content-type', 'audio/wav').header('accept-ranges', 'bytes').header('cache-control', 'private, no-store');
  reply.header('content-disposition', `inline; filename="${name}.wav"`);
  if (range === 'bad') return reply.status(416).header('content-range', `bytes */${wav.length}`).send();
  if (range) return reply.status(206).header('content-range', `bytes ${range[0]}-${range[1]}/${wav.length}`).send(wav.subarray(range[0], range[1] + 1));
  return reply.send(wav);
}
