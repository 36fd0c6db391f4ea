/**
 * Stasis applications and their event WebSockets (ari.md §2).
 * - `/ari/events?app=a,b[&subscribeAll=true]` registers each app on that socket; a second socket for the
 *   same app takes it over and the old socket gets `ApplicationReplaced`.
 * - Every event carries `type`, `timestamp`, the event fields, `asterisk_id` and `application`.
 * - Only types that are models in events.json may be sent (ari.md §0.2); anything else throws.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { EVENT_TYPES } from './api-docs/index.ts';
import type { EventLogEntry } from './types.ts';
import { astTimestamp } from './util.ts';

interface AppReg {
  name: string;
  socket: WebSocket;
  subscribeAll: boolean;
}

const EVENT_LOG_MAX = 10_000;

export class EventHub {
  private readonly apps = new Map<string, AppReg>();
  /**
   * Apps whose socket closed while Asterisk still had channels subscribed to them: a real Asterisk 22.10.1 keeps
   * such an app (inactive) with its channels in Stasis, and still lists it in GET /applications[/{name}] (also after
   * those channels are gone) until it is registered again; an app closed with nothing subscribed is gone (404).
   */
  private readonly inactive = new Set<string>();
  /** Set by the engine: whether channels or bridges are subscribed to the app. */
  hasSubscriptions: (app: string) => boolean = () => false;
  private readonly log: EventLogEntry[] = [];
  private seq = 0;
  /** Emits 'event' (EventLogEntry) for every event delivered, and 'app' (name, registered: boolean). */
  readonly emitter = new EventEmitter();

  constructor(private readonly asteriskId: string) {
    this.emitter.setMaxListeners(0);
  }

  /** Registers the apps on a newly opened socket. */
  attach(socket: WebSocket, appNames: string[], subscribeAll: boolean): void {
    for (const name of appNames) {
      const old = this.apps.get(name);
      if (old && old.socket !== socket) this.sendRaw(old.socket, name, 'ApplicationReplaced', {});
      this.apps.set(name, { name, socket, subscribeAll });
      this.inactive.delete(name);
      this.emitter.emit('app', name, true);
    }
    socket.on('close', () => {
      for (const name of appNames) {
        if (this.apps.get(name)?.socket === socket) {
          this.apps.delete(name);
          if (this.hasSubscriptions(name)) this.inactive.add(name);
          this.emitter.emit('app', name, false);
        }
      }
    });
  }

  isRegistered(app: string): boolean {
    return this.apps.has(app);
  }

  registeredApps(): string[] {
    return [...this.apps.keys()];
  }

  /** Registered apps, and inactive ones Asterisk still keeps (GET /applications). */
  knownApps(): string[] {
    return [...this.apps.keys(), ...[...this.inactive].filter((a) => !this.apps.has(a))];
  }

  /** Apps that asked for every event (`subscribeAll=true`). */
  subscribeAllApps(): string[] {
    return [...this.apps.values()].filter((a) => a.subscribeAll).map((a) => a.name);
  }

  /** Sends one event to each app in `recipients` (plus subscribeAll apps). Unregistered apps are skipped. */
  emit(type: string, fields: Record<string, unknown>, recipients: Iterable<string>): void {
    if (!EVENT_TYPES.has(type)) throw new Error(`[asterisk-sim] refusing to emit ${type}: not a model in events.json`);
    const to = new Set(recipients);
    for (const a of this.subscribeAllApps()) to.add(a);
    for (const name of to) {
      const reg = this.apps.get(name);
      if (reg) this.sendRaw(reg.socket, name, type, fields);
    }
  }

  private sendRaw(socket: WebSocket, application: string, type: string, fields: Record<string, unknown>): void {
    const event = { type, timestamp: astTimestamp(), ...fields, asterisk_id: this.asteriskId, application };
    const text = JSON.stringify(event);
    const entry: EventLogEntry = { seq: ++this.seq, at: Date.now(), application, event: JSON.parse(text) as EventLogEntry['event'] };
    this.log.push(entry);
    if (this.log.length > EVENT_LOG_MAX) this.log.splice(0, this.log.length - EVENT_LOG_MAX);
    if (socket.readyState === socket.OPEN) socket.send(text);
    this.emitter.emit('event', entry);
  }

  eventLog(): EventLogEntry[] {
    return [...this.log];
  }

  clearLog(): void {
    this.log.length = 0;
  }

  /** Closes every event socket (the apps unregister as they close). */
  disconnectAll(code = 1001, reason = 'Asterisk simulator disconnect'): void {
    const sockets = new Set([...this.apps.values()].map((a) => a.socket));
    for (const s of sockets) {
      try {
        s.close(code, reason);
      } catch {
        s.terminate();
      }
    }
  }

  terminateAll(): void {
    const sockets = new Set([...this.apps.values()].map((a) => a.socket));
    for (const s of sockets) s.terminate();
    this.apps.clear();
    this.inactive.clear();
  }
}
