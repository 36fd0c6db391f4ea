/**
 * Compiles the server (gateway/, protocols/, alarms/, telephony/, workorders/, sms/, care/) into dist/ when dist is missing or older than its
 * sources, so `npm start` runs plain node on JavaScript (issue 16). `--force` always builds. tsx stays for
 * development, the tests and the simulators' command lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'gateway', 'main.js');

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return path.endsWith('.ts') || path.endsWith('.json') ? st.mtimeMs : 0;
  let m = 0;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

const sources = Math.max(...['gateway', 'protocols', 'alarms', 'telephony', 'workorders', 'sms', 'care', 'tsconfig.json', 'tsconfig.build.json'].map((p) => newest(join(root, p))));
const built = existsSync(out) ? statSync(out).mtimeMs : 0;
const force = process.argv.includes('--force');

if (force || built === 0 || sources > built) {
  process.stdout.write(`Compiling the gateway into dist/ (${built === 0 ? 'not built yet' : force ? 'forced' : 'sources changed'})…\n`);
  rmSync(join(root, 'dist'), { recursive: true, force: true }); // no stale files of deleted sources
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('The gateway did not compile (see above).\n');
    process.exit(r.status ?? 1);
  }
}
