/**
 * Queue overflow (issue 19): past the maximum wait, or with nobody signed in, the supervisors are alerted
 * (HotlinePort.overflow) and the caller goes to the setting's target: the night number (an outside duty phone
 * through the trunk, bridged; the caller hears MOH in the holding bridge while it rings; voicemail when it is
 * not answered), voicemail (POST /channels/{id}/record into a stored recording), or a prompt and hang-up.
 */
import type { Leg } from '../calls.ts';
import { errText } from '../log.ts';
import type { HotlineOverflow, HotlineVoicemail, OverflowReason } from '../hotline-ports.ts';
import { scaledMs, sleep, trunkEndpoint } from './context.ts';
import { queueMedia, type QueueMedia } from './hotline-config.ts';
import type { HotlineQueue, QueueEntry } from './hotline-queue.ts';
import { playPrompt, type PromptKind } from './prompts.ts';

function say(q: HotlineQueue, e: QueueEntry, kind: keyof QueueMedia): Promise<unknown> {
  const { media, fallback } = queueMedia(q.opts, e.call.language, kind);
  return playPrompt({ leg: e.leg, stats: q.ctx.prompts, log: q.ctx.log }, `queue.${kind}` as PromptKind, media, fallback).finished;
}

export async function runOverflow(q: HotlineQueue, e: QueueEntry, reason: OverflowReason): Promise<void> {
  const { ctx } = q;
  const target = e.hotline.overflow ?? q.opts.overflow;
  const ov: HotlineOverflow = { ...e.call, reason, to: target.to, waitMs: e.summary.waitMs, at: new Date() };
  q.emit('hotline_overflow', ov);
  const port = ctx.ports.hotline;
  if (port) void port.overflow(ov).catch((err: unknown) => ctx.log.error({ err: errText(err), entryId: e.id }, 'telephony: hotline.overflow failed'));
  try {
    if (target.to === 'night' && (await night(q, e, target.number, target.ringTimeoutS ?? 30))) return;
    await q.leaveHolding(e);
    if (target.to === 'hangup') {
      e.summary.result = 'abandoned';
      await say(q, e, 'busy');
      await e.leg.hangup('normal');
      return;
    }
    await voicemail(q, e, target.to === 'voicemail' ? (target.maxS ?? 120) : 120);
  } catch (err) {
    ctx.log.error({ err: errText(err), entryId: e.id }, 'telephony: hotline overflow failed');
    await e.leg.hangup('normal');
  }
}

/** true when the night number answered and was bridged (until either side hung up). */
async function night(q: HotlineQueue, e: QueueEntry, number: string, ringTimeoutS: number): Promise<boolean> {
  const { ctx } = q;
  void say(q, e, 'night');
  const spec: Parameters<typeof ctx.tracker.place>[0] = {
    idempotencyKey: `${e.keyPrefix}#night`,
    flowId: e.id,
    flow: 'hotline',
    party: 'unknown',
    number,
    endpoint: trunkEndpoint(ctx.cfg, number),
    timeoutS: ringTimeoutS,
  };
  if (ctx.cfg.callerId) spec.callerId = ctx.cfg.callerId;
  let leg: Leg | undefined;
  try {
    const placed = await ctx.tracker.place(spec);
    if (!placed.duplicate) leg = placed.leg;
  } catch (err) {
    ctx.log.warn({ err: errText(err), entryId: e.id }, 'telephony: night number not dialled');
  }
  if (!leg) return false;
  const off = e.leg.ended.then(() => leg.hangup('normal'));
  if (!(await leg.answered) || !e.leg.live) {
    await leg.hangup('normal');
    await leg.ended;
    await leg.flushed();
    void off;
    return !e.leg.live;
  }
  e.summary.result = 'night';
  const bridgeId = `${e.id}-br`;
  void leg.ended.then(() => e.leg.hangup('normal'));
  const legs = [e.leg, leg];
  try {
    await q.leaveHolding(e);
    await ctx.adapter.createBridge({ bridgeId, type: 'mixing', name: e.id });
    await ctx.adapter.addToBridge(bridgeId, [e.leg.channelId, leg.channelId]);
    await Promise.race(legs.map((l) => l.ended));
  } catch (err) {
    // the caller or the duty phone may hang up while the bridge is made
    if (e.leg.live && leg.live) ctx.log.error({ err: errText(err), entryId: e.id }, 'telephony: hotline caller and night number not bridged');
  }
  await Promise.all(legs.filter((l) => l.live).map((l) => l.hangup('normal')));
  await Promise.all(legs.map((l) => l.ended));
  await ctx.adapter.destroyBridge(bridgeId).catch(() => false);
  await leg.flushed();
  return true;
}

/** Records the caller's message (the prompt, a beep, up to maxS or '#' or the hang-up), then thanks and hangs up. */
async function voicemail(q: HotlineQueue, e: QueueEntry, maxS: number): Promise<void> {
  const { ctx } = q;
  e.summary.result = 'voicemail';
  await say(q, e, 'voicemail');
  if (!e.leg.live) return;
  const name = `hotline-${e.id.replace(/[^A-Za-z0-9_-]/g, '_')}-${Date.now()}`;
  await ctx.adapter.recordChannel(e.leg.channelId, { name, format: 'wav', maxDurationSeconds: maxS, beep: true, terminateOn: '#', ifExists: 'fail' });
  e.summary.voicemail = name;
  // the recording ends by itself (maxS, '#', hang-up); a thank-you queued behind it plays once it has
  await Promise.race([e.leg.ended, sleep(scaledMs(ctx, maxS) + 2000)]);
  if (e.leg.live) {
    await Promise.race([say(q, e, 'thanks'), sleep(scaledMs(ctx, 15))]);
    await e.leg.hangup('normal');
  }
  const v: HotlineVoicemail = { ...e.call, recording: name, format: 'wav', at: new Date() };
  q.emit('hotline_voicemail', v);
  const port = ctx.ports.hotline;
  if (port?.voicemail) await port.voicemail(v).catch((err: unknown) => ctx.log.error({ err: errText(err), entryId: e.id }, 'telephony: hotline.voicemail failed'));
}
