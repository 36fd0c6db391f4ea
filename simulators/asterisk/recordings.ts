/**
 * Bridge recordings and stored recordings (issue 19), as captured on Asterisk 22.10.1
 * (tests/helpers/ari-scenarios-controls.ts):
 *  POST /bridges/{id}/record  RecordingStarted {recording:{name,format,state:"recording",target_uri}} before the 201
 *  stop (or the bridge destroyed)  RecordingFinished {recording:{…,state:"done",duration:<s>}}
 * The file is a real WAV (RIFF, PCM 16-bit, 8 kHz mono) in `dir`, as long as the recording lasted in simulated
 * time, holding a quiet 440 Hz tone so a player has something to play. Only `wav` is supported.
 */
import { existsSync, mkdirSync, readdirSync as readdir, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from './engine.ts';
import { ApiError } from './engine.ts';
import type { SimBridge } from './model.ts';

interface LiveRecording {
  name: string;
  format: string;
  bridgeId: string;
  startedMs: number;
  apps: Set<string>;
}

const RATE = 8000;

/** A PCM WAV: 44-byte RIFF header, then `seconds` of a quiet tone. */
export function wavFile(seconds: number): Buffer {
  const samples = Math.max(1, Math.round(seconds * RATE));
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(RATE, 24);
  buf.writeUInt32LE(RATE * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) buf.writeInt16LE(Math.round(2000 * Math.sin((2 * Math.PI * 440 * i) / RATE)), 44 + i * 2);
  return buf;
}

const NAME_RE = /^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/;

export class RecordingManager {
  private readonly live = new Map<string, LiveRecording>();

  constructor(
    private readonly engine: Engine,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
    // A destroyed bridge ends its recordings (the recorder channel leaves with the others).
    engine.hub.emitter.on('event', (e: { event: { type: string; bridge?: { id?: string } } }) => {
      if (e.event.type !== 'BridgeDestroyed') return;
      for (const r of [...this.live.values()]) if (r.bridgeId === e.event.bridge?.id) this.finish(r);
    });
  }

  private path(name: string, format = 'wav'): string {
    return join(this.dir, `${name}.${format}`);
  }

  private json(r: LiveRecording, state: string, duration?: number): Record<string, unknown> {
    const j: Record<string, unknown> = { name: r.name, format: r.format, state, target_uri: `bridge:${r.bridgeId}` };
    if (duration !== undefined) j.duration = duration;
    return j;
  }

  recordBridge(b: SimBridge, name: string | undefined, format: string | undefined, ifExists: string | undefined): Record<string, unknown> {
    if (!name) throw new ApiError(400, 'Recording name is required');
    if (!format) throw new ApiError(400, 'Recording format is required');
    if (!NAME_RE.test(name) || name.includes('..')) throw new ApiError(400, 'Invalid recording name');
    if (format !== 'wav') throw new ApiError(422, `Recording format '${format}' is not supported by the simulator`);
    const mode = ifExists ?? 'fail';
    if (!['fail', 'overwrite', 'append'].includes(mode)) throw new ApiError(400, 'ifExists invalid');
    if (this.live.has(name)) throw new ApiError(409, 'A recording with the same name is currently in progress');
    if (mode === 'fail' && existsSync(this.path(name))) throw new ApiError(409, 'A recording with the same name already exists on the system');
    const apps = this.engine.bridges.apps(b);
    const r: LiveRecording = { name, format, bridgeId: b.id, startedMs: Date.now(), apps };
    this.live.set(name, r);
    this.engine.hub.emit('RecordingStarted', { recording: this.json(r, 'recording') }, apps);
    return this.json(r, 'queued');
  }

  getLive(name: string): Record<string, unknown> {
    const r = this.live.get(name);
    if (!r) throw new ApiError(404, 'Recording not found');
    return this.json(r, 'recording');
  }

  /** POST /recordings/live/{name}/stop: the file is written, RecordingFinished follows the 204. */
  stop(name: string, discard = false): void {
    const r = this.live.get(name);
    if (!r) throw new ApiError(404, 'Recording not found');
    setTimeout(() => this.finish(r, discard), 1).unref();
    this.live.delete(name);
  }

  private finish(r: LiveRecording, discard = false): void {
    this.live.delete(r.name);
    const seconds = (Date.now() - r.startedMs) / 1000 / this.engine.sched.timeScale;
    if (!discard) writeFileSync(this.path(r.name), wavFile(seconds));
    this.engine.hub.emit('RecordingFinished', { recording: this.json(r, 'done', Math.round(seconds)) }, r.apps);
  }

  stored(): { name: string; format: string }[] {
    return this.storedNames().map((name) => ({ name, format: 'wav' }));
  }

  private storedNames(): string[] {
    return existsSync(this.dir) ? readdir(this.dir).filter((f) => f.endsWith('.wav')).map((f) => f.slice(0, -4)) : [];
  }

  getStored(name: string): { name: string; format: string } {
    if (!existsSync(this.path(name))) throw new ApiError(404, 'Recording not found');
    return { name, format: 'wav' };
  }

  file(name: string): Buffer {
    if (!existsSync(this.path(name))) throw new ApiError(404, 'Recording not found');
    return readFileSync(this.path(name));
  }

  deleteStored(name: string): void {
    if (!existsSync(this.path(name))) throw new ApiError(404, 'Recording not found');
    rmSync(this.path(name));
  }
}

