/** /ari/channels… (ari.md §1.1). */
import type { IncomingMessage } from 'node:http';
import { ApiError, type Engine, type OriginateRequest } from '../engine.ts';
import { noContent, ok, type Params, type Reply, type Router } from '../http.ts';
import type { OriginateLogEntry } from '../types.ts';
import { HANGUP_REASONS } from '../util.ts';

function originateRequest(p: Params): OriginateRequest {
  const timeout = p.str('timeout');
  return {
    endpoint: p.str('endpoint'),
    extension: p.str('extension'),
    context: p.str('context'),
    priority: p.int('priority', 0),
    label: p.str('label'),
    app: p.str('app'),
    appArgs: p.str('appArgs'),
    callerId: p.str('callerId'),
    timeout: timeout === undefined ? undefined : p.int('timeout', 30),
    channelId: p.str('channelId'),
    otherChannelId: p.str('otherChannelId'),
    originator: p.str('originator'),
    formats: p.str('formats'),
    variables: p.body?.variables,
  };
}

/** Runs an originate-like operation and records it, with the exact request, in the originate log. */
function logged(engine: Engine, op: OriginateLogEntry['op'], p: Params, req: IncomingMessage, run: () => Reply): Reply {
  const receivedAtMs = Date.now();
  const url = new URL(req.url ?? '/', 'http://x');
  let reply: Reply;
  let dialed = false;
  try {
    reply = run();
    dialed = reply.status < 300;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    reply = { status: err.status, body: { [err.key]: err.message } };
  }
  engine.recordOriginate({
    op,
    receivedAt: new Date(receivedAtMs).toISOString(),
    receivedAtMs,
    method: req.method ?? '',
    path: url.pathname,
    rawQuery: url.search.replace(/^\?/, ''),
    query: Object.fromEntries(url.searchParams.entries()),
    body: p.rawBody ?? null,
    params: p.merged(),
    channelId: p.str('channelId'),
    endpoint: op === 'dial' ? engine.get(p.str('channelId') ?? '')?.endpoint : p.str('endpoint'),
    status: reply.status,
    response: reply.body ?? null,
    dialed,
  });
  return reply;
}

/** reason / reason_code → cause (ari.md §1.1); 400 if both or invalid. */
function hangupCause(p: Params): number {
  const reason = p.str('reason');
  const code = p.str('reason_code');
  if (reason && code) throw new ApiError(400, 'Only one of reason and reason_code may be specified');
  if (code) {
    if (!/^\d+$/.test(code)) throw new ApiError(400, 'Invalid reason_code for hangup provided');
    return parseInt(code, 10);
  }
  if (!reason) return 16;
  const cause = HANGUP_REASONS[reason];
  if (cause === undefined) throw new ApiError(400, 'Invalid reason for hangup provided');
  return cause;
}

