/**
 * The AT command channel (sms.md B2, B4; 3GPP TS 27.005/27.007): one command at a time, each with a timeout;
 * lines split on CR/LF; echo dropped; final codes OK / ERROR / +CMS ERROR / +CME ERROR (numbers or text);
 * the `> ` SMS prompt matched in the raw buffer (it has no line end); unsolicited result codes routed by prefix
 * wherever they come, including between `AT+CMGS=n` and `> ` and between `> ` and `+CMGS:`. No I/O: the caller
 * feeds the bytes read and passes a write function.
 */

export class AtError extends Error {
  /** `ERROR`, `CMS`, `CME` or `timeout` */
  constructor(
    readonly kind: 'ERROR' | 'CMS' | 'CME' | 'timeout' | 'closed',
    /** the error number or text after `+CMS ERROR:` / `+CME ERROR:` */
    readonly detail = '',
  ) {
    super(`AT ${kind}${detail ? ` ${detail}` : ''}`);
    this.name = 'AtError';
  }
}

export interface Urc {
  line: string;
  /** the hex PDU line that follows `+CMT:` and `+CDS:` */
  pdu?: string;
}

interface Cmd {
  cmd: string;
  /** for AT+CMGS: the hex PDU to send at the prompt, followed by Ctrl-Z */
  pdu?: string;
  prompted: boolean;
  prefix: string;
  lines: string[];
  timeoutMs: number;
  promptTimeoutMs: number;
  timer?: NodeJS.Timeout;
  resolve: (lines: string[]) => void;
  reject: (e: AtError) => void;
}

/** Prefixes that are always unsolicited (B2); `+CPIN:`/`+CREG:` are replies only while their query runs. */
const URC = /^(RING|\+CRING|\+CLIP|NO CARRIER|\+CREG:|\+CGREG:|\+CEREG:|\+CMTI:|\+CMT:|\+CDS:|\+CDSI:|\+CUSD:|RDY|\+CPIN:|\+CFUN:|SMS Ready|Call Ready|\+QIND:|\^)/;
const TWO_LINE_URC = /^\+(CMT|CDS):/;
const CTRL_Z = '\x1a';
const ESC = '\x1b';

export class AtChannel {
  private buf = '';
  private readonly queue: Cmd[] = [];
  private current: Cmd | undefined;
  /** the header of a +CMT / +CDS whose PDU line is next */
  private urcHead: string | undefined;

  constructor(
    private readonly write: (data: string) => void,
    private readonly onUrc: (u: Urc) => void,
  ) {}

  /** Runs one command; resolves with its information lines on OK, rejects with an AtError otherwise. */
  command(cmd: string, opts: { timeoutMs?: number; pdu?: string; promptTimeoutMs?: number } = {}): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const m = /^AT([+^&]?[A-Z]+)/i.exec(cmd);
      this.queue.push({
        cmd,
        ...(opts.pdu ? { pdu: opts.pdu } : {}),
        prompted: false,
        prefix: m ? `${m[1]!.toUpperCase()}:` : '\u0000',
        lines: [],
        timeoutMs: opts.timeoutMs ?? 5000,
        promptTimeoutMs: opts.promptTimeoutMs ?? 5000,
        resolve,
        reject,
      });
      this.next();
    });
  }

  /** Fails every queued command (the port closed) and forgets any partial input. */
  reset(kind: 'closed' | 'timeout' = 'closed'): void {
    const all = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = undefined;
    this.buf = '';
    this.urcHead = undefined;
    for (const c of all) {
      clearTimeout(c.timer);
      c.reject(new AtError(kind));
    }
  }

  get busy(): boolean {
    return this.current !== undefined || this.queue.length > 0;
  }

  feed(chunk: Buffer | string): void {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    for (;;) {
      const c = this.current;
      // the prompt `\r\n> ` has no line end (B2): look for it at the start of a line in the raw buffer
      if (c?.pdu && !c.prompted) {
        const lead = /^[\r\n]*> ?/.exec(this.buf);
        if (lead) {
          this.buf = this.buf.slice(lead[0].length);
          this.prompt(c);
          continue;
        }
      }
      const i = this.buf.search(/[\r\n]/);
      if (i === -1) return;
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (line) this.line(line);
    }
  }

  private prompt(c: Cmd): void {
    c.prompted = true;
    this.write(`${c.pdu}${CTRL_Z}`);
    this.arm(c, c.timeoutMs);
  }

  private line(line: string): void {
    const c = this.current;
    if (this.urcHead !== undefined) {
      const head = this.urcHead;
      this.urcHead = undefined;
      return this.onUrc({ line: head, pdu: line });
    }
    // echo (on after boot, B2): the command, or the PDU we typed at the prompt
    if (c && (line === c.cmd || (c.pdu && line.replace(/[\x1a\x1b]/g, '') === c.pdu))) return;
    // `+CREG: 1` (URC) vs `+CREG: 0,1` (reply): solicited only while the query runs and with ≥ 2 fields (B2)
    const regUrc = /^\+C(E|G)?REG:/.test(line) && !line.includes(',');
    if (c && !regUrc && line.toUpperCase().startsWith(c.prefix)) return void c.lines.push(line);
    if (TWO_LINE_URC.test(line)) {
      this.urcHead = line;
      return;
    }
    if (URC.test(line)) return this.onUrc({ line });
    if (!c) return this.onUrc({ line });
    if (line === 'OK') return this.finish(c);
    if (line === 'ERROR') return this.finish(c, new AtError('ERROR'));
    const e = /^\+(CMS|CME) ERROR:\s*(.*)$/i.exec(line);
    if (e) return this.finish(c, new AtError(e[1]!.toUpperCase() as 'CMS' | 'CME', e[2]!.trim()));
    c.lines.push(line); // e.g. the PDU after +CMGR:, or a bare reply such as an IMEI
  }

  private finish(c: Cmd, err?: AtError): void {
    clearTimeout(c.timer);
    this.current = undefined;
    if (err) c.reject(err);
    else c.resolve(c.lines);
    this.next();
  }

  private arm(c: Cmd, ms: number): void {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      if (this.current !== c) return;
      // B2: on timeout send ESC (closes an open prompt); the caller probes with AT and re-inits if needed
      if (c.pdu) this.write(ESC);
      this.finish(c, new AtError('timeout'));
    }, ms);
  }

  private next(): void {
    if (this.current) return;
    const c = this.queue.shift();
    if (!c) return;
    this.current = c;
    this.write(`${c.cmd}\r`);
    this.arm(c, c.pdu ? c.promptTimeoutMs : c.timeoutMs);
  }
}
