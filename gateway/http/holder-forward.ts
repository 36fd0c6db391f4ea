/**
 * Call control on a node that does not run telephony (issue 24): telephony is a singleton (parts/telephony.ts), so
 * a request that needs it (a route with `config: VIA_TELEPHONY_NODE`) is forwarded to the node that runs it, found
 * in the members' heartbeats (cluster/members.ts). The request is validated and authenticated here first, then
 * again there: the holder answers it as if the agent had asked it directly (its audit row, its 409s), and the
 * answer (status, body, a recording's bytes and Range headers) goes back unchanged.
 *
 * A forwarded request is never forwarded again: a node it reaches that no longer runs telephony (a takeover in
 * between) answers it itself, with 503 telephony_moving.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the route needs telephony: on a node that does not run it, it is forwarded to the one that does */
    viaTelephonyNode?: boolean;
  }
}

export const VIA_TELEPHONY_NODE = { viaTelephonyNode: true } as const;
/** set on a forwarded request: the node it came through */
export const FORWARDED_BY = 'x-anxin-forwarded-by';
/** set on the answer to a forwarded request: the node that answered it */
export const ANSWERED_BY = 'x-anxin-telephony-node';

const PASS_REQUEST = ['authorization', 'cookie', 'x-csrf-token', 'content-type', 'accept', 'accept-language', 'range', 'user-agent', 'x-request-id'];
const PASS_ANSWER = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'content-disposition', 'cache-control', 'retry-after'];
/** a click-to-call answers once the agent's phone rings: seconds, not minutes */
const FORWARD_TIMEOUT_MS = 30_000;

export interface HolderForward {
  nodeId: string;
  /** this node runs telephony */
  local(): boolean;
  /** the node running telephony and where its HTTP API is, if a live node says it runs it */
  holder(): { node: string; url: string } | undefined;
  log: Logger;
}

export const telephonyMoving = () => new ApiError(503, 'telephony_moving', '电话系统正在切换到另一节点，请几秒后再试 / telephony is moving to another node; try again in a few seconds');

/** preHandler: after authentication and validation, before the handler. */
export function holderForward(o: HolderForward) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!req.routeOptions.config?.viaTelephonyNode || o.local()) return undefined;
    if (req.headers[FORWARDED_BY]) throw telephonyMoving();
    const h = o.holder();
    if (!h) throw telephonyMoving();
    const headers: Record<string, string> = { [FORWARDED_BY]: o.nodeId, 'x-forwarded-for': req.ip };
    for (const k of PASS_REQUEST) {
      const v = req.headers[k];
      if (typeof v === 'string') headers[k] = v;
    }
    const hasBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
    if (hasBody) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(req.url, h.url), { method: req.method, headers, body: hasBody ? JSON.stringify(req.body) : undefined, signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS), redirect: 'manual' });
    } catch (e) {
      o.log.warn({ err: e, holder: h.node, route: req.routeOptions.url }, 'call control could not be forwarded to the telephony node');
      throw telephonyMoving();
    }
    reply.code(res.status).header(ANSWERED_BY, h.node);
    for (const k of PASS_ANSWER) {
      const v = res.headers.get(k);
      if (v !== null) reply.header(k, v);
    }
    return reply.send(res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) : '');
  };
}
