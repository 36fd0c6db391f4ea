/**
 * Scale-out (issue 24): this node's place in a cluster of gateway nodes sharing one PostgreSQL and one Redis.
 * Without REDIS_URL it is one node: the fan-out is the node's own events and presence its own dashboards.
 * With it: dashboard events fan out to every node, presence and each node's share come from heartbeats, and a
 * device registry routes commands to the node holding the device (gateway/cluster/), and hands a device over when
 * it reconnects to another node, so its frames are handled in order.
 */
import type { Redis } from 'ioredis';
import client from 'prom-client';
import { ClusterPresence } from '../cluster/members.js';
import { DeviceDirectory } from '../cluster/devices.js';
import { Fanout } from '../cluster/fanout.js';
import { closeRedis, createRedis, nodeIdOf } from '../cluster/redis.js';
import type { PipelinePart } from './pipeline.js';
import type { BrokerPart } from './broker.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface ClusterPart extends Part {
  nodeId: string;
  fanout: Fanout;
  presence: ClusterPresence;
  /** set once the pipeline is up (attach), with Redis only */
  devices?: DeviceDirectory;
  /** wires the device registry to the pipeline's sessions and commands */
  attach(pipeline: PipelinePart, broker: BrokerPart): Promise<void>;
}

export async function startCluster({ cfg, log, metrics, health, bus, summary }: PartContext): Promise<ClusterPart> {
  const stops = new Stops(log);
  const nodeId = nodeIdOf(cfg);
  const clog = log.child({ part: 'cluster' });
  let redis: { pub: Redis; sub: Redis } | undefined;
  if (cfg.redisUrl) {
    redis = { pub: createRedis(cfg.redisUrl, 'pub', clog), sub: createRedis(cfg.redisUrl, 'sub', clog) };
    const r = redis;
    // QUIT waits for Redis: one that is unreachable would hold the stop for ever (commands wait for it, by design)
    stops.add('redis', () => Promise.all([r.pub, r.sub].map((c) => closeRedis(c))));
  }
  let held = () => 0;
  const presence = new ClusterPresence(nodeId, () => ({ devices: held() }), redis);
  const fanout = new Fanout(bus, nodeId, clog, redis);
  stops.add('fanout', () => fanout.stop());
  stops.add('presence', () => presence.stop());
  await fanout.start();
  await presence.start();
  const part: ClusterPart = {
    nodeId,
    fanout,
    presence,
    stop: () => stops.stop(),
    async attach(pipeline, broker) {
      const tcpHeld = () => [...pipeline.servers.values()].reduce((n, s) => n + s.connectionCount, 0);
      held = () => tcpHeld() + broker.connectedClients();
      if (!redis) return;
      // device events are built when a subscriber is connected to any node (members' heartbeats)
      const interest = broker.eventInterest;
      presence.eventsWanted = () => interest.local.any;
      interest.local.onChange = () => presence.beatNow();
      interest.listenElsewhere(() => presence.eventsWantedElsewhere());
      presence.beatNow();
      const live = (node: string) => presence.members().some((m) => m.node === node);
      const servers = () => [...pipeline.servers.values()];
      /** the frames of the device's closed connections still being handled on this node */
      const settling = (identifier: string) => {
        const busy = servers().flatMap((s) => s.settling?.(identifier) ?? []);
        return busy.length ? Promise.all(busy) : undefined;
      };
      const devices = new DeviceDirectory(
        nodeId,
        redis,
        async (identifier) => {
          const conn = pipeline.session(identifier);
          const device = conn && (await pipeline.registry.lookup(identifier));
          return conn?.open && device ? pipeline.commands.flush(device, conn) : 0;
        },
        live,
        clog,
        // asked by the node the device reconnected to: its frames wait for those read here
        async (identifier) => void (await Promise.all(servers().map((s) => s.release?.(identifier, 'moved')))),
      );
      const handovers = new client.Counter({
        name: 'anxin_device_handovers_total',
        help: 'Devices that reconnected to this node while another held them: released by the holder, not answered in time (timeout; handled anyway), or held by a node that had not answered before (unwaited)',
        labelNames: ['outcome'],
        registers: [metrics.registry],
      });
      devices.onHandover = (outcome) => handovers.inc({ outcome });
      await devices.start();
      part.devices = devices;
      stops.add('device-directory', () => devices.stop());
      stops.add('dir-online', bus.on('device.online', ({ device }) => devices.held(device.identifier)));
      // a connection that closed with frames still to handle gives the device up once they are (another node
      // asking for it meanwhile waits for them: release)
      stops.add(
        'dir-offline',
        bus.on('device.offline', ({ device }) => {
          const busy = settling(device.identifier);
          if (!busy) return devices.released(device.identifier);
          void busy.then(() => {
            if (!pipeline.session(device.identifier)) devices.released(device.identifier);
          });
        }),
      );
      stops.add('dir-touch', bus.on('device.message', ({ device }) => devices.touch(device.identifier)));
      pipeline.commands.remote = (device) => devices.forward(device.identifier);
      // the in-process TCP servers (a worker pool has no gate: its frames are not ordered across nodes)
      const gated = servers().filter((s) => s.release);
      for (const s of gated) s.gate = (identifier) => devices.handover(identifier);
      stops.add('handover-gate', () => gated.forEach((s) => (s.gate = undefined)));
    },
  };
  metrics.node.set({ node: nodeId }, 1);
  // each node's share: what it holds against the cluster's whole (from the heartbeats)
  const share = () => {
    const ms = presence.members();
    const total = ms.reduce((n, m) => n + m.devices, 0);
    const mine = ms[0]!;
    metrics.clusterNodes.set(ms.length);
    metrics.nodeDevices.set(mine.devices);
    metrics.nodeShare.set(total ? mine.devices / total : 1);
    return { ms, total, mine };
  };
  metrics.onCollect(() => void share());
  health.node = nodeId;
  health.register(
    'cluster',
    () => {
      const { ms, total, mine } = share();
      const pct = total ? Math.round((100 * mine.devices) / total) : 100;
      const detail = `node ${nodeId}; ${ms.length} node${ms.length > 1 ? 's' : ''} (${ms.map((m) => `${m.node}: ${m.devices} devices, ${m.sockets} dashboards`).join('; ')}); this node holds ${mine.devices} of ${total} devices (${pct} %)`;
      if (!redis) return { state: 'up', mode: 'single', detail };
      const up = redis.pub.status === 'ready' && redis.sub.status === 'ready';
      return { state: up ? 'up' : 'degraded', mode: 'redis', detail: up ? detail : `redis ${redis.pub.status}: reconnecting; ${detail}` };
    },
    false,
  );
  summary.push(redis ? `Cluster      node ${nodeId}  (Redis ${new URL(cfg.redisUrl!).host})` : `Cluster      single node ${nodeId}  (REDIS_URL unset)`);
  return part;
}
