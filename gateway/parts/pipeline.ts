/**
 * Part 5: the pipeline (registry check, per-device ordering, telemetry hand-off, publish, alarms), with what it
 * needs: the registry, the last-seen writer, the overload guard, the command service and devices' sealed keys
 * (DC-09). Device events and alarm changes are published on the broker.
 */
import { join } from 'node:path';
import { CommandService } from '../commands.js';
import { DeviceKeys, KeyVault } from '../device-keys.js';
import { OverloadGuard } from '../overload.js';
import { LastSeenWriter } from '../last-seen.js';
import { Pipeline } from '../pipeline.js';
import { Registry } from '../registry.js';
import { getDeviceKeySealed } from '../store/devices.js';
import type { Db } from '../store/db.js';
import type { TelemetryWriter } from '../store/telemetry/types.js';
import type { DeviceLink, DeviceServer } from '../transports/tcp.js';
import type { AlarmsPart } from './alarms.js';
import type { BrokerPart } from './broker.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface PipelinePart extends Part {
  registry: Registry;
  pipeline: Pipeline;
  overload: OverloadGuard;
  commands: CommandService;
  /** the TCP servers by protocol, filled by the transports part; commands find a device's live connection here */
  servers: Map<string, DeviceServer>;
  /** the live connection holding a device's session, on any of those servers */
  session(identifier: string): DeviceLink | undefined;
  /** devices' symmetric keys (DC-09): sealed at rest, opened when a frame needs them */
  keys: DeviceKeys;
}

export function startPipeline(
  { cfg, log, metrics, bus }: PartContext,
  d: { db: Db; telemetry: TelemetryWriter; alarms: AlarmsPart; broker: BrokerPart },
): PipelinePart {
  const stops = new Stops(log);
  const { db, broker: b } = d;
  const registry = new Registry(db);
  registry.onEvicted = (n) => metrics.unknownEvicted.inc(n);
  const keys = new DeviceKeys(KeyVault.fromFile(cfg.deviceKeysFile ?? join(cfg.dataDir, 'device-keys.key')), (id) => getDeviceKeySealed(db, id));
  registry.onInvalidate = (id) => keys.invalidate(id);
  const lastSeen = new LastSeenWriter(db);
  stops.add('last-seen', () => lastSeen.close());
  const servers = new Map<string, DeviceServer>();
  const session = (identifier: string): DeviceLink | undefined => {
    for (const s of servers.values()) {
      const link = s.sessions.get(identifier);
      if (link) return link;
    }
    return undefined;
  };
  const commands = new CommandService(db, session, bus, metrics, cfg.commandTtlS, { allowMonitor: cfg.allowMonitorCommand });
  const overload = new OverloadGuard({
    lagMs: cfg.overloadLagMs,
    holdMs: 2000,
    onChange: (shedding, lagMs) => {
      metrics.overload.set(shedding ? 1 : 0);
      if (shedding) log.warn({ lagMs: Math.round(lagMs) }, 'event loop lagging: shedding routine reports; alarms still go through');
      else log.info('load back to normal: routine reports handled again');
    },
  });
  // started by startApp once every part is up: compiling the HTTP routes blocks the loop for a moment at start,
  // which is not device traffic and must not shed the first reports
  stops.add('overload', () => overload.stop());
  const pipeline = new Pipeline({
    overload,
    laneMaxWaitMs: cfg.overloadLagMs,
    commands,
    registry,
    telemetry: d.telemetry,
    alarms: d.alarms.alarms,
    lastSeen,
    bus,
    metrics,
    log: log.child({ part: 'pipeline' }),
    unknownLogIntervalMs: cfg.unknownDeviceLogIntervalS * 1000,
    publisher: {
      // QoS 0 and no subscriber: nothing to build (bench: the JSON alone was ~6 µs a message at 10,000/s)
      publishDeviceEvent: (msg, device) => {
        if (!b.eventInterest.any) return;
        b.broker.publish(`anxin/devices/${device.identifier}/events`, JSON.stringify({ ...msg, device: device.id, elder: device.elderId }));
      },
    },
  });
  // unsubscribed after the drain: alarms the drain commits are still published
  stops.add('alarm-publish', bus.on('alarm.changed', ({ alarm, action }) => b.broker.publish(`anxin/alarms/${alarm.id}`, JSON.stringify({ action, alarm }))));
  stops.add('pipeline-drain', () => pipeline.drain());
  return { registry, pipeline, overload, commands, servers, session, keys, stop: () => stops.stop() };
}
