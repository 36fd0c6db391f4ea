/**
 * Call recording (issue 19 "Recording"): every bridged call's mixing bridge is recorded through ARI
 * (POST /bridges/{id}/record, format wav) as a stored recording named `anxin-call-<callId>` (deterministic: the
 * call record can name it before it is finished). Asterisk writes it to its recording directory
 * (astspooldir/recording, e.g. /var/spool/asterisk/recording/<name>.wav). RecordingStarted / RecordingFinished /
 * RecordingFailed are not decoded by the adapter, so they are read from its `unknown` events.
 *
 * The stored recordings API (get, file, delete) is what the gateway plays back through its own API (never
 * straight from Asterisk) and what retention (RECORDING_RETENTION_DAYS) deletes with.
 */
import type { AriAdapter, UnknownAriEvent } from './ari.ts';
import { errText, type TelephonyLog } from './log.ts';
import type { CallAction, CallRecording, TelephonyPorts } from './ports.ts';

export const recordingNameFor = (callId: string): string => `anxin-call-${callId}`;

interface Finished {
  state: string;
  durationS?: number;
}

interface Live {
  callId: string;
  name: string;
  format: string;
  startedAt: Date;
  finished: Promise<Finished>;
  resolve(f: Finished): void;
}

export interface RecorderDeps {
  adapter: AriAdapter;
  ports: TelephonyPorts;
  log: TelephonyLog;
  report(a: Omit<CallAction, 'at'>): void;
  recorded(r: CallRecording): void;
  /** Multiplies the wait for RecordingFinished (time-scaled simulator). */
  timeScale: number;
}

export class CallRecorder {
  private readonly live = new Map<string, Live>();
  private readonly off: () => void;

  constructor(private readonly d: RecorderDeps) {
    this.off = d.adapter.on('unknown', (u) => this.onEvent(u));
  }

  stop(): void {
    this.off();
  }

  private onEvent(u: UnknownAriEvent): void {
    if (u.type !== 'RecordingFinished' && u.type !== 'RecordingFailed') return;
    const rec = (u.raw as { recording?: { name?: unknown; state?: unknown; duration?: unknown } }).recording;
    const live = typeof rec?.name === 'string' ? this.live.get(rec.name) : undefined;
    if (!live) return;
    const f: Finished = { state: typeof rec?.state === 'string' ? rec.state : u.type === 'RecordingFailed' ? 'failed' : 'done' };
    if (typeof rec?.duration === 'number') f.durationS = rec.duration;
    live.resolve(f);
  }

  /** Starts recording the call's bridge; the name, or undefined when Asterisk refused (logged, the call goes on). */
  async start(callId: string, bridgeId: string, format = 'wav'): Promise<string | undefined> {
    const name = recordingNameFor(callId);
    let resolve!: (f: Finished) => void;
    const finished = new Promise<Finished>((r) => (resolve = r));
    const live: Live = { callId, name, format, startedAt: new Date(), finished, resolve };
    this.live.set(name, live); // before the request: RecordingStarted/Finished can beat the HTTP answer
    try {
      await this.d.adapter.recordBridge(bridgeId, { name, format, ifExists: 'fail' });
    } catch (err) {
      this.live.delete(name);
      this.d.log.warn({ err: errText(err), callId, bridgeId }, 'telephony: recording did not start');
      return undefined;
    }
    this.d.report({ callId, action: 'recording_started', by: 'system', detail: { recording: name, format } });
    return name;
  }

  /** Stops the call's recording, waits for RecordingFinished (bounded), and reports it (CallLog.recorded, event). */
  async finish(callId: string): Promise<CallRecording | undefined> {
    const live = this.live.get(recordingNameFor(callId));
    if (!live) return undefined;
    await this.d.adapter.stopRecording(live.name).catch((err: unknown) => this.d.log.warn({ err: errText(err), name: live.name }, 'telephony: stop recording failed'));
    const timeout = new Promise<Finished>((r) => setTimeout(() => r({ state: 'unknown' }), Math.max(3000, 5000 * this.d.timeScale)).unref());
    const f = await Promise.race([live.finished, timeout]);
    this.live.delete(live.name);
    const r: CallRecording = { callId, name: live.name, format: live.format, startedAt: live.startedAt, endedAt: new Date(), state: f.state };
    if (f.durationS !== undefined) r.durationS = f.durationS;
    this.d.report({ callId, action: 'recording_stopped', by: 'system', detail: { recording: live.name, state: f.state, durationS: f.durationS } });
    try {
      await this.d.ports.calls.recorded?.(r);
    } catch (err) {
      this.d.log.error({ err: errText(err), callId }, 'telephony: calls.recorded failed');
    }
    this.d.recorded(r);
    return r;
  }
}

/** Stored recordings, for playback through the gateway and for retention. */
export interface Recordings {
  /** The stored recording name of a call (`anxin-call-<callId>`). */
  nameFor(callId: string): string;
  /** `{name, format}`, undefined when there is no such stored recording. */
  get(name: string): Promise<{ name: string; format: string } | undefined>;
  /** The file's bytes (WAV: RIFF header, 8 kHz mono 16-bit on Asterisk), undefined when absent. */
  file(name: string): Promise<Buffer | undefined>;
  /** Deletes it (retention); false when it was already gone. */
  delete(name: string): Promise<boolean>;
}

export function recordingsApi(adapter: AriAdapter): Recordings {
  return {
    nameFor: recordingNameFor,
    get: (name) => adapter.storedRecording(name),
    file: (name) => adapter.storedRecordingFile(name),
    delete: (name) => adapter.deleteStoredRecording(name),
  };
}
