/**
 * The ARI adapter: the only module that imports `ari-client` (ari.md, decisions). It gives the flows a small
 * typed API and typed events, a health state (`up` | `telephony_down`), and reconnects by itself.
 *
 * The ari-client traps (ari.md §0, §4, §5) and how each is covered here:
 *  1. Process-wide credentials (`swagger.authorizations` is a singleton): connects are serialised process-wide,
 *     and every REST call installs this adapter's Basic credentials immediately before the (synchronous)
 *     request build and restores the previous ones right after, so two adapters with different
 *     credentials in one process each send their own.
 *  2. The uncaught 401 at connect (swagger-client's `fail()` throws inside an HTTP callback): a probe
 *     `GET /ari/asterisk/info` with our own fetch turns 401 into a clear `AriError` (code 'auth') before
 *     `ari.connect` runs, and `SwaggerApi.prototype.fail` is replaced by a version that reports the failure
 *     (ari-client then rejects `connect`) instead of throwing.
 *  3. Errors lose the HTTP status (`Error(<body>)`): the swagger HTTP layer is wrapped so error responses to
 *     the adapter's own requests carry their status into the rejection; `AriError.status` is exact. A table
 *     of Asterisk's messages is the fallback.
 *  4. The event WebSocket gives up after 10 retries (~43 s): the adapter does not use ari-client's reconnect at
 *     all. The first drop retires the client (its later sockets are aborted before they connect, so an old
 *     client can never re-register the app) and the adapter's own loop connects a fresh client with
 *     exponential backoff, without a retry limit. `WebSocketMaxRetries` is handled the same way.
 *  5. Unknown event types crash ari-client's message handler (uncaught TypeError): raw frames are taken off the
 *     socket before ari-client sees them and decoded here (ari-events.ts); anything unknown or malformed is
 *     logged and emitted as 'unknown'.
 *  Also: REST calls that never settle when Asterisk vanishes (shred swallows ECONNREFUSED) get a timeout;
 *  the deprecation console.log of every connect is filtered; a client-made channelId always goes with
 *  originate, so listeners exist before the first event (ari.md §1.1 race).
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Client } from 'ari-client';
import {
  decodeEvent,
  parseBridge,
  parseChannel,
  parsePlayback,
  type AriEvent,
  type AriEventOf,
  type AriEventType,
  type BridgeSnapshot,
  type ChannelSnapshot,
  type PlaybackSnapshot,
  type UnknownAriEvent,
  UNKNOWN_TYPE_REASON,
} from './ari-events.ts';
import { Emitter } from './emitter.ts';
import { keepAlive, type PingableSocket } from './keepalive.ts';
import { errText, silentLog, type TelephonyLog } from './log.ts';

export type * from './ari-events.ts';

const requireHere = createRequire(import.meta.url);
const ari = requireHere('ari-client') as typeof import('ari-client');

// ---------------------------------------------------------------- swagger-client (ari-client's own copy)

interface SwaggerHttpObj {
  on?: { error?: (response: { status?: number; data?: unknown }) => unknown };
}
interface SwaggerModule {
  authorizations: { authz: Record<string, unknown>; add(name: string, auth: unknown): unknown; remove(name: string): boolean };
  PasswordAuthorization: new (name: string, user: string, pass: string) => unknown;
  SwaggerApi: { prototype: { fail(message: unknown): void; failure(message: unknown): void } };
  SwaggerHttp: { prototype: { execute(obj: SwaggerHttpObj): unknown } };
}
const swagger = createRequire(requireHere.resolve('ari-client'))('swagger-client') as SwaggerModule;

/** Prefix of an error body rewritten to carry the HTTP status (trap 3). */
const STATUS_TAG = '\u0000anxin-ari-status:';
const GUARDS = Symbol.for('anxin.telephony.ari-guards');
/** > 0 while one of our REST calls builds its request (synchronously): only those requests are tagged. */
let ownRequest = 0;

function installGuards(): void {
  const mod = swagger as SwaggerModule & { [GUARDS]?: true };
  if (mod[GUARDS]) return;
  mod[GUARDS] = true;
  // Trap 2: report connect failures through the failure callback (ari-client rejects connect) instead of throwing.
  mod.SwaggerApi.prototype.fail = function fail(this: { failure(m: unknown): void }, message: unknown): void {
    this.failure(message);
  };
  // Trap 3: keep the status of error responses to our own REST calls (other ari-client users in the process
  // are left alone). ari-client turns `response.data` into `Error(data)`; we prefix it with the status.
  const execute = mod.SwaggerHttp.prototype.execute;
  mod.SwaggerHttp.prototype.execute = function executeWithStatus(this: unknown, obj: SwaggerHttpObj): unknown {
    const on = obj?.on;
    const onError = on?.error;
    if (ownRequest > 0 && on && typeof onError === 'function') {
      on.error = (response) => {
        if (response && typeof response.status === 'number') {
          const body = response.data === undefined || response.data === null ? '' : String(response.data);
          response.data = STATUS_TAG + JSON.stringify({ status: response.status, body });
        }
        return onError(response);
      };
    }
    return execute.call(this, obj);
  };
}
installGuards();

