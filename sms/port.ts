/**
 * The `SmsSender` port (issue 21): one shape for every SMS transport (SMPP 3.4, GSM modem). The gateway talks to
 * this interface only; the transports live beside it in sms/smpp/ and sms/modem/. Types only.
 *
 * Privacy: phone numbers and texts are personal data. Transports never log them; callers must not either.
 */

/** Delivery state of one sent part, or of a whole message (`ref`). Only `submitted` and `enroute` are not final. */
export type SmsDeliveryState =
  | 'submitted' // accepted by the SMSC / modem, no report yet
  | 'enroute' // SMPP ENROUTE, or a temporary TP-ST (0x20–0x3F): still trying
  | 'delivered' // DELIVRD / TP-ST 0x00–0x02
  | 'expired' // EXPIRED / TP-ST 0x46
  | 'deleted' // DELETED / TP-ST 0x47, 0x48
  | 'undeliverable' // UNDELIV / other permanent TP-ST
  | 'accepted' // ACCEPTD (read by an operator on the SMSC's side): final in SMPP 3.4
  | 'rejected' // REJECTD
  | 'unknown' // UNKNOWN, or a stat we cannot read
  | 'failed'; // the submission itself failed (error or timeout)

export interface SmsSendRequest {
  /** destination: `+8613800138000`, `8613800138000` or `13800138000` */
  to: string;
  text: string;
  /** the caller's id for this message (e.g. the stored row's id); receipts quote it */
  ref: string;
}

export interface SmsSendResult {
  /** number of parts sent (1 for a short text) */
  parts: number;
  /** the transport's id of each part, in order (SMPP message_id; for the modem an id made from TP-MR) */
  messageIds: string[];
}

/** A delivery receipt (SMPP deliver_sm receipt, or a modem SMS-STATUS-REPORT) matched to our ref. */
export interface SmsReceipt {
  ref: string;
  messageId: string;
  /** 1-based part this receipt is for, and the number of parts */
  part: number;
  parts: number;
  /** state of this part */
  state: SmsDeliveryState;
  /** state of the whole message: delivered once every part is; the first failed part's state otherwise */
  messageState: SmsDeliveryState;
  final: boolean;
  /** transport error detail (SMPP `err:`, TP-ST in hex), never personal */
  error?: string;
  at: Date;
}

/** A message received from a handset (reassembled when it came in parts). */
export interface SmsInbound {
  /** the sender, normalised to `+86…` when it is a Chinese mobile number */
  from: string;
  /** the number it was sent to (our number plus extension digits), when known */
  to?: string;
  text: string;
  at: Date;
}

export type SmsTransportState = 'up' | 'down';

/** Why a send failed. `final: false` means trying again later may work (throttling, no network, a drop). */
export interface SmsSendFailure {
  code: string;
  final: boolean;
}

export type Unsubscribe = () => void;

export interface SmsSender {
  /** `smpp` or `modem` */
  readonly transport: string;
  readonly state: SmsTransportState;
  /** connect (and keep reconnecting) until stop() */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** resolves once every part was accepted; rejects with an `SmsSendError` otherwise */
  send(req: SmsSendRequest): Promise<SmsSendResult>;
  onReceipt(cb: (r: SmsReceipt) => void): Unsubscribe;
  onInbound(cb: (m: SmsInbound) => void): Unsubscribe;
  onState(cb: (s: SmsTransportState, reason?: string) => void): Unsubscribe;
}
