import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repo root (tests/helpers/ → ../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The shared vectors live beside the repo, never copied into it. */
export const VECTORS_PATH = resolve(ROOT, '..', 'shared', 'vectors', 'device-frames.json');

/**
 * Loads ../shared/vectors/device-frames.json at run time.
 * Outside CI a missing file returns null (the caller skips with a message); with CI=true it throws.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadVectors(): any | null {
  if (!existsSync(VECTORS_PATH)) {
    if (process.env.CI === 'true') throw new Error(`CI=true but the shared vectors are missing: ${VECTORS_PATH}`);
    console.warn(`skipping vector tests: ${VECTORS_PATH} not found (../shared is absent outside CI)`);
    return null;
  }
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8'));
}

/**
 * Reads a design note of ../shared/design (e.g. `dc09.md`, whose §9 holds the DC-09 vectors) at run time, the same
 * way: outside CI a missing file returns null (the caller skips, saying `what`); with CI=true it throws.
 */
export function loadDesignNote(name: string, what: string): string | null {
  const path = resolve(ROOT, '..', 'shared', 'design', name);
  if (!existsSync(path)) {
    if (process.env.CI === 'true') throw new Error(`CI=true but the design note ${name} is missing: ${path}`);
    console.warn(`skipping ${what}: ${path} not found (../shared is absent outside CI)`);
    return null;
  }
  return readFileSync(path, 'utf8');
}
