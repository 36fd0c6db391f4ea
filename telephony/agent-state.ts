/**
 * Agent phone state from the channel events of the legs the hub places to agents' extensions:
 * a leg being dialled or ringing → `ringing`, an answered leg → `on_call`, no leg → `idle`.
 * Changes go through AgentPhonePort (in order per extension); the gateway maps them to
 * ready / not ready / on call / wrap-up.
 */
import { errText, type TelephonyLog } from './log.ts';
import type { AgentPhoneChange, AgentPhonePort, AgentPhoneState } from './ports.ts';

export type AgentLegState = 'ringing' | 'up' | 'ended';

interface ExtState {
  agentId?: string;
  legs: Map<string, 'ringing' | 'up'>;
  state: AgentPhoneState;
  chain: Promise<void>;
}

export class AgentPhoneTracker {
  private readonly byExt = new Map<string, ExtState>();

  constructor(
    private readonly port: AgentPhonePort,
    private readonly log: TelephonyLog,
    private readonly onChange: (c: AgentPhoneChange) => void,
  ) {}

  state(extension: string): AgentPhoneState {
    return this.byExt.get(extension)?.state ?? 'idle';
  }

  update(extension: string, agentId: string | undefined, channelId: string, leg: AgentLegState): void {
    let s = this.byExt.get(extension);
    if (!s) {
      s = { legs: new Map(), state: 'idle', chain: Promise.resolve() };
      if (agentId !== undefined) s.agentId = agentId;
      this.byExt.set(extension, s);
    }
    if (agentId !== undefined) s.agentId = agentId;
    if (leg === 'ended') s.legs.delete(channelId);
    else s.legs.set(channelId, leg);
    const states = [...s.legs.values()];
    const next: AgentPhoneState = states.includes('up') ? 'on_call' : states.length ? 'ringing' : 'idle';
    if (next === s.state) return;
    const change: AgentPhoneChange = { extension, state: next, previous: s.state, channelId, at: new Date() };
    if (s.agentId !== undefined) change.agentId = s.agentId;
    s.state = next;
    this.onChange(change);
    s.chain = s.chain
      .then(() => this.port.phoneStateChanged(change))
      .catch((err: unknown) => this.log.error({ err: errText(err), extension, state: next }, 'telephony: agents.phoneStateChanged failed'));
  }
}
