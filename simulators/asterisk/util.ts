/** Small helpers: Asterisk timestamps, Q.850 cause texts, hangup reasons, caller ID parsing, ids. */

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `2024-05-01T10:15:30.123+0200`: local time, milliseconds, offset without a colon (ari.md §0.8). */
export function astTimestamp(d: Date = new Date()): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

/**
 * `ast_cause2str` descriptions (ari.md §2.1). A second copy beside telephony/ari-events.ts's CAUSE_TEXT, on
 * purpose: simulators never import server code (architecture.md), so one bug cannot hide in both the hub and
 * the Asterisk it is tested against.
 */
const CAUSE_TEXT: Record<number, string> = {
  0: 'Unknown',
  1: 'Unallocated (unassigned) number',
  3: 'No route to destination',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  20: 'Subscriber absent',
  21: 'Call Rejected',
  26: 'Answered elsewhere',
  27: 'Destination out of order',
  28: 'Invalid number format',
  31: 'Normal, unspecified',
  34: 'Circuit/channel congestion',
  38: 'Network out of order',
  41: 'Temporary failure',
  42: 'Switching equipment congestion',
  44: 'Requested channel not available',
  58: 'Bearer capability not available',
  127: 'Interworking, unspecified',
};

export function causeText(cause: number): string {
  return CAUSE_TEXT[cause] ?? 'Unknown';
}

/** `reason` → cause (ari.md §1.1, convert_reason_to_hangup_code). */
export const HANGUP_REASONS: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

/** Dial `dialstatus` for a far-end cause (ari.md §2.1, main/dial.c mapping). */
export function dialStatusForCause(cause: number): string {
  if (cause === 17) return 'BUSY';
  if (cause === 34) return 'CONGESTION';
  if (cause === 3 || cause === 20) return 'CHANUNAVAIL';
  return 'NOANSWER';
}

/** SIP final response a PJSIP far end sends for a refusal cause: ChannelHangupRequest/ChannelDestroyed
 *  `tech_cause` (Asterisk 20/22; a 486 gave cause 17 + tech_cause 486 on 22.10.1). */
const SIP_CODE: Record<number, number> = { 1: 404, 3: 404, 17: 486, 18: 408, 19: 480, 20: 480, 21: 603, 27: 502, 28: 484, 34: 503, 38: 500, 41: 503, 42: 503, 44: 503, 58: 488, 127: 500 };

export function sipCodeForCause(cause: number): number {
  return SIP_CODE[cause] ?? 0;
}

/** Parses `"Name" <number>`, `Name <number>`, or a bare number, like ast_callerid_parse (approximately). */
export function parseCallerId(input: string): { name: string; number: string } {
  const s = input.trim();
  const m = /^(.*)<([^>]*)>\s*$/.exec(s);
  if (m) {
    const name = (m[1] ?? '').trim().replace(/^"(.*)"$/, '$1');
    return { name, number: (m[2] ?? '').trim() };
  }
  if (/^[+0-9*#\-() ]+$/.test(s)) return { name: '', number: s.replace(/[\-() ]/g, '') };
  return { name: s.replace(/^"(.*)"$/, '$1'), number: '' };
}

let idSeq = 0;
/** Asterisk-style unique id: `<epoch seconds>.<sequence>`. */
export function makeUniqueId(): string {
  idSeq += 1;
  return `${Math.floor(Date.now() / 1000)}.${idSeq}`;
}

let nameSeq = 0;
/** Channel-name suffix: 8 hex digits, e.g. `00000012`. */
export function nextNameSuffix(): string {
  nameSeq += 1;
  return nameSeq.toString(16).padStart(8, '0');
}

export function randomHex(bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return s;
}

/** The public unique id limit (AST_MAX_PUBLIC_UNIQUEID). */
export const MAX_PUBLIC_UNIQUEID = 149;
