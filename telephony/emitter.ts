/**
 * A tiny typed event emitter. Each handler runs in its own try/catch: one failing listener never stops the
 * others, never reaches the WebSocket frame handler, and never becomes an uncaught exception.
 */
export class Emitter<M extends object> {
  private readonly handlers = new Map<keyof M, Set<(e: never) => void>>();

  constructor(private readonly onHandlerError: (type: string, err: unknown) => void = () => {}) {}

  on<K extends keyof M>(type: K, fn: (e: M[K]) => void): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(fn as (e: never) => void);
    return () => this.off(type, fn);
  }

  once<K extends keyof M>(type: K, fn: (e: M[K]) => void): () => void {
    const off = this.on(type, (e) => {
      off();
      fn(e);
    });
    return off;
  }

  off<K extends keyof M>(type: K, fn: (e: M[K]) => void): void {
    this.handlers.get(type)?.delete(fn as (e: never) => void);
  }

  emit<K extends keyof M>(type: K, e: M[K]): void {
    const set = this.handlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (e: M[K]) => void)(e);
      } catch (err) {
        this.onHandlerError(String(type), err);
      }
    }
  }

  listenerCount(type: keyof M): number {
    return this.handlers.get(type)?.size ?? 0;
  }

  clear(): void {
    this.handlers.clear();
  }
}
