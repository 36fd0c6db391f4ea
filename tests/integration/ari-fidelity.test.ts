/**
 * Issue 17: the simulator follows the real Asterisk. The same scripts (tests/helpers/ari-scenarios.ts) run
 * against the simulator and, when TEST_ARI_URL is set, a real Asterisk 22; the event sequences are compared
 * per channel after normalising ids and timestamps and dropping what the simulator does not model
 * (tests/helpers/ari-compare.ts says what and why). Each target must also show the facts captured from
 * Asterisk 22.10.1 (EXPECTED below), so a simulator-only run still checks them.
 * With CI=true and no TEST_ARI_URL, targets() throws and this file fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project, shapes, stasisStarts } from '../helpers/ari-compare.ts';
import { Recorder, type Entry } from '../helpers/ari-record.ts';
import { bridge, busy, callback, inbound, inboundAbandon, missingSound, noAnswer, type Scenario } from '../helpers/ari-scenarios.ts';
import { targets, type AriTargetEnv } from '../helpers/ari-target.ts';
import { bridgeRecording, channelControls, holdingBridge, snoop } from '../helpers/ari-scenarios-controls.ts';
import { hangupMidPrompt, queueHolding, voicemailRecording } from '../helpers/ari-scenarios-hotline.ts';

const APP = `fidelity-${process.pid}`;
const STASIS = 'StasisStart Up elder args=["fidelity"]';
const ANSWERED = ['Dial ""', 'ChannelStateChange Ringing elder', 'Dial "RINGING" elder', 'ChannelStateChange Up elder', 'Dial "ANSWER" elder', 'ChannelVarset STASISSTATUS="" elder', STASIS];
const OUR_HANGUP = ['ChannelHangupRequest 32 soft elder', 'StasisEnd elder', 'ChannelVarset STASISSTATUS="SUCCESS" elder', 'ChannelDestroyed 16 elder'];

/** Per-channel sequences captured from Asterisk 22.10.1 (/tmp/ari-captures.md of issue 17). */
const EXPECTED: Record<string, Record<string, string[]>> = {
  [callback.name]: {
    elder: [ANSWERED[0] + ' elder', ...ANSWERED.slice(1), 'PlaybackStarted playing sound:anxin-please-hold', 'PlaybackFinished done sound:anxin-please-hold', ...OUR_HANGUP],
  },
  // Hangup(17) behind a Local channel: HangupRequest before Dial BUSY, cause 17, no tech_cause (not PJSIP).
  [busy.name]: { contact: ['Dial "" contact', 'ChannelHangupRequest 17 contact', 'Dial "BUSY" contact', 'ChannelDestroyed 17 contact'] },
  // 22.7 and later: cause 19 and no Dial NOANSWER.
  [noAnswer.name]: { contact: ['Dial "" contact', 'ChannelStateChange Ringing contact', 'Dial "RINGING" contact', 'ChannelDestroyed 19 contact'] },
  [missingSound.name]: {
    elder: [ANSWERED[0] + ' elder', ...ANSWERED.slice(1), 'PlaybackStarted playing sound:anxin-does-not-exist', 'PlaybackFinished failed sound:anxin-does-not-exist', ...OUR_HANGUP],
  },
  // A dialplan channel: StasisEnd and nothing after it (no STASISSTATUS, no ChannelDestroyed).
  [inbound.name]: { line: ['StasisStart Ring line args=[]', 'ChannelStateChange Up line', 'ChannelHangupRequest 32 soft line', 'StasisEnd line'] },
  [inboundAbandon.name]: { line: ['StasisStart Ring line args=[]', 'ChannelHangupRequest 16 line', 'StasisEnd line'] },
  // BridgeDestroyed reaches the app although both channels had left.
  [bridge.name]: { bridge: ['BridgeDestroyed bridge'] },
  // Issue 19. Holding bridge + MOH: only the moves are events; no BridgeDestroyed for a bridge the channel moved out of.
  [holdingBridge.name]: { bridge: ['BridgeDestroyed bridge'], hold: undefined as unknown as string[] },
  // hold/mute give no events; DTMF sent into an Echo() comes back, one ChannelDtmfReceived per digit.
  [channelControls.name]: {
    far: ['Dial "" far', 'ChannelStateChange Up far', 'Dial "ANSWER" far', 'ChannelVarset STASISSTATUS="" far', STASIS.replace('elder', 'far'), 'ChannelDtmfReceived far', 'ChannelDtmfReceived far', ...OUR_HANGUP.map((l) => l.replace('elder', 'far'))],
  },
  [bridgeRecording.name]: { '?': ['RecordingStarted ', 'RecordingFinished '] },
  // The snoop channel entered Stasis like a dialplan channel: StasisEnd and no ChannelDestroyed.
  [snoop.name]: { spy: ['StasisStart Up spy args=["snoop"]', 'ChannelEnteredBridge bridge[spy] spy', 'ChannelHangupRequest 32 soft spy', 'ChannelLeftBridge bridge[sup] spy', 'StasisEnd spy'] },
  // Issue 19, the hotline queue: a bridge playback in a holding bridge with MOH fails, a channel playback to a
  // caller in it plays; after removeChannel no BridgeDestroyed reaches the app.
  [queueHolding.name]: {
    caller: [ANSWERED[0] + ' caller', ...ANSWERED.slice(1, 6).map((l) => l.replace('elder', 'caller')), STASIS.replace('elder', 'caller'), 'ChannelEnteredBridge hold[caller] caller', 'PlaybackStarted playing sound:digits/1', 'PlaybackFinished done sound:digits/1', 'ChannelLeftBridge hold[] caller', ...OUR_HANGUP.map((l) => l.replace('elder', 'caller'))],
    hold: ['PlaybackStarted playing sound:digits/3', 'PlaybackFinished failed sound:digits/3'],
  },
  // The voicemail: a channel recording ends with the hang-up and is stored.
  [voicemailRecording.name]: { '?': ['RecordingStarted ', 'RecordingFinished '] },
  // A hang-up ends a running playback `failed` (not a missing prompt: the hub does not count it).
  [hangupMidPrompt.name]: {
    caller: [ANSWERED[0] + ' caller', ...ANSWERED.slice(1, 6).map((l) => l.replace('elder', 'caller')), STASIS.replace('elder', 'caller'), 'PlaybackStarted playing sound:anxin-queue-voicemail', 'ChannelHangupRequest 32 soft caller', 'PlaybackFinished failed sound:anxin-queue-voicemail', 'StasisEnd caller', 'ChannelVarset STASISSTATUS="SUCCESS" caller', 'ChannelDestroyed 16 caller'],
  },
};

