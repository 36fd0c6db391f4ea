export type PartState = 'up' | 'down' | 'degraded' | 'disabled';
export interface PartHealth {
  state: PartState;
  detail?: string;
  /** embedded, simulated or external */
  mode?: string;
}

/** Each part registers a probe; /healthz reads them all. Critical parts make the whole state red. */
export class Health {
  /** the node's name (NODE_ID), shown by /healthz */
  node?: string;
  private probes = new Map<string, { critical: boolean; probe: () => PartHealth | Promise<PartHealth> }>();

  register(name: string, probe: () => PartHealth | Promise<PartHealth>, critical = true): void {
    this.probes.set(name, { critical, probe });
  }

  async report(): Promise<{ ok: boolean; parts: Record<string, PartHealth> }> {
    const parts: Record<string, PartHealth> = {};
    let ok = true;
    for (const [name, { critical, probe }] of this.probes) {
      let h: PartHealth;
      try {
        h = await Promise.race([
          Promise.resolve(probe()),
          new Promise<PartHealth>((r) => setTimeout(() => r({ state: 'down', detail: 'health probe timed out' }), 2000).unref()),
        ]);
      } catch (e) {
        h = { state: 'down', detail: (e as Error).message };
      }
      parts[name] = h;
      if (critical && h.state === 'down') ok = false;
    }
    return { ok, parts };
  }
}

/** A connection server's part: `degraded` from 90 % of its connection cap (new devices may soon be refused). */
export function capacityHealth(s: { connectionCount: number; capacity: number; unidentifiedCount?: number }): PartHealth {
  const n = s.connectionCount;
  const near = n >= Math.ceil(s.capacity * 0.9);
  const unidentified = s.unidentifiedCount === undefined ? '' : `, ${s.unidentifiedCount} not identified yet`;
  return { state: near ? 'degraded' : 'up', detail: `${n} of ${s.capacity} connections${unidentified}${near ? ' (near the cap)' : ''}` };
}
