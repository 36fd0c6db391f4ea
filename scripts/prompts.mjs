/**
 * Anxin's prompts from text (telephony/prompts/prompts.json), reproducibly: espeak-ng speaks each one (its Mandarin
 * voice for zh-CN) and sox turns it into the 8 kHz 16-bit mono WAV Asterisk plays without transcoding.
 *
 *   npm run prompts                         # into build/prompts/{zh,en}/anxin-*.wav
 *   npm run prompts -- --install DIR        # and into an Asterisk sounds directory: DIR/anxin-*.wav (the default
 *                                           # language, zh-CN), DIR/zh/ and DIR/en/ (unless en is a link to
 *                                           # another package's sounds, which is left alone)
 *   npm run prompts -- --out DIR --only anxin-press-1
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const USAGE = `usage: npm run prompts -- [--out DIR] [--install SOUNDS_DIR] [--only NAME]
  Speaks telephony/prompts/prompts.json with espeak-ng and sox into 8 kHz mono WAV (default build/prompts/{zh,en}/);
  --install also copies them into an Asterisk sounds directory (zh-CN as the default language, en/ for English).`;
let values;
try {
  ({ values } = parseArgs({ options: { out: { type: 'string' }, install: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } }, strict: true }));
} catch (e) {
  console.error(`${e.message.replace(/\. To specify a positional.*$/s, '')}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const out = values.out ?? join(root, 'build', 'prompts');
const texts = JSON.parse(readFileSync(join(root, 'telephony', 'prompts', 'prompts.json'), 'utf8'));
/** espeak-ng voice per language, and where each language goes */
const LANGS = { 'zh-CN': { voice: 'cmn', dir: 'zh' }, en: { voice: 'en-us', dir: 'en' } };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') throw new Error(`${cmd} is not installed (Debian: apt-get install espeak-ng sox)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

let n = 0;
for (const [name, byLang] of Object.entries(texts)) {
  if (name.startsWith('_') || (values.only && values.only !== name)) continue;
  for (const [lang, { voice, dir }] of Object.entries(LANGS)) {
    const text = byLang[lang];
    if (!text) throw new Error(`prompt ${name} has no ${lang} text`);
    mkdirSync(join(out, dir), { recursive: true });
    const raw = join(out, dir, `${name}.espeak.wav`);
    const wav = join(out, dir, `${name}.wav`);
    run('espeak-ng', ['-v', voice, '-s', lang === 'en' ? '150' : '165', '-w', raw, text]);
    // 8 kHz, 16-bit, mono; a little gain so the phone line does not swallow it; deterministic (no dither)
    run('sox', [raw, '-D', '-r', '8000', '-c', '1', '-b', '16', wav, 'gain', '-n', '-3']);
    run('rm', ['-f', raw]);
    n++;
  }
}
process.stdout.write(`${n} prompts written to ${out}\n`);

if (values.install) {
  const dest = values.install;
  for (const name of Object.keys(texts).filter((k) => !k.startsWith('_') && (!values.only || values.only === k))) {
    mkdirSync(join(dest, 'zh'), { recursive: true });
    copyFileSync(join(out, 'zh', `${name}.wav`), join(dest, `${name}.wav`));
    copyFileSync(join(out, 'zh', `${name}.wav`), join(dest, 'zh', `${name}.wav`));
    const en = join(dest, 'en');
    if (existsSync(en) && lstatSync(en).isSymbolicLink()) continue;
    mkdirSync(en, { recursive: true });
    copyFileSync(join(out, 'en', `${name}.wav`), join(en, `${name}.wav`));
  }
  process.stdout.write(`installed into ${dest}\n`);
}
