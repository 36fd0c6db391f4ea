/**
 * One bridged call under in-call control (issue 19 "In the call"): its mixing bridge, its live parties and
 * their roles, and the rule that ends it. A call ends when at most one party (supervisors do not count) is
 * left and no control operation is in progress: that is the plain two-party call (either side hangs up →
 * the other is hung up), and it lets a transfer or a conference carry on without the agent.
 */
import type { Leg } from '../calls.ts';
import type { CallParty, CallRecord } from '../ports.ts';

/** What a flow hands over once its agent leg and far leg are both in its mixing bridge. */
export interface BridgedCallSpec {
  /** The flow id (ticket callId; inbound/hotline: the caller's channel id). */
  callId: string;
  /** Flow kind: the `flow` of the records of legs the controls add. */
  flow: CallRecord['flow'];
  /** The mixing bridge both legs are in (recorded; the flow destroys it at its tear-down). */
  bridgeId: string;
  agent: Leg;
  far: Leg;
  /** Prefix of the idempotency keys of added legs (`<prefix>#xfer1`, `#conf2`, `#sup3`); default the callId. */
  keyPrefix?: string;
  /** Called with every leg the controls place, so the flow's tear-down waits for it (ActiveFlow.add). */
  adopt?(leg: Leg): void;
  alarmId?: string;
  elderId?: string;
  /** false: do not record this call (default true: every bridged call is recorded). */
  record?: boolean;
}

export type PartyRole = 'agent' | 'far' | 'third' | 'supervisor';

export interface Party {
  leg: Leg;
  role: PartyRole;
  party: CallParty;
}

/** A supervisor on the call: their leg, and for listen/whisper the snoop channel and its bridge. */
export interface SupervisorSession {
  id: string;
  mode: 'listen' | 'whisper' | 'barge';
  leg: Leg;
  by: string;
  snoopId?: string;
  bridgeId?: string;
}

export class ControlledCall {
  readonly parties = new Map<string, Party>();
  readonly supervisors = new Map<string, SupervisorSession>();
  /** Holding bridge of this call (created on the first hold). */
  holdBridgeId: string | undefined;
  readonly held = new Set<string>();
  /** Attended transfer in progress: the agent talks to `target` in `bridgeId`, the far party is held. */
  consult: { bridgeId: string; target: Leg; by: string } | undefined;
  ending = false;
  private busy = 0;
  private seq = 0;
  private resolveOver!: () => void;
  readonly over = new Promise<void>((r) => (this.resolveOver = r));

  constructor(
    readonly spec: BridgedCallSpec,
    private readonly onEnd: (call: ControlledCall) => Promise<void>,
  ) {}

  get id(): string {
    return this.spec.callId;
  }

  get bridgeId(): string {
    return this.spec.bridgeId;
  }

  /** A fresh idempotency key for a leg this call adds. */
  key(tag: string): string {
    return `${this.spec.keyPrefix ?? this.spec.callId}#${tag}${++this.seq}`;
  }

  next(): number {
    return ++this.seq;
  }

  add(leg: Leg, role: PartyRole): void {
    this.parties.set(leg.channelId, { leg, role, party: leg.record.party });
    void leg.ended.then(() => {
      this.parties.delete(leg.channelId);
      this.held.delete(leg.channelId);
      this.check();
    });
  }

  /** The live party in a role (the agent; the original far party), or a channel id of any party. */
  find(who: PartyRole | string): Party | undefined {
    const byId = this.parties.get(who);
    if (byId) return byId;
    return [...this.parties.values()].find((p) => p.role === who && p.leg.live);
  }

  /** Parties that keep the call alive (supervisors do not). */
  get talkers(): Party[] {
    return [...this.parties.values()].filter((p) => p.role !== 'supervisor' && p.leg.live && !p.leg.leaving);
  }

  /** Runs a control operation; the call cannot end under it (a party leaving is looked at afterwards). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.ending) throw new Error(`call ${this.id} is ending`);
    this.busy++;
    try {
      return await fn();
    } finally {
      this.busy--;
      this.check();
    }
  }

  check(): void {
    if (this.ending || this.busy > 0 || this.talkers.length > 1) return;
    this.ending = true;
    void this.onEnd(this).finally(() => this.resolveOver());
  }
}
