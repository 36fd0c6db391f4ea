/**
 * Queue KPIs for the wallboard (issue 19: offered, answered, abandoned, wait times; the telecare target of
 * glossary.md: 97.5 % answered within 60 s, 99 % within 180 s). Counted since start (or the last reset);
 * the gateway keeps history from the call records.
 */

export interface QueueStats {
  since: Date;
  /** Callers who entered the queue. */
  offered: number;
  /** Bridged with an agent. */
  answered: number;
  /** Hung up while queued (呼损). */
  abandoned: number;
  /** Sent to the night number or voicemail (or hung up) by overflow. */
  overflowed: number;
  /** Waiting now (ringing an agent included). */
  waiting: number;
  /** Longest wait of those waiting now, ms. */
  longestWaitingMs: number;
  /** Over answered calls. */
  avgAnswerWaitMs: number;
  maxAnswerWaitMs: number;
  /** Over abandoned calls. */
  avgAbandonWaitMs: number;
  /** answered within 60 s / 180 s, over offered calls that have left the queue (0 when none). */
  answeredWithin60sRate: number;
  answeredWithin180sRate: number;
  emergencies: number;
  priorityCallers: number;
}

export class QueueCounters {
  private since = new Date();
  private offered = 0;
  private answered = 0;
  private abandoned = 0;
  private overflowed = 0;
  private answerWaits: number[] = [];
  private abandonWaitSum = 0;
  private emergencies = 0;
  private priority = 0;

  offer(priority: boolean): void {
    this.offered++;
    if (priority) this.priority++;
  }

  emergency(): void {
    this.emergencies++;
  }

  answer(waitMs: number): void {
    this.answered++;
    this.answerWaits.push(waitMs);
  }

  abandon(waitMs: number): void {
    this.abandoned++;
    this.abandonWaitSum += waitMs;
  }

  overflow(): void {
    this.overflowed++;
  }

  reset(): void {
    Object.assign(this, { since: new Date(), offered: 0, answered: 0, abandoned: 0, overflowed: 0, answerWaits: [], abandonWaitSum: 0, emergencies: 0, priority: 0 });
  }

  snapshot(waitingSince: Date[], now = Date.now()): QueueStats {
    const left = this.answered + this.abandoned + this.overflowed;
    const within = (s: number) => (left ? this.answerWaits.filter((w) => w <= s * 1000).length / left : 0);
    const sum = this.answerWaits.reduce((a, b) => a + b, 0);
    return {
      since: this.since,
      offered: this.offered,
      answered: this.answered,
      abandoned: this.abandoned,
      overflowed: this.overflowed,
      waiting: waitingSince.length,
      longestWaitingMs: waitingSince.reduce((m, d) => Math.max(m, now - d.getTime()), 0),
      avgAnswerWaitMs: this.answered ? Math.round(sum / this.answered) : 0,
      maxAnswerWaitMs: this.answerWaits.reduce((m, w) => Math.max(m, w), 0),
      avgAbandonWaitMs: this.abandoned ? Math.round(this.abandonWaitSum / this.abandoned) : 0,
      answeredWithin60sRate: within(60),
      answeredWithin180sRate: within(180),
      emergencies: this.emergencies,
      priorityCallers: this.priority,
    };
  }
}
