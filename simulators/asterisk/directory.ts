/**
 * The directory of scripted endpoints: which dialled endpoint or number answers, is busy, rings out,
 * rejects, presses digits… (see EndpointScript). Lookup order:
 *   1. an entry whose `match` equals the whole endpoint (`PJSIP/8001`, `PJSIP/0612345678@trunk`);
 *   2. an entry whose `match` equals the number/resource derived from it (`8001`, `0612345678`);
 *   3. glob entries (`*` = any run of characters) in file order, tried on the endpoint and then the number;
 *   4. the default script: answer after 1 s and stay up until hung up.
 */
import { readFileSync } from 'node:fs';
import type { DirectoryFile, EndpointAction, EndpointScript } from './types.ts';

export const BUILTIN_DEFAULT: Omit<EndpointScript, 'match'> = { action: 'answer', answerAfter: 1 };

const ACTIONS: readonly EndpointAction[] = ['answer', 'busy', 'noanswer', 'reject', 'congestion', 'fail', 'unavailable', 'call'];

/** Technologies the simulator can "request"; anything else fails like a missing channel driver (500). */
export const KNOWN_TECHS = new Set(['PJSIP', 'SIP', 'IAX2', 'Local', 'DAHDI']);

export interface ParsedEndpoint {
  tech: string;
  /** Everything after `tech/`: the dialstring reported in Dial events. */
  resource: string;
  /** The number or resource used for directory lookups. */
  number: string;
  /** The device part of the channel name (`trunk` for `PJSIP/0612…@trunk`, `8001` for `PJSIP/8001`). */
  device: string;
}

/** Splits an endpoint into its parts (ari.md §1.1 endpoint forms). Returns null without `tech/resource`. */
export function parseEndpoint(endpoint: string): ParsedEndpoint | null {
  const slash = endpoint.indexOf('/');
  if (slash <= 0 || slash === endpoint.length - 1) return null;
  const tech = endpoint.slice(0, slash);
  const resource = endpoint.slice(slash + 1);
  if (tech === 'Local') {
    const exten = resource.split('@')[0] ?? resource;
    return { tech, resource, number: exten, device: resource.split('/')[0] ?? resource };
  }
  const at = resource.indexOf('@');
  const inner = resource.indexOf('/');
  if (inner > 0) {
    // PJSIP/<endpoint>/<uri>: PJSIP/trunk/sip:13800138000@host or PJSIP/trunk/13800138000
    const device = resource.slice(0, inner);
    const uri = resource.slice(inner + 1).replace(/^sips?:/, '');
    return { tech, resource, number: uri.split('@')[0] ?? uri, device };
  }
  if (at > 0) {
    // PJSIP/<number>@<endpoint>
    return { tech, resource, number: resource.slice(0, at), device: resource.slice(at + 1) };
  }
  return { tech, resource, number: resource, device: resource };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function validateScript(s: unknown, where = 'script'): EndpointScript {
  if (!s || typeof s !== 'object') throw new Error(`${where}: not an object`);
  const o = s as Record<string, unknown>;
  if (typeof o.match !== 'string' || o.match === '') throw new Error(`${where}: "match" must be a non-empty string`);
  if (o.action !== undefined && !ACTIONS.includes(o.action as EndpointAction)) {
    throw new Error(`${where}: unknown action ${JSON.stringify(o.action)} (one of ${ACTIONS.join(', ')})`);
  }
  for (const k of ['answerAfter', 'after', 'cause', 'hangupAfter', 'hangupCause', 'hangupAfterFromExten'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'number') throw new Error(`${where}: "${k}" must be a number`);
  }
  for (const k of ['callTo', 'callFrom', 'callApp'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new Error(`${where}: "${k}" must be a string`);
  }
  if (o.action === 'call' && !o.callTo) throw new Error(`${where}: action "call" needs "callTo" (the DID)`);
  if (o.ringAfter !== undefined && o.ringAfter !== null && typeof o.ringAfter !== 'number') {
    throw new Error(`${where}: "ringAfter" must be a number or null`);
  }
  if (o.dtmf !== undefined) {
    if (!Array.isArray(o.dtmf)) throw new Error(`${where}: "dtmf" must be an array`);
    o.dtmf.forEach((d: unknown, i: number) => {
      const step = d as Record<string, unknown>;
      if (!step || typeof step.at !== 'number' || typeof step.digits !== 'string' || !/^[0-9A-D#*]+$/.test(step.digits)) {
        throw new Error(`${where}: dtmf[${i}] needs {at: number, digits: "0-9A-D#*"}`);
      }
    });
  }
  return o as unknown as EndpointScript;
}

/** Accepts `[...scripts]` or `{ default?, endpoints: [...] }`. */
export function parseDirectory(data: unknown): DirectoryFile {
  if (Array.isArray(data)) return { endpoints: data.map((s, i) => validateScript(s, `endpoints[${i}]`)) };
  if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    const endpoints = o.endpoints ?? [];
    if (!Array.isArray(endpoints)) throw new Error('"endpoints" must be an array');
    const out: DirectoryFile = { endpoints: endpoints.map((s, i) => validateScript(s, `endpoints[${i}]`)) };
    if (o.default !== undefined) {
      out.default = validateScript({ ...(o.default as object), match: '*' }, 'default');
      delete (out.default as Partial<EndpointScript>).match;
    }
    return out;
  }
  throw new Error('directory must be an array of scripts or {default?, endpoints: [...]}');
}

export function loadDirectoryFile(path: string): DirectoryFile {
  return parseDirectory(JSON.parse(readFileSync(path, 'utf8')));
}

export class Directory {
  private entries: EndpointScript[];
  private fallback: Omit<EndpointScript, 'match'>;

  constructor(private readonly initial: DirectoryFile = { endpoints: [] }) {
    this.entries = [...initial.endpoints];
    this.fallback = initial.default ?? BUILTIN_DEFAULT;
  }

  list(): DirectoryFile {
    return { default: this.fallback, endpoints: [...this.entries] };
  }

  /** Replaces the whole directory. */
  set(file: DirectoryFile): void {
    this.entries = [...file.endpoints];
    this.fallback = file.default ?? BUILTIN_DEFAULT;
  }

  /** Adds a script, replacing any entry with the same `match`; new entries take precedence among globs. */
  add(script: EndpointScript): void {
    this.entries = [script, ...this.entries.filter((e) => e.match !== script.match)];
  }

  remove(match: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.match !== match);
    return this.entries.length !== before;
  }

  /** Back to what the simulator was started with. */
  reset(): void {
    this.set(this.initial);
  }

  lookup(endpoint: string): EndpointScript {
    const parsed = parseEndpoint(endpoint);
    const number = parsed?.number ?? endpoint;
    const exact = (k: string) => this.entries.find((e) => !e.match.includes('*') && e.match === k);
    const hit =
      exact(endpoint) ??
      exact(number) ??
      this.entries.find((e) => e.match.includes('*') && (globToRegExp(e.match).test(endpoint) || globToRegExp(e.match).test(number)));
    return hit ?? { ...this.fallback, match: '(default)' };
  }
}
