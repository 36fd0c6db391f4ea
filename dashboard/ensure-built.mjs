/**
 * Builds the dashboard when dashboard/dist is missing or older than its sources (`npm start` runs this first, so
 * `npm ci && npm start` on a fresh clone serves the dashboard). `node dashboard/ensure-built.mjs --force` always builds.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const built = join(root, 'dist', 'index.html');

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

const sources = Math.max(...['src', 'public', 'index.html', 'responder.html', 'vite.config.ts'].map((p) => newest(join(root, p))));
const output = existsSync(built) ? statSync(built).mtimeMs : 0;
const force = process.argv.includes('--force');

if (force || output === 0 || (sources > 0 && sources > output)) {
  const { build } = await import('vite');
  process.stdout.write(`Building the dashboard (${output === 0 ? 'not built yet' : force ? 'forced' : 'sources changed'})…\n`);
  await build({ root, logLevel: 'warn' });
  process.stdout.write('Dashboard built into dashboard/dist.\n');
}
