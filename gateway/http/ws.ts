/**
 * Live push to dashboards over WebSocket (GET /api/ws?token=…). On connect and on {"type":"resync"} the
 * client gets a snapshot of the open alarms; then every change with a sequence number, so a client that
 * reconnects after a drop resynchronises and can see it missed something.
 */
import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { Bus } from '../bus.js';
import type { Presence } from '../alarms/presence.js';
import type { Db } from '../store/db.js';
import { listAlarms } from '../store/alarms.js';
import { getSessionUser, tokenHash, type User } from '../store/users.js';
import type { WallboardNudgeMessage } from '../ws-messages.js';
import { boardAlarm } from '../store/wallboard.js';
import { forWall } from './wallboard.js';
import { sessionOf } from './auth.js';

interface Client {
  ws: WebSocket;
  user: User;
  /** the session it was opened with: revoking that session closes the socket */
  token: string;
  tokenHash: string;
}

/** Close code for a revoked session (4000–4999 are the application's). */
export const WS_REVOKED = 4401;

export async function wsRoutes(app: FastifyInstance, o: { db: Db; bus: Bus; presence?: Presence }) {
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const clients = new Set<Client>();
  let seq = 0;
  const send = (c: Client, m: Record<string, unknown>) => {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify({ ...m, seq: ++seq, at: new Date().toISOString() }));
  };
  // The wallboard kiosk (大屏) hangs where visitors see it: it gets no rows at all (alarms carry elders, calls carry
  // numbers), only a nudge to reload its board through GET /api/wallboard, which masks and rounds what it shows.
  const kiosk = (c: Client) => c.user.role === 'wallboard';
  const nudge = (c: Client, topic: WallboardNudgeMessage['topic']) => send(c, { type: 'wallboard', topic });
  const snapshot = async (c: Client) =>
    kiosk(c) ? nudge(c, 'resync') : send(c, { type: 'snapshot', alarms: await listAlarms(o.db, { open: true, limit: 500, offset: 0 }) });

  o.bus.on('alarm.changed', ({ alarm, action, actor }) => {
    const walls: Client[] = [];
    for (const c of clients) if (kiosk(c)) walls.push(c);
    else send(c, { type: 'alarm', action, actor, alarm });
    if (!walls.length) return;
    // the kiosk gets the row as the wall shows it (masked; one indexed read), so a new alarm is up at once; its
    // board reloads after it anyway, so a read that lost a race with a later change is corrected within a moment
    void boardAlarm(o.db, alarm.id)
      .then((row) => walls.forEach((c) => send(c, { type: 'wallboard', topic: 'alarm', ...(row ? { alarm: forWall(row) } : {}) } satisfies WallboardNudgeMessage)))
      .catch(() => walls.forEach((c) => nudge(c, 'alarm')));
  });
  o.bus.on('alarm.presented', ({ alarm, userIds, step }) => {
    for (const c of clients) if (userIds.includes(c.user.id)) send(c, { type: 'present', alarm, step });
  });
  o.bus.on('supervisor.alert', ({ alarm, reason }) => {
    for (const c of clients) if (c.user.role === 'supervisor' || c.user.role === 'admin') send(c, { type: 'supervisor_alert', alarm, reason });
  });
  o.bus.on('call.pushed', ({ call }) => {
    for (const c of clients) if (kiosk(c)) nudge(c, 'call');
    else send(c, { type: 'call', call });
  });
  // Revocation that revokes (issue 15): logout, a disabled account, a password reset or a role change closes the
  // user's live sockets at once with a clear code; the dashboard then shows the login.
  o.bus.on('session.revoked', ({ tokenHash: h, userId, reason }) => {
    for (const c of clients) {
      if ((h && c.tokenHash === h) || (userId !== undefined && c.user.id === userId)) {
        clients.delete(c);
        c.ws.close(WS_REVOKED, `session revoked: ${reason}`);
      }
    }
  });
  o.bus.on('agent.changed', (a) => {
    for (const c of clients) if (kiosk(c)) nudge(c, 'agent');
    else send(c, { type: 'agent', ...a });
  });
  // Messages for some dashboards only: the hotline screen-pop goes to the ringing agent's sessions alone.
  // the node's subscription to the other nodes' events was down (Redis restarted): what it missed is in PostgreSQL
  o.bus.on('ws.resync', () => {
    for (const c of clients) void snapshot(c).catch(() => send(c, { type: 'error', message: 'database unavailable; will resync' }));
  });
  o.bus.on('ws.push', ({ to, message }) => {
    for (const c of clients) if (!kiosk(c) && (to.userIds?.includes(c.user.id) || to.roles?.includes(c.user.role))) send(c, { ...message });
  });

  app.get('/api/ws', { websocket: true, schema: { hide: true } }, async (socket, req) => {
    // Dashboards come with their session cookie; API clients may pass ?token= (a WebSocket cannot set headers).
    const token = sessionOf(req, true)?.token;
    const user = token ? await getSessionUser(o.db, token).catch(() => undefined) : undefined;
    if (!user || !token) {
      socket.close(4401, 'log in first');
      return;
    }
    // The alarm stream is for the people who answer alarms, not installers (issue 15).
    if (user.role === 'installer') {
      socket.close(4403, 'the live alarm stream is for agents, supervisors and admins');
      return;
    }
    const c: Client = { ws: socket, user, token, tokenHash: tokenHash(token) };
    clients.add(c);
    // A wall screen is nobody looking at a pop: it never counts as present (escalation presents only to those who are).
    if (!kiosk(c)) o.presence?.join(user.id);
    socket.on('close', () => {
      clients.delete(c);
      if (!kiosk(c)) o.presence?.leave(user.id);
    });
    // What a client may send: resync and ping, both read-only, for every role (the kiosk included). Changes go
    // through the REST routes, where requireRole refuses the wallboard; anything else here is answered, never acted on.
    socket.on('message', (data) => {
      let m: { type?: string };
      try {
        m = JSON.parse(String(data));
      } catch {
        return send(c, { type: 'error', message: 'messages must be JSON' });
      }
      if (m.type === 'resync') {
        // A snapshot only for a session that still stands (another node may have revoked it).
        void getSessionUser(o.db, c.token)
          .then((u) => {
            if (!u) {
              clients.delete(c);
              return c.ws.close(WS_REVOKED, 'session revoked');
            }
            return snapshot(c);
          })
          .catch(() => send(c, { type: 'error', message: 'database unavailable; will resync' }));
      }
      else if (m.type === 'ping') send(c, { type: 'pong' });
      else send(c, { type: 'error', message: 'unknown message type: only resync and ping are accepted' });
    });
    send(c, { type: 'hello', user: { id: user.id, username: user.username, role: user.role, displayName: user.displayName } });
    await snapshot(c).catch(() => send(c, { type: 'error', message: 'database unavailable; will resync' }));
  });

  app.addHook('onClose', async () => {
    for (const c of clients) c.ws.close(1001, 'server stopping');
  });
}
