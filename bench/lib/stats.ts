/** Percentiles, CPU and limits for the bench. */
import { readFileSync, readdirSync } from 'node:fs';

/** Nearest-rank percentile of unsorted values; undefined when there are none. */
export function percentile(values: number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const k = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[k];
}

export interface Dist {
  n: number;
  p50?: number;
  p99?: number;
  max?: number;
}

export function dist(values: number[]): Dist {
  const v = values.filter((x) => Number.isFinite(x));
  return { n: v.length, p50: round(percentile(v, 50)), p99: round(percentile(v, 99)), max: round(v.length ? Math.max(...v) : undefined) };
}

export function round(x: number | undefined, digits = 1): number | undefined {
  if (x === undefined || !Number.isFinite(x)) return undefined;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Jiffies of the whole machine (all cores): busy and total, from /proc/stat. */
export function machineCpu(): { busy: number; total: number; cores: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const f = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total, cores: lines.filter((l) => /^cpu\d/.test(l)).length };
}

/** Machine CPU use between two machineCpu() readings, in cores (0..cores). */
export function coresBusy(a: ReturnType<typeof machineCpu>, b: ReturnType<typeof machineCpu>): number {
  const total = b.total - a.total;
  return total > 0 ? ((b.busy - a.busy) / total) * a.cores : 0;
}

const CLK_TCK = 100;

/** CPU seconds (user + system) used so far by processes, by pid, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Pids whose command name is `comm` (e.g. postgres), read from /proc; nothing is signalled. */
export function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The open-files limit this process (and its children) has: soft and hard. */
export function fdLimit(): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
