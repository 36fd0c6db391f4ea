/**
 * Issue 17: Anxin's prompts are generated reproducibly from text (espeak-ng + sox) as 8 kHz 16-bit mono WAV, in
 * zh-CN and en, and every sound the flows play by default has a prompt.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/vectors.js';
import { missingTools } from '../../helpers/tools.js';

const prompts = JSON.parse(readFileSync(join(ROOT, 'telephony/prompts/prompts.json'), 'utf8')) as Record<string, Record<string, string>>;
const skip = missingTools(['espeak-ng', 'sox'], 'espeak-ng sox');

const generate = (out: string, only: string) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/prompts.mjs'), '--out', out, '--only', only], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
};
const md5 = (f: string) => createHash('md5').update(readFileSync(f)).digest('hex');

describe('prompts', () => {
  it('every sound the flows play by default has zh-CN and English text', () => {
    const src = readFileSync(join(ROOT, 'telephony/index.ts'), 'utf8');
    const used = [...src.matchAll(/sound:(anxin-[a-z0-9-]+)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(3);
    for (const name of used) {
      expect(prompts[name], name).toBeDefined();
      expect(prompts[name]!['zh-CN'], name).toMatch(/[\u4e00-\u9fff]/);
      expect(prompts[name]!.en, name).toMatch(/[a-z]/);
    }
  });

  it.skipIf(skip)('are 8 kHz 16-bit mono WAV, the same bytes every time', () => {
    const a = mkdtempSync(join(tmpdir(), 'anxin-prompts-'));
    const b = mkdtempSync(join(tmpdir(), 'anxin-prompts-'));
    generate(a, 'anxin-press-1');
    generate(b, 'anxin-press-1');
    for (const lang of ['zh', 'en']) {
      const wav = readFileSync(join(a, lang, 'anxin-press-1.wav'));
      expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
      expect(wav.toString('ascii', 8, 12)).toBe('WAVE');
      expect(wav.readUInt16LE(20)).toBe(1); // PCM
      expect(wav.readUInt16LE(22)).toBe(1); // mono
      expect(wav.readUInt32LE(24)).toBe(8000);
      expect(wav.readUInt16LE(34)).toBe(16);
      expect(wav.length).toBeGreaterThan(8000); // more than half a second of speech
      expect(md5(join(b, lang, 'anxin-press-1.wav'))).toBe(md5(join(a, lang, 'anxin-press-1.wav')));
    }
  });
});
