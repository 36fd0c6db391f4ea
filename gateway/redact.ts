/** A URL fit for logs and the start summary: its password replaced by `***` (user, host and path kept). */
export function redactUrl(u: string): string {
  try {
    const x = new URL(u);
    if (x.password) x.password = '***';
    return x.toString();
  } catch {
    return '(unparseable)';
  }
}
