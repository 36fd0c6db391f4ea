/**
 * In-memory implementations of telephony/'s ports (the gateway implements them with PostgreSQL and the alarm
 * engine), plus a polling `waitFor` for tests.
 */
import type {
  AgentPhoneChange,
  CallEnd,
  CallerMatch,
  CallRecord,
  CascadeAcceptance,
  OneKeyEvent,
  SupervisorAlert,
  TelephonyPorts,
} from '../../telephony/index.ts';

export interface StoredCall extends CallRecord {
  answeredAt?: Date;
  end?: CallEnd;
}

export class MemoryCallLog {
  readonly claimed = new Set<string>();
  readonly calls = new Map<string, StoredCall>();
  /** Every port call in order: `claim:<key>:<result>`, `create:<id>`, `answered:<id>`, `ended:<id>:<outcome>`. */
  readonly ops: string[] = [];

  async claim(key: string): Promise<boolean> {
    const ok = !this.claimed.has(key); // UNIQUE (idempotency_key)
    this.claimed.add(key);
    this.ops.push(`claim:${key}:${ok}`);
    return ok;
  }

  async create(r: CallRecord): Promise<void> {
    if (!this.claimed.has(r.idempotencyKey)) throw new Error(`create for an unclaimed key ${r.idempotencyKey}`);
    if (this.calls.has(r.channelId)) throw new Error(`duplicate call record ${r.channelId}`);
    this.calls.set(r.channelId, { ...r });
    this.ops.push(`create:${r.channelId}`);
  }

  async answered(channelId: string, at: Date): Promise<void> {
    const c = this.must(channelId);
    if (c.end) throw new Error(`answered after ended: ${channelId}`);
    c.answeredAt = at;
    this.ops.push(`answered:${channelId}`);
  }

  async ended(channelId: string, end: CallEnd): Promise<void> {
    const c = this.must(channelId);
    if (c.end) throw new Error(`ended twice: ${channelId}`);
    c.end = end;
    this.ops.push(`ended:${channelId}:${end.outcome}`);
  }

  /** The gateway at start (store/calls.ts endOrphanCalls): every record without an end is ended as lost. */
  endOrphans(at = new Date()): string[] {
    const ids: string[] = [];
    for (const c of this.calls.values()) {
      if (c.end) continue;
      c.end = { at, cause: null, causeText: 'gateway restarted during the call', outcome: 'lost', durationMs: at.getTime() - c.createdAt.getTime(), talkMs: 0 };
      ids.push(c.channelId);
    }
    this.ops.push(`orphans:${ids.length}`);
    return ids;
  }

  /** Issue 19: the record of a channel taken over after a restart is live again (only one ended as an orphan, or still live). */
  async reopen(channelId: string): Promise<StoredCall | undefined> {
    const c = this.calls.get(channelId);
    if (!c || (c.end && c.end.causeText !== 'gateway restarted during the call')) return undefined;
    delete c.end;
    this.ops.push(`reopen:${channelId}`);
    const { end: _end, ...rec } = c;
    return { ...rec };
  }

  private must(id: string): StoredCall {
    const c = this.calls.get(id);
    if (!c) throw new Error(`no call record ${id}`);
    return c;
  }

  get(channelId: string): StoredCall {
    return this.must(channelId);
  }

  byFlow(flowId: string): StoredCall[] {
    return [...this.calls.values()].filter((c) => c.flowId === flowId).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  byKey(key: string): StoredCall | undefined {
    return [...this.calls.values()].find((c) => c.idempotencyKey === key);
  }
}

export interface MemoryPorts {
  ports: TelephonyPorts;
  calls: MemoryCallLog;
  callers: Map<string, CallerMatch>;
  lookups: string[];
  pressed: OneKeyEvent[];
  repeated: OneKeyEvent[];
  accepted: CascadeAcceptance[];
  alerts: SupervisorAlert[];
  agentChanges: AgentPhoneChange[];
}

export function memoryPorts(callers: Record<string, CallerMatch> = {}): MemoryPorts {
  const m: MemoryPorts = {
    calls: new MemoryCallLog(),
    callers: new Map(Object.entries(callers)),
    lookups: [],
    pressed: [],
    repeated: [],
    accepted: [],
    alerts: [],
    agentChanges: [],
    ports: undefined as unknown as TelephonyPorts,
  };
  m.ports = {
    calls: m.calls,
    callers: {
      async lookupCaller(number) {
        m.lookups.push(number);
        return m.callers.get(number);
      },
    },
    oneKey: {
      async pressed(e) {
        m.pressed.push(e);
      },
      async repeated(e) {
        m.repeated.push(e);
      },
    },
    contacts: {
      async accepted(a) {
        m.accepted.push(a);
      },
    },
    supervisor: {
      async alert(a) {
        m.alerts.push(a);
      },
    },
    agents: {
      async phoneStateChanged(c) {
        m.agentChanges.push(c);
      },
    },
  };
  return m;
}

/** Polls `fn` until it returns a truthy value. */
export async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
