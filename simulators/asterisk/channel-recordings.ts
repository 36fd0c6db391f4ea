/**
 * POST /channels/{id}/record (issue 19: the hotline's voicemail), as captured on Asterisk 22.10.1:
 *  201 {name, format, state:"queued", target_uri:"channel:<id>"}, then RecordingStarted (state "recording");
 *  RecordingFinished (state "done", duration) when maxDurationSeconds passes, a terminateOn digit is pressed,
 *  or the channel hangs up (between its ChannelHangupRequest and StasisEnd);
 *  an existing name with ifExists=fail: 409 "Recording '<name>' already exists and can not be overwritten".
 * The file is a real WAV in the stored-recordings directory (recordings.ts), so GET /recordings/stored/{name}
 * and its /file serve it. Not modelled: a real channel's playbacks wait until its recording ends.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, type Engine } from './engine.ts';
import type { Router } from './http.ts';
import { wavFile } from './recordings.ts';

const NAME_RE = /^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/;

interface ChannelRecording {
  name: string;
  format: string;
  channelId: string;
  startedMs: number;
  apps: Set<string>;
  terminateOn: string;
  timer?: NodeJS.Timeout;
}

export function registerChannelRecordings(r: Router, engine: Engine, dir: string): void {
  const live = new Map<string, ChannelRecording>();
  const json = (rec: ChannelRecording, state: string, duration?: number): Record<string, unknown> => {
    const j: Record<string, unknown> = { name: rec.name, format: rec.format, state, target_uri: `channel:${rec.channelId}` };
    if (duration !== undefined) j.duration = duration;
    return j;
  };
  const finish = (rec: ChannelRecording): void => {
    if (!live.delete(rec.name)) return;
    engine.sched.cancel(rec.timer);
    const seconds = (Date.now() - rec.startedMs) / 1000 / engine.sched.timeScale;
    writeFileSync(join(dir, `${rec.name}.${rec.format}`), wavFile(seconds));
    engine.hub.emit('RecordingFinished', { recording: json(rec, 'done', Math.round(seconds)) }, rec.apps);
  };
  engine.hub.emitter.on('event', (e: { event: { type: string; digit?: string; channel?: { id?: string } } }) => {
    const { type, channel, digit } = e.event;
    if (type !== 'ChannelHangupRequest' && type !== 'ChannelDtmfReceived') return;
    for (const rec of [...live.values()]) {
      if (rec.channelId !== channel?.id) continue;
      if (type === 'ChannelHangupRequest' || (digit && (rec.terminateOn === 'any' || rec.terminateOn === digit))) finish(rec);
    }
  });

  r.add('POST', 'channels/{channelId}/record', (p) => {
    const ch = engine.control(p.str('channelId') ?? '');
    engine.checkState(ch);
    const name = p.str('name');
    const format = p.str('format');
    if (!name) throw new ApiError(400, 'Recording name is required');
    if (!format) throw new ApiError(400, 'Recording format is required');
    if (!NAME_RE.test(name) || name.includes('..')) throw new ApiError(400, 'Invalid recording name');
    if (format !== 'wav') throw new ApiError(422, `Recording format '${format}' is not supported by the simulator`);
    const ifExists = p.str('ifExists') ?? 'fail';
    if (live.has(name)) throw new ApiError(409, 'A recording with the same name is currently in progress');
    if (ifExists === 'fail' && existsSync(join(dir, `${name}.${format}`))) throw new ApiError(409, `Recording '${name}' already exists and can not be overwritten`);
    const rec: ChannelRecording = { name, format, channelId: ch.id, startedMs: Date.now(), apps: new Set(ch.apps), terminateOn: p.str('terminateOn') ?? 'none' };
    live.set(name, rec);
    const max = Number(p.str('maxDurationSeconds') ?? 0);
    if (max > 0) rec.timer = engine.sched.after(max, () => finish(rec));
    // after the 201, as captured
    engine.sched.afterMs(1, () => live.has(name) && engine.hub.emit('RecordingStarted', { recording: json(rec, 'recording') }, rec.apps));
    return { status: 201, body: json(rec, 'queued'), headers: { Location: `/ari/recordings/live/${encodeURIComponent(name)}` } };
  });
}
