/**
 * One alarm receiver on a serial line (protocols.md §3.4), read with `serialport`:
 * bytes → ReceiverFramer (DC4) → parse → registry (account = device identifier) → decode with the account's
 * vendor table and device kind → pipeline → answer.
 *
 * Answers, one byte per line:
 * - ACK 0x06 for every line that parsed, heartbeats included; for an event only after `pipeline.handle`
 *   resolved ok, i.e. after its alarm row is committed.
 * - NAK 0x15 for a line that does not parse (bad format, bad checksum, bad qualifier): the receiver retransmits.
 * - Nothing when the alarm could not be committed: the receiver retransmits after its 4 s timeout (the journal
 *   holds the alarm meanwhile), and the retransmission is de-duplicated.
 * - ACK for an unknown account: NAK would make the receiver retransmit it and then stall every other account
 *   behind it (it buffers and stops sending until a heartbeat is ACKed). The pipeline counts the line and lists
 *   the account as awaiting registration; an alarm-bearing line is also logged as a warning.
 * - Only the newest line is answered. The receiver keeps one line in flight; if it retransmitted while we were
 *   still committing, a late answer to the older copy would be taken as the answer to the newer one.
 *
 * The port is reopened with backoff after an error, a disconnect, or when its path disappears or points at
 * another device: a pseudo-terminal whose other side went away raises no event in serialport (reads return 0
 * in a loop), and a re-plugged USB adapter comes back as a new device node, so the path is checked each second.
 */
import { realpath } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import {
  ReceiverFramer,
  decodeReceiverLine,
  encodeAck,
  encodeNak,
  isKnownVendor,
  parseReceiverLine,
  type ParseOptions,
  type ReceiverLine,
} from '../../protocols/index.js';
import type { DeviceMessage } from '../../protocols/message.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { HandleResult } from '../pipeline.js';
import { Backoff } from '../backoff.js';
import { describeSerial, type ReceiverSettings } from '../receiver-settings.js';
import type { Device } from '../store/devices.js';

/**
 * Most "alarm from an unregistered account" warnings a minute, all receivers together; the rest are counted
 * (anxin_receiver_lines_total{line="unknown_account"}) and the next line says how many were held back. The fuzz
 * bench made one line per such alarm: 12,384 of them.
 */
export const UNKNOWN_ALARM_LOGS_PER_MIN = 20;
const unknownAlarmLog = { start: 0, lines: 0, suppressed: 0 };
function unknownAlarmLogNow(now = Date.now()): false | { suppressed: number } {
  const w = unknownAlarmLog;
  if (now - w.start >= 60_000) Object.assign(w, { start: now, lines: 0 });
  if (w.lines >= UNKNOWN_ALARM_LOGS_PER_MIN) {
    w.suppressed++;
    return false;
  }
  w.lines++;
  const suppressed = w.suppressed;
  w.suppressed = 0;
  return { suppressed };
}

/** First reopen delay; doubled after each failure up to REOPEN_MAX_MS. */
export const REOPEN_FIRST_MS = 500;
export const REOPEN_MAX_MS = 30_000;
/** How often an open port's path is checked (see the file comment). */
const PRESENCE_CHECK_MS = 1000;

export interface SerialReceiverDeps {
  /** the pipeline: registry check, telemetry, rules, alarm commit */
  handle(msgs: DeviceMessage[], remote: string): Promise<HandleResult>;
  /** the registry, for the account's device kind and meta.vendor before decoding */
  lookup(account: string): Promise<Device | null>;
  /** a line parsed: the receiver is alive */
  alive?(): void;
  metrics: Metrics;
  log: Logger;
}

type LineType = 'heartbeat' | 'event' | 'unknown_code' | 'unknown_account' | 'wrong_protocol' | 'invalid';
type Answer = 'ack' | 'nak' | 'none';

export type PortState = 'closed' | 'opening' | 'open' | 'stopped';

export class SerialReceiver {
  state: PortState = 'closed';
  /** why the port is not open (last open error or loss) */
  lastError: string | undefined;
  /** receiver number from the last heartbeat (`01`) */
  receiverNumber: string | undefined;
  private port: SerialPort | undefined;
  private target: string | undefined;
  private framer = new ReceiverFramer();
  /** lines handled strictly in order */
  private chain: Promise<void> = Promise.resolve();
  /** number of the newest line received; only that one is answered */
  private newest = 0;
  private readonly backoff = new Backoff(REOPEN_FIRST_MS, REOPEN_MAX_MS);
  private reopenTimer: NodeJS.Timeout | undefined;
  private reopenAt = 0;
  private presenceTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  readonly remote: string;
  private readonly parseOptions: ParseOptions;

  constructor(
    readonly settings: ReceiverSettings,
    private readonly d: SerialReceiverDeps,
  ) {
    this.remote = `serial:${settings.name}`;
    this.parseOptions = settings.lineWidth === undefined ? {} : { lineWidth: settings.lineWidth };
  }

