/** The dashboard's locale files: the same keys in both, the same {placeholders}, and every key the code uses exists. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', '..', 'dashboard', 'src');
const zh = JSON.parse(readFileSync(join(SRC, 'locales', 'zh-CN.json'), 'utf8')) as Record<string, string>;
const en = JSON.parse(readFileSync(join(SRC, 'locales', 'en.json'), 'utf8')) as Record<string, string>;
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
}

describe('dashboard locales', () => {
  it('zh-CN and en have the same keys, none empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    expect(Object.entries({ ...zh, ...en }).filter(([, v]) => !v.trim())).toEqual([]);
  });

  it('each message has the same placeholders in both languages', () => {
    const differ = Object.keys(zh).filter((k) => placeholders(zh[k]!).join() !== placeholders(en[k] ?? '').join());
    expect(differ).toEqual([]);
  });

  it('every literal key the code passes to t() exists', () => {
    const used = new Set<string>();
    for (const f of sources(SRC)) for (const m of readFileSync(f, 'utf8').matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]!);
    expect(used.size).toBeGreaterThan(50);
    expect([...used].filter((k) => !(k in zh))).toEqual([]);
  });

  it('has a label for every alarm kind and agent state', async () => {
    const { ALARM_KINDS } = await import('../../../protocols/message.ts');
    const { AGENT_STATES } = await import('../../../gateway/store/agents.ts');
    expect(ALARM_KINDS.filter((k) => !zh[`kind.${k}`])).toEqual([]);
    expect(AGENT_STATES.filter((s) => !zh[`agentState.${s}`])).toEqual([]);
  });
});
