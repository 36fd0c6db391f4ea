/**
 * Simulated Asterisk ARI server (ari.md §6): REST, api-docs, the event WebSocket, scripted endpoints,
 * and a control API under /sim. See README.md in this folder.
 *
 *   const sim = await startAsteriskSim({ port: 0, app: 'alarmhub', timeScale: 0.1 });
 *   const client = await ari.connect(sim.url, sim.username, sim.password);
 */
import type { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler } from './clock.ts';
import { registerControl } from './control.ts';
import { Directory } from './directory.ts';
import { ApiError, Engine } from './engine.ts';
import { EventHub } from './events.ts';
import { Router } from './http.ts';
import { registerBridges } from './rest/bridges.ts';
import { registerChannels } from './rest/channels.ts';
import { registerMisc } from './rest/misc.ts';
import { registerRecordings } from './rest/recordings.ts';
import { registerChannelRecordings } from './channel-recordings.ts';
import { RecordingManager } from './recordings.ts';
import { createSimServer } from './server.ts';
import { knownSounds } from './sounds.ts';
import type {
  BridgeJson,
  CallLogEntry,
  ChannelJson,
  DirectoryFile,
  EndpointScript,
  EventLogEntry,
  InboundCallOptions,
  InboundCallResult,
  OriginateLogEntry,
  PlaybackJson,
  RequestLogEntry,
} from './types.ts';

export type * from './types.ts';
export { ApiError } from './engine.ts';
export { Directory, loadDirectoryFile, parseDirectory, parseEndpoint } from './directory.ts';
export { astTimestamp } from './util.ts';
export { ASTERISK_TEST_NUMBERS } from './test-numbers.ts';
export { knownSounds } from './sounds.ts';

export interface AsteriskSimOptions {
  /** 0 = a random free port. Default 8088. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** ARI user; default 'anxin'. */
  username?: string;
  /** ARI password; default 'anxin'. */
  password?: string;
  /** Default Stasis app for injected inbound calls. */
  app?: string;
  /** Endpoint scripts: an array, or {default?, endpoints}. */
  directory?: EndpointScript[] | DirectoryFile;
  /** Multiplies every scripted duration (0.1 = ten times faster). Default 1. */
  timeScale?: number;
  /** asterisk_id in events; default '08:00:27:4e:1b:9c'. */
  asteriskId?: string;
  /** Stasis args of injected inbound calls; default ['sos']. */
  inboundArgs?: string[];
  /** Simulated seconds per media item of a playback; default 1. */
  playbackSeconds?: number;
  /** Real ms between ChannelHangupRequest and the rest of a tear-down; default 5. */
  teardownMs?: number;
  /** More sound names a `sound:` playback finds, besides the core sounds and Anxin's prompts (sounds.ts). */
  sounds?: string[];
  /** Where the core sounds are read from (default /usr/share/asterisk/sounds/en; null = the built-in list). */
  soundsDir?: string | null;
  /** Where recordings are written (Asterisk's astspooldir/recording); default a new temp directory. */
  recordingDir?: string;
  /** Called with one line per request (the CLI prints them). */
  log?: (line: string) => void;
}

export interface SimChannelView extends ChannelJson {
  sim: {
    mode: 'originate' | 'create' | 'inbound';
    endpoint: string;
    script?: string;
    inStasis: boolean;
    stasisApp?: string;
    args: string[];
    apps: string[];
    bridgeId?: string;
    dial: string;
    hangingUp: boolean;
    variables: Record<string, string>;
  };
}

export interface SimState {
  channels: SimChannelView[];
  bridges: BridgeJson[];
  playbacks: PlaybackJson[];
  apps: string[];
}

export interface AsteriskSim {
  /** `http://host:port` (what ari.connect() takes). */
  readonly url: string;
  /** `http://host:port/ari`. */
  readonly ariUrl: string;
  readonly port: number;
  readonly host: string;
  readonly username: string;
  readonly password: string;
  readonly timeScale: number;
  readonly directory: Directory;
  /** 'event' (EventLogEntry) for every event sent; 'app' (name, registered) on (un)registration. */
  readonly events: EventEmitter;
  stop(): Promise<void>;
  /** Like an Asterisk restart: sockets dropped, all state gone without events, listening again on the same port. */
  restart(): Promise<void>;
  /** Hangs up every channel (with events), destroys bridges, clears logs, restores the initial directory. */
  reset(): void;
  injectCall(opts: InboundCallOptions): InboundCallResult;
  pressDigits(channelId: string, digits: string, opts?: { durationMs?: number; gapMs?: number }): void;
  farEndHangup(channelId: string, cause?: number): void;
  farEndAnswer(channelId: string): void;
  farEndReject(channelId: string, cause?: number): void;
  /** Closes every event WebSocket. */
  disconnectEvents(): void;
  state(): SimState;
  channels(): ChannelJson[];
  channel(id: string): ChannelJson | undefined;
  bridges(): BridgeJson[];
  playbacks(): PlaybackJson[];
  apps(): string[];
  originateLog(): OriginateLogEntry[];
  callLog(): CallLogEntry[];
  eventLog(): EventLogEntry[];
  requestLog(): RequestLogEntry[];
  /** Resolves with the first event (already sent or future) matching `pred`. */
  waitForEvent(pred: (e: EventLogEntry) => boolean, timeoutMs?: number): Promise<EventLogEntry>;
}

