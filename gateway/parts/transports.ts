/**
 * Part 6: the device transports. A TCP server per TCP protocol in protocols/index.ts (in-process, or in worker
 * processes when its workers setting is above 0), its port and limits read from the settings the module names;
 * MQTT devices and Zigbee2MQTT on the broker; alarm receivers on serial lines; the SIA DC-09 receiver for IP
 * alarm panels (TCP and UDP); the SCAIP receiver for social-alarm carephones (SIP over UDP).
 */
import { TCP_PROTOCOLS } from '../../protocols/index.js';
import type { TcpProtocol, TcpSettingNames } from '../../protocols/message.js';
import { SETTINGS, type Config } from '../config.js';
import { capacityHealth } from '../health.js';
import { openFilesLimit } from '../transports/fd-limit.js';
import { Dc09Server } from '../transports/dc09.js';
import { startMqttDevices } from '../transports/mqtt-devices.js';
import { startReceivers, type AlarmReceivers } from '../transports/receivers.js';
import { ScaipServer } from '../transports/scaip.js';
import { cloneAlarm } from '../transports/sessions.js';
import { TcpTransport, type DeviceServer, type TcpHandlers, type TcpOptions } from '../transports/tcp.js';
import { TcpWorkerPool } from '../transports/tcp-workers.js';
import type { IpReceiverDeps } from '../transports/ip-receiver.js';
import type { AlarmsPart } from './alarms.js';
import type { BrokerPart } from './broker.js';
import { Stops, type Part, type PartContext } from './part.js';
import type { PipelinePart } from './pipeline.js';

/** descriptors kept for everything but in-process TCP device connections */
const FD_RESERVE = 1000;

/**
 * For a setting config.ts does not know yet (a new protocol's, e.g. GT06_PORT): the port falls back to the module's
 * default port, the rest to these (the watch's defaults).
 */
const TCP_FALLBACKS: Omit<Record<keyof TcpSettingNames, string | number>, 'port'> = {
  host: '0.0.0.0',
  idleTimeoutS: 720,
  maxConnections: 120000,
  workers: 0,
  firstFrameTimeoutS: 30,
  partialFrameTimeoutS: 10,
  maxUnidentifiedPerAddress: 20,
};

const CONFIG_KEYS = new Map<string, keyof Config>(SETTINGS.map((s) => [s.env, s.key]));

/** A setting's value by its name (SETTINGS `env`), or `fallback` when config.ts has no such setting. */
export function settingByName<T>(cfg: Config, name: string, fallback: T): T {
  const key = CONFIG_KEYS.get(name);
  return key ? (cfg[key] as T) : fallback;
}

/** The TCP server options and worker count of a protocol, from the settings it names. */
export function tcpSettings(cfg: Config, p: TcpProtocol): { options: TcpOptions; workers: number } {
  const s = p.settings;
  const get = <T>(k: Exclude<keyof TcpSettingNames, 'port'>) => settingByName(cfg, s[k], TCP_FALLBACKS[k] as T);
  return {
    options: {
      host: get<string>('host'),
      port: settingByName(cfg, s.port, p.defaultPort),
      idleTimeoutS: get<number>('idleTimeoutS'),
      maxConnections: get<number>('maxConnections'),
      badFrameLimit: cfg.badFrameLimit,
      firstFrameTimeoutS: get<number>('firstFrameTimeoutS'),
      partialFrameTimeoutS: get<number>('partialFrameTimeoutS'),
      maxUnidentifiedPerAddress: get<number>('maxUnidentifiedPerAddress'),
    },
    workers: get<number>('workers'),
  };
}

export interface TransportsPart extends Part {
  /** the TCP servers by protocol name */
  servers: ReadonlyMap<string, DeviceServer>;
  receivers: AlarmReceivers;
  /** the SIA DC-09 receiver (TCP and UDP) */
  dc09: Dc09Server;
  /** the SCAIP receiver (SIP MESSAGE over UDP) */
  scaip: ScaipServer;
}