/** Process-wide: one ari.connect at a time, so the credentials of one connect are not swapped mid-way (trap 1). */
let connectChain: Promise<unknown> = Promise.resolve();
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const run = connectChain.then(fn, fn);
  connectChain = run.catch(() => undefined);
  return run;
}

/** Runs `fn` with this adapter's credentials in the swagger singleton, then restores the previous ones. */
function withCredentials<T>(auth: unknown, fn: () => T): T {
  const prev = swagger.authorizations.authz['basic-auth'];
  swagger.authorizations.add('basic-auth', auth);
  ownRequest++;
  try {
    return fn();
  } finally {
    ownRequest--;
    if (prev === undefined) swagger.authorizations.remove('basic-auth');
    else swagger.authorizations.add('basic-auth', prev);
  }
}

/** Drops swagger-client's "deprecated version of Swagger" console.log while a connect runs. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const original = console.log;
  const filtered = (...args: unknown[]): void => {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    if (typeof first === 'string' && first.startsWith('This API is using a deprecated version of Swagger')) return;
    original.apply(console, args);
  };
  console.log = filtered;
  try {
    return await fn();
  } finally {
    if (console.log === filtered) console.log = original;
  }
}

// ---------------------------------------------------------------- errors

export type AriErrorCode =
  /** Asterisk answered with an error status (see `status`). */
  | 'http'
  /** 401: wrong ARI user or password. */
  | 'auth'
  /** Asterisk could not be reached. */
  | 'unreachable'
  /** No answer within the request or connect timeout; the request may or may not have been executed. */
  | 'timeout'
  /** The adapter is not connected (health `telephony_down`); nothing was sent. */
  | 'down'
  /** An originate for an idempotency key this adapter already used, or a live channel with that id; nothing dialled. */
  | 'duplicate'
  /** The request could not be built (e.g. a missing path parameter). */
  | 'client';

export class AriError extends Error {
  override readonly name = 'AriError';
  readonly code: AriErrorCode;
  /** The HTTP status Asterisk answered, when there was one. */
  readonly status: number | undefined;
  /** Asterisk's `message` (or `error`) text. */
  readonly ariMessage: string | undefined;

  constructor(message: string, o: { code: AriErrorCode; status?: number; ariMessage?: string; cause?: unknown }) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.code = o.code;
    this.status = o.status;
    this.ariMessage = o.ariMessage;
  }
}

export const isAriStatus = (err: unknown, status: number): boolean => err instanceof AriError && err.status === status;

/** Fallback when the status tag is absent: Asterisk's own messages (ari.md §1) → status. */
const MESSAGE_STATUS: [RegExp, number][] = [
  [/^Authentication required/, 401],
  [/not found$/i, 404],
  [/^ARI URLs do not end with a slash/, 404],
  [/already exists/, 409],
  [/not in (a )?Stasis application/, 409],
  [/cannot be dialed|is not in the 'Down' state/, 409],
  [/^Channel in invalid state/, 412],
  [/^Channel not in this bridge/, 422],
  [/^Allocation failed/, 500],
  [/^(Invalid|Missing|Endpoint must|Application or extension|Only )/, 400],
];

function bodyText(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: unknown; error?: unknown };
    if (typeof j.message === 'string') return j.message;
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON
  }
  return body;
}

