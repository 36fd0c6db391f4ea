/**
 * The processing pipeline (architecture.md): registry check → per-device ordering → telemetry hand-off →
 * publish on the bus/broker → hand-off to alarms. `handle` resolves when the frame's messages are durably
 * handled (alarm rows committed), so the transport sends the device's reply only then.
 */
import type { DeviceMessage } from '../protocols/message.js';
import type { Bus } from './bus.js';
import type { LastSeenWriter } from './last-seen.js';
import type { Logger } from './log.js';
import { isRoutine } from './overload.js';
import { hotCounter, hotCounters, type Metrics } from './metrics.js';
import type { Registry } from './registry.js';
import type { Device } from './store/devices.js';
import { pointsFromMessage, type TelemetryWriter } from './store/telemetry/types.js';

/** Where alarm-bearing messages go. Resolves only after the alarm is committed; rejects if it could not be. */
export interface AlarmSink {
  handle(msg: DeviceMessage, device: Device): Promise<void>;
}

/** Where command echoes go (records the device's echo as the command's result). */
export interface CommandEchoSink {
  echo(msg: DeviceMessage, device: Device): Promise<void>;
}

/** Publishes normalised events, e.g. on anxin/devices/{id}/events. */
export interface EventPublisher {
  publishDeviceEvent(msg: DeviceMessage, device: Device): void;
}

export type HandleResult = { ok: true; device: Device } | { ok: false; reason: 'unknown_device' | 'alarm_not_committed' | 'error'; identifier: string };

export interface PipelineDeps {
  registry: Registry;
  telemetry: TelemetryWriter;
  publisher?: EventPublisher;
  alarms: AlarmSink;
  commands?: CommandEchoSink;
  lastSeen: LastSeenWriter;
  bus: Bus;
  /** while it says so, routine reports are only counted and noted as seen */
  overload?: { readonly shedding: boolean };
  metrics: Metrics;
  log: Logger;
  unknownLogIntervalMs: number;
}

export class Pipeline {
  /** Per-device promise chains keep each device's messages in arrival order. */
  private chains = new Map<string, Promise<unknown>>();
  private readonly pointsCounter;
  private readonly messageCounter;
  private readonly shedCounter;

  constructor(private readonly d: PipelineDeps) {
    this.pointsCounter = hotCounter(d.metrics.telemetryPoints, { writer: d.telemetry.name });
    this.messageCounter = hotCounters(d.metrics.messages, ['protocol', 'kind']);
    this.shedCounter = hotCounters(d.metrics.shed, ['protocol']);
  }

  async handle(msgs: DeviceMessage[], remote?: string): Promise<HandleResult> {
    const identifier = msgs[0]?.deviceId ?? '';
    if (msgs.length === 0) return { ok: false, reason: 'error', identifier };
    const protocol = msgs[0]!.protocol;
    let device: Device | null;
    try {
      device = await this.d.registry.lookup(identifier);
    } catch (e) {
      this.d.metrics.processErrors.inc({ stage: 'registry' });
      this.d.log.error({ err: e, protocol }, 'registry lookup failed');
      return { ok: false, reason: 'error', identifier };
    }
    if (!device) {
      this.d.metrics.unknownDevice.inc({ protocol });
      const logNow = this.d.registry.shouldLogUnknown(identifier, this.d.unknownLogIntervalMs);
      if (logNow) {
        const more = logNow.suppressed ? { suppressedSinceLastLine: logNow.suppressed } : {};
        this.d.log.warn({ identifier, protocol, remote, ...more }, 'frame from an unregistered device rejected');
      }
      this.d.bus.emit('device.unknown', { identifier, protocol, remote });
      await this.d.registry.noteUnknown(identifier, protocol, remote).catch(() => undefined);
      return { ok: false, reason: 'unknown_device', identifier };
    }
    const dev = device;
    if (this.d.overload?.shedding && msgs.every(isRoutine)) {
      for (const m of msgs) {
        this.messageCounter(m.protocol, m.kind).inc();
        this.shedCounter(m.protocol).inc();
        this.d.lastSeen.note(dev.id, m.receivedAt, m.battery, m.signal);
      }
      return { ok: true, device: dev };
    }
    return this.serial(identifier, async () => {
      for (const msg of msgs) {
        const r = await this.process(msg, dev);
        if (!r.ok) return r;
      }
      return { ok: true as const, device: dev };
    });
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  private async process(msg: DeviceMessage, device: Device): Promise<HandleResult> {
    const { metrics, log } = this.d;
    this.messageCounter(msg.protocol, msg.kind).inc();
    this.d.lastSeen.note(device.id, msg.receivedAt, msg.battery, msg.signal);
    try {
      const points = pointsFromMessage(msg, device.elderId, (why) => metrics.telemetryDeviceTimeIgnored.inc({ protocol: msg.protocol, reason: why }));
      this.d.telemetry.write(points);
      if (points.length) this.pointsCounter.inc(points.length);
    } catch (e) {
      metrics.processErrors.inc({ stage: 'telemetry' });
      log.error({ err: e }, 'telemetry hand-off failed');
    }
    try {
      this.d.publisher?.publishDeviceEvent(msg, device);
    } catch (e) {
      metrics.processErrors.inc({ stage: 'publish' });
      log.error({ err: e }, 'publish failed');
    }
    this.d.bus.emit('device.message', { msg, device });
    if (msg.commandEcho && this.d.commands) {
      await this.d.commands.echo(msg, device).catch((e) => {
        metrics.processErrors.inc({ stage: 'command_echo' });
        log.error({ err: e }, 'recording a command echo failed');
      });
    }
    try {
      await this.d.alarms.handle(msg, device);
    } catch (e) {
      metrics.processErrors.inc({ stage: 'alarms' });
      log.error({ err: e, device: device.id }, 'alarm not committed; the device is not acknowledged');
      return { ok: false, reason: 'alarm_not_committed', identifier: device.identifier };
    }
    return { ok: true, device };
  }

  /** Waits until every device chain is idle (shutdown drain). */
  async drain(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }
}
