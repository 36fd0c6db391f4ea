/**
 * A simulated SMSC on the `smpp` package's server side (sms.md A9). The package answers nothing by itself, so
 * this file supplies, from the SMPP 3.4 facts (not from sms/): the bind check (RINVPASWD / RINVSYSID), bind states
 * (RALYBND on a second bind, RINVBNDSTS for a submit before the bind), message ids in submit_sm_resp, delivery
 * receipts as deliver_sm (esm_class 0x04, the spec's receipt text plus the receipted_message_id and message_state
 * TLVs), reassembly of UDH-concatenated submits, MO injection (optionally concatenated), enquire_link_resp,
 * unbind_resp and generic_nack.
 *
 * Faults, set through the control methods: a slow SMSC (submit_sm_resp delayed), ESME_RTHROTTLED (0x58) for the
 * next N submits, dropped binds (sockets destroyed), ignored enquire_link, and receipts of any stat.
 */
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type Session } from 'smpp';

const ESME_RINVMSGLEN = 0x01;
const ESME_RINVBNDSTS = 0x04;
const ESME_RALYBND = 0x05;
const ESME_RINVPASWD = 0x0e;
const ESME_RINVSYSID = 0x0f;
const ESME_RTHROTTLED = 0x58;

export type ReceiptStat = 'DELIVRD' | 'EXPIRED' | 'DELETED' | 'UNDELIV' | 'ACCEPTD' | 'UNKNOWN' | 'REJECTD' | 'ENROUTE';
const STATE_NUMBER: Record<ReceiptStat, number> = { ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };

export interface SmscOptions {
  systemId?: string;
  password?: string;
  /** receipt after this many ms; default 50; null = no receipts */
  receiptDelayMs?: number | null;
  /** the stat word of the receipts; default DELIVRD */
  receiptStat?: ReceiptStat;
  /** 'tlv' adds receipted_message_id and message_state to the text (default); 'text' sends the text only */
  receiptStyle?: 'tlv' | 'text';
  /** quote ids in receipts as decimal while the resp gave hex (sms.md A6 field reports) */
  receiptIdDecimal?: boolean;
  /** send the receipt at once, before a (slow) submit_sm_resp (sms.md A5, A9) */
  receiptBeforeResp?: boolean;
}

/** One submit_sm as the SMSC saw it. */
export interface SubmitSeen {
  messageId: string;
  source: string;
  destination: string;
  destTon: number;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  /** the concatenation IE, if any */
  concat?: { ref: number; total: number; seq: number };
  text: string;
}

/** A whole message, reassembled from its parts. */
export interface MessageSeen {
  source: string;
  destination: string;
  text: string;
  parts: number;
  messageIds: string[];
}

interface SessionState {
  bound: false | 'transceiver' | 'transmitter' | 'receiver';
}

export class SimulatedSmsc extends EventEmitter {
  readonly submits: SubmitSeen[] = [];
  readonly messages: MessageSeen[] = [];
  /** bind attempts (accepted or not) */
  binds = 0;
  private nextId = 0x1a2b3c;
  private throttle = 0;
  private respDelayMs = 0;
  private ignoreEnquire = false;
  private readonly state = new Map<Session, SessionState>();
  private readonly partial = new Map<string, SubmitSeen[]>();
  private readonly server: ReturnType<typeof smpp.createServer>;
  readonly options: Required<SmscOptions>;

