/** /ari/asterisk, /ari/applications, /ari/playbacks (ari.md §1.3). */
import { ApiError, type Engine } from '../engine.ts';
import { noContent, ok, type Params, type Router } from '../http.ts';
import { astTimestamp } from '../util.ts';

export function registerMisc(r: Router, engine: Engine, startedAt: Date): void {
  const appJson = (name: string) => ({
    name,
    channel_ids: [...engine.channels.values()].filter((c) => c.apps.has(name)).map((c) => c.id),
    bridge_ids: [...engine.bridges.all.values()].filter((b) => engine.bridges.apps(b).has(name)).map((b) => b.id),
    endpoint_ids: [],
    device_names: [],
    events_allowed: [],
    events_disallowed: [],
  });

  r.add('GET', 'asterisk/info', (p: Params) => {
    const started = astTimestamp(startedAt);
    const all: Record<string, unknown> = {
      build: { os: 'Linux', kernel: '6.1.0', options: '', machine: 'x86_64', date: '2024-04-01 10:00:00 UTC', user: 'anxin-sim' },
      system: { version: '20.7.0', entity_id: engine.opts.asteriskId },
      config: { name: 'anxin-sim', default_language: 'en', setid: { user: 'asterisk', group: 'asterisk' } },
      status: { startup_time: started, last_reload_time: started },
    };
    const only = p.list('only').filter(Boolean);
    return ok(only.length ? Object.fromEntries(Object.entries(all).filter(([k]) => only.includes(k))) : all);
  })
    .add('GET', 'asterisk/ping', () => ok({ asterisk_id: engine.opts.asteriskId, ping: 'pong', timestamp: astTimestamp() }))
    .add('GET', 'applications', () => ok(engine.hub.knownApps().map(appJson)))
    .add('GET', 'applications/{applicationName}', (p) => {
      const name = p.str('applicationName') ?? '';
      if (!engine.hub.knownApps().includes(name)) throw new ApiError(404, `Application not found`);
      return ok(appJson(name));
    })
    .add('GET', 'playbacks/{playbackId}', (p) => ok(engine.playbacks.get(p.str('playbackId') ?? '').toJSON()))
    .add('DELETE', 'playbacks/{playbackId}', (p) => {
      engine.playbacks.stop(engine.playbacks.get(p.str('playbackId') ?? ''));
      return noContent();
    });
}
