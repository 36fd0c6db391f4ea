/**
 * Inbound calls: a channel that enters Stasis from the dialplan, in state Ring (ari.md §3.5). Two ways in:
 *  - injected (`POST /sim/calls`, `sim.injectCall`): a PJSIP trunk channel `PJSIP/trunk-…`;
 *  - originating an endpoint whose script is `action: "call"` (the real server's `Local/red@box`, whose
 *    dialplan does Dial(Local/96110@from-trunk) → Stasis(anxin)): the line channel is
 *    `Local/96110@from-trunk-…;2` at priority 2, caller 02112345678, connected number `red`, as captured on
 *    Asterisk 22.10.1. The box's own channel and the line are each other's far end: our answer of the line
 *    answers the box leg, a hang-up of either hangs up the other.
 * Such a channel gets StasisEnd and then nothing (engine.ts teardown).
 */
import { ApiError, type Engine } from './engine.ts';
import { SimChannel } from './model.ts';
import type { InboundCallOptions, InboundCallResult } from './types.ts';
import { causeText, makeUniqueId, nextNameSuffix, randomHex } from './util.ts';

interface LocalShape {
  name: string;
  priority: number;
  connected: { name: string; number: string };
}

export function injectInbound(engine: Engine, o: InboundCallOptions, local?: LocalShape): InboundCallResult {
  if (!o.from && o.from !== '') throw new ApiError(400, '"from" (caller number) is required');
  if (!o.to) throw new ApiError(400, '"to" (dialled DID) is required');
  const registered = engine.hub.registeredApps();
  const app = o.app ?? engine.opts.app ?? (registered.length === 1 ? registered[0] : undefined);
  if (!app) throw new ApiError(400, 'No Stasis app: pass "app" (several or no apps are registered)');
  if (o.channelId && engine.channels.has(o.channelId)) throw new ApiError(409, 'Channel with given unique ID already exists');
  const args = o.args === undefined ? engine.opts.inboundArgs : Array.isArray(o.args) ? o.args : o.args.split(',');
  const trunk = o.trunk ?? 'trunk';
  const name = local?.name ?? `PJSIP/${trunk}-${nextNameSuffix()}`;
  const ch = new SimChannel(o.channelId ?? makeUniqueId(), name, 'inbound', local ? name : `PJSIP/${trunk}`, undefined, o.from);
  ch.state = 'Ring';
  if (!local) ch.protocolId = `${randomHex(12)}@anxin-sim`;
  ch.caller = { name: o.callerName ?? '', number: o.from };
  if (local) ch.connected = { ...local.connected };
  ch.dialplan = { context: o.context ?? 'from-trunk', exten: o.to, priority: local?.priority ?? 1, app_name: 'Stasis', app_data: [app, ...args].join(',') };
  ch.stasisApp = app;
  ch.stasisArgs = [...args];
  Object.assign(ch.log, { did: o.to, app, args: [...args] });
  engine.pushLog(ch.log);
  if (!engine.hub.isRegistered(app)) {
    // Stasis() fails (STASISSTATUS=FAILED); the dialplan fallback hangs up. The app sees nothing.
    ch.destroyed = true;
    Object.assign(ch.log, { endedAt: new Date().toISOString(), cause: 16, cause_txt: causeText(16), endedBy: 'dialplan' });
    return { channel: ch.toJSON(), stasis: false };
  }
  ch.inbound = o;
  engine.channels.set(ch.id, ch);
  engine.enterStasis(ch);
  const hangupAfter = o.hangupAfter === undefined ? 11 : o.hangupAfter;
  if (hangupAfter !== null) engine.chTimer(ch, hangupAfter, () => engine.farHangup(ch, o.hangupCause ?? 16));
  return { channel: ch.toJSON(), stasis: true };
}

/** Dialling a `call` script (the box): the line rings into the app; the box leg rings until we answer it. */
export function startBoxCall(engine: Engine, box: SimChannel): void {
  const s = box.script;
  const to = s?.callTo ?? '';
  const from = box.caller.number || s?.callFrom || '';
  const ctx = 'from-trunk';
  const res = injectInbound(
    engine,
    { from, to, app: s?.callApp, args: [], hangupAfter: null, context: ctx },
    { name: `Local/${to}@${ctx}-${nextNameSuffix()};2`, priority: 2, connected: { name: '', number: box.log.number } },
  );
  if (!res.stasis) {
    engine.farRefuse(box, 16); // Stasis() failed and the dialplan hung up
    return;
  }
  box.peerId = res.channel.id;
  const line = engine.channels.get(res.channel.id);
  if (line) line.peerId = box.id;
}

/** A box call or its line ended: the other end hangs up too (the Local chain tears down). */
export function boxHungUp(engine: Engine, ch: SimChannel, cause: number): void {
  const other = ch.peerId ? engine.channels.get(ch.peerId) : undefined;
  if (!other || other.hangingUp || other.destroyed) return;
  other.peerId = undefined;
  if (engine.dialling(other)) engine.farRefuse(other, cause === 0 ? 16 : cause);
  else engine.farHangup(other, 16);
}
