/** A tiny typed listener list, so the port's onX(cb) calls return an unsubscribe function. */
export class Listeners<A extends unknown[]> {
  private readonly fns = new Set<(...a: A) => void>();

  add(fn: (...a: A) => void): () => void {
    this.fns.add(fn);
    return () => void this.fns.delete(fn);
  }

  emit(...a: A): void {
    // a listener's exception must not break the transport's own state
    for (const fn of this.fns) {
      try {
        fn(...a);
      } catch {
        /* ignored: the caller's bug */
      }
    }
  }
}
