/**
 * A simulated GSM modem (短信猫) on a serial port (one end of a socat pty pair), answering AT commands from the
 * modem facts (sms.md B2–B11), not from sms/:
 * - echo on after boot (ATE0 turns it off), final codes OK / ERROR / +CMS ERROR / +CME ERROR;
 * - AT+CMGS=<n>: the `\r\n> ` prompt with no line end, the PDU up to Ctrl-Z (ESC aborts with OK), 304 when n does
 *   not match the PDU, `+CMGS: <mr>` with a counter that wraps at 256; a status report as `+CDS: <len>` + PDU
 *   when asked for (SRR) and AT+CNMI enabled it;
 * - inbound messages stored in "SM" and announced as `+CMTI: "SM",<i>` (after AT+CNMI only), read with AT+CMGR,
 *   listed with AT+CMGL, deleted with AT+CMGD;
 * - faults: CMS errors or silence for the next sends, a send delay, URCs between `AT+CMGS` and `> ` and between
 *   `> ` and `+CMGS:`, a reset (RDY, echo back on, CNMI off).
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { buildDeliver, buildStatusReport, readSubmit, type SubmitSeen } from './pdu.ts';

export interface SimModemOptions {
  path: string;
  baudRate?: number;
  /** TP-ST of status reports; default 0x00 (delivered) */
  reportStatus?: number;
  /** delay before a status report; default 50 ms */
  reportDelayMs?: number;
  /** delay before +CMGS: (network time, 3–20 s on real modules, B11); default 20 ms */
  sendDelayMs?: number;
  /** SM store size; default 30 */
  storeSize?: number;
  /** SIM state (B11): none → CME 10 / CMS 310; pin → `+CPIN: SIM PIN` / CMS 311; default ready */
  sim?: 'ready' | 'none' | 'pin';
  /**
   * B3.10/B11: a module that cannot push status reports: AT+CNMI with ds=1 is refused (CMS 303), ds=2 stores each
   * report and announces it as `+CDSI: "SM",<i>`, read with AT+CMGR like a message. Default false (pushed as +CDS).
   */
  storedReports?: boolean;
}

export interface MessageSeen {
  to: string;
  text: string;
  parts: number;
  mrs: number[];
}

interface Stored {
  hex: string;
  length: number;
  /** 0 unread, 1 read */
  stat: number;
}

export class SimulatedModem extends EventEmitter {
  readonly submits: SubmitSeen[] = [];
  readonly messages: MessageSeen[] = [];
  /** every command line received, for tests */
  readonly commands: string[] = [];
  echo = true;
  cnmiMt = 0;
  cnmiDs = 0;
  cmgf = 0;
  csca = '+8613800100500';
  private mr = 0;
  private port: SerialPort | undefined;
  private rx = '';
  /** set while collecting the PDU after `> ` */
  private prompt: { n: number; pdu: string } | undefined;
  private readonly store = new Map<number, Stored>();
  private readonly partial = new Map<string, SubmitSeen[]>();
  private readonly mrsByKey = new Map<string, number[]>();
  private failSends: { n: number; cms: number | 'ERROR' } = { n: 0, cms: 500 };
  private silentSends = 0;
  private urcsAroundPrompt = false;
  readonly options: Required<SimModemOptions>;

  constructor(opts: SimModemOptions) {
    super();
    this.options = { baudRate: 115200, reportStatus: 0x00, reportDelayMs: 50, sendDelayMs: 20, storeSize: 30, sim: 'ready', storedReports: false, ...opts };
  }