export async function startAsteriskSim(opts: AsteriskSimOptions = {}): Promise<AsteriskSim> {
  const host = opts.host ?? '127.0.0.1';
  const username = opts.username ?? 'anxin';
  const password = opts.password ?? 'anxin';
  const timeScale = opts.timeScale ?? 1;
  const asteriskId = opts.asteriskId ?? '08:00:27:4e:1b:9c';
  const initialDir: DirectoryFile = Array.isArray(opts.directory) ? { endpoints: opts.directory } : (opts.directory ?? { endpoints: [] });
  const directory = new Directory(initialDir);
  const sched = new Scheduler(timeScale);
  const hub = new EventHub(asteriskId);
  const engine = new Engine(hub, directory, sched, {
    asteriskId,
    app: opts.app,
    inboundArgs: opts.inboundArgs ?? ['sos'],
    playbackSeconds: opts.playbackSeconds ?? 1,
    teardownMs: opts.teardownMs ?? 5,
    sounds: knownSounds(opts.sounds, opts.soundsDir),
  });
  const requestLog: RequestLogEntry[] = [];
  const startedAt = new Date();

  const ari = new Router();
  registerChannels(ari, engine);
  registerBridges(ari, engine);
  hub.hasSubscriptions = (app) => [...engine.channels.values()].some((c) => c.apps.has(app)) || [...engine.bridges.all.values()].some((b) => engine.bridges.apps(b).has(app));
  registerMisc(ari, engine, startedAt);
  const recordings = new RecordingManager(engine, opts.recordingDir ?? mkdtempSync(join(tmpdir(), 'anxin-sim-rec-')));
  registerRecordings(ari, engine, recordings);
  registerChannelRecordings(ari, engine, recordings.dir);
  const control = new Router();
  const { server, wss } = createSimServer({ username, password, hub, ari, control, requestLog, log: opts.log });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const close = async () => {
    for (const ws of wss.clients) ws.terminate();
    hub.terminateAll();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  const port = await listen(opts.port ?? 8088);
  const mustGet = (id: string) => {
    const ch = engine.get(id);
    if (!ch) throw new ApiError(404, 'Channel not found');
    return ch;
  };

  const sim: AsteriskSim = {
    url: `http://${host}:${port}`,
    ariUrl: `http://${host}:${port}/ari`,
    port,
    host,
    username,
    password,
    timeScale,
    directory,
    events: hub.emitter,
    async stop() {
      sched.clearAll();
      engine.wipe();
      await close();
    },
    async restart() {
      sched.clearAll();
      engine.wipe();
      await close();
      await listen(port);
    },
    reset() {
      engine.reset();
      sched.clearAll();
      hub.clearLog();
      requestLog.length = 0;
      directory.reset();
    },
    injectCall: (o) => engine.inbound(o),
    pressDigits(id, digits, o = {}) {
      const ch = mustGet(id);
      if (ch.state !== 'Up' || ch.hangingUp) throw new ApiError(409, 'Channel not answered');
      if (!/^[0-9A-D#*]+$/.test(digits)) throw new ApiError(400, 'digits must be 0-9, A-D, # or *');
      engine.pressDigits(ch, digits, o.durationMs, o.gapMs);
    },
    farEndHangup(id, cause) {
      if (!engine.farHangup(mustGet(id), cause ?? 16)) throw new ApiError(409, 'Channel is already hanging up');
    },
    farEndAnswer(id) {
      if (!engine.farAnswer(mustGet(id))) throw new ApiError(409, 'Channel is not being dialled');
    },
    farEndReject(id, cause) {
      if (!engine.farRefuse(mustGet(id), cause ?? 21)) throw new ApiError(409, 'Channel is not being dialled');
    },
    disconnectEvents: () => hub.disconnectAll(),
    state: () => ({
      channels: [...engine.channels.values()].map((c) => ({
        ...c.toJSON(),
        sim: {
          mode: c.mode,
          endpoint: c.endpoint,
          script: c.script?.match,
          inStasis: c.inStasis,
          stasisApp: c.stasisApp,
          args: [...c.stasisArgs],
          apps: [...c.apps],
          bridgeId: c.bridgeId,
          dial: c.dial.status,
          hangingUp: c.hangingUp,
          variables: { ...c.variables },
        },
      })),
      bridges: engine.bridges.list(),
      playbacks: [...engine.playbacks.all.values()].map((p) => p.toJSON()),
      apps: hub.registeredApps(),
    }),
    channels: () => [...engine.channels.values()].map((c) => c.toJSON()),
    channel: (id) => engine.get(id)?.toJSON(),
    bridges: () => engine.bridges.list(),
    playbacks: () => [...engine.playbacks.all.values()].map((p) => p.toJSON()),
    apps: () => hub.registeredApps(),
    originateLog: () => structuredClone(engine.originateLog),
    callLog: () => structuredClone(engine.callLog),
    eventLog: () => hub.eventLog(),
    requestLog: () => [...requestLog],
    waitForEvent(pred, timeoutMs = 5000) {
      const seen = hub.eventLog().find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const onEvent = (e: EventLogEntry) => {
          if (!pred(e)) return;
          clearTimeout(timer);
          hub.emitter.off('event', onEvent);
          resolve(e);
        };
        const timer = setTimeout(() => {
          hub.emitter.off('event', onEvent);
          reject(new Error(`waitForEvent: no matching event within ${timeoutMs} ms`));
        }, timeoutMs);
        hub.emitter.on('event', onEvent);
      });
    },
  };
  registerControl(control, sim);
  return sim;
}
