/**
 * What every fuzzer of the fuzz scenario shares: a protocol's input budget (bounded by a deadline), and TCP
 * connections from a chosen source address with a wait for the gateway's answer.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Shared progress of one protocol's fuzzers: inputs taken from a budget, bytes, connections. */
export class Budget {
  taken = 0;
  bytes = 0;
  connections = 0;
  closed = 0;
  markerTimeouts = 0;
  /** what the protocol's accounting needs (fillers, markers, what the framing rules say the bytes formed…) */
  readonly n: Record<string, number> = {};
  add(key: string, v = 1): void {
    this.n[key] = (this.n[key] ?? 0) + v;
  }
  /** the time bound was reached before the budget was spent */
  capped = false;
  constructor(
    readonly total: number,
    private readonly deadline = Infinity,
  ) {}
  take(n: number): number {
    if (performance.now() > this.deadline) {
      this.capped = true;
      return 0;
    }
    const k = Math.max(0, Math.min(n, this.total - this.taken));
    this.taken += k;
    return k;
  }
  get done(): boolean {
    return this.taken >= this.total || performance.now() > this.deadline;
  }
}

export function tcp(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves when `pred` (checked on every chunk) holds, the socket closes, or after `ms`: 'ok' | 'closed' | 'timeout'. */
export function waitFor(s: Socket, pred: () => boolean, ms: number): Promise<'ok' | 'closed' | 'timeout'> {
  if (pred()) return Promise.resolve('ok');
  if (s.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const done = (r: 'ok' | 'closed' | 'timeout') => {
      clearTimeout(t);
      s.removeListener('data', on);
      s.removeListener('close', onClose);
      resolve(r);
    };
    const on = () => pred() && done('ok');
    const onClose = () => done('closed');
    const t = setTimeout(() => done('timeout'), ms);
    s.on('data', on);
    s.once('close', onClose);
  });
}

