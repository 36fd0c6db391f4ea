/**
 * Who has a live dashboard open (WebSocket connections per user). Escalation presents a P1 to supervisors only when
 * one is actually looking, so the timeline never claims a pop nobody could see (issue 14).
 */
export class Presence {
  private readonly counts = new Map<number, number>();

  join(userId: number): void {
    this.counts.set(userId, (this.counts.get(userId) ?? 0) + 1);
  }

  leave(userId: number): void {
    const n = (this.counts.get(userId) ?? 0) - 1;
    if (n > 0) this.counts.set(userId, n);
    else this.counts.delete(userId);
  }

  online(userId: number): boolean {
    return this.counts.has(userId);
  }

  /** The users with a dashboard open here. */
  users(): number[] {
    return [...this.counts.keys()];
  }
}
