/**
 * Who may do what on the embedded broker. Pure, so the rules can be read and tested on their own.
 *
 * - device (username = client id = device identifier, per-device argon2 secret from registration):
 *   publish under `anxin/up/{id}/#`, subscribe under `anxin/down/{id}/#`.
 * - integrator (MQTT_INTEGRATORS): subscribe to `anxin/devices/+/events` and `anxin/alarms/#`; publish nothing.
 * - bridge, a Zigbee2MQTT instance (ZIGBEE2MQTT_BRIDGES): publish and subscribe under `{prefix}/#`.
 * A subscription is allowed only when every topic it could match is allowed (`anxin/#` is refused to an
 * integrator even though it includes the alarm topics). `$`-topics are never allowed to clients.
 */

export type Role = 'device' | 'integrator' | 'bridge';

export interface Account {
  role: Role;
  /** device identifier, or the integrator/bridge account name */
  name: string;
}

export const INTEGRATOR_READ = ['anxin/devices/+/events', 'anxin/alarms/#'] as const;

/** True when every topic `filter` can match is also matched by `allowed` (MQTT 3.1.1 §4.7 wildcards). */
export function filterWithin(filter: string, allowed: string): boolean {
  if (filter.startsWith('$')) return false;
  const f = filter.split('/');
  const a = allowed.split('/');
  for (let i = 0; ; i++) {
    const fa = a[i];
    const ff = f[i];
    if (fa === '#') return true; // `x/#` also matches `x` itself, so this holds when the filter has ended too
    if (ff === undefined || fa === undefined) return ff === fa;
    if (ff === '#') return false;
    if (ff === '+' && fa !== '+') return false;
    if (fa !== '+' && fa !== ff) return false;
  }
}

/** The longest topic withinChecker remembers (a device's anxin/up/{id}/{kind} is far shorter). */
const REMEMBERED_TOPIC_MAX = 256;

/**
 * `filterWithin(·, allowed)` with `allowed` read once, for checks repeated on every packet. Same answer as
 * filterWithin for every filter. When `allowed` is `P/#` and no level of P is a wildcard (a device's
 * `anxin/up/{id}/#`, a bridge's `{prefix}/#`), a filter is within it exactly when its first levels are P's
 * levels, unchanged: the filter is P itself or starts with `P/` (and does not start with `$`). Anything else
 * takes the general walk over the levels, with `allowed` split in advance.
 */
export function withinChecker(allowed: string): (filter: string) => boolean {
  const a = allowed.split('/');
  const last = a.length - 1;
  if (a[last] === '#' && a.every((level, i) => i === last || (level !== '+' && level !== '#'))) {
    const prefix = a.slice(0, last).join('/');
    const n = prefix.length;
    // with `allowed` = `#` alone, every filter but a `$` one is within it
    if (last === 0) return (filter) => filter.charCodeAt(0) !== 0x24;
    // A client publishes on the same few topics over and over: the last one found within is kept, and comparing a
    // topic with it (~4 ns) is much cheaper than startsWith (~40 ns, bench). The answer for a filter never changes.
    // Only short ones are kept, so a client cannot make each of its connections hold a topic of 60,000 bytes.
    let lastWithin: string | undefined;
    return (filter) => {
      if (filter === lastWithin) return true;
      const within = filter.charCodeAt(0) !== 0x24 && filter.startsWith(prefix) && (filter.length === n || filter.charCodeAt(n) === 0x2f);
      if (within && filter.length <= REMEMBERED_TOPIC_MAX) lastWithin = filter;
      return within;
    };
  }
  return (filter) => {
    if (filter.startsWith('$')) return false;
    const f = filter.split('/');
    for (let i = 0; ; i++) {
      const fa = a[i];
      const ff = f[i];
      if (fa === '#') return true;
      if (ff === undefined || fa === undefined) return ff === fa;
      if (ff === '#') return false;
      if (ff === '+' && fa !== '+') return false;
      if (fa !== '+' && fa !== ff) return false;
    }
  };
}

/** One client's ACL, compiled at login: the same answers as mayPublish and maySubscribe for its account. */
export interface ClientAcl {
  mayPublish(topic: string): boolean;
  maySubscribe(filter: string): boolean;
}

const never = () => false;
const integratorRead = INTEGRATOR_READ.map(withinChecker);

export function compileAcl(acct: Account, bridgePrefix: string): ClientAcl {
  switch (acct.role) {
    case 'device':
      return { mayPublish: withinChecker(`anxin/up/${acct.name}/#`), maySubscribe: withinChecker(`anxin/down/${acct.name}/#`) };
    case 'bridge': {
      const within = withinChecker(`${bridgePrefix}/#`);
      return { mayPublish: within, maySubscribe: within };
    }
    case 'integrator':
      return { mayPublish: never, maySubscribe: (filter) => integratorRead.some((within) => within(filter)) };
  }
}

