/**
 * GSM modem (短信猫) transport on a serial port, implementing the SmsSender port (sms.md B1–B10): AT init in PDU
 * mode, UCS2 SMS-SUBMIT with a concatenation UDH and a status-report request, `AT+CMGS=<n>` at the `> ` prompt,
 * `+CMTI` → `AT+CMGR` → SMS-DELIVER (reassembled) → `AT+CMGD`, `+CDS` status reports matched on (TP-MR,
 * recipient), and a sweep of stored messages (`AT+CMGL=4`) after every init.
 *
 * Never logged: numbers and texts. The `log` option receives codes and counts only.
 */
import { SerialPort } from 'serialport';
import { JitterBackoff } from '../backoff.ts';
import { SmsSendError } from '../errors.ts';
import { Listeners } from '../listeners.ts';
import { toE164Digits, type NumberForm } from '../number.ts';
import type { SmsDeliveryState, SmsInbound, SmsReceipt, SmsSender, SmsSendRequest, SmsSendResult, SmsTransportState } from '../port.ts';
import { Reassembler } from '../reassembly.ts';
import { isFinal, messageState, tpStatusState } from '../receipt.ts';
import { encodeUcs2Parts, parseConcat } from '../split.ts';
import { AtChannel, AtError, type Urc } from './at.ts';
import { decodePdu, encodeSubmit, type DecodedPdu } from './pdu.ts';

export interface ModemOptions {
  /** e.g. /dev/serial/by-id/usb-Quectel_EC25-if02-port0 (B1) */
  path: string;
  baudRate?: number;
  /** RTS/CTS on real UARTs (B1) */
  rtscts?: boolean;
  /** destination form: +86… (0x91, default) or 11 digits (0x81) (B5) */
  numberForm?: NumberForm;
  /** ordinary command timeout; default 5 s */
  commandTimeoutMs?: number;
  /** wait for `> `; default 5 s (B4) */
  promptTimeoutMs?: number;
  /** wait for +CMGS after Ctrl-Z; default 60 s (SIM800; Quectel says up to 120 s, B4) */
  sendTimeoutMs?: number;
  /** how long to poll `AT` at boot; default 20 s (B3) */
  bootTimeoutMs?: number;
  /** ask for status reports (SRR); default true */
  statusReports?: boolean;
  reconnectFirstMs?: number;
  reconnectMaxMs?: number;
  /** codes and counts only */
  log?: (event: string, fields?: Record<string, string | number>) => void;
}

interface Sent {
  ref: string;
  parts: number;
  states: (SmsDeliveryState | undefined)[];
  ids: string[];
}

/** +CMS ERROR codes that are final for that number (B10 policy); the rest may work later. */
const FINAL_CMS = new Set(['1', '21', '28', '30', '50']);

export class ModemSender implements SmsSender {
  readonly transport = 'modem';
  private readonly o: Required<Omit<ModemOptions, 'log'>> & Pick<ModemOptions, 'log'>;
  private port: SerialPort | undefined;
  private at: AtChannel | undefined;
  private current: SmsTransportState = 'down';
  private stopping = true;
  private readonly backoff: JitterBackoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private cnmaNeeded = false;
  private udhRef = Math.floor(Math.random() * 256);
  private seq = 0;
  /** sent parts by `${mr}|${last 11 digits of the recipient}`, for status reports (B8) */
  private readonly byMr = new Map<string, { sent: Sent; part: number; id: string; at: number }>();
  private readonly reassembler = new Reassembler();
  private readonly receipts = new Listeners<[SmsReceipt]>();
  private readonly inbound = new Listeners<[SmsInbound]>();
  private readonly states = new Listeners<[SmsTransportState, string | undefined]>();
  /** reads of stored messages run one after another, between sends */
  private reading: Promise<void> = Promise.resolve();

  constructor(opts: ModemOptions) {
    this.o = {
      baudRate: 115200,
      rtscts: false,
      numberForm: 'international',
      commandTimeoutMs: 5000,
      promptTimeoutMs: 5000,
      sendTimeoutMs: 60_000,
      bootTimeoutMs: 20_000,
      statusReports: true,
      reconnectFirstMs: 1000,
      reconnectMaxMs: 60_000,
      ...opts,
    };
    this.backoff = new JitterBackoff(this.o.reconnectFirstMs, this.o.reconnectMaxMs);
  }

