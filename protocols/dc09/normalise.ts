/**
 * An accepted DC-09 message in the gateway's terms: the `kind`, `alarms`, `restores`, `zone` and `event` fields a
 * DeviceMessage (protocols/message.ts) carries. The return type stays local until DC-09 joins PROTOCOLS.
 */
import type { AlarmKind, MessageKind } from '../message.js';
import type { Dc09Message } from './decoder.js';

export interface Dc09Normalised {
  /** `heartbeat` for NULL (supervision), `test` for a test report, `alarm`, or `status` (restores, other codes) */
  kind: MessageKind;
  alarms: AlarmKind[];
  restores: AlarmKind[];
  /** Contact ID zone/user or the SIA number after the code */
  zone?: string;
  /** a test report (RP/RX/RY, Contact ID 601/602/608…): refreshes supervision, raises nothing */
  test: boolean;
  /** as DeviceMessage.event: the code for the audit trail; `known: false` for a code no table lists */
  event?: { code: string; qualifier?: string; group?: string; label?: string; known: boolean };
}

/** What the message means for Anxin. Every valid message also refreshes the account's last-heard time (§6). */
export function normaliseDc09(m: Dc09Message): Dc09Normalised {
  const ev = m.event;
  if (!ev) return { kind: 'heartbeat', alarms: [], restores: [], test: false };
  if (ev.format === 'unparsed') {
    // never dropped (§4 step 9): raised as an unknown event with its text
    return { kind: 'status', alarms: [], restores: [], test: false, event: { code: '', label: `${m.token} data not understood: ${ev.text}`, known: false } };
  }
  if (ev.format === 'cid') {
    const c = ev.classification;
    const letter = ev.qualifier === 'new' ? 'E' : ev.qualifier === 'restore' ? 'R' : 'P';
    return {
      kind: c.kind,
      alarms: c.alarms ?? [],
      restores: c.restores ?? [],
      zone: ev.zone,
      test: c.kind === 'test',
      event: { code: ev.code, qualifier: letter, group: ev.group, label: c.meaning.label, known: c.meaning.known },
    };
  }
  const out: Dc09Normalised = { kind: 'status', alarms: [], restores: [], test: false };
  if (ev.number !== '') out.zone = ev.number;
  const group = ev.modifiers.ri;
  const entry = ev.entry;
  if (!entry) {
    out.event = { code: ev.code, label: `Unknown SIA code ${ev.code}`, known: false };
  } else {
    out.event = { code: ev.code, label: entry.en, known: true };
    if (entry.test) {
      out.kind = 'test';
      out.test = true;
    } else if (entry.kind && entry.restore) {
      out.restores = [entry.kind];
    } else if (entry.kind) {
      out.kind = 'alarm';
      out.alarms = [entry.kind];
    }
  }
  if (group !== undefined) out.event.group = group;
  return out;
}