const SCRIPTS: Scenario[] = [callback, busy, noAnswer, missingSound, inbound, inboundAbandon, bridge, holdingBridge, channelControls, bridgeRecording, snoop, queueHolding, voicemailRecording, hangupMidPrompt];

interface Run {
  log: Entry[];
  preset: Record<string, string>;
}
const runs: Record<string, Record<string, Run>> = {};
const all = targets();

for (const target of all) {
  describe(`ARI fidelity: ${target.name}`, () => {
    let t: AriTargetEnv;
    beforeAll(async () => {
      t = await target.start();
    });
    afterAll(async () => {
      await t?.stop();
    });

    for (const sc of SCRIPTS) {
      it(sc.name, async () => {
        const release = sc.inbound ? await t.lockInbound() : () => undefined;
        const app = sc.inbound ? t.inboundApp : APP;
        const rec = await Recorder.open(t.url, t.username, t.password, app);
        try {
          const preset = await sc.run(rec, t, app);
          (runs[sc.name] ??= {})[target.name] = { log: rec.log, preset };
          const got = project(rec.log, preset);
          for (const [entity, lines] of Object.entries(EXPECTED[sc.name] ?? {})) expect(got[entity], entity).toEqual(lines);
        } finally {
          await rec.close();
          release();
        }
      }, sc.inbound ? 300_000 : 60_000); // inbound: may wait for the shared app "anxin" (ari-lock)
    }

    // only the simulator promises this order (the real Asterisk races the two; ari.md); not registered for it
    if (target.name === 'sim') {
      it('sends Dial "" only after the HTTP 200 of the originate', () => {
        const log = runs[busy.name]?.sim?.log ?? [];
        const http = log.findIndex((x) => x.kind === 'http' && x.path === 'channels');
        const dial = log.findIndex((x) => x.kind === 'event' && x.event.type === 'Dial');
        expect(http).toBeGreaterThanOrEqual(0);
        expect(dial).toBeGreaterThan(http);
      });
    }
  });
}

describe.runIf(all.length > 1)('ARI fidelity: simulator against the real Asterisk', () => {
  for (const sc of SCRIPTS) {
    it(sc.name, () => {
      const sim = runs[sc.name]?.sim;
      const real = runs[sc.name]?.asterisk;
      expect(sim && real, 'both targets ran this script').toBeTruthy();
      expect(project(sim!.log, sim!.preset)).toEqual(project(real!.log, real!.preset));
      expect(shapes(sim!.log)).toEqual(shapes(real!.log));
      expect(stasisStarts(sim!.log, sim!.preset)).toEqual(stasisStarts(real!.log, real!.preset));
    });
  }
});