  constructor(opts: SmscOptions = {}) {
    super();
    this.options = { systemId: 'anxin', password: 'secret', receiptDelayMs: 50, receiptStat: 'DELIVRD', receiptStyle: 'tlv', receiptIdDecimal: false, receiptBeforeResp: false, ...opts };
    this.server = smpp.createServer((s: Session) => this.onSession(s));
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.dropBinds();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ——— control ———

  /** Answer the next n submit_sm with ESME_RTHROTTLED (0x58). */
  throttleNext(n: number): void {
    this.throttle = n;
  }

  /** Delay every submit_sm_resp by ms (0 = answer at once). */
  slow(ms: number): void {
    this.respDelayMs = ms;
  }

  ignoreEnquireLink(on = true): void {
    this.ignoreEnquire = on;
  }

  /** Close every client's socket at once, without an unbind (a dropped bind). */
  dropBinds(): void {
    for (const s of this.server.sessions.slice()) s.destroy();
  }

  get boundSessions(): number {
    return [...this.state.values()].filter((s) => s.bound).length;
  }

  /** Sends a mobile-originated message to every receiver / transceiver bind; `concat` splits it into UDH parts. */
  injectMo(from: string, text: string, opts: { to?: string; concat?: boolean; reverse?: boolean } = {}): number {
    const chunks: string[] = [];
    if (opts.concat || text.length > 70) {
      for (let i = 0; i < text.length; ) {
        let end = Math.min(i + 67, text.length);
        const c = text.charCodeAt(end - 1);
        if (end < text.length && c >= 0xd800 && c <= 0xdbff) end--;
        chunks.push(text.slice(i, end));
        i = end;
      }
    } else chunks.push(text);
    const ref = Math.floor(Math.random() * 256);
    const order = chunks.map((_, i) => i);
    if (opts.reverse) order.reverse();
    let sent = 0;
    for (const [s, st] of this.state) {
      if (st.bound !== 'transceiver' && st.bound !== 'receiver') continue;
      for (const i of order) {
        const body = Buffer.from(chunks[i]!, 'utf16le').swap16(); // UCS2 = UTF-16BE (data_coding 8)
        // IEI 00, length 3: ref, total, sequence (TS 23.040 §9.2.3.24.1)
        const udh = chunks.length > 1 ? Buffer.from([0x05, 0x00, 0x03, ref, chunks.length, i + 1]) : Buffer.alloc(0);
        s.send(
          new smpp.PDU('deliver_sm', {
            source_addr_ton: from.startsWith('86') ? 1 : 0,
            source_addr_npi: 1,
            source_addr: from,
            destination_addr: opts.to ?? '10690000',
            esm_class: chunks.length > 1 ? 0x40 : 0x00,
            data_coding: 0x08,
            short_message: Buffer.concat([udh, body]),
          }),
        );
        sent++;
      }
    }
    return sent;
  }

  // ——— protocol ———

  private onSession(s: Session): void {
    const st: SessionState = { bound: false };
    this.state.set(s, st);
    s.on('error', () => s.destroy());
    s.on('close', () => this.state.delete(s));
    for (const [cmd, mode] of [['bind_transceiver', 'transceiver'], ['bind_transmitter', 'transmitter'], ['bind_receiver', 'receiver']] as const) {
      s.on(cmd, (p: PDU) => {
        this.binds++;
        this.emit('bind', { systemId: p.system_id, interfaceVersion: p.interface_version });
        if (st.bound) return s.send(p.response({ command_status: ESME_RALYBND }));
        if (p.system_id !== this.options.systemId) return s.send(p.response({ command_status: ESME_RINVSYSID }));
        if (p.password !== this.options.password) return s.send(p.response({ command_status: ESME_RINVPASWD }));
        st.bound = mode;
        s.send(p.response({ system_id: 'SIMSMSC' }));
      });
    }
    s.on('enquire_link', (p: PDU) => {
      if (!this.ignoreEnquire) s.send(p.response());
    });
    s.on('unbind', (p: PDU) => {
      st.bound = false;
      s.send(p.response(), () => s.close());
    });
    s.on('unknown', (p: PDU) => s.send(p.response()));
    s.on('submit_sm', (p: PDU) => this.onSubmit(s, st, p));
    s.on('deliver_sm_resp', () => undefined);
  }

  private onSubmit(s: Session, st: SessionState, p: PDU): void {
    const answer = (params: Record<string, unknown>) => {
      const send = () => s.send(p.response(params));
      if (this.respDelayMs > 0) setTimeout(send, this.respDelayMs);
      else send();
    };
    if (st.bound !== 'transceiver' && st.bound !== 'transmitter') return answer({ command_status: ESME_RINVBNDSTS });
    if (this.throttle > 0) {
      this.throttle--;
      this.emit('throttled');
      return answer({ command_status: ESME_RTHROTTLED });
    }
    const sm = p.short_message as { udh?: Buffer[]; message?: string | Buffer } | undefined;
    const udh = sm?.udh ?? [];
    const msg = sm?.message ?? '';
    const octets = udh.reduce((n, u) => n + u.length, udh.length ? 1 : 0) + (typeof msg === 'string' ? (Number(p.data_coding) === 8 ? msg.length * 2 : msg.length) : msg.length);
    if (octets > 140) return answer({ command_status: ESME_RINVMSGLEN });
    let concat: SubmitSeen['concat'];
    for (const ie of udh) {
      if (ie[0] === 0x00 && ie[1] === 3) concat = { ref: ie[2]!, total: ie[3]!, seq: ie[4]! };
      if (ie[0] === 0x08 && ie[1] === 4) concat = { ref: (ie[2]! << 8) | ie[3]!, total: ie[4]!, seq: ie[5]! };
    }
    const messageId = (this.nextId++).toString(16).toUpperCase();
    const seen: SubmitSeen = {
      messageId,
      source: String(p.source_addr),
      destination: String(p.destination_addr),
      destTon: Number(p.dest_addr_ton),
      dataCoding: Number(p.data_coding),
      esmClass: Number(p.esm_class),
      registeredDelivery: Number(p.registered_delivery),
      ...(concat ? { concat } : {}),
      text: typeof msg === 'string' ? msg : msg.toString('hex'),
    };
    this.submits.push(seen);
    this.emit('submit', seen);
    const receiptDelayMs = this.options.receiptDelayMs;
    const wantsReceipt = receiptDelayMs !== null && (seen.registeredDelivery & 0x03) !== 0;
    if (wantsReceipt && this.options.receiptBeforeResp) this.sendReceipt(seen);
    answer({ message_id: messageId });
    this.collect(seen);
    if (wantsReceipt && !this.options.receiptBeforeResp) {
      setTimeout(() => this.sendReceipt(seen), this.respDelayMs + (receiptDelayMs ?? 0));
    }
  }

  private collect(p: SubmitSeen): void {
    if (!p.concat || p.concat.total <= 1) return this.done([p]);
    const key = `${p.source}|${p.destination}|${p.concat.ref}|${p.concat.total}`;
    const list = (this.partial.get(key) ?? []).filter((x) => x.concat!.seq !== p.concat!.seq);
    list.push(p);
    if (list.length < p.concat.total) return void this.partial.set(key, list);
    this.partial.delete(key);
    this.done(list.sort((a, b) => a.concat!.seq - b.concat!.seq));
  }

  private done(parts: SubmitSeen[]): void {
    const m: MessageSeen = { source: parts[0]!.source, destination: parts[0]!.destination, text: parts.map((x) => x.text).join(''), parts: parts.length, messageIds: parts.map((x) => x.messageId) };
    this.messages.push(m);
    this.emit('message', m);
  }

  /** Sends a receipt for a submit to every bind that may receive it (receiver / transceiver). */
  sendReceipt(seen: SubmitSeen, stat: ReceiptStat = this.options.receiptStat): void {
    const yymmddhhmm = new Date().toISOString().replace(/\D/g, '').slice(2, 12);
    const id = this.options.receiptIdDecimal ? String(parseInt(seen.messageId, 16)) : seen.messageId;
    const err = stat === 'DELIVRD' ? '000' : '001';
    // SMPP 3.4 Appendix B example layout
    const text = `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:${yymmddhhmm} done date:${yymmddhhmm} stat:${stat} err:${err} text:`;
    for (const [s, st] of this.state) {
      if (st.bound !== 'transceiver' && st.bound !== 'receiver') continue;
      s.send(
        new smpp.PDU('deliver_sm', {
          source_addr_ton: seen.destTon,
          source_addr_npi: 1,
          source_addr: seen.destination,
          destination_addr: seen.source,
          esm_class: 0x04,
          data_coding: 0x00,
          short_message: Buffer.from(text, 'latin1'),
          ...(this.options.receiptStyle === 'tlv' ? { receipted_message_id: seen.messageId, message_state: STATE_NUMBER[stat] } : {}),
        }),
      );
      return; // one bind gets it, like a real SMSC
    }
  }
}