  async open(): Promise<void> {
    const p = new SerialPort({ path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => p.open((e) => (e ? reject(e) : resolve())));
    p.on('data', (d: Buffer) => this.onData(d.toString('latin1')));
    p.on('error', () => undefined);
    this.port = p;
  }

  async close(): Promise<void> {
    const p = this.port;
    this.port = undefined;
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
  }

  // ——— control ———

  /** The next n sends answer `+CMS ERROR: cms` (default 500, the catch-all), or a bare `ERROR`. */
  failNextSends(n: number, cms: number | 'ERROR' = 500): void {
    this.failSends = { n, cms };
  }

  /** The next n sends get no answer at all after the PDU. */
  silenceNextSends(n: number): void {
    this.silentSends = n;
  }

  /** Send `+CREG: 1` between `AT+CMGS` and `> `, and `+CSQ`-free `+CREG: 1` between `> ` and `+CMGS:` (B2). */
  interleaveUrcs(on = true): void {
    this.urcsAroundPrompt = on;
  }

  /** A module reset (B11): no final code for what was running, boot URCs, echo on, CNMI back to default. */
  reset(): void {
    this.prompt = undefined;
    this.echo = true;
    this.cnmiMt = 0;
    this.cnmiDs = 0;
    this.write('\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS Ready\r\n');
  }

  /** Stores an inbound UCS2 message (in UDH parts when `concat` or longer than 70) and announces each part. */
  injectInbound(from: string, text: string, opts: { concat?: boolean; reverse?: boolean; duplicate?: boolean } = {}): number[] {
    const chunks: string[] = [];
    if (opts.concat || text.length > 70) for (let i = 0; i < text.length; i += 67) chunks.push(text.slice(i, i + 67));
    else chunks.push(text);
    const ref = Math.floor(Math.random() * 256);
    const order = chunks.map((_, i) => i);
    if (opts.reverse) order.reverse();
    if (opts.duplicate) order.push(order[0]!);
    const indexes: number[] = [];
    for (const i of order) {
      const pdu = buildDeliver(from, chunks[i]!, new Date(), chunks.length > 1 ? { ref, total: chunks.length, seq: i + 1 } : undefined);
      const idx = this.freeIndex();
      if (idx === undefined) continue; // store full: no +CMTI (B11)
      this.store.set(idx, { ...pdu, stat: 0 });
      indexes.push(idx);
      if (this.cnmiMt === 1) this.write(`\r\n+CMTI: "SM",${idx}\r\n`);
    }
    return indexes;
  }

  get stored(): number {
    return this.store.size;
  }

  // ——— the wire ———

  private write(s: string): void {
    this.port?.write(s);
  }

  private ok(lines: string[] = []): void {
    this.write(lines.map((l) => `\r\n${l}\r\n`).join('') + '\r\nOK\r\n');
  }

  private freeIndex(): number | undefined {
    for (let i = 1; i <= this.options.storeSize; i++) if (!this.store.has(i)) return i;
    return undefined;
  }

  private onData(s: string): void {
    for (const ch of s) {
      if (this.prompt) {
        if (ch === '\x1a') {
          const p = this.prompt;
          this.prompt = undefined;
          if (this.echo) this.write(`${p.pdu}\x1a`);
          this.onPdu(p.n, p.pdu.trim());
        } else if (ch === '\x1b') {
          this.prompt = undefined; // ESC aborts: OK, nothing sent (B4)
          this.ok();
        } else this.prompt.pdu += ch;
        continue;
      }
      if (ch === '\r') {
        const line = this.rx.trim();
        this.rx = '';
        if (this.echo) this.write(`${line}\r`);
        if (line) this.onCommand(line);
      } else if (ch >= ' ') this.rx += ch; // LF, and an ESC sent after a lost prompt, are not part of a command
    }
  }

  private onCommand(line: string): void {
    this.commands.push(line);
    this.emit('command', line);
    const u = line.toUpperCase();
    let m: RegExpExecArray | null;
    if (u === 'AT') return this.ok();
    if ((m = /^ATE([01])$/.exec(u))) {
      this.echo = m[1] === '1';
      return this.ok();
    }
    if (/^AT\+CMEE=\d$/.test(u)) return this.ok();
    if (u === 'AT+CPIN?') {
      if (this.options.sim === 'none') return this.write('\r\n+CME ERROR: 10\r\n');
      return this.ok([this.options.sim === 'pin' ? '+CPIN: SIM PIN' : '+CPIN: READY']);
    }
    if (u === 'AT+CREG?') return this.ok(['+CREG: 0,1']);
    if (u === 'AT+CSQ') return this.ok(['+CSQ: 20,99']);
    if ((m = /^AT\+CMGF=([01])$/.exec(u))) {
      this.cmgf = Number(m[1]);
      return this.ok();
    }
    if (u === 'AT+CSCA?') return this.ok([this.csca ? `+CSCA: "${this.csca}",145` : '+CSCA: "",129']);
    if (u.startsWith('AT+CPMS=')) {
      const used = this.store.size;
      const t = this.options.storeSize;
      return this.ok([`+CPMS: ${used},${t},${used},${t},${used},${t}`]);
    }
    if ((m = /^AT\+CNMI=(\d),(\d),(\d),(\d),(\d)$/.exec(u))) {
      if (this.options.storedReports && m[4] === '1') return this.write('\r\n+CMS ERROR: 303\r\n'); // not supported
      this.cnmiMt = Number(m[2]);
      this.cnmiDs = Number(m[4]);
      return this.ok();
    }
    if (u === 'AT+CSMS?') return this.ok(['+CSMS: 0,1,1,1']);
    if (u === 'AT+CNMA') return this.write('\r\n+CMS ERROR: 340\r\n'); // CSMS 0: no acknowledgement expected
    if ((m = /^AT\+CMGL=(\d)$/.exec(u))) {
      const want = Number(m[1]);
      const lines: string[] = [];
      for (const [i, s] of [...this.store].sort((a, b) => a[0] - b[0])) {
        if (want !== 4 && want !== s.stat) continue;
        lines.push(`+CMGL: ${i},${s.stat},,${s.length}`, s.hex);
        s.stat = 1;
      }
      return this.ok(lines);
    }
    if ((m = /^AT\+CMGR=(\d+)$/.exec(u))) {
      const s = this.store.get(Number(m[1]));
      if (!s) return this.ok(); // empty index: OK (or CMS 321 on some modules, B7)
      const stat = s.stat;
      s.stat = 1;
      return this.ok([`+CMGR: ${stat},,${s.length}`, s.hex]);
    }
    if ((m = /^AT\+CMGD=(\d+)(?:,(\d))?$/.exec(u))) {
      if (m[2] === '4') this.store.clear();
      else this.store.delete(Number(m[1]));
      return this.ok();
    }
    if ((m = /^AT\+CMGS=(\d+)$/.exec(u))) {
      if (this.cmgf !== 0) return this.write('\r\n+CMS ERROR: 304\r\n');
      if (this.options.sim !== 'ready') return this.write(`\r\n+CMS ERROR: ${this.options.sim === 'none' ? 310 : 311}\r\n`);
      if (!this.csca) return this.write('\r\n+CMS ERROR: 330\r\n'); // no SMSC address (B10)
      if (this.urcsAroundPrompt) this.write('\r\n+CREG: 1\r\n');
      this.prompt = { n: Number(m[1]), pdu: '' };
      return this.write('\r\n> ');
    }
    this.write('\r\nERROR\r\n');
  }

  private onPdu(n: number, hex: string): void {
    let sub: SubmitSeen;
    try {
      sub = readSubmit(hex);
    } catch {
      return this.write('\r\n+CMS ERROR: 304\r\n');
    }
    if (sub.tpduOctets !== n) return this.write('\r\n+CMS ERROR: 304\r\n');
    if (this.urcsAroundPrompt) this.write('\r\n+CREG: 1\r\n');
    if (this.silentSends > 0) {
      this.silentSends--;
      return;
    }
    setTimeout(() => {
      if (this.failSends.n > 0) {
        this.failSends.n--;
        return this.write(this.failSends.cms === 'ERROR' ? '\r\nERROR\r\n' : `\r\n+CMS ERROR: ${this.failSends.cms}\r\n`);
      }
      this.mr = (this.mr + 1) & 0xff;
      const mr = this.mr;
      this.write(`\r\n+CMGS: ${mr}\r\n\r\nOK\r\n`);
      this.submits.push(sub);
      this.emit('submit', sub);
      this.collect(sub, mr);
      if (sub.statusReport && (this.cnmiDs === 1 || this.cnmiDs === 2)) {
        const submitted = new Date();
        setTimeout(() => {
          const r = buildStatusReport(mr, sub.to, this.options.reportStatus, submitted, new Date());
          if (this.cnmiDs === 1) return this.write(`\r\n+CDS: ${r.length}\r\n${r.hex}\r\n`);
          // ds=2: stored, announced by index (a full store loses it, as a real one does)
          const idx = this.freeIndex();
          if (idx === undefined) return;
          this.store.set(idx, { ...r, stat: 0 });
          this.write(`\r\n+CDSI: "SM",${idx}\r\n`);
        }, this.options.reportDelayMs);
      }
    }, this.options.sendDelayMs);
  }

  private collect(s: SubmitSeen, mr: number): void {
    if (!s.concat || s.concat.total <= 1) return this.done([s], [mr]);
    const key = `${s.to}|${s.concat.ref}|${s.concat.total}`;
    const list = (this.partial.get(key) ?? []).filter((x) => x.concat!.seq !== s.concat!.seq);
    list.push(s);
    const mrs = [...(this.mrsByKey.get(key) ?? []), mr];
    if (list.length < s.concat.total) {
      this.partial.set(key, list);
      this.mrsByKey.set(key, mrs);
      return;
    }
    this.partial.delete(key);
    this.mrsByKey.delete(key);
    this.done(list.sort((a, b) => a.concat!.seq - b.concat!.seq), mrs);
  }

  private done(parts: SubmitSeen[], mrs: number[]): void {
    const m: MessageSeen = { to: parts[0]!.to, text: parts.map((p) => p.text).join(''), parts: parts.length, mrs };
    this.messages.push(m);
    this.emit('message', m);
  }
}
