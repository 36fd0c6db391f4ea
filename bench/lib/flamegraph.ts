/**
 * Flame graphs for `npm run bench -- --profile`. node --cpu-prof writes a gateway's profile into bench/profiles/
 * when the process exits (CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile, one per thread that ran JavaScript).
 * After each scenario the new ones are renamed after it (steady.CPU….cpuprofile) and 0x draws each as a flame
 * graph beside it (steady.CPU….html): one self-contained page, its viewer and the profile's tree inlined, nothing
 * fetched when it is opened. Frames are named `function file:line`, as the profile has them.
 */
import { readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The .cpuprofile files in `dir` now (none if it does not exist yet). */
export function profilesIn(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')));
  } catch {
    return new Set();
  }
}

/**
 * Names the profiles that appeared in `dir` since `before` after `scenario` and draws a flame graph of each; returns
 * the pages written. A profile that cannot be drawn is logged and kept: the measurements do not depend on it.
 */
export async function flameGraphs(dir: string, before: Set<string>, scenario: string, log: (line: string) => void): Promise<string[]> {
  const out: string[] = [];
  // loaded here, not at the top: 0x brings browserify along, which a run without --profile has no use for
  let zeroEks: typeof import('0x').default;
  try {
    zeroEks = (await import('0x')).default;
  } catch (e) {
    log(`  no flame graphs: 0x could not be loaded (${(e as Error).message}); the profiles are kept`);
    return out;
  }
  for (const f of [...profilesIn(dir)].filter((x) => !before.has(x) && x.startsWith('CPU.')).sort()) {
    const base = `${scenario}.${f.replace(/\.cpuprofile$/, '')}`;
    const profile = join(dir, `${base}.cpuprofile`);
    const page = join(dir, `${base}.html`);
    try {
      renameSync(join(dir, f), profile);
      const t0 = performance.now();
      await zeroEks({ visualizeCpuProfile: profile, outputHtml: page, name: base, title: `${scenario}: ${base}.cpuprofile`, workingDir: dir });
      log(`  flame graph ${page} (${mib(page)} MiB, from ${mib(profile)} MiB of profile in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      out.push(page);
    } catch (e) {
      log(`  no flame graph for ${f}: ${(e as Error).message}`);
    }
  }
  return out;
}

const mib = (path: string) => (statSync(path).size / 2 ** 20).toFixed(1);