/** Turns whatever ari-client / swagger-client rejected with into an AriError with the status recovered. */
export function toAriError(err: unknown, what: string): AriError {
  if (err instanceof AriError) return err;
  if (err instanceof Error) {
    if (err.name === 'HostIsNotReachable') return new AriError(`${what}: Asterisk is not reachable (${err.message})`, { code: 'unreachable', cause: err });
    const m = err.message;
    if (m.startsWith(STATUS_TAG)) {
      try {
        const { status, body } = JSON.parse(m.slice(STATUS_TAG.length)) as { status: number; body: string };
        const text = bodyText(body);
        return new AriError(`${what}: ${status} ${text}`, { code: status === 401 ? 'auth' : 'http', status, ariMessage: text });
      } catch {
        // fall through
      }
    }
    const text = bodyText(m);
    const status = MESSAGE_STATUS.find(([re]) => re.test(text))?.[1];
    if (status !== undefined) return new AriError(`${what}: ${status} ${text}`, { code: status === 401 ? 'auth' : 'http', status, ariMessage: text });
    const net = (err as { code?: unknown }).code;
    if (typeof net === 'string' && /^E[A-Z]+$/.test(net)) return new AriError(`${what}: ${m}`, { code: 'unreachable', cause: err });
    return new AriError(`${what}: ${m}`, { code: 'client', cause: err });
  }
  if (typeof err === 'string') {
    // swagger-client rejects connect with strings like "401 : Unauthorized http://…/resources.json"
    const st = /^(\d{3}) : /.exec(err);
    if (st?.[1]) {
      const status = Number(st[1]);
      return new AriError(`${what}: ${err}`, { code: status === 401 ? 'auth' : 'http', status });
    }
    if (/^Can't read from server/.test(err)) return new AriError(`${what}: ${err}`, { code: 'unreachable' });
    return new AriError(`${what}: ${err}`, { code: 'client' });
  }
  return new AriError(`${what}: ${String(err)}`, { code: 'client' });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new AriError(`${what}: no answer within ${ms} ms`, { code: 'timeout' })), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

// ---------------------------------------------------------------- ids

const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');

/**
 * The channel id for an idempotency key: deterministic (a retry gets the same id, so Asterisk itself refuses
 * it with 409 while the first leg lives), readable, at most 80 characters (Asterisk allows 149), no commas.
 */
export function channelIdFor(idempotencyKey: string): string {
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16);
  const head = safe(idempotencyKey).slice(0, 60);
  return head ? `${head}-${hash}` : `anx-${hash}`;
}

// ---------------------------------------------------------------- the adapter

export type AriHealth = { state: 'up'; since: Date } | { state: 'telephony_down'; reason: string; since: Date };

export type AriAdapterEvents = { [K in AriEventType]: AriEventOf<K> } & {
  /** Every decoded event. */
  event: AriEvent;
  /** A frame the adapter could not decode (unknown type, bad JSON, missing fields). */
  unknown: UnknownAriEvent;
  up: AriHealth;
  down: AriHealth;
};

export type HangupReason =
  | 'normal'
  | 'busy'
  | 'congestion'
  | 'no_answer'
  | 'timeout'
  | 'rejected'
  | 'unallocated'
  | 'normal_unspecified'
  | 'number_incomplete'
  | 'codec_mismatch'
  | 'interworking'
  | 'failure'
  | 'answered_elsewhere';

export interface AriAdapterOptions {
  /** `http://host:8088` (a trailing `/ari` is accepted). */
  url: string;
  username: string;
  password: string;
  /** The Stasis application. */
  app: string;
  log?: TelephonyLog;
  /** Per REST call; default 8000. */
  requestTimeoutMs?: number;
  /** Probe + api-docs + WebSocket open; default 10000. */
  connectTimeoutMs?: number;
  /** Reconnect backoff: first delay (default 250 ms), doubling up to maxDelayMs (default 10000). No retry limit. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /**
   * WebSocket keepalive (issue 17 item 7): ping every intervalMs (default 10000; 0 = off); no pong within
   * timeoutMs (default: intervalMs) drops the connection and reconnects.
   */
  keepalive?: { intervalMs?: number; timeoutMs?: number };
}

export interface OriginateParams {
  /** Required: a key this process has never originated before. A repeat is refused with code 'duplicate'. */
  idempotencyKey: string;
  /** Default: channelIdFor(idempotencyKey). Always sent, so events can be matched before the HTTP answer. */
  channelId?: string;
  /** `PJSIP/13800138000@trunk`, `PJSIP/8001`, … */
  endpoint: string;
  /** Stasis args (no commas inside an arg). */
  appArgs?: string[];
  /** `"Name" <number>` */
  callerId?: string;
  /** Seconds to ring; Asterisk's default is 30, -1 = none. */
  timeoutS?: number;
  variables?: Record<string, string>;
}

export type CreateChannelParams = Omit<OriginateParams, 'timeoutS' | 'callerId'>;

type Sock = PingableSocket & { close(): void };

const sleepTimer = (ms: number, fn: () => void): NodeJS.Timeout => {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
};

export class AriAdapter {
  private readonly base: string;
  private readonly log: TelephonyLog;
  private readonly auth: unknown;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly emitter: Emitter<AriAdapterEvents>;
  private readonly retired = new WeakSet<Client>();
  /** Idempotency keys this process has originated (key → time), bounded. */
  private readonly usedKeys = new Map<string, number>();

  private client: Client | undefined;
  private gen = 0;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private upWaiters = new Set<() => void>();
  private current: AriHealth = { state: 'telephony_down', reason: 'not started', since: new Date() };
  private downReported = false;
  /** Frames per event type the adapter does not decode (issue 17 item 5: each type is logged once, at debug). */
  private readonly unknownCounts = new Map<string, number>();

