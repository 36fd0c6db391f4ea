/**
 * The processing pipeline (architecture.md): registry check → per-device ordering → telemetry hand-off →
 * publish on the bus/broker → hand-off to alarms. `handle` resolves when the frame's messages are durably
 * handled (alarm rows committed), so the transport sends the device's reply only then.
 *
 * Two lanes (issue 25). A frame that may bear an alarm (anything but a routine report) is handled at once. Routine
 * reports (positions, heartbeats, health readings: `isRoutine`) wait in the routine lane (lane.ts), which runs them
 * in slices of a few milliseconds between the event loop's turns. So an alarm frame read in the middle of 10,000
 * reports a second, and the database's answers to its commit, are not queued behind a whole turn's reports; at
 * 10,000 reports/s the alarm's device ack took 529 ms at p99 before. Per-device order holds: a device's frame that
 * is not routine first runs that device's reports still in the lane.
 */
import type { DeviceMessage } from '../protocols/message.js';
import type { Bus } from './bus.js';
import type { LastSeenWriter } from './last-seen.js';
import type { Logger } from './log.js';
import { isRoutine } from './overload.js';
import { hotCounter, hotCounters, type Metrics } from './metrics.js';
import type { Registry } from './registry.js';
import type { Device } from './store/devices.js';
import { RoutineLane } from './lane.js';
import { pointsFromMessage, type TelemetryWriter } from './store/telemetry/types.js';

/** Where alarm-bearing messages go. Resolves only after the alarm is committed; rejects if it could not be. */
export interface AlarmSink {
  handle(msg: DeviceMessage, device: Device): Promise<void>;
  /** handle, done at once when nothing needs waiting for (undefined), or the promise of the rest */
  handleNow?(msg: DeviceMessage, device: Device): Promise<void> | undefined;
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
  /** routine reports that waited this long in the lane are shed (the same bound as the overload guard's lag); 0 = never */
  laneMaxWaitMs?: number;
  /** time the routine lane runs per turn of the event loop */
  laneSliceMs?: number;
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
  private readonly lane: RoutineLane<DeviceMessage[], Device, HandleResult>;

