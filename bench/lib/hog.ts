/**
 * A CPU hog for the contended scenarios: a separate node process that spins in a busy loop on one core, as another
 * program on a shared host would. It is not pinned and not niced: the kernel shares the cores between it and the
 * gateway, PostgreSQL, influxd and the fleet as it would with any neighbour.
 */
import { spawn } from 'node:child_process';
import { procCpuSeconds, round } from './stats.js';

// Ends by itself past `maxMs`, or when the bench process is gone (its parent pid changes): a bench that dies
// must not leave a core spinning. Both are checked between rounds of the loop (each a few ms), since a busy loop
// never gives the event loop a turn.
const SPIN = `
const parent = process.ppid;
const end = Date.now() + Number(process.argv[1]);
let x = 1;
for (;;) {
  for (let i = 0; i < 5e6; i++) x = (x * 1103515245 + 12345) | 0;
  if (Date.now() > end || process.ppid !== parent) process.exit(x === 42 ? 1 : 0);
}
`;

export interface HogUse {
  pid: number;
  /** how long it ran, s */
  seconds: number;
  /** its CPU (user + system), s: how much of a core it actually took */
  cpuSeconds: number;
  /** cpuSeconds / seconds, % of one core */
  cpuPct: number;
}

export interface Hog {
  pid: number;
  /** CPU seconds and wall time since it started, without stopping it */
  use(): HogUse;
  /** stops it (SIGKILL) and returns what it used */
  stop(): Promise<HogUse>;
}

export async function startHog(maxMs: number): Promise<Hog> {
  const proc = spawn(process.execPath, ['-e', SPIN, String(Math.round(maxMs))], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    proc.once('spawn', () => resolve());
    proc.once('error', reject);
  });
  const pid = proc.pid!;
  const t0 = performance.now();
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let last: HogUse | undefined;
  const use = (): HogUse => {
    // once it has exited /proc has nothing: keep the last reading
    if (proc.exitCode !== null || proc.signalCode !== null) return last ?? { pid, seconds: 0, cpuSeconds: 0, cpuPct: 0 };
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = procCpuSeconds(pid);
    last = { pid, seconds: round(seconds, 1)!, cpuSeconds: round(cpuSeconds, 2)!, cpuPct: seconds > 0 ? Math.round((cpuSeconds / seconds) * 100) : 0 };
    return last;
  };
  return {
    pid,
    use,
    async stop() {
      const u = use();
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      return u;
    },
  };
}
