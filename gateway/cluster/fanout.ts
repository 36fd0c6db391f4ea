/**
 * Dashboard fan-out across gateway nodes (issue 24). An alarm raised on node A must pop on an agent whose
 * WebSocket is on node B. The WebSocket layer listens to this fan-out bus instead of the node's own bus: every
 * event it relays is emitted here at once for this node's sockets (the same object, as before scale-out), and
 * published on Redis for the other nodes, which emit it on their fan-out bus only — never on their own bus, so
 * no other listener there (SMS, escalation, telephony) acts on another node's event a second time.
 *
 * Without Redis (one node) it is the node's own events, unchanged.
 */
import type { Redis } from 'ioredis';
import { Bus, type BusEvents } from '../bus.js';
import type { Logger } from '../log.js';
import { KEY } from './redis.js';

/** What the dashboards' WebSocket (http/ws.ts) shows: the events relayed between nodes. */
export const FANOUT_EVENTS = ['alarm.changed', 'alarm.presented', 'supervisor.alert', 'call.pushed', 'session.revoked', 'agent.changed', 'ws.push'] as const satisfies readonly (keyof BusEvents)[];
type FanoutEvent = (typeof FANOUT_EVENTS)[number];

const CHANNEL = `${KEY}fanout`;

export class Fanout {
  /** the bus http/ws.ts listens to: this node's events and, with Redis, every other node's */
  readonly bus: Bus;
  /** events received from other nodes (for /metrics and the tests) */
  received = 0;
  private readonly offs: (() => void)[] = [];

  constructor(
    local: Bus,
    private readonly nodeId: string,
    log: Logger,
    private readonly redis?: { pub: Redis; sub: Redis },
  ) {
    this.bus = new Bus(log);
    for (const event of FANOUT_EVENTS) {
      this.offs.push(
        local.on(event, (payload) => {
          this.bus.emit(event, payload);
          if (this.redis) void this.redis.pub.publish(CHANNEL, JSON.stringify({ n: this.nodeId, e: event, p: payload })).catch(() => undefined);
        }),
      );
    }
    if (redis) {
      redis.sub.on('message', (channel: string, text: string) => {
        if (channel !== CHANNEL) return;
        let m: { n: string; e: FanoutEvent; p: BusEvents[FanoutEvent] };
        try {
          m = JSON.parse(text);
        } catch {
          return;
        }
        if (m.n === this.nodeId || !(FANOUT_EVENTS as readonly string[]).includes(m.e)) return;
        this.received++;
        this.bus.emit(m.e, m.p as never);
      });
      // Pub/sub keeps nothing: what the other nodes published while this subscription was down (Redis restarted)
      // is gone. Once it is back (subscribed again), this node's dashboards reload from PostgreSQL.
      let dropped = false;
      redis.sub.on('close', () => (dropped = true));
      redis.sub.on('ready', () => {
        if (!dropped) return;
        dropped = false;
        void redis.sub
          .subscribe(CHANNEL)
          .then(() => {
            this.resyncs++;
            this.bus.emit('ws.resync', { reason: 'redis_reconnected' });
          })
          .catch(() => undefined);
      });
    }
  }

  /** times this node's dashboards were resynced after the subscription came back */
  resyncs = 0;

  /** Subscribes (resolves once Redis confirmed it; ioredis re-subscribes by itself after a reconnect). */
  async start(): Promise<void> {
    if (this.redis) await this.redis.sub.subscribe(CHANNEL);
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
