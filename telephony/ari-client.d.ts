/**
 * Minimal types for `ari-client` 2.2.0 (it ships none): only what telephony/ari.ts uses.
 * Operations resolve with resource instances (plain JSON fields plus methods) or '' for void operations,
 * and reject with `Error(<raw response body>)` (the HTTP status is lost, ari.md §4.3).
 */
declare module 'ari-client' {
  import type { EventEmitter } from 'node:events';

  type Params = Record<string, unknown>;
  type Op = (params?: Params) => Promise<unknown>;

  export interface Client extends EventEmitter {
    channels: { originate: Op; create: Op; dial: Op; answer: Op; hangup: Op; ring: Op; play: Op; get: Op };
    bridges: { create: Op; addChannel: Op; removeChannel: Op; destroy: Op };
    playbacks: { stop: Op };
    asterisk: { getInfo: Op };
    /** Opens the event WebSocket; resolves on the first open, rejects only after WebSocketMaxRetries. */
    start(apps: string | string[], subscribeAll?: boolean): Promise<void>;
    /** Closes the event WebSocket (no reconnect). */
    stop(): void;
    /** Private: the current event socket (ws@6). The adapter hooks it (see ari.ts). */
    _ws?: unknown;
  }

  export function connect(url: string, user: string, pass: string): Promise<Client>;
}
