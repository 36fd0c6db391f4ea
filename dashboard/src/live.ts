/**
 * The live connection (GET /api/ws). Reconnects with exponential backoff and jitter after any drop; the server
 * answers every (re)connect with a snapshot of the open alarms, so the queue resynchronises by itself. A ping
 * every 10 s, and a connection silent for 25 s is treated as dead (a half-open socket never fires 'close').
 */
import type { WsMessage } from './types';

export interface LiveHandlers {
  message(m: WsMessage): void;
  online(): void;
  offline(info: { attempt: number; retryInMs: number }): void;
  /** the server refused or revoked the session (close code 4401): log in again, no reconnecting */
  unauthorized(reason: string): void;
  /** this role may not use the live stream (close code 4403, installers): no reconnecting */
  forbidden(): void;
}

const PING_MS = 10_000;
const DEAD_MS = 25_000;
const MAX_BACKOFF_MS = 15_000;

export class Live {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastMessageAt = 0;
  private stopped = true;

  constructor(
    private readonly url: () => string,
    private readonly h: LiveHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    window.addEventListener('online', this.reconnectNow);
    this.connect();
    this.pingTimer = setInterval(() => this.heartbeat(), PING_MS);
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.reconnectNow);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close(1000, 'logout');
    }
  }

  send(m: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  /** Ask for a fresh snapshot (after a missed update is suspected). */
  resync(): void {
    this.send({ type: 'resync' });
  }

  private reconnectNow = () => {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.connect();
  };

  private connect(): void {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let greeted = false;
    ws.onopen = () => {
      this.lastMessageAt = Date.now();
    };
    ws.onmessage = (e) => {
      this.lastMessageAt = Date.now();
      // Online once the server has spoken (hello, then the snapshot), not merely when the socket opened.
      if (!greeted) {
        greeted = true;
        this.attempt = 0;
        this.h.online();
      }
      let m: WsMessage;
      try {
        m = JSON.parse(String(e.data)) as WsMessage;
      } catch {
        return;
      }
      this.h.message(m);
    };
    ws.onerror = () => undefined; // 'close' follows and does the work
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (e.code === 4401) {
        this.stop();
        this.h.unauthorized(e.reason);
        return;
      }
      if (e.code === 4403) {
        this.stop();
        this.h.forbidden();
        return;
      }
      this.scheduleRetry();
    };
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.h.offline({ attempt: this.attempt, retryInMs: delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private heartbeat(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastMessageAt > DEAD_MS) {
      // Half-open: force the close path (and so the banner and the reconnect).
      ws.onclose = null;
      this.ws = null;
      try {
        ws.close(4000, 'no answer to ping');
      } catch {
        /* already closing */
      }
      this.scheduleRetry();
      return;
    }
    this.send({ type: 'ping' });
  }
}
