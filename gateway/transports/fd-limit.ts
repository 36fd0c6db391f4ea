import { readFileSync } from 'node:fs';

/**
 * This process's soft open-files limit (one descriptor per device connection), from /proc/self/limits;
 * Infinity where that cannot be read (not Linux) or the limit is unlimited.
 */
export function openFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