  get state(): SmsTransportState {
    return this.current;
  }
  onReceipt(cb: (r: SmsReceipt) => void) {
    return this.receipts.add(cb);
  }
  onInbound(cb: (m: SmsInbound) => void) {
    return this.inbound.add(cb);
  }
  onState(cb: (s: SmsTransportState, reason?: string) => void) {
    return this.states.add(cb);
  }

  /** Opens the port and initialises in the background; use whenUp() to wait. */
  async start(): Promise<void> {
    if (!this.stopping) return;
    this.stopping = false;
    void this.connect();
  }

  whenUp(ms = 30_000): Promise<void> {
    if (this.current === 'up') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        off();
        reject(new Error('modem: not ready in time'));
      }, ms);
      const off = this.states.add((s) => {
        if (s !== 'up') return;
        clearTimeout(t);
        off();
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    this.at?.reset();
    const p = this.port;
    this.port = undefined;
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
    this.setState('down', 'stopped');
  }

  async send(req: SmsSendRequest): Promise<SmsSendResult> {
    let digits: string;
    try {
      digits = toE164Digits(req.to);
    } catch {
      throw new SmsSendError('invalid-number', true);
    }
    const at = this.at;
    if (this.current !== 'up' || !at) throw new SmsSendError('modem-down', false);
    const national = this.o.numberForm === 'national' && /^861\d{10}$/.test(digits);
    const to = national ? digits.slice(2) : `+${digits}`;
    this.udhRef = (this.udhRef + 1) & 0xff;
    const parts = encodeUcs2Parts(req.text, this.udhRef);
    const sent: Sent = { ref: req.ref, parts: parts.length, states: parts.map(() => undefined), ids: [] };
    for (const p of parts) {
      const enc = encodeSubmit({ to, ...(national ? { toa: 0x81 } : {}), ...(p.udh ? { udh: p.udh } : {}), body: p.body, statusReport: this.o.statusReports });
      let lines: string[];
      try {
        // B4: n = TPDU octets without the SMSC field; nothing else is sent while CMGS runs (the queue sees to it)
        lines = await at.command(`AT+CMGS=${enc.length}`, { pdu: enc.hex, timeoutMs: this.o.sendTimeoutMs, promptTimeoutMs: this.o.promptTimeoutMs });
      } catch (e) {
        throw this.sendError(e);
      }
      const mr = Number(/\+CMGS:\s*(\d+)/.exec(lines.join('\n'))?.[1] ?? -1);
      const id = `${++this.seq}.${mr}`;
      sent.ids.push(id);
      if (mr >= 0) this.byMr.set(`${mr}|${digits.slice(-11)}`, { sent, part: p.seq, id, at: Date.now() });
    }
    this.pruneMr();
    return { parts: parts.length, messageIds: sent.ids };
  }

  private sendError(e: unknown): SmsSendError {
    if (!(e instanceof AtError)) return new SmsSendError('modem-error', false);
    this.o.log?.('modem send failed', { kind: e.kind, detail: e.detail.slice(0, 40) });
    if (e.kind === 'timeout') {
      void this.probe();
      return new SmsSendError('timeout', false);
    }
    if (e.kind === 'closed') return new SmsSendError('modem-down', false);
    if (e.kind === 'CMS') return new SmsSendError(`cms-${e.detail}`, FINAL_CMS.has(e.detail));
    return new SmsSendError(e.kind === 'ERROR' ? 'error' : `${e.kind.toLowerCase()}-${e.detail}`, false);
  }

  /** After a timeout (B2): ESC went out already; `AT` must answer, else re-init from scratch. */
  private async probe(): Promise<void> {
    try {
      await this.at?.command('AT', { timeoutMs: 2000 });
    } catch {
      this.o.log?.('modem not answering after a timeout; re-initialising');
      this.restart('no-answer');
    }
  }

  /** why the transport last went (or stayed) down: a code, never personal data */
  lastReason: string | undefined;

  private setState(s: SmsTransportState, reason?: string): void {
    // a repeated failure with a new reason (e.g. the SIM, then the network) is reported too
    if (s === this.current && (s === 'up' || reason === this.lastReason)) return;
    this.current = s;
    this.lastReason = reason;
    this.o.log?.(`modem ${s}`, reason ? { reason } : undefined);
    this.states.emit(s, reason);
  }

  private restart(reason: string): void {
    this.setState('down', reason);
    this.at?.reset();
    const p = this.port;
    this.port = undefined;
    this.at = undefined;
    if (p?.isOpen) p.close(() => undefined);
    if (this.stopping) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), this.backoff.next());
  }

  private async connect(): Promise<void> {
    const port = new SerialPort({ path: this.o.path, baudRate: this.o.baudRate, rtscts: this.o.rtscts, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (e) {
      this.o.log?.('modem open failed', { error: (e as Error).message.slice(0, 80) });
      return this.restart('open-failed');
    }
    if (this.stopping) return void port.close(() => undefined);
    this.port = port;
    const at = new AtChannel((d) => port.write(d), (u) => this.onUrc(u));
    this.at = at;
    port.on('data', (d: Buffer) => at.feed(d));
    port.on('error', () => undefined);
    port.on('close', () => {
      if (this.port === port) this.restart('port-closed'); // USB loss: EOF/EIO (B11)
    });
    try {
      await this.init(at);
      this.backoff.reset();
      this.setState('up');
      await this.sweep(at);
    } catch (e) {
      const reason = e instanceof AtError ? `init-${e.kind}${e.detail ? `-${e.detail}` : ''}` : `init-${(e as Error).message}`;
      if (this.port === port) this.restart(reason.slice(0, 60));
    }
  }

  /** B3, in order; a refusal that matters throws. */
  private async init(at: AtChannel): Promise<void> {
    const t = this.o.commandTimeoutMs;
    const end = Date.now() + this.o.bootTimeoutMs;
    for (;;) {
      try {
        await at.command('AT', { timeoutMs: 1000 });
        break;
      } catch (e) {
        if (Date.now() > end) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await at.command('ATE0', { timeoutMs: t });
    await at.command('AT+CMEE=1', { timeoutMs: t }).catch(() => undefined);
    for (;;) {
      try {
        const cpin = (await at.command('AT+CPIN?', { timeoutMs: t })).join(' ');
        if (!/READY/.test(cpin)) throw new Error(`sim-${/SIM PUK/.test(cpin) ? 'puk' : /SIM PIN/.test(cpin) ? 'pin' : 'not-ready'}`);
        break;
      } catch (e) {
        // CME 14: SIM busy while booting, retry (B3.4)
        if (e instanceof AtError && e.kind === 'CME' && /^14$|busy/i.test(e.detail) && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        throw e;
      }
    }
    const creg = (await at.command('AT+CREG?', { timeoutMs: t }).catch(() => [])).join(' ');
    if (!/\+CREG:\s*\d,\s*[15]\b/.test(creg)) this.o.log?.('modem not registered yet', { creg: creg.replace(/[^\d,:+A-Z ]/g, '').slice(0, 20) });
    await at.command('AT+CMGF=0', { timeoutMs: t });
    const csca = (await at.command('AT+CSCA?', { timeoutMs: t }).catch(() => [])).join(' ');
    if (/\+CSCA:\s*""/.test(csca) || !/\+CSCA:/.test(csca)) this.o.log?.('modem has no SMSC address (sends will fail with CMS 330)');
    await at.command('AT+CPMS="SM","SM","SM"', { timeoutMs: t }).catch(() => undefined);
    // B3.10: stored SMS announced with +CMTI; reports pushed as +CDS (else stored and announced as +CDSI)
    await at.command('AT+CNMI=2,1,0,1,0', { timeoutMs: t }).catch(() => at.command('AT+CNMI=2,1,0,2,0', { timeoutMs: t }));
    const csms = (await at.command('AT+CSMS?', { timeoutMs: t }).catch(() => [])).join(' ');
    this.cnmaNeeded = /\+CSMS:\s*1/.test(csms); // B3.11: service 1 → every +CMT/+CDS needs AT+CNMA
  }

  /** B3.13: read whatever is stored (messages that came while we were away), then delete it. */
  private async sweep(at: AtChannel): Promise<void> {
    const lines = await at.command('AT+CMGL=4', { timeoutMs: 20_000 }).catch(() => [] as string[]);
    for (let i = 0; i < lines.length; i++) {
      const m = /^\+CMGL:\s*(\d+)\s*,\s*(\d+)/.exec(lines[i]!);
      if (!m) continue;
      const pdu = lines[i + 1];
      // stat 2/3 are our own unsent/sent copies: leave them
      if (pdu && (m[2] === '0' || m[2] === '1')) this.handlePdu(pdu);
      if (m[2] !== '2' && m[2] !== '3') await at.command(`AT+CMGD=${m[1]}`, { timeoutMs: this.o.commandTimeoutMs }).catch(() => undefined);
    }
  }

  private onUrc(u: Urc): void {
    const cmti = /^\+(CMTI|CDSI):\s*"?(\w*)"?\s*,\s*(\d+)/.exec(u.line);
    if (cmti) return void this.readStored(Number(cmti[3]));
    if (u.pdu && /^\+(CDS|CMT):/.test(u.line)) {
      this.handlePdu(u.pdu);
      if (this.cnmaNeeded) void this.at?.command('AT+CNMA', { timeoutMs: this.o.commandTimeoutMs }).catch(() => undefined);
      return;
    }
    if (/^(RDY|\+CFUN: 1|\+CPIN: NOT READY)/.test(u.line) && this.current === 'up') {
      // B11: a reset mid-session puts CMGF/CNMI back to defaults: init again
      this.restart('modem-reset');
    }
  }

  private readStored(index: number): void {
    const at = this.at;
    if (!at) return;
    this.reading = this.reading.then(async () => {
      try {
        const lines = await at.command(`AT+CMGR=${index}`, { timeoutMs: this.o.commandTimeoutMs });
        const pdu = lines.find((l) => /^[0-9A-F]+$/i.test(l) && l.length >= 16);
        // stat 0 = unread; already read means the init sweep (AT+CMGL) took it while this +CMTI waited
        const unread = /^\+CMGR:\s*0\b/.test(lines[0] ?? '');
        if (pdu && unread) this.handlePdu(pdu);
      } catch (e) {
        this.o.log?.('modem read failed', { kind: e instanceof AtError ? e.kind : 'other' });
      }
      // delete after reading (persisted by our listeners synchronously); an empty index may answer an error
      await at.command(`AT+CMGD=${index}`, { timeoutMs: this.o.commandTimeoutMs }).catch(() => undefined);
    });
  }

  private handlePdu(hex: string): void {
    let d: DecodedPdu;
    try {
      d = decodePdu(hex);
    } catch {
      this.o.log?.('modem PDU not decodable', { octets: hex.length / 2 });
      return;
    }
    if (d.type === 'deliver') {
      const concat = d.udh ? parseConcat(d.udh) : undefined;
      const text = concat ? this.reassembler.add({ from: d.from, ...concat, text: d.text }) : d.text;
      if (text !== undefined) this.inbound.emit({ from: d.from.startsWith('+') ? d.from : /^1\d{10}$/.test(d.from) ? `+86${d.from}` : d.from, text, at: d.at });
      return;
    }
    const key = `${d.mr}|${d.recipient.replace(/^\+/, '').slice(-11)}`;
    const hit = this.byMr.get(key);
    if (!hit) return this.o.log?.('modem status report for an unknown message', { mr: d.mr });
    const state = tpStatusState(d.status);
    hit.sent.states[hit.part - 1] = state;
    const ms = messageState(hit.sent.states);
    this.receipts.emit({
      ref: hit.sent.ref,
      messageId: hit.id,
      part: hit.part,
      parts: hit.sent.parts,
      state,
      messageState: ms,
      final: isFinal(state),
      error: `st-0x${d.status.toString(16).padStart(2, '0')}`,
      at: d.discharge,
    });
    if (isFinal(state)) this.byMr.delete(key);
  }

  /** MR wraps at 256 (B8): keep matches for 3 days at most. */
  private pruneMr(): void {
    const old = Date.now() - 3 * 86_400_000;
    for (const [k, v] of this.byMr) if (v.at < old) this.byMr.delete(k);
  }
}
