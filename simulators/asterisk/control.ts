/**
 * The simulator's own control API under /sim (no auth; the sim listens on 127.0.0.1 by default):
 *   GET    /sim/state                      channels (with internals), bridges, playbacks, apps
 *   GET    /sim/channels | /sim/bridges
 *   GET    /sim/originates                 originate/create/dial requests as received (exact params, timestamps)
 *   GET    /sim/calls                      call log (one entry per channel, outcome and cause)
 *   POST   /sim/calls                      inject an inbound call {from, to, app?, args?, hangupAfter?, …}
 *   GET    /sim/events                     events sent to apps (?app=… to filter)
 *   GET    /sim/requests                   ARI requests seen
 *   POST   /sim/channels/{id}/dtmf         far end presses {digits, durationMs?, gapMs?}
 *   POST   /sim/channels/{id}/hangup       far end hangs up {cause?}
 *   POST   /sim/channels/{id}/answer       far end answers now (ringing outbound leg)
 *   POST   /sim/channels/{id}/reject       far end refuses now {cause?} (default 21)
 *   GET    /sim/directory                  {default, endpoints}
 *   PUT    /sim/directory                  replace it (same format as the --directory file)
 *   POST   /sim/directory                  add or replace one script (by `match`)
 *   DELETE /sim/directory/{match}          remove one script
 *   POST   /sim/reset                      hang up all, destroy bridges, clear logs, restore the directory
 *   POST   /sim/events/disconnect          close every event WebSocket (clients must reconnect)
 */
import type { AsteriskSim } from './index.ts';
import { ApiError } from './engine.ts';
import { parseDirectory, validateScript } from './directory.ts';
import { noContent, ok, type Params, type Router } from './http.ts';
import type { DtmfStep, InboundCallOptions } from './types.ts';

function bodyObject(p: Params): Record<string, unknown> {
  return p.body ?? Object.fromEntries(p.query.entries());
}

export function registerControl(r: Router, sim: AsteriskSim): void {
  const id = (p: Params): string => p.str('id') ?? '';
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError(400, err instanceof Error ? err.message : String(err));
    }
  };

  r.add('GET', 'sim/state', () => ok(sim.state()))
    .add('GET', 'sim/channels', () => ok(sim.state().channels))
    .add('GET', 'sim/bridges', () => ok(sim.bridges()))
    .add('GET', 'sim/originates', () => ok(sim.originateLog()))
    .add('GET', 'sim/calls', () => ok(sim.callLog()))
    .add('POST', 'sim/calls', (p) => {
      const b = bodyObject(p);
      const num = (k: string) => (b[k] === undefined || b[k] === null ? (b[k] as undefined | null) : Number(b[k]));
      const opts: InboundCallOptions = {
        from: String(b.from ?? ''),
        to: String(b.to ?? ''),
        callerName: b.callerName === undefined ? undefined : String(b.callerName),
        app: b.app === undefined ? undefined : String(b.app),
        args: b.args as string[] | string | undefined,
        hangupAfter: num('hangupAfter'),
        hangupAfterAnswer: num('hangupAfterAnswer') ?? undefined,
        hangupCause: num('hangupCause') ?? undefined,
        dtmf: b.dtmf as DtmfStep[] | undefined,
        channelId: b.channelId === undefined ? undefined : String(b.channelId),
        trunk: b.trunk === undefined ? undefined : String(b.trunk),
        context: b.context === undefined ? undefined : String(b.context),
      };
      if (b.from === undefined) throw new ApiError(400, '"from" (caller number) is required');
      return ok(sim.injectCall(opts));
    })
    .add('GET', 'sim/events', (p) => {
      const app = p.str('app');
      return ok(sim.eventLog().filter((e) => !app || e.application === app));
    })
    .add('GET', 'sim/requests', () => ok(sim.requestLog()))
    .add('POST', 'sim/channels/{id}/dtmf', (p) => {
      const b = bodyObject(p);
      sim.pressDigits(id(p), String(b.digits ?? ''), { durationMs: b.durationMs as number | undefined, gapMs: b.gapMs as number | undefined });
      return noContent();
    })
    .add('POST', 'sim/channels/{id}/hangup', (p) => {
      const cause = bodyObject(p).cause;
      sim.farEndHangup(id(p), cause === undefined ? undefined : Number(cause));
      return noContent();
    })
    .add('POST', 'sim/channels/{id}/answer', (p) => {
      sim.farEndAnswer(id(p));
      return noContent();
    })
    .add('POST', 'sim/channels/{id}/reject', (p) => {
      const cause = bodyObject(p).cause;
      sim.farEndReject(id(p), cause === undefined ? undefined : Number(cause));
      return noContent();
    })
    .add('GET', 'sim/directory', () => ok(sim.directory.list()))
    .add('PUT', 'sim/directory', (p) => {
      sim.directory.set(wrap(() => parseDirectory(p.rawBody ?? { endpoints: [] })));
      return ok(sim.directory.list());
    })
    .add('POST', 'sim/directory', (p) => {
      sim.directory.add(wrap(() => validateScript(p.rawBody)));
      return ok(sim.directory.list());
    })
    .add('DELETE', 'sim/directory/{match}', (p) => {
      if (!sim.directory.remove(p.str('match') ?? '')) throw new ApiError(404, 'No such directory entry');
      return noContent();
    })
    .add('POST', 'sim/reset', () => {
      sim.reset();
      return noContent();
    })
    .add('POST', 'sim/events/disconnect', () => {
      sim.disconnectEvents();
      return noContent();
    });
}