  constructor(private readonly opts: AriAdapterOptions) {
    this.base = opts.url.replace(/\/+$/, '').replace(/\/ari$/, '');
    this.log = opts.log ?? silentLog;
    this.auth = new swagger.PasswordAuthorization(new URL(this.base).hostname, opts.username, opts.password);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 8000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.minDelayMs = opts.reconnect?.minDelayMs ?? 250;
    this.maxDelayMs = opts.reconnect?.maxDelayMs ?? 10_000;
    this.emitter = new Emitter((type, err) => this.log.error({ err: errText(err), type }, 'telephony: ARI event handler failed'));
  }

  get app(): string {
    return this.opts.app;
  }

  health(): AriHealth {
    return { ...this.current };
  }

  /** Undecoded frames seen since start, per event type ('' for frames without one). */
  unknownEvents(): Record<string, number> {
    return Object.fromEntries(this.unknownCounts);
  }

  on<K extends keyof AriAdapterEvents>(type: K, fn: (e: AriAdapterEvents[K]) => void): () => void {
    return this.emitter.on(type, fn);
  }

  /**
   * Connects. Rejects with AriError code 'auth' on a 401 (no retry: a configuration error). Any other failure
   * resolves with health `telephony_down` and the adapter keeps retrying in the background.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    try {
      await this.connectOnce();
    } catch (err) {
      const e = toAriError(err, 'connect');
      this.markDown(e.message);
      if (e.code === 'auth') {
        this.stopped = true;
        throw e;
      }
      this.scheduleReconnect();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.gen++;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.client) this.retire(this.client);
    this.client = undefined;
    this.current = { state: 'telephony_down', reason: 'stopped', since: new Date() };
    for (const w of [...this.upWaiters]) w();
  }

  /** Resolves true as soon as the adapter is up, false after `timeoutMs`. */
  waitUntilUp(timeoutMs: number): Promise<boolean> {
    if (this.current.state === 'up') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.upWaiters.delete(done);
        resolve(this.current.state === 'up');
      };
      const timer = setTimeout(done, timeoutMs);
      this.upWaiters.add(done);
    });
  }

  // ---------------------------------------------------------------- connection

  private async probe(): Promise<void> {
    const url = `${this.base}/ari/asterisk/info`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { Accept: 'application/json', Authorization: `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password}`).toString('base64')}` },
        signal: AbortSignal.timeout(this.connectTimeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? errText(err);
      throw new AriError(`Asterisk ARI at ${this.base} is not reachable (${cause})`, { code: 'unreachable', cause: err });
    }
    const text = await res.text().catch(() => '');
    if (res.status === 401) {
      throw new AriError(`ARI refused user '${this.opts.username}' at ${this.base}: 401 ${bodyText(text) || 'Authentication required'} (check the ARI user and password)`, {
        code: 'auth',
        status: 401,
        ariMessage: bodyText(text),
      });
    }
    if (!res.ok) throw new AriError(`ARI probe GET /ari/asterisk/info answered ${res.status} ${bodyText(text)}`, { code: 'http', status: res.status, ariMessage: bodyText(text) });
  }

  private async connectOnce(): Promise<void> {
    await this.probe();
    const gen = ++this.gen;
    const client = await serialised(() =>
      quietly(() => {
        swagger.authorizations.add('basic-auth', this.auth);
        return withTimeout(ari.connect(this.base, this.opts.username, this.opts.password), this.connectTimeoutMs, 'ari.connect');
      }),
    ).catch((err: unknown) => {
      throw toAriError(err, 'ari.connect');
    });
    if (this.stopped || gen !== this.gen) {
      this.retire(client);
      throw new AriError('connect: adapter stopped', { code: 'down' });
    }
    this.hookSocket(client, gen);
    const lost = (what: string) => (err?: unknown) => {
      if (this.client === client && !this.retired.has(client)) this.lost(client, `event WebSocket ${what}${err ? `: ${errText(err)}` : ''}`, true);
    };
    client.on('WebSocketReconnecting', lost('closed'));
    client.on('WebSocketMaxRetries', lost('gave up'));
    client.on('APILoadError', () => {});
    try {
      await withTimeout(client.start(this.opts.app), this.connectTimeoutMs, 'WebSocket open');
    } catch (err) {
      this.retire(client);
      throw toAriError(err, 'WebSocket open');
    }
    if (this.stopped || gen !== this.gen) {
      this.retire(client);
      throw new AriError('connect: adapter stopped', { code: 'down' });
    }
    this.client = client;
    this.attempt = 0;
    this.markUp();
  }

  /**
   * Takes every frame off ari-client's socket before its own handler (which crashes on unknown types) can
   * see it (trap 5), and aborts any socket a retired client opens (trap 4: ari-client's own reconnect loop
   * must never re-register the app behind our back).
   */
  private hookSocket(client: Client, gen: number): void {
    let current: unknown;
    Object.defineProperty(client, '_ws', {
      configurable: true,
      enumerable: false,
      get: () => current,
      set: (ws: Sock) => {
        if (this.retired.has(client)) {
          ws.on('error', () => {});
          try {
            ws.terminate(); // still CONNECTING: the request is aborted before it is sent
          } catch {
            // already gone
          }
          // ari-client attaches its handlers to a socket that never emits, so its retry chain ends here.
          current = Object.assign(new EventEmitter(), { close() {}, terminate() {}, ping() {} });
          return;
        }
        const ka = this.keepalive(client, ws);
        const emit = ws.emit.bind(ws);
        ws.emit = (event: string | symbol, ...args: unknown[]): boolean => {
          if (event === 'message') {
            ka?.seen();
            if (gen === this.gen && !this.retired.has(client)) this.onFrame(args[0]);
            return true;
          }
          return emit(event, ...args);
        };
        current = ws;
      },
    });
  }

  /** Pings the event socket; a missed pong terminates it and goes through the usual lost → reconnect path. */
  private keepalive(client: Client, ws: Sock): ReturnType<typeof keepAlive> | undefined {
    const intervalMs = this.opts.keepalive?.intervalMs ?? 10_000;
    if (intervalMs <= 0) return undefined;
    return keepAlive(ws, {
      intervalMs,
      timeoutMs: this.opts.keepalive?.timeoutMs ?? intervalMs,
      onDead: (reason) => {
        if (this.client === client && !this.retired.has(client)) this.lost(client, `event WebSocket silent: ${reason}`, true);
      },
    });
  }

  private retire(client: Client): void {
    if (this.retired.has(client)) return;
    this.retired.add(client);
    try {
      client.stop();
    } catch {
      // no socket
    }
    client.removeAllListeners();
    client.on('error', () => {});
  }

  private lost(client: Client, reason: string, reconnect: boolean): void {
    this.retire(client);
    if (this.client === client) this.client = undefined;
    this.log.warn({ reason }, 'telephony: ARI connection lost');
    this.markDown(reason);
    if (reconnect) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.min(this.attempt, 20)) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.reconnectTimer = sleepTimer(delay, () => {
      this.reconnectTimer = undefined;
      if (this.stopped) return;
      this.connectOnce().then(
        () => this.log.info({ attempts: this.attempt }, 'telephony: ARI reconnected'),
        (err: unknown) => {
          if (this.stopped) return;
          const e = toAriError(err, 'reconnect');
          this.log.debug({ attempt: this.attempt, err: e.message }, 'telephony: ARI reconnect attempt failed');
          this.markDown(e.message);
          this.scheduleReconnect();
        },
      );
    });
  }

  private markUp(): void {
    if (this.current.state === 'up') return;
    this.current = { state: 'up', since: new Date() };
    this.downReported = false;
    this.log.info({ url: this.base, app: this.opts.app }, 'telephony: ARI up');
    for (const w of [...this.upWaiters]) w();
    this.emitter.emit('up', this.health());
  }

  private markDown(reason: string): void {
    const wasUp = this.current.state === 'up';
    this.current = { state: 'telephony_down', reason, since: wasUp || this.current.state !== 'telephony_down' ? new Date() : this.current.since };
    if (wasUp || !this.downReported) {
      this.downReported = true;
      this.emitter.emit('down', this.health());
    }
  }

  private onFrame(data: unknown): void {
    const d = decodeEvent(data);
    if (!d.ok) {
      // A real Asterisk sends many types the flows do not need (ChannelVarset, ChannelDialplan, ChannelCallerId,
      // ChannelConnectedLine, …): 78 WARN lines for ~20 calls (issue 17 item 5). Count them; log each type once.
      const n = (this.unknownCounts.get(d.unknown.type) ?? 0) + 1;
      this.unknownCounts.set(d.unknown.type, n);
      // A known type with fields missing is a real problem (a changed Asterisk): that one stays at WARN, also once.
      const unknownType = d.unknown.reason === UNKNOWN_TYPE_REASON;
      if (n === 1) this.log[unknownType ? 'debug' : 'warn']({ type: d.unknown.type, reason: d.unknown.reason }, 'telephony: ARI event ignored (further ones of this type are only counted)');
      this.emitter.emit('unknown', d.unknown);
      return;
    }
    const e = d.event;
    if (e.type === 'ApplicationReplaced') {
      // Another connection took our Stasis app: a second hub with the same app name. Do not fight over it.
      if (this.client) this.lost(this.client, `Stasis application '${this.opts.app}' was taken over by another connection`, false);
    }
    this.emitter.emit(e.type, e as never);
    this.emitter.emit('event', e);
  }

  // ---------------------------------------------------------------- REST

  private async rest<T>(what: string, call: (c: Client) => Promise<unknown>, map: (r: unknown) => T): Promise<T> {
    const c = this.client;
    if (!c || this.current.state !== 'up') {
      throw new AriError(`${what}: telephony is down (${this.current.state === 'telephony_down' ? this.current.reason : ''})`, { code: 'down' });
    }
    let p: Promise<unknown>;
    try {
      p = withCredentials(this.auth, () => call(c));
    } catch (err) {
      p = Promise.reject(err);
    }
    let result: unknown;
    try {
      result = await withTimeout(Promise.resolve(p), this.requestTimeoutMs, what);
    } catch (err) {
      throw toAriError(err, what);
    }
    return map(result);
  }

  private rememberKey(key: string): void {
    const now = Date.now();
    if (this.usedKeys.has(key)) throw new AriError(`originate: idempotency key already used in this process; not dialling again`, { code: 'duplicate' });
    this.usedKeys.set(key, now);
    if (this.usedKeys.size > 20_000) {
      for (const [k, t] of this.usedKeys) {
        if (this.usedKeys.size <= 15_000 && now - t < 86_400_000) break;
        this.usedKeys.delete(k);
      }
    }
  }

  private static duplicateOr(err: unknown): never {
    if (err instanceof AriError && err.status === 409 && /already exists/.test(err.ariMessage ?? '')) {
      throw new AriError(`originate: a live channel already has this id; not dialling again`, { code: 'duplicate', status: 409, ariMessage: err.ariMessage, cause: err });
    }
    throw err;
  }

  /** POST /channels with app = our app and an explicit channelId. */
  async originate(p: OriginateParams): Promise<ChannelSnapshot> {
    if (!p.idempotencyKey) throw new AriError('originate: idempotencyKey is required', { code: 'client' });
    this.rememberKey(p.idempotencyKey);
    const params: Record<string, unknown> = {
      endpoint: p.endpoint,
      app: this.opts.app,
      channelId: p.channelId ?? channelIdFor(p.idempotencyKey),
    };
    if (p.appArgs?.length) params.appArgs = p.appArgs.join(',');
    if (p.callerId) params.callerId = p.callerId;
    if (p.timeoutS !== undefined) params.timeout = p.timeoutS;
    if (p.variables) params.variables = p.variables;
    return this.rest('originate', (c) => c.channels.originate(params), parseChannel).catch(AriAdapter.duplicateOr);
  }

  /** POST /channels/create: the channel enters Stasis at once (state Down); dial() it later. */
  async createChannel(p: CreateChannelParams): Promise<ChannelSnapshot> {
    if (!p.idempotencyKey) throw new AriError('create: idempotencyKey is required', { code: 'client' });
    this.rememberKey(p.idempotencyKey);
    const params: Record<string, unknown> = { endpoint: p.endpoint, app: this.opts.app, channelId: p.channelId ?? channelIdFor(p.idempotencyKey) };
    if (p.appArgs?.length) params.appArgs = p.appArgs.join(',');
    if (p.variables) params.variables = p.variables;
    return this.rest('create', (c) => c.channels.create(params), parseChannel).catch(AriAdapter.duplicateOr);
  }

  /** POST /channels/{id}/dial (timeoutS 0 = no timeout). */
  async dial(channelId: string, o: { caller?: string; timeoutS?: number } = {}): Promise<void> {
    const params: Record<string, unknown> = { channelId };
    if (o.caller) params.caller = o.caller;
    if (o.timeoutS !== undefined) params.timeout = o.timeoutS;
    await this.rest('dial', (c) => c.channels.dial(params), () => undefined);
  }

  async answer(channelId: string): Promise<void> {
    await this.rest('answer', (c) => c.channels.answer({ channelId }), () => undefined);
  }

  /** Sends ringing (180) to an inbound channel. */
  async ring(channelId: string): Promise<void> {
    await this.rest('ring', (c) => c.channels.ring({ channelId }), () => undefined);
  }

  /** DELETE /channels/{id}. Returns false if the channel no longer exists (404). */
  async hangup(channelId: string, reason?: HangupReason): Promise<boolean> {
    const params: Record<string, unknown> = { channelId };
    if (reason) params.reason = reason;
    try {
      await this.rest('hangup', (c) => c.channels.hangup(params), () => undefined);
      return true;
    } catch (err) {
      if (isAriStatus(err, 404)) return false;
      throw err;
    }
  }

  /** POST /channels/{id}/play with our own playbackId (so PlaybackFinished can be matched). */
  async play(channelId: string, media: string[], playbackId: string = randomUUID()): Promise<PlaybackSnapshot> {
    return this.rest('play', (c) => c.channels.play({ channelId, media, playbackId }), parsePlayback);
  }

  /** DELETE /playbacks/{id}. Returns false if it is already gone. */
  async stopPlayback(playbackId: string): Promise<boolean> {
    try {
      await this.rest('stop playback', (c) => c.playbacks.stop({ playbackId }), () => undefined);
      return true;
    } catch (err) {
      if (isAriStatus(err, 404)) return false;
      throw err;
    }
  }

  /** GET /channels/{id}; undefined when it does not exist. */
  async getChannel(channelId: string): Promise<ChannelSnapshot | undefined> {
    try {
      return await this.rest('get channel', (c) => c.channels.get({ channelId }), parseChannel);
    } catch (err) {
      if (isAriStatus(err, 404)) return undefined;
      throw err;
    }
  }

  async createBridge(o: { bridgeId?: string; type?: string; name?: string } = {}): Promise<BridgeSnapshot> {
    const params: Record<string, unknown> = { type: o.type ?? 'mixing', bridgeId: o.bridgeId ?? randomUUID() };
    if (o.name) params.name = o.name;
    return this.rest('create bridge', (c) => c.bridges.create(params), parseBridge);
  }

  async addToBridge(bridgeId: string, channelIds: string[]): Promise<void> {
    await this.rest('add to bridge', (c) => c.bridges.addChannel({ bridgeId, channel: channelIds }), () => undefined);
  }

  async removeFromBridge(bridgeId: string, channelIds: string[]): Promise<void> {
    await this.rest('remove from bridge', (c) => c.bridges.removeChannel({ bridgeId, channel: channelIds }), () => undefined);
  }

  /** DELETE /bridges/{id}. Returns false if it is already gone. */
  async destroyBridge(bridgeId: string): Promise<boolean> {
    try {
      await this.rest('destroy bridge', (c) => c.bridges.destroy({ bridgeId }), () => undefined);
      return true;
    } catch (err) {
      if (isAriStatus(err, 404)) return false;
      throw err;
    }
  }

  // ---------------------------------------------------------------- in-call controls, recordings, snoop (issue 19)
  // Sent with our own fetch, not ari-client: the stored-recording file is binary (swagger-client would decode it
  // as text), and these operations then need no api-docs from the server (the simulator serves none for them).

  /** One REST call with fetch; 2xx → the body (JSON, bytes when `binary`, undefined when empty); 404 → null when `absent`. */
  private async direct(method: string, path: string, query: Record<string, string | number | boolean | undefined> = {}, o: { binary?: boolean; absent?: boolean } = {}): Promise<unknown> {
    const what = `${method} /${path.split('?')[0]}`;
    if (this.current.state !== 'up') throw new AriError(`${what}: telephony is down`, { code: 'down' });
    const url = new URL(`${this.base}/ari/${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { Accept: o.binary ? '*/*' : 'application/json', Authorization: `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password}`).toString('base64')}` },
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (err) {
      const timeout = (err as { name?: string }).name === 'TimeoutError';
      throw new AriError(`${what}: ${timeout ? `no answer within ${this.requestTimeoutMs} ms` : errText(err)}`, { code: timeout ? 'timeout' : 'unreachable', cause: err });
    }
    if (res.status === 404 && o.absent) return null;
    if (!res.ok) {
      const text = bodyText(await res.text().catch(() => ''));
      throw new AriError(`${what}: ${res.status} ${text}`, { code: res.status === 401 ? 'auth' : 'http', status: res.status, ariMessage: text });
    }
    if (o.binary) return Buffer.from(await res.arrayBuffer());
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  /** POST/DELETE /channels/{id}/hold: the channel's far end is told it is on hold (its phone may play MOH). */
  async hold(channelId: string, on = true): Promise<void> {
    await this.direct(on ? 'POST' : 'DELETE', `channels/${encodeURIComponent(channelId)}/hold`);
  }

  /** POST/DELETE /channels/{id}/moh (mohClass: musiconhold.conf class; default `default`). */
  async channelMoh(channelId: string, on = true, mohClass?: string): Promise<void> {
    await this.direct(on ? 'POST' : 'DELETE', `channels/${encodeURIComponent(channelId)}/moh`, on ? { mohClass } : {});
  }

  /** POST/DELETE /bridges/{id}/moh: an announcer plays MOH to everyone in the bridge (no events). */
  async bridgeMoh(bridgeId: string, on = true, mohClass?: string): Promise<void> {
    await this.direct(on ? 'POST' : 'DELETE', `bridges/${encodeURIComponent(bridgeId)}/moh`, on ? { mohClass } : {});
  }

  /** POST/DELETE /channels/{id}/mute. direction `in`: what the party says is not heard; `out`: they hear nothing. */
  async mute(channelId: string, on: boolean, direction: 'both' | 'in' | 'out' = 'both'): Promise<void> {
    await this.direct(on ? 'POST' : 'DELETE', `channels/${encodeURIComponent(channelId)}/mute`, { direction });
  }

  /** POST /channels/{id}/dtmf: digits 0-9 * # A-D, `,` = 500 ms pause (Asterisk's SendDTMF rules). */
  async sendDtmf(channelId: string, dtmf: string, o: { before?: number; between?: number; duration?: number; after?: number } = {}): Promise<void> {
    await this.direct('POST', `channels/${encodeURIComponent(channelId)}/dtmf`, { dtmf, ...o });
  }

  /** POST /channels/{id}/snoop: a Snoop/… channel enters our app (StasisStart, state Up) with id `snoopId`. */
  async snoop(channelId: string, o: { snoopId: string; spy: 'none' | 'both' | 'in' | 'out'; whisper: 'none' | 'both' | 'in' | 'out'; appArgs?: string[] }): Promise<ChannelSnapshot> {
    const q = { app: this.opts.app, spy: o.spy, whisper: o.whisper, snoopId: o.snoopId, appArgs: o.appArgs?.join(',') };
    return parseChannel(await this.direct('POST', `channels/${encodeURIComponent(channelId)}/snoop`, q));
  }

  /** POST /bridges/{id}/record (201 LiveRecording). RecordingStarted/Finished reach the app as `unknown` events. */
  async recordBridge(bridgeId: string, o: { name: string; format?: string; ifExists?: 'fail' | 'overwrite' | 'append'; maxDurationSeconds?: number; beep?: boolean }): Promise<Record<string, unknown>> {
    const q = { name: o.name, format: o.format ?? 'wav', ifExists: o.ifExists ?? 'fail', maxDurationSeconds: o.maxDurationSeconds, beep: o.beep };
    return (await this.direct('POST', `bridges/${encodeURIComponent(bridgeId)}/record`, q)) as Record<string, unknown>;
  }

  /** POST /recordings/live/{name}/stop; false when it is no longer live. */
  async stopRecording(name: string): Promise<boolean> {
    return (await this.direct('POST', `recordings/live/${encodeURIComponent(name)}/stop`, {}, { absent: true })) !== null;
  }

  /** GET /recordings/stored/{name}: `{name, format}`, undefined when absent. */
  async storedRecording(name: string): Promise<{ name: string; format: string } | undefined> {
    return ((await this.direct('GET', `recordings/stored/${encodeURIComponent(name)}`, {}, { absent: true })) ?? undefined) as { name: string; format: string } | undefined;
  }

  /** GET /recordings/stored/{name}/file: the file's bytes (a WAV for format wav), undefined when absent. */
  async storedRecordingFile(name: string): Promise<Buffer | undefined> {
    return ((await this.direct('GET', `recordings/stored/${encodeURIComponent(name)}/file`, {}, { binary: true, absent: true })) ?? undefined) as Buffer | undefined;
  }

  /** DELETE /recordings/stored/{name}; false when it was already gone. */
  async deleteStoredRecording(name: string): Promise<boolean> {
    return (await this.direct('DELETE', `recordings/stored/${encodeURIComponent(name)}`, {}, { absent: true })) !== null;
  }

  /**
   * POST /channels/{id}/record into the stored recording `name` (hotline voicemail). On Asterisk 22.10.1: 201,
   * RecordingStarted; RecordingFinished at maxDurationSeconds, the terminate digit or the hang-up; the channel's
   * playbacks queue behind its recording; an existing name with ifExists=fail gives 409.
   */
  async recordChannel(channelId: string, o: { name: string; format?: string; maxDurationSeconds?: number; maxSilenceSeconds?: number; beep?: boolean; ifExists?: 'fail' | 'overwrite' | 'append'; terminateOn?: string }): Promise<void> {
    const q = { name: o.name, format: o.format ?? 'wav', maxDurationSeconds: o.maxDurationSeconds, maxSilenceSeconds: o.maxSilenceSeconds, beep: o.beep, ifExists: o.ifExists ?? 'fail', terminateOn: o.terminateOn };
    await this.direct('POST', `channels/${encodeURIComponent(channelId)}/record`, q);
  }

  /**
   * GET /applications/{app}: the channels and bridges Asterisk still has subscribed to our app. A real Asterisk
   * keeps an app whose WebSocket went away (a crash of the hub) with its channels still in Stasis, and lists them
   * here for the next connection (issue 19, checked on 22.10.1). undefined when the app is unknown (404).
   */
  async application(): Promise<{ channelIds: string[]; bridgeIds: string[] } | undefined> {
    const r = (await this.direct('GET', `applications/${encodeURIComponent(this.opts.app)}`, {}, { absent: true })) as { channel_ids?: unknown; bridge_ids?: unknown } | null;
    if (!r) return undefined;
    const ids = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    return { channelIds: ids(r.channel_ids), bridgeIds: ids(r.bridge_ids) };
  }

  /** GET /bridges: every bridge on the server (any app's). */
  async listBridges(): Promise<BridgeSnapshot[]> {
    const r = await this.direct('GET', 'bridges');
    return Array.isArray(r) ? r.map((b) => parseBridge(b)) : [];
  }

  /** GET /asterisk/info (raw JSON). */
  async info(): Promise<Record<string, unknown>> {
    return this.rest('asterisk info', (c) => c.asterisk.getInfo(), (r) => JSON.parse(JSON.stringify(r)) as Record<string, unknown>);
  }
}
