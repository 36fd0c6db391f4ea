/**
 * Snoop channels (POST /channels/{id}/snoop, issue 19), as captured on Asterisk 22.10.1
 * (tests/helpers/ari-scenarios-controls.ts): a channel `Snoop/<target id>-<8 hex digits>` in state Up enters
 * the app (StasisStart with the given args, context default, exten s) before the HTTP 200. It entered Stasis
 * like a dialplan channel: when hung up it gets ChannelHangupRequest, [ChannelLeftBridge], StasisEnd and no
 * ChannelDestroyed, and no STASISSTATUS. When the snooped channel goes away the snoop channel is hung up too
 * (the audiohook detaches; simulated as a far-end hang-up, cause 16). No audio is simulated.
 */
import { ApiError, type Engine } from './engine.ts';
import { SimChannel } from './model.ts';
import type { ChannelJson } from './types.ts';
import { makeUniqueId } from './util.ts';

const DIRECTIONS = new Set(['none', 'both', 'out', 'in']);
let counter = 0;

export function snoopChannel(engine: Engine, targetId: string, o: { spy?: string; whisper?: string; app?: string; appArgs?: string; snoopId?: string }): ChannelJson {
  const spy = o.spy ?? 'none';
  const whisper = o.whisper ?? 'none';
  if (!DIRECTIONS.has(spy)) throw new ApiError(400, 'Invalid direction specified for spy');
  if (!DIRECTIONS.has(whisper)) throw new ApiError(400, 'Invalid direction specified for whisper');
  if (spy === 'none' && whisper === 'none') throw new ApiError(400, 'Sniff direction must be specified');
  if (!o.app) throw new ApiError(400, 'Application name is required');
  const target = engine.get(targetId);
  if (!target || target.hangingUp) throw new ApiError(404, 'Channel not found');
  if (o.snoopId && engine.channels.has(o.snoopId)) throw new ApiError(409, 'Channel with given unique ID already exists');
  const name = `Snoop/${target.id}-${(counter++).toString(16).padStart(8, '0')}`;
  const ch = new SimChannel(o.snoopId || makeUniqueId(), name, 'inbound', name, undefined, '');
  ch.state = 'Up';
  ch.stasisApp = o.app;
  ch.stasisArgs = o.appArgs ? o.appArgs.split(',') : [];
  ch.dialplan = { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' };
  ch.log.app = o.app;
  ch.log.args = ch.stasisArgs;
  ch.log.script = `snoop spy=${spy} whisper=${whisper} on ${target.id}`;
  engine.channels.set(ch.id, ch);
  engine.pushLog(ch.log);
  engine.enterStasis(ch);
  const off = engine.onTeardown((gone) => {
    if (gone === target || gone === ch) {
      off();
      if (gone === target) engine.farHangup(ch, 16);
    }
  });
  return ch.toJSON();
}