export async function startTransports(
  { cfg, log, metrics, health, bus, summary }: PartContext,
  d: { pipeline: PipelinePart; alarms: AlarmsPart; broker: BrokerPart },
): Promise<TransportsPart> {
  const stops = new Stops(log);
  return stops.starting(async () => {
    const { pipeline, registry, commands, servers } = d.pipeline;
    const { alarms } = d.alarms;
    for (const p of TCP_PROTOCOLS) {
      const { options, workers } = tcpSettings(cfg, p);
      if (!workers) {
        // One descriptor per connection: past the open-files limit even the gateway's own PostgreSQL connections
        // fail (EMFILE). Keep a reserve for the database pool, MQTT, HTTP and files.
        const cap = openFilesLimit() - FD_RESERVE;
        if (cap < options.maxConnections) {
          const key = CONFIG_KEYS.get(p.settings.maxConnections) ?? `${p.name}MaxConnections`;
          log.warn({ openFilesLimit: openFilesLimit(), [key]: Math.max(1, cap) }, `${p.settings.maxConnections} lowered to fit the open-files limit; raise it (ulimit -n) or set ${p.settings.workers}`);
          options.maxConnections = Math.max(1, cap);
        }
      }
      const handlers: TcpHandlers = {
        handle: (msgs, remote) => pipeline.handle(msgs, remote),
        expedite: (identifier) => pipeline.expedite(identifier),
        online: (device, conn) => {
          bus.emit('device.online', { device, protocol: p.name });
          void commands.flush(device, conn).catch((e) => log.error({ err: e }, 'sending queued commands failed'));
        },
        offline: (device) => bus.emit('device.offline', { device, protocol: p.name }),
        clone: (device, holder, suspect) => {
          const a = cloneAlarm(device, holder, suspect);
          void alarms.commit(a.msg, device, a.raise, []).catch((e) => log.error({ err: e }, 'device_clone_suspected not committed (journaled; retried)'));
        },
      };
      const plog = log.child({ part: p.name });
      servers.set(p.name, workers ? new TcpWorkerPool(p.name, workers, options, handlers, metrics, plog, cfg.logLevel) : new TcpTransport(p, options, handlers, metrics, plog));
    }

    const mqttDevices = await startMqttDevices({ cfg, broker: d.broker.broker, pipeline, registry, metrics, health, log: log.child({ part: 'mqtt-devices' }), singleton: d.alarms.singleton });
    stops.add('mqtt-devices', () => mqttDevices.stop());
    summary.push(...mqttDevices.summary);
    for (const p of TCP_PROTOCOLS) {
      const server = servers.get(p.name)!;
      await server.start();
      stops.add(p.name, () => server.stop());
      health.register(p.name, () => capacityHealth(server));
      summary.push(`${`${p.label ?? p.name} TCP`.padEnd(13)}${tcpSettings(cfg, p).options.host}:${server.port}  (${p.devices ?? `${p.name} devices`})`);
    }
    // The IP receivers look each message's device up themselves: every message names it
    const ipDeps = (protocol: 'dc09' | 'scaip'): IpReceiverDeps => ({
      lookup: (id) => registry.lookup(id),
      keyOf: (id) => d.pipeline.keys.get(id),
      handle: (msgs, remote) => pipeline.handle(msgs, remote),
      unknown: (id, remote) => pipeline.unknown(id, protocol, remote),
      metrics,
      log: log.child({ part: protocol }),
    });
    // IP alarm panels (SIA DC-09)
    const dc09 = new Dc09Server(
      { host: cfg.dc09Host, tcpPort: cfg.dc09TcpPort, udpPort: cfg.dc09UdpPort, idleTimeoutS: cfg.dc09IdleTimeoutS, maxConnections: cfg.dc09MaxConnections, badFrameLimit: cfg.badFrameLimit },
      ipDeps('dc09'),
    );
    await dc09.start();
    stops.add('dc09', () => dc09.stop());
    summary.push(`${'SIA DC-09'.padEnd(13)}${cfg.dc09Host}:${dc09.tcpPort} TCP, :${dc09.udpPort} UDP  (IP alarm panels and communicators)`);

    // social-alarm carephones (SCAIP): SIP MESSAGE to our own SIP port (why not Asterisk's: transports/scaip.ts)
    const scaip = new ScaipServer(
      { host: cfg.scaipHost, port: cfg.scaipSipPort, areaCode: cfg.areaCode, ...(cfg.scaipAdvertise ? { advertise: cfg.scaipAdvertise } : {}) },
      ipDeps('scaip'),
    );
    await scaip.start();
    stops.add('scaip', () => scaip.stop());
    summary.push(`${'SCAIP SIP'.padEnd(13)}${cfg.scaipHost}:${scaip.port} UDP  (social-alarm carephones)`);

    // Alarm receivers on serial lines: a missing port is retried in the background, never fatal. When configured they
    // are a singleton (issue 24): one node at a time reads the lines; the others stand by and take over.
    const start = () => startReceivers({ settings: cfg.receivers ?? [], pipeline, registry, alarms, metrics, health, log: log.child({ part: 'receivers' }) });
    let held = cfg.receivers?.length ? undefined : await start();
    if (held) stops.add('receivers', () => held?.stop());
    else {
      const lease = await d.alarms.singleton('receivers', {
        onAcquire: async () => void (held = await start()),
        onLose: async () => {
          const r = held;
          held = undefined;
          await r?.stop();
          for (const x of r?.list ?? []) health.register(x.source, () => ({ state: 'disabled', detail: 'standby: another node reads this line' }), false);
        },
      });
      stops.add('receivers', () => lease.stop());
    }
    const receivers: AlarmReceivers = {
      get list() {
        return held?.list ?? [];
      },
      get: (name) => held?.get(name),
      summary: held?.summary ?? ['Receivers    standby    (another node reads the lines; this one takes over if it stops)'],
      stop: async () => held?.stop(),
    };
    summary.push(...receivers.summary);
    return { servers, receivers, dc09, scaip, stop: () => stops.stop() };
  });
}
