/** Polls until fn returns something truthy; throws after ms. For conditions reached asynchronously, never for timings. */
export async function until<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sum of a Prometheus metric's samples whose line contains `label`. */
export async function metricValue(registry: { metrics(): Promise<string> }, name: string, label = ''): Promise<number> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(label))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}