/** One rule of an external broker's ACL: EMQX 5.8's `acl` in an authentication answer, read by plugins/mosquitto too. */
export interface AclRule {
  permission: 'allow' | 'deny';
  action: 'publish' | 'subscribe' | 'all';
  topic: string;
}

const denyRest: AclRule = { permission: 'deny', action: 'all', topic: '#' };
const allow = (action: AclRule['action'], topic: string): AclRule => ({ permission: 'allow', action, topic });

/**
 * The same rights as compileAcl, as rules an external broker enforces: the first rule that matches decides, and the
 * last one denies everything else (EMQX's rules from authentication otherwise fall through to its other authorizers).
 */
export function aclRules(acct: Account, bridgePrefix: string): AclRule[] {
  switch (acct.role) {
    case 'device':
      return [allow('publish', `anxin/up/${acct.name}/#`), allow('subscribe', `anxin/down/${acct.name}/#`), denyRest];
    case 'bridge':
      return [allow('all', `${bridgePrefix}/#`), denyRest];
    case 'integrator':
      return [...INTEGRATOR_READ.map((t) => allow('subscribe', t)), denyRest];
  }
}

/** Anxin's own account on an external broker: it reads the uplinks and writes the downlinks and its bus topics. */
export function serviceAclRules(bridgePrefix: string): AclRule[] {
  return [
    allow('subscribe', 'anxin/up/#'),
    allow('subscribe', `${bridgePrefix}/#`),
    allow('publish', 'anxin/down/#'),
    allow('publish', 'anxin/devices/#'),
    allow('publish', 'anxin/alarms/#'),
    denyRest,
  ];
}

/** An ACL check asked by an external broker (EMQX HTTP authorization): the first rule that matches decides. */
export function rulesAllow(rules: AclRule[], action: 'publish' | 'subscribe', topic: string): boolean {
  for (const r of rules) {
    if (r.action !== 'all' && r.action !== action) continue;
    if (filterWithin(topic, r.topic)) return r.permission === 'allow';
  }
  return false;
}

export function mayPublish(acct: Account, topic: string, bridgePrefix: string): boolean {
  switch (acct.role) {
    case 'device':
      return filterWithin(topic, `anxin/up/${acct.name}/#`);
    case 'bridge':
      return filterWithin(topic, `${bridgePrefix}/#`);
    case 'integrator':
      return false;
  }
}

export function maySubscribe(acct: Account, filter: string, bridgePrefix: string): boolean {
  switch (acct.role) {
    case 'device':
      return filterWithin(filter, `anxin/down/${acct.name}/#`);
    case 'bridge':
      return filterWithin(filter, `${bridgePrefix}/#`);
    case 'integrator':
      return INTEGRATOR_READ.some((a) => filterWithin(filter, a));
  }
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Accounts from a setting: `name:argon2hash` entries separated by spaces or `;` (an argon2 hash has commas
 * in it, so commas cannot separate entries). Returns the problems instead of throwing, for ConfigError.
 */
export function parseAccounts(text: string | undefined, setting: string): { accounts: Map<string, string>; problems: string[] } {
  const accounts = new Map<string, string>();
  const problems: string[] = [];
  for (const entry of (text ?? '').split(/[\s;]+/).filter(Boolean)) {
    const at = entry.indexOf(':');
    const name = at > 0 ? entry.slice(0, at) : '';
    const hash = at > 0 ? entry.slice(at + 1) : '';
    if (!NAME_RE.test(name) || !hash.startsWith('$argon2')) {
      // never echo the entry: it may be a password pasted by mistake
      problems.push(`${setting}: entry ${accounts.size + problems.length + 1} is not name:argon2hash (make one with: tsx gateway/mqtt-account-cli.ts NAME)`);
      continue;
    }
    if (accounts.has(name)) problems.push(`${setting}: account ${JSON.stringify(name)} is listed twice`);
    accounts.set(name, hash);
  }
  return { accounts, problems };
}

/** A Zigbee2MQTT base topic: plain levels, no wildcards, no leading or trailing slash. */
export function checkPrefix(prefix: string, setting: string): string[] {
  return /^[^#+$/][^#+]*$/.test(prefix) && !prefix.endsWith('/') ? [] : [`${setting} must be a topic without wildcards or a leading/trailing slash: ${JSON.stringify(prefix)}`];
}