  get name(): string {
    return this.settings.name;
  }

  /** First open attempt; never throws: a missing or busy port is retried with backoff. */
  async start(): Promise<void> {
    await this.open();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.reopenTimer);
    clearInterval(this.presenceTimer);
    const port = this.port;
    this.port = undefined;
    if (port) await this.closePort(port);
  }

  /** When the next reopen attempt is due, in ms from now (undefined unless waiting to reopen). */
  get nextAttemptMs(): number | undefined {
    return this.state === 'closed' ? Math.max(0, this.reopenAt - Date.now()) : undefined;
  }

  private async open(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'open' || this.state === 'opening') return;
    this.state = 'opening';
    const s = this.settings;
    const labels = { receiver: s.name };
    try {
      const target = await realpath(s.path);
      const port = new SerialPort({ path: s.path, baudRate: s.baudRate, dataBits: s.dataBits, parity: s.parity, stopBits: s.stopBits, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      if (this.state !== 'opening') {
        // stopped while opening
        await this.closePort(port);
        return;
      }
      this.port = port;
      this.target = target;
      this.framer = new ReceiverFramer();
      this.state = 'open';
      this.lastError = undefined;
      this.backoff.reset();
      this.failures = 0;
      port.on('data', (chunk: Buffer) => this.onData(port, chunk));
      port.on('close', (err?: Error & { disconnected?: boolean }) => this.lost(port, err?.disconnected ? 'disconnected' : 'closed', err));
      port.on('error', (err: Error) => this.lost(port, 'error', err));
      this.presenceTimer = setInterval(() => void this.checkPresence(port), PRESENCE_CHECK_MS);
      this.presenceTimer.unref();
      this.d.metrics.receiverPortOpen.set(labels, 1);
      this.d.metrics.receiverPortEvents.inc({ ...labels, event: 'opened' });
      this.d.log.info({ receiver: s.name, path: s.path, serial: describeSerial(s) }, 'alarm receiver port open');
    } catch (e) {
      if (this.state !== 'opening') return;
      this.state = 'closed';
      this.lastError = (e as Error).message;
      this.d.metrics.receiverPortEvents.inc({ ...labels, event: 'open_failed' });
      // the first failure is news; the retries every backoff period are not
      if (this.failures++ === 0) this.d.log.warn({ receiver: s.name, path: s.path, err: this.lastError }, 'alarm receiver port cannot be opened; retrying with backoff');
      else this.d.log.debug({ receiver: s.name, err: this.lastError }, 'alarm receiver port still cannot be opened');
      this.scheduleReopen();
    }
  }

  private scheduleReopen(): void {
    if (this.state === 'stopped') return;
    clearTimeout(this.reopenTimer);
    const delay = this.backoff.next();
    this.reopenTimer = setTimeout(() => void this.open(), delay);
    this.reopenAt = Date.now() + delay;
    this.reopenTimer.unref();
  }

  private async checkPresence(port: SerialPort): Promise<void> {
    if (port !== this.port) return;
    const now = await realpath(this.settings.path).catch(() => undefined);
    if (port !== this.port) return;
    if (now === undefined) this.lost(port, 'gone');
    else if (now !== this.target) this.lost(port, 'replaced');
  }

  /** The port failed or went away: close what is left of it and reopen with backoff. */
  private lost(port: SerialPort, reason: string, err?: Error): void {
    if (port !== this.port || this.state === 'stopped') return;
    this.port = undefined;
    clearInterval(this.presenceTimer);
    this.state = 'closed';
    this.lastError = err ? `${reason}: ${err.message}` : reason;
    this.d.metrics.receiverPortOpen.set({ receiver: this.name }, 0);
    this.d.metrics.receiverPortEvents.inc({ receiver: this.name, event: 'lost' });
    this.d.log.warn({ receiver: this.name, path: this.settings.path, reason, err: err?.message }, 'alarm receiver port lost; reopening');
    void this.closePort(port);
    this.scheduleReopen();
  }

  private closePort(port: SerialPort): Promise<void> {
    port.removeAllListeners('data');
    port.removeAllListeners('close');
    // keep an error listener: a late error must not become an uncaught exception
    port.removeAllListeners('error');
    port.on('error', () => undefined);
    if (!port.isOpen) return Promise.resolve();
    return new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private onData(port: SerialPort, chunk: Buffer): void {
    if (port !== this.port) return;
    this.d.metrics.bytesReceived.inc({ protocol: 'contactid' }, chunk.length);
    for (const ev of this.framer.push(chunk)) {
      if ('error' in ev) {
        // an oversized run of bytes is noise, not a line: no answer, the receiver times out and retransmits
        this.d.metrics.badFrames.inc({ protocol: 'contactid', reason: ev.error });
        this.d.metrics.bytesDiscarded.inc({ protocol: 'contactid', reason: ev.error }, ev.discarded);
        continue;
      }
      const n = ++this.newest;
      const receivedAt = new Date();
      let parsed: ReceiverLine;
      try {
        parsed = parseReceiverLine(ev.frame, this.parseOptions);
      } catch {
        // documented never to throw; a throw here would escape serialport's data event and end the process
        parsed = { type: 'invalid', reason: 'parser_error', raw: '' };
      }
      // liveness is judged when the line arrives, not when its turn comes: a slow commit ahead of a heartbeat
      // must not make the receiver look silent
      if (parsed.type !== 'invalid') this.d.alive?.();
      this.chain = this.chain
        .then(() => this.onLine(port, n, ev.frame, parsed, receivedAt))
        .catch((e: unknown) => {
          this.d.metrics.processErrors.inc({ stage: 'transport' });
          this.d.log.error({ err: e, receiver: this.name }, 'alarm receiver line handling failed');
        });
    }
  }

  private async onLine(port: SerialPort, n: number, frame: Buffer, parsed: ReceiverLine, receivedAt: Date): Promise<void> {
    const { metrics, log } = this.d;
    metrics.frames.inc({ protocol: 'contactid' });
    const s = this.settings;
    if (parsed.type === 'invalid') {
      metrics.badFrames.inc({ protocol: 'contactid', reason: parsed.reason });
      return this.answer(port, n, 'invalid', 'nak');
    }
    if (parsed.type === 'heartbeat') {
      this.receiverNumber = parsed.receiver;
      return this.answer(port, n, 'heartbeat', 'ack');
    }

    let device: Device | null;
    try {
      device = await this.d.lookup(parsed.account);
    } catch (e) {
      metrics.processErrors.inc({ stage: 'registry' });
      log.error({ err: e, receiver: this.name }, 'registry lookup failed; the receiver will retransmit');
      return this.answer(port, n, 'event', 'none');
    }
    if (device && device.protocol !== 'contactid') {
      // a misregistration: never raise a Contact ID event on a watch or a sensor that shares the identifier
      metrics.badFrames.inc({ protocol: 'contactid', reason: 'wrong_protocol' });
      log.warn({ receiver: this.name, account: parsed.account, registeredAs: device.protocol }, 'Contact ID account is registered under another protocol; line acknowledged and ignored');
      return this.answer(port, n, 'wrong_protocol', 'ack');
    }
    const out = decodeReceiverLine(frame, {
      receivedAt,
      ...this.parseOptions,
      vendor: vendorOf(device) ?? s.vendor,
      deviceTypeOf: () => device?.kind,
    });
    if (!out.ok) {
      metrics.badFrames.inc({ protocol: 'contactid', reason: out.reason });
      return this.answer(port, n, 'invalid', 'nak');
    }
    const msg = out.messages[0];
    const type: LineType = msg?.event?.known === false ? 'unknown_code' : 'event';
    const r = await this.d.handle(out.messages, this.remote);
    if (r.ok) return this.answer(port, n, type, 'ack');
    if (r.reason === 'unknown_device') {
      const logNow = msg?.alarms?.length ? unknownAlarmLogNow() : false;
      if (logNow) {
        log.warn(
          { receiver: this.name, account: parsed.account, zone: parsed.zone, code: parsed.code, qualifier: parsed.qualifier, alarms: msg!.alarms, ...(logNow.suppressed ? { suppressedSinceLastLine: logNow.suppressed } : {}) },
          'alarm from an unregistered Contact ID account: acknowledged, listed as awaiting registration',
        );
      }
      return this.answer(port, n, 'unknown_account', 'ack');
    }
    // not committed (PostgreSQL down, or an error): no answer, the receiver retransmits
    return this.answer(port, n, type, 'none');
  }

  private answer(port: SerialPort, n: number, line: LineType, answer: Answer): void {
    const labels = { receiver: this.name, line };
    if (answer === 'none') {
      this.d.metrics.receiverLines.inc({ ...labels, answer });
      return;
    }
    if (n !== this.newest || port !== this.port) {
      this.d.metrics.receiverLines.inc({ ...labels, answer: 'stale' });
      return;
    }
    this.d.metrics.receiverLines.inc({ ...labels, answer });
    port.write(answer === 'ack' ? encodeAck() : encodeNak(), (err) => {
      if (err) this.d.log.warn({ receiver: this.name, err: err.message }, 'writing the answer to the alarm receiver failed');
    });
  }
}

/** The panel vendor a device's meta names (`{"vendor": "climax"}`), when it is one we have a table for. */
function vendorOf(device: Device | null): string | undefined {
  const v = device?.meta?.vendor;
  return typeof v === 'string' && isKnownVendor(v) ? v.toLowerCase() : undefined;
}
