/**
 * Where things are, whether the gateway runs from its sources (tsx, development and tests) or compiled into
 * dist/ (`npm start`): the project root is the nearest folder with package.json above this file.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
/** true when this is the compiled tree (dist/…/*.js), false under tsx */
export const COMPILED = import.meta.url.endsWith('.js');
