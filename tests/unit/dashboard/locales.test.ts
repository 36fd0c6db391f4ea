/** The dashboard's locale files: the same keys in both, the same {placeholders}, and every key the code uses exists. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallActionKind } from '../../../telephony/ports.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SRC = join(ROOT, 'dashboard', 'src');
const zh = JSON.parse(readFileSync(join(SRC, 'locales', 'zh-CN.json'), 'utf8')) as Record<string, string>;
const en = JSON.parse(readFileSync(join(SRC, 'locales', 'en.json'), 'utf8')) as Record<string, string>;
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/**
 * Every action the gateway writes to an alarm's timeline (alarm_events.action), shown by the dashboard as
 * `action.<key>`. The backend exports no single list, so it is kept here; the test below also scans gateway/ and
 * telephony/ for addEvent(…, 'key') and systemNote(…, 'key') calls, so a new key cannot slip past this list.
 */
const TIMELINE_ACTIONS = [
  'raised', 'repeated', 'present', 'accept', 'release', 'start', 'note', 'resolve', 'follow_up', 'close', 'clear',
  'restore_received', 'callback_requested', 'callback_resumed', 'callback_not_placed', 'callback_started', 'callback_result', 'cascade_started', 'cascade_result',
  'call_started', 'call_ended', 'contact_accepted', 'cascade_exhausted', 'recurred', 'recurred_as', 'closed_during_call',
  'reassign', 'care_attempt',
];

/**
 * Every in-call action on a call's timeline (call_actions.action, GET /api/call-log/:id), shown by the call log as
 * `callAction.<key>`. A Record over telephony's CallActionKind: a new kind is a compile error here until listed; the
 * test below also scans telephony/ for the literal actions it reports.
 */
const CALL_ACTIONS: Record<CallActionKind, true> = {
  connected: true, hold: true, unhold: true, mute: true, unmute: true, dtmf: true, transfer_blind: true, consult: true,
  transfer_complete: true, transfer_cancel: true, transfer_failed: true, conference_add: true, party_joined: true,
  party_left: true, recording_started: true, recording_stopped: true, listen: true, whisper: true, barge: true,
  supervisor_left: true, ended: true,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
}

describe('dashboard locales', () => {
  it('zh-CN and en have the same keys, none empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    expect(Object.entries({ ...zh, ...en }).filter(([, v]) => !v.trim())).toEqual([]);
  });

  it('each message has the same placeholders in both languages', () => {
    const differ = Object.keys(zh).filter((k) => placeholders(zh[k]!).join() !== placeholders(en[k] ?? '').join());
    expect(differ).toEqual([]);
  });

  it('every literal key the code passes to t() exists', () => {
    const used = new Set<string>();
    for (const f of sources(SRC)) for (const m of readFileSync(f, 'utf8').matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]!);
    expect(used.size).toBeGreaterThan(50);
    expect([...used].filter((k) => !(k in zh))).toEqual([]);
  });

  it('has a label for every alarm kind and agent state', async () => {
    const { ALARM_KINDS } = await import('../../../protocols/message.ts');
    const { AGENT_STATES } = await import('../../../gateway/store/agents.ts');
    expect(ALARM_KINDS.filter((k) => !zh[`kind.${k}`])).toEqual([]);
    expect(AGENT_STATES.filter((s) => !zh[`agentState.${s}`])).toEqual([]);
  });

  it('has a zh-CN and an English label for every timeline action the gateway writes', async () => {
    const { ACTIONS } = await import('../../../alarms/lifecycle.ts');
    const written = new Set<string>(ACTIONS);
    for (const dir of ['gateway', 'telephony']) {
      for (const f of sources(join(ROOT, dir))) {
        const code = readFileSync(f, 'utf8');
        // the action argument (4th of addEvent, 2nd of systemNote), arguments holding at most one level of (…)
        for (const m of code.matchAll(/\baddEvent\((?:\s*(?:[^,()]|\([^()]*\))+,){3}\s*([^,]+),/g)) for (const q of m[1]!.matchAll(/'([a-z_]+)'/g)) written.add(q[1]!);
        for (const m of code.matchAll(/\bsystemNote\((?:\s*(?:[^,()]|\([^()]*\))+,)\s*([^,]+),/g)) for (const q of m[1]!.matchAll(/'([a-z_]+)'/g)) written.add(q[1]!);
      }
    }
    expect(written.size).toBeGreaterThan(20);
    expect([...written].filter((k) => !TIMELINE_ACTIONS.includes(k))).toEqual([]);
    expect(TIMELINE_ACTIONS.filter((k) => !zh[`action.${k}`] || !en[`action.${k}`])).toEqual([]);
  });

  it('has a zh-CN and an English label for every call-timeline action telephony reports', () => {
    const kinds = Object.keys(CALL_ACTIONS);
    const reported = new Set<string>();
    for (const f of sources(join(ROOT, 'telephony'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\breport\(\{[^}]*?\baction: '([a-z_]+)'/g)) reported.add(m[1]!);
    }
    expect(reported.size).toBeGreaterThan(10);
    expect([...reported].filter((k) => !kinds.includes(k))).toEqual([]);
    expect(kinds.filter((k) => !zh[`callAction.${k}`] || !en[`callAction.${k}`])).toEqual([]);
  });
});