  constructor(private readonly d: PipelineDeps) {
    this.pointsCounter = hotCounter(d.metrics.telemetryPoints, { writer: d.telemetry.name });
    this.messageCounter = hotCounters(d.metrics.messages, ['protocol', 'kind']);
    this.shedCounter = hotCounters(d.metrics.shed, ['protocol']);
    this.lane = new RoutineLane({
      sliceMs: d.laneSliceMs ?? 4,
      maxWaitMs: d.laneMaxWaitMs ?? 0,
      run: (key, msgs, dev) => this.routine(key, msgs, dev),
      shed: (msgs, dev) => this.shed(msgs, dev),
      metrics: d.metrics,
    });
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
      await this.unknown(identifier, protocol, remote);
      return { ok: false, reason: 'unknown_device', identifier };
    }
    const dev = device;
    if (msgs.every(isRoutine)) {
      if (this.d.overload?.shedding) return this.shed(msgs, dev);
      return this.lane.add(identifier, msgs, dev);
    }
    // this device's reports still in the lane go first (per-device order), then this frame, at once
    this.lane.expedite(identifier);
    return this.serial(identifier, () => this.processAll(msgs, dev));
  }

  /**
   * A frame from a device that is not registered (or another protocol's): counted, logged within limits, and listed
   * as awaiting registration. Transports that look the device up themselves (DC-09) call it directly.
   */
  async unknown(identifier: string, protocol: string, remote?: string): Promise<void> {
    this.d.metrics.unknownDevice.inc({ protocol });
    const logNow = this.d.registry.shouldLogUnknown(identifier, this.d.unknownLogIntervalMs);
    if (logNow) {
      const more = logNow.suppressed ? { suppressedSinceLastLine: logNow.suppressed } : {};
      this.d.log.warn({ identifier, protocol, remote, ...more }, 'frame from an unregistered device rejected');
    }
    this.d.bus.emit('device.unknown', { identifier, protocol, remote });
    await this.d.registry.noteUnknown(identifier, protocol, remote).catch(() => undefined);
  }

  /** Runs the device's reports still waiting in the routine lane now (a transport saw more from it). */
  expedite(identifier: string): void {
    this.lane.expedite(identifier);
  }

  private shed(msgs: DeviceMessage[], dev: Device): HandleResult {
    for (const m of msgs) {
      this.messageCounter(m.protocol, m.kind).inc();
      this.shedCounter(m.protocol).inc();
      this.d.lastSeen.note(dev.id, m.receivedAt, m.battery, m.signal);
    }
    return { ok: true, device: dev };
  }

  private async processAll(msgs: DeviceMessage[], dev: Device): Promise<HandleResult> {
    for (const msg of msgs) {
      const r = await this.process(msg, dev);
      if (!r.ok) return r;
    }
    return { ok: true as const, device: dev };
  }

  /**
   * The lane's turn for a device's reports. With nothing of the device in flight and nothing to wait for (most
   * reports: no alarm raised, rules loaded) they are handled here and now, so the lane's slice times their real
   * cost; otherwise they join the device's chain.
   */
  private routine(key: string, msgs: DeviceMessage[], dev: Device): HandleResult | Promise<HandleResult> {
    if (this.chains.has(key) || !this.d.alarms.handleNow) return this.serial(key, () => this.processAll(msgs, dev));
    for (let i = 0; i < msgs.length; i++) {
      const pending = this.processNow(msgs[i]!, dev);
      if (pending) {
        const rest = msgs.slice(i + 1);
        return this.chained(key, pending.then((r) => (r.ok && rest.length ? this.processAll(rest, dev) : r)));
      }
    }
    return { ok: true, device: dev };
  }

  /** process, without waiting when nothing needs it: undefined when done, or the promise of the rest. */
  private processNow(msg: DeviceMessage, device: Device): Promise<HandleResult> | undefined {
    this.handOff(msg, device);
    let pending: Promise<void> | undefined;
    try {
      pending = this.d.alarms.handleNow!(msg, device);
    } catch (e) {
      pending = Promise.reject(e);
    }
    return pending && this.committed(pending, device);
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    return this.chained(key, prev.then(fn, fn));
  }

  /** Makes `next` the tail of the device's chain until it settles. */
  private chained<T>(key: string, next: Promise<T>): Promise<T> {
    const tail = next.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  private async process(msg: DeviceMessage, device: Device): Promise<HandleResult> {
    const { metrics, log } = this.d;
    this.handOff(msg, device);
    if (msg.commandEcho && this.d.commands) {
      await this.d.commands.echo(msg, device).catch((e) => {
        metrics.processErrors.inc({ stage: 'command_echo' });
        log.error({ err: e }, 'recording a command echo failed');
      });
    }
    return this.committed(this.d.alarms.handle(msg, device), device);
  }

  private async committed(alarms: Promise<void>, device: Device): Promise<HandleResult> {
    try {
      await alarms;
    } catch (e) {
      this.d.metrics.processErrors.inc({ stage: 'alarms' });
      this.d.log.error({ err: e, device: device.id }, 'alarm not committed; the device is not acknowledged');
      return { ok: false, reason: 'alarm_not_committed', identifier: device.identifier };
    }
    return { ok: true, device };
  }

  /** Counting, last seen, telemetry, the device event and the bus: nothing here waits or throws. */
  private handOff(msg: DeviceMessage, device: Device): void {
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
  }

  /** Waits until the lane is empty and every device chain is idle (shutdown drain). */
  async drain(): Promise<void> {
    while (this.chains.size || this.lane.size) {
      await this.lane.flush();
      await Promise.all([...this.chains.values()]);
    }
  }
}
