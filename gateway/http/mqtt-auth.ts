/**
 * Anxin as an external MQTT broker's authentication and ACL backend (issue 25): EMQX 5.8's HTTP authentication
 * contract, which plugins/mosquitto speaks for Mosquitto too.
 * - POST /api/mqtt/authn {clientid, username, password, peerhost?} → {result: allow|deny, is_superuser: false, acl}
 *   with the account's rules (mqtt-acl.ts aclRules), the last of which denies the rest.
 * - POST /api/mqtt/authz {clientid, username, topic, action} → {result: allow|deny}, for brokers that ask per action
 *   (EMQX's HTTP authorizer) instead of keeping the rules from the login.
 * Only the broker calls these: `Authorization: Bearer MQTT_AUTH_TOKEN`. Without the setting they answer 404.
 * A check that could not be made (database down) is a 503, which the broker must not take for a wrong password:
 * EMQX treats it as `ignore`, the plugin closes the connection and the device tries again.
 */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginThrottle } from '../login-throttle.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { checkLogin, type AccountBook } from '../transports/mqtt-accounts.js';
import { aclRules, rulesAllow, serviceAclRules, type Account, type AclRule } from '../transports/mqtt-acl.js';
import { sameToken } from './auth.js';
import { ApiError } from './errors.js';

export interface MqttAuthDeps {
  /** MQTT_AUTH_TOKEN; unset = the routes answer 404 */
  token?: string;
  /** the accounts, from the broker part; unset (no broker part) = 404 */
  book?: AccountBook;
  bridgePrefix: string;
  /** Anxin's own account on the external broker (MQTT_BROKER_URL's user and password) */
  service?: { username: string; password: string };
  metrics: Metrics;
  log: Logger;
}

// No length limits in the schema: a 400 would read to the broker as "Anxin unavailable" and the device would try
// again for ever; an over-long login is answered `deny` instead (the body limit still bounds the request).
const AuthnBody = Type.Object({
  clientid: Type.String(),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  peerhost: Type.Optional(Type.String()),
});
const TOO_LONG = { clientid: 256, username: 256, password: 1024, peerhost: 64 } as const;
const AuthzBody = Type.Object({
  clientid: Type.String(),
  username: Type.Optional(Type.String()),
  topic: Type.String({ minLength: 1, maxLength: 65535 }),
  action: Type.Union([Type.Literal('publish'), Type.Literal('subscribe'), Type.Literal('all')]),
});
const Rule = Type.Object({ permission: Type.String(), action: Type.String(), topic: Type.String() });
const Answer = Type.Object({ result: Type.Union([Type.Literal('allow'), Type.Literal('deny')]), is_superuser: Type.Optional(Type.Boolean()), acl: Type.Optional(Type.Array(Rule)) });

export async function mqttAuthRoutes(app: FastifyInstance, d: MqttAuthDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // the same backoff as the embedded broker's (mqtt-broker.ts): per client id from one address, and per address
  const byClient = new LoginThrottle(5);
  const byAddress = new LoginThrottle(20);
  const gate = async (req: FastifyRequest) => {
    if (!d.token || !d.book) throw new ApiError(404, 'not_enabled', 'no external MQTT broker is configured (MQTT_AUTH_TOKEN is unset)');
    if (!sameToken(req.headers.authorization ?? '', `Bearer ${d.token}`)) throw new ApiError(401, 'unauthenticated', 'this needs the MQTT_AUTH_TOKEN as a bearer token');
  };
  const deny = (reason: string, clientId: string) => {
    d.metrics.mqttDenials.inc({ reason });
    d.log.warn({ clientId, reason }, 'mqtt login refused (external broker)');
    return { result: 'deny' as const };
  };
  const isService = (username: string | undefined) => !!d.service && username === d.service.username;

  r.post(
    '/api/mqtt/authn',
    { onRequest: gate, schema: { tags: ['mqtt'], summary: 'An external broker asks whether a login may connect, and gets its ACL', body: AuthnBody, response: { 200: Answer } } },
    async (req) => {
      const { clientid, username, password, peerhost } = req.body;
      if (!username || !password) return deny('auth', clientid.slice(0, TOO_LONG.clientid));
      for (const k of Object.keys(TOO_LONG) as (keyof typeof TOO_LONG)[]) if ((req.body[k]?.length ?? 0) > TOO_LONG[k]) return deny('auth', clientid.slice(0, TOO_LONG.clientid));
      if (isService(username)) {
        if (!sameToken(password, d.service!.password)) return deny('auth', clientid);
        return { result: 'allow' as const, is_superuser: false, acl: serviceAclRules(d.bridgePrefix) };
      }
      const address = peerhost ?? 'unknown';
      const clientKey = `${address}\u0000${username}\u0000${clientid}`;
      if (byClient.waitMs(clientKey) > 0 || byAddress.waitMs(address) > 0) {
        d.metrics.mqttDenials.inc({ reason: 'auth_backoff' });
        return { result: 'deny' as const };
      }
      const login = await checkLogin(d.book!, clientid, username, password);
      if ('refused' in login) {
        if (login.refused === 'auth') {
          byClient.failed(clientKey);
          byAddress.failed(address);
        }
        return deny(login.refused, clientid);
      }
      byClient.succeeded(clientKey);
      return { result: 'allow' as const, is_superuser: false, acl: aclRules(login, d.bridgePrefix) };
    },
  );

  r.post(
    '/api/mqtt/authz',
    { onRequest: gate, schema: { tags: ['mqtt'], summary: 'An external broker asks whether a logged-in client may publish or subscribe', body: AuthzBody, response: { 200: Answer } } },
    async (req) => {
      const { clientid, username, topic, action } = req.body;
      const rules = rulesOf(d, clientid, username);
      const ok = action === 'all' ? rulesAllow(rules, 'publish', topic) && rulesAllow(rules, 'subscribe', topic) : rulesAllow(rules, action, topic);
      if (!ok) d.metrics.mqttDenials.inc({ reason: action === 'subscribe' ? 'acl_subscribe' : 'acl_publish' });
      return { result: ok ? ('allow' as const) : ('deny' as const) };
    },
  );
}

/** The rules of a client the broker has already logged in (so its password was checked then). */
function rulesOf(d: MqttAuthDeps, clientId: string, username: string | undefined): AclRule[] {
  if (!username) return [];
  if (d.service && username === d.service.username) return serviceAclRules(d.bridgePrefix);
  const book = d.book!;
  const acct: Account | undefined = book.integrators.has(username)
    ? { role: 'integrator', name: username }
    : book.bridges.has(username)
      ? { role: 'bridge', name: username }
      : username === clientId
        ? { role: 'device', name: username }
        : undefined;
  return acct ? aclRules(acct, d.bridgePrefix) : [];
}
