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