export function registerChannels(r: Router, engine: Engine): void {
  const id = (p: Params): string => p.str('channelId') ?? '';
  /** find_control + channel_state_invalid, then a no-op: ring, moh, hold, mute, silence. */
  const stateful = (p: Params): Reply => {
    const ch = engine.control(id(p));
    engine.checkState(ch);
    return noContent();
  };
  const playHandler = (p: Params): Reply => {
    const ch = engine.control(id(p));
    engine.checkState(ch);
    if (p.int('skipms', 3000) < 0) throw new ApiError(400, 'skipms cannot be negative');
    if (p.int('offsetms', 0) < 0) throw new ApiError(400, 'offsetms cannot be negative');
    const media = p.list('media').filter(Boolean);
    if (!media.length) throw new ApiError(400, 'Missing parameter media');
    const body = engine.playbacks.playOnChannel(ch, media, p.str('lang'), p.str('playbackId'));
    return { status: 201, body, headers: { Location: `/ari/playbacks/${encodeURIComponent(body.id)}` } };
  };

  r.add('GET', 'channels', () => ok([...engine.channels.values()].map((c) => c.toJSON())))
    .add('POST', 'channels', (p, req) => logged(engine, 'originate', p, req, () => ok(engine.originate(originateRequest(p)))))
    .add('POST', 'channels/create', (p, req) => logged(engine, 'create', p, req, () => ok(engine.create(originateRequest(p)))))
    .add('GET', 'channels/{channelId}', (p) => {
      const ch = engine.get(id(p));
      if (!ch) throw new ApiError(404, 'Channel not found');
      return ok(ch.toJSON());
    })
    .add('POST', 'channels/{channelId}', (p, req) => logged(engine, 'originate', p, req, () => ok(engine.originate(originateRequest(p)))))
    .add('DELETE', 'channels/{channelId}', (p) => {
      const ch = engine.get(id(p));
      if (!ch || ch.destroyed) throw new ApiError(404, 'Channel not found');
      engine.appHangup(ch, hangupCause(p));
      return noContent();
    })
    .add('POST', 'channels/{channelId}/answer', (p) => {
      const ch = engine.control(id(p));
      engine.checkState(ch);
      engine.appAnswer(ch);
      return noContent();
    })
    .add('POST', 'channels/{channelId}/ring', stateful)
    .add('DELETE', 'channels/{channelId}/ring', stateful)
    .add('POST', 'channels/{channelId}/hold', stateful)
    .add('DELETE', 'channels/{channelId}/hold', stateful)
    .add('POST', 'channels/{channelId}/moh', stateful)
    .add('DELETE', 'channels/{channelId}/moh', stateful)
    .add('POST', 'channels/{channelId}/silence', stateful)
    .add('DELETE', 'channels/{channelId}/silence', stateful)
    .add('POST', 'channels/{channelId}/mute', (p) => {
      const res = stateful(p);
      if (!['both', 'in', 'out'].includes(p.str('direction') ?? 'both')) throw new ApiError(400, 'Invalid direction specified');
      return res;
    })
    .add('DELETE', 'channels/{channelId}/mute', (p) => stateful(p))
    .add('POST', 'channels/{channelId}/dtmf', (p) => {
      const ch = engine.control(id(p));
      engine.checkState(ch);
      const dtmf = p.str('dtmf');
      if (!dtmf) throw new ApiError(400, 'DTMF is required');
      ch.log.dtmfSent += dtmf;
      // an Echo() far end sends the digits back (captured on 22.10.1: one ChannelDtmfReceived per digit)
      if (ch.script?.echo) engine.pressDigits(ch, dtmf.replace(/[^0-9A-D*#]/gi, ''), p.int('duration', 100), p.int('between', 100));
      return noContent();
    })
    .add('POST', 'channels/{channelId}/play', playHandler)
    .add('POST', 'channels/{channelId}/play/{playbackId}', playHandler)
    .add('POST', 'channels/{channelId}/dial', (p, req) =>
      logged(engine, 'dial', p, req, () => {
        engine.dialCreated(id(p), p.str('caller'), p.int('timeout', 0));
        return noContent();
      }),
    )
    .add('GET', 'channels/{channelId}/variable', (p) => {
      const name = p.str('variable');
      if (!name) throw new ApiError(400, 'Variable name is required');
      const ch = engine.get(id(p));
      if (!ch) throw new ApiError(404, 'Provided channel was not found');
      const value = ch.variables[name];
      if (value === undefined) throw new ApiError(404, 'Provided variable was not found');
      return ok({ value });
    })
    .add('POST', 'channels/{channelId}/variable', (p) => {
      const name = p.str('variable');
      if (!name) throw new ApiError(400, 'Variable name is required');
      const ch = engine.control(id(p));
      const value = p.str('value') ?? '';
      ch.variables[name] = value;
      engine.emitChannel(ch, 'ChannelVarset', { variable: name, value });
      return noContent();
    });
}
