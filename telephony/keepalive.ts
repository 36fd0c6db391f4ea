/**
 * WebSocket keepalive for the ARI event socket (issue 17 item 7). Neither ari-client nor Asterisk pings, so a
 * TCP path that is dropped silently (NAT timeout, a frozen proxy, a pulled cable) leaves the socket OPEN while no
 * event ever arrives again. Asterisk's res_http_websocket answers a ping with a pong (RFC 6455 §5.5.2), so a ping
 * every `intervalMs` and no pong (or any other frame) within `timeoutMs` means the path is dead.
 */
import type { EventEmitter } from 'node:events';

export interface PingableSocket extends EventEmitter {
  readyState: number;
  ping(data?: unknown, mask?: boolean, cb?: (err?: Error) => void): void;
  terminate(): void;
}

export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Called once when a pong is overdue; the socket has already been terminated. */
  onDead(reason: string): void;
}

const OPEN = 1;

export interface Keepalive {
  stop(): void;
  /** A frame arrived (the adapter takes text frames off the socket before its 'message' listeners run). */
  seen(): void;
}

/** Starts pinging once the socket is open; stops by itself when it closes. */
export function keepAlive(ws: PingableSocket, o: KeepaliveOptions): Keepalive {
  let interval: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    if (interval) clearInterval(interval);
    if (deadline) clearTimeout(deadline);
    interval = deadline = undefined;
  };
  // Any frame from the server proves the path is alive, not only the pong.
  const alive = (): void => {
    if (deadline) clearTimeout(deadline);
    deadline = undefined;
  };
  const ping = (): void => {
    if (stopped || ws.readyState !== OPEN || deadline) return;
    deadline = setTimeout(() => {
      if (stopped) return;
      stop();
      try {
        ws.terminate();
      } catch {
        // already gone
      }
      o.onDead(`no pong within ${o.timeoutMs} ms`);
    }, o.timeoutMs);
    deadline.unref();
    try {
      ws.ping(undefined, undefined, () => {});
    } catch {
      // closing: the close handler takes over
    }
  };
  const begin = (): void => {
    if (stopped || interval) return;
    interval = setInterval(ping, o.intervalMs);
    interval.unref();
  };
  ws.on('pong', alive);
  ws.on('close', stop);
  if (ws.readyState === OPEN) begin();
  else ws.once('open', begin);
  return { stop, seen: alive };
}
