/**
 * Issues 17 and 19: the README's deployment snippets (http.conf, ari.conf, pjsip.conf, extensions.conf,
 * musiconhold.conf, asterisk.conf under "Deploying with a real Asterisk") match the config CI runs (the one ../shared/asterisk/start.sh writes into TEST_ASTERISK_DIR/etc).
 * Keys that differ on purpose between a deployment and CI are listed below with the reason; everything else in the
 * README must be found in CI's files, so a README edit that CI does not run (or the reverse) fails here.
 * Outside CI without TEST_ASTERISK_DIR it skips; with CI=true it fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../gateway/paths.ts';

const dir = process.env.TEST_ASTERISK_DIR;
if (!dir && process.env.CI === 'true') throw new Error('CI=true but TEST_ASTERISK_DIR is not set (.ci/run starts the real Asterisk)');

/** Deployment-only keys: CI binds a free port on loopback and its test endpoints have no SIP credentials. */
const DEPLOYMENT_ONLY: Record<string, string[]> = {
  'http.conf': ['bindaddr', 'bindport'],
  'ari.conf': ['password'],
  'pjsip.conf': ['outbound_auth', 'auth'],
  // CI's Asterisk keeps everything inside its own directory
  'asterisk.conf': ['astspooldir'],
};

type Section = { name: string; templates: string[]; isTemplate: boolean; keys: [string, string][]; lines: string[] };

function stripComment(line: string): string {
  const i = line.indexOf(';');
  return (i >= 0 ? line.slice(0, i) : line).trim();
}

/** Asterisk's config syntax: `[name](template,!)` headers, `key = value` or `key => value` lines. */
function parseConf(text: string): Section[] {
  const out: Section[] = [];
  let cur: Section | undefined;
  for (const raw of text.split('\n')) {
    const line = stripComment(raw);
    if (!line || line.startsWith('#')) continue;
    const head = /^\[([^\]]+)\](?:\(([^)]*)\))?$/.exec(line);
    if (head) {
      const opts = (head[2] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      cur = { name: head[1]!, templates: opts.filter((o) => o !== '!'), isTemplate: opts.includes('!'), keys: [], lines: [] };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    cur.lines.push(line.replace(/\s+/g, ' '));
    const kv = /^([^=]+?)\s*=>?\s*(.*)$/.exec(line);
    if (kv) cur.keys.push([kv[1]!.trim(), kv[2]!.trim()]);
  }
  return out;
}

/** A named object's keys with its templates' keys first (pjsip.conf repeats a name for endpoint, aor, identify). */
function keysOf(sections: Section[], name: string, type?: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  const add = (s: Section) => {
    for (const t of s.templates) for (const ts of sections.filter((x) => x.name === t)) add(ts);
    for (const [k, v] of s.keys) keys.set(k, [...(keys.get(k) ?? []), v]);
  };
  for (const s of sections.filter((x) => x.name === name && !x.isTemplate)) {
    const own = new Map<string, string[]>();
    const saved = [...keys];
    keys.clear();
    add(s);
    for (const [k, v] of keys) own.set(k, v);
    keys.clear();
    for (const [k, v] of saved) keys.set(k, v);
    const sType = own.get('type')?.at(-1);
    if (type && sType !== type) continue;
    for (const [k, v] of own) keys.set(k, [...(keys.get(k) ?? []), ...v]);
  }
  return keys;
}

/** The README's one ini block, cut into files at its `; <name>.conf` comment lines. */
function readmeSnippets(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('### Deploying with a real Asterisk');
  expect(at, 'README section "Deploying with a real Asterisk"').toBeGreaterThan(0);
  const block = /```ini\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
  expect(block, 'an ```ini block in that section').toBeTruthy();
  const files = new Map<string, string>();
  let file = '';
  for (const line of block!.split('\n')) {
    const m = /^;\s*([a-z_]+\.conf)\b/.exec(line);
    if (m) file = m[1]!;
    else if (file) files.set(file, `${files.get(file) ?? ''}${line}\n`);
  }
  return files;
}

const allowed = (v: string) => new Set(v.replace(/^!all,?/, '').split(',').map((s) => s.trim()).filter(Boolean));

describe.skipIf(!dir)("the README's Asterisk snippets are what CI runs", () => {
  const snippets = readmeSnippets();
  const ci = (file: string) => {
    const p = join(dir!, 'etc', file);
    expect(existsSync(p), p).toBe(true);
    return parseConf(readFileSync(p, 'utf8'));
  };

  it('covers the six files', () => {
    expect([...snippets.keys()].sort()).toEqual(['ari.conf', 'asterisk.conf', 'extensions.conf', 'http.conf', 'musiconhold.conf', 'pjsip.conf']);
  });

  for (const file of ['http.conf', 'ari.conf', 'pjsip.conf', 'musiconhold.conf', 'asterisk.conf']) {
    it(`${file}: every README key is in CI's config with the same value`, () => {
      const readme = parseConf(snippets.get(file)!);
      const conf = ci(file);
      const skip = new Set(DEPLOYMENT_ONLY[file] ?? []);
      expect(readme.length).toBeGreaterThan(0);
      for (const s of readme) {
        const type = s.keys.find(([k]) => k === 'type')?.[1];
        const have = keysOf(conf, s.name, type);
        expect(have.size, `[${s.name}]${type ? ` type=${type}` : ''} in CI's ${file}`).toBeGreaterThan(0);
        for (const [k, v] of s.keys) {
          if (skip.has(k)) continue;
          const values = have.get(k);
          expect(values, `${file} [${s.name}] ${k}`).toBeDefined();
          // Codec lists: CI may write disallow=all + allow=ulaw,alaw for the README's allow=!all,alaw,ulaw.
          if (k === 'allow') expect([...allowed(values!.join(','))].sort(), `${file} [${s.name}] allow`).toEqual([...allowed(v)].sort());
          else expect(values, `${file} [${s.name}] ${k}`).toContain(v);
        }
      }
    });
  }

  it("extensions.conf: every README dialplan line is in the same context of CI's dialplan", () => {
    const readme = parseConf(snippets.get('extensions.conf')!);
    const conf = ci('extensions.conf');
    expect(readme.map((s) => s.name)).toContain('from-trunk');
    for (const s of readme) {
      const lines = conf.filter((c) => c.name === s.name).flatMap((c) => c.lines);
      expect(lines.length, `[${s.name}] in CI's extensions.conf`).toBeGreaterThan(0);
      for (const l of s.lines) expect(lines, `[${s.name}] ${l}`).toContain(l);
    }
  });
});
