/**
 * Recording retention (issue 19, RECORDING_RETENTION_DAYS): once a day, call recordings and voicemails older than
 * the setting are deleted from Asterisk through ARI (Asterisk never prunes its recording directory) and marked
 * deleted in the database. A timer, not a job queue: the project has none, and a missed day is caught up by the
 * next sweep (it takes everything older than the cut-off, in batches).
 */
import type { Telephony } from '../telephony/index.js';
import type { Logger } from './log.js';
import type { Db } from './store/db.js';
import { audit } from './store/audit.js';
import { recordingDeleted, recordingsEndedBefore, voicemailDeleted, voicemailsBefore } from './store/call-log.js';

const DAY_MS = 24 * 3600 * 1000;

export class RecordingRetention {
  private timer?: NodeJS.Timeout;
  private first?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly o: { db: Db; recordings: () => Telephony['recordings'] | undefined; days: number; log: Logger; everyMs?: number },
  ) {}

  start(): void {
    if (this.o.days <= 0) return;
    const run = () => void this.sweep().catch((err: unknown) => this.o.log.warn({ err }, 'recording retention sweep failed; next one tomorrow'));
    // The first sweep a minute after start (not during it), then daily.
    this.first = setTimeout(run, 60_000);
    this.first.unref();
    this.timer = setInterval(run, this.o.everyMs ?? DAY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.first);
    clearInterval(this.timer);
  }

  /** Deletes what is due; the number deleted. One sweep at a time. */
  sweep(now = new Date()): Promise<number> {
    this.running ??= this.sweepOnce(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(now: Date): Promise<number> {
    const rec = this.o.recordings();
    if (!rec || this.o.days <= 0) return 0;
    const before = new Date(now.getTime() - this.o.days * DAY_MS);
    let n = 0;
    for (;;) {
      const due = await recordingsEndedBefore(this.o.db, before);
      for (const d of due) {
        // false: already gone from Asterisk (deleted by hand, another node): marked all the same
        const existed = await rec.delete(d.recording);
        await recordingDeleted(this.o.db, d.flowId);
        await audit(this.o.db, 'system', 'recording_deleted', `call:${d.flowId}`, { recording: d.recording, existed, retentionDays: this.o.days });
        n++;
      }
      if (due.length < 200) break;
    }
    for (;;) {
      const due = await voicemailsBefore(this.o.db, before);
      for (const v of due) {
        const existed = await rec.delete(v.recording);
        await voicemailDeleted(this.o.db, v.id);
        await audit(this.o.db, 'system', 'recording_deleted', `callback:${v.id}`, { recording: v.recording, existed, retentionDays: this.o.days });
        n++;
      }
      if (due.length < 200) break;
    }
    if (n) this.o.log.info({ deleted: n, retentionDays: this.o.days }, 'old recordings deleted');
    return n;
  }
}
