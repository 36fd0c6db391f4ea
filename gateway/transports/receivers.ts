/**
 * The configured alarm receivers (RECEIVERS): one serial port and one watchdog each, a /healthz part each
 * (`receiver:<name>`, not critical: the rest of the hub works without it), and the `receiver_silent` alarm.
 *
 * A receiver is not a registered device. Its silence alarm has no device row (alarms.device_id is null); its
 * source is `receiver:<name>`, so there is one open alarm per receiver, and it is cleared when a line arrives
 * again. Heartbeat lines never reach the registry or the pipeline.
 */
import type { AlarmKind, DeviceMessage } from '../../protocols/message.js';
import type { AlarmCandidate, AlarmSource } from '../alarms/alarm-service.js';
import type { Health, PartHealth } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Pipeline } from '../pipeline.js';
import { describeSerial, type ReceiverSettings } from '../receiver-settings.js';
import type { Registry } from '../registry.js';
import { ReceiverWatchdog } from './receiver-watchdog.js';
import { SerialReceiver } from './serial-receiver.js';

export interface ReceiversDeps {
  settings: readonly ReceiverSettings[];
  pipeline: Pick<Pipeline, 'handle'>;
  registry: Pick<Registry, 'lookup'>;
  alarms: { commit(msg: DeviceMessage, source: AlarmSource, raise: AlarmCandidate[], clear: AlarmKind[]): Promise<unknown> };
  metrics: Metrics;
  health: Health;
  log: Logger;
}

export interface AlarmReceiver {
  port: SerialReceiver;
  watchdog: ReceiverWatchdog;
  /** alarm source key and identifier of its receiver_silent alarm */
  source: string;
}

export interface AlarmReceivers {
  readonly list: readonly AlarmReceiver[];
  get(name: string): AlarmReceiver | undefined;
  summary: string[];
  stop(): Promise<void>;
}

const secondsAgo = (d: Date) => Math.round((Date.now() - d.getTime()) / 1000);

export async function startReceivers(d: ReceiversDeps): Promise<AlarmReceivers> {
  const list: AlarmReceiver[] = [];
  for (const s of d.settings) {
    const log = d.log.child({ receiver: s.name });
    const source: AlarmSource = { id: null, identifier: `receiver:${s.name}`, elderId: null, protocol: 'contactid' };
    const synthetic = (what: string): DeviceMessage => {
      const now = new Date();
      // unique raw text: each raise or clear is its own message for de-duplication
      return { deviceId: source.identifier, protocol: 'contactid', kind: 'status', receivedAt: now, raw: `${source.identifier}:${what}:${now.toISOString()}` };
    };
    const watchdog = new ReceiverWatchdog({
      silentAfterMs: 2 * s.heartbeatS * 1000,
      retryMs: Math.min(s.heartbeatS * 1000, 30_000),
      raise: async (silentMs, lastLineAt) => {
        const detail = { receiver: s.name, path: s.path, heartbeatS: s.heartbeatS, silentS: Math.round(silentMs / 1000), lastLineAt: lastLineAt?.toISOString() ?? null };
        await d.alarms.commit(synthetic('silent'), source, [{ kind: 'receiver_silent', detail }], []);
        log.warn({ silentS: detail.silentS }, 'alarm receiver silent: receiver_silent raised');
      },
      clear: async () => {
        await d.alarms.commit(synthetic('alive'), source, [], ['receiver_silent']);
      },
      onError: (e, action) => log.error({ err: e, action }, 'receiver_silent could not be committed; retrying'),
    });
    const port = new SerialReceiver(s, {
      handle: (msgs, remote) => d.pipeline.handle(msgs, remote),
      lookup: (account) => d.registry.lookup(account),
      alive: () => watchdog.alive(),
      metrics: d.metrics,
      log: d.log, // its lines carry the receiver name themselves
    });
    const r: AlarmReceiver = { port, watchdog, source: source.identifier };
    list.push(r);
    d.health.register(source.identifier, () => healthOf(r), false);
  }

  for (const r of list) {
    r.watchdog.start();
    await r.port.start();
  }

  const summary = list.map(({ port: p }) => {
    const s = p.settings;
    const state = p.state === 'open' ? '' : `  not open yet (${p.lastError ?? 'unknown'}), retrying`;
    return `Receiver     ${s.name}  ${s.path}  ${describeSerial(s)}  (Contact ID alarm receiver, heartbeat ${s.heartbeatS} s)${state}`;
  });

  return {
    list,
    get: (name) => list.find((r) => r.port.name === name),
    summary,
    async stop() {
      for (const r of list) r.watchdog.stop();
      await Promise.all(list.map((r) => r.port.stop()));
    },
  };
}

function healthOf({ port, watchdog }: AlarmReceiver): PartHealth {
  const s = port.settings;
  const last = watchdog.lastLineAt ? `last line ${secondsAgo(watchdog.lastLineAt)} s ago` : 'no line yet';
  if (port.state !== 'open') {
    const next = port.nextAttemptMs;
    return {
      state: 'down',
      detail: `${s.path} not open (${port.lastError ?? port.state})${next === undefined ? '' : `, next attempt in ${Math.ceil(next / 1000)} s`}; ${last}`,
    };
  }
  if (watchdog.isSilent) {
    return { state: 'degraded', detail: `silent: ${last}, heartbeat every ${s.heartbeatS} s; receiver_silent raised` };
  }
  return { state: 'up', detail: `${s.path} ${describeSerial(s)}${port.receiverNumber ? `, receiver ${port.receiverNumber}` : ''}, ${last}` };
}
