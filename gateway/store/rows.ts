/** snake_case rows → camelCase objects, one place. */
export function camel<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  return out as T;
}

export function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Builds `SET a = $2, b = $3` from a partial object with whitelisted keys. */
export function setClause(patch: Record<string, unknown>, allowed: readonly string[], offset = 1): { sql: string; values: unknown[] } {
  const keys = Object.keys(patch).filter((k) => allowed.includes(k) && patch[k] !== undefined);
  return {
    sql: keys.map((k, i) => `${snake(k)} = $${i + offset}`).join(', '),
    values: keys.map((k) => patch[k]),
  };
}
