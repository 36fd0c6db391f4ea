/**
 * The test numbers of the real Asterisk's dialplan (../shared/asterisk/README.md, start.sh's extensions.conf),
 * as simulator scripts, so one test can run against both (tests/helpers/ari-target.ts). Times follow the
 * dialplan: Ringing() at once, Wait(n) before Answer(), SendDTMF after Wait(n) from the answer.
 *   trunk  Local/{number}@sim-trunk      agents  Local/{ext}@sim-agents      box  Local/red@box, Local/green@box
 */
import type { DirectoryFile } from './types.ts';

export const ASTERISK_TEST_NUMBERS: DirectoryFile = {
  default: { action: 'answer', answerAfter: 1 },
  endpoints: [
    { match: '13800000001', label: 'rings 1 s, answers, stays up', ringAfter: 0, answerAfter: 1 },
    // Hangup(17) in the dialplan at once: no ringing; through a Local channel the originated half ends with
    // cause 0 and Dial BUSY (simulated by the Local rule in engine.ts, as the real server does)
    { match: '13800000002', label: 'busy (Hangup(17))', action: 'busy', after: 0 },
    { match: '13800000003', label: 'rings, never answers', action: 'noanswer', ringAfter: 0 },
    { match: '13800000004', label: 'rejected (Hangup(21))', action: 'reject', after: 0 },
    { match: '13800000007', label: 'answers, hangs up after 4 s', ringAfter: null, answerAfter: 0, hangupAfter: 4 },
    { match: '13810000*', label: 'answers, hangs up after NNN s', ringAfter: null, answerAfter: 0, hangupAfterFromExten: 8 },
    { match: '13900000003', label: 'answers, presses 1 after 2.5 s', ringAfter: 0, answerAfter: 1, dtmf: [{ at: 2.5, digits: '1', durationMs: 100 }] },
    { match: '13900000005', label: 'answers, never presses', ringAfter: null, answerAfter: 0 },
    { match: '13900000006', label: 'answers, presses 2 after 1.5 s', ringAfter: null, answerAfter: 0, dtmf: [{ at: 1.5, digits: '2', durationMs: 100 }] },
    { match: '13900000009', label: 'answers, echo', ringAfter: null, answerAfter: 0, echo: true },
    { match: 'Local/8001@sim-agents', label: 'agent answers after 0.5 s', ringAfter: 0, answerAfter: 0.5 },
    { match: 'Local/8002@sim-agents', label: 'agent never answers', action: 'noanswer', ringAfter: 0 },
    { match: 'Local/red@box', label: 'one-key box, red line', action: 'call', callTo: '96110', callFrom: '02112345678' },
    { match: 'Local/green@box', label: 'one-key box, green line', action: 'call', callTo: '96120', callFrom: '02112345678' },
  ],
};
