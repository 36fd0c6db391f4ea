/**
 * In-memory hotline ports (issue 19) on top of telephony-memory.ts: an agent pool with the states the gateway
 * keeps (ready / not ready / signed out, idle since), the ACD methods of `agents`, and `hotline` recording
 * every call. The gateway implements the same from agent states and the alarm engine.
 */
import type { AgentMissReason, AgentPick, AgentRing, HotlineAbandon, HotlineCallerMatch, HotlineEmergency, HotlineOverflow, HotlineVoicemail } from '../../telephony/index.ts';
import type { MemoryPorts } from './telephony-memory.ts';

export interface PoolAgent {
  userId: string;
  extension: string;
  state: 'ready' | 'not_ready' | 'signed_out';
  idleSince: number;
  reason?: string;
}

export interface HotlineMemory {
  agents: Map<string, PoolAgent>;
  callers: Map<string, HotlineCallerMatch>;
  picks: { exclude: string[]; picked?: string }[];
  ringing: AgentRing[];
  missed: { userId: string; reason: AgentMissReason }[];
  emergencies: HotlineEmergency[];
  abandoned: HotlineAbandon[];
  overflows: HotlineOverflow[];
  voicemails: HotlineVoicemail[];
  /** Sets the pool: [userId, extension, state][], idle order = list order (first = longest idle). */
  setAgents(list: [string, string, PoolAgent['state']][]): void;
  ready(userId: string): void;
}

export function addHotlinePorts(m: MemoryPorts): HotlineMemory {
  const h: HotlineMemory = {
    agents: new Map(),
    callers: new Map(),
    picks: [],
    ringing: [],
    missed: [],
    emergencies: [],
    abandoned: [],
    overflows: [],
    voicemails: [],
    setAgents(list) {
      h.agents.clear();
      const now = Date.now();
      list.forEach(([userId, extension, state], i) => h.agents.set(userId, { userId, extension, state, idleSince: now - 100_000 + i * 1000 }));
    },
    ready(userId) {
      const a = h.agents.get(userId);
      if (a) Object.assign(a, { state: 'ready', idleSince: Date.now() });
    },
  };
  const agents = m.ports.agents;
  agents.pickAgent = async ({ exclude }) => {
    const ready = [...h.agents.values()].filter((a) => a.state === 'ready' && !exclude.includes(a.userId)).sort((a, b) => a.idleSince - b.idleSince);
    const a = ready[0];
    h.picks.push(a ? { exclude, picked: a.userId } : { exclude });
    return a ? ({ userId: a.userId, extension: a.extension } satisfies AgentPick) : undefined;
  };
  agents.anySignedIn = async () => [...h.agents.values()].some((a) => a.state !== 'signed_out');
  agents.ringing = async (r) => {
    h.ringing.push(r);
    const a = h.agents.get(r.userId);
    if (a) Object.assign(a, { state: 'not_ready', reason: 'ringing' }); // 振铃: not offered another call
  };
  agents.missed = async (userId, reason) => {
    h.missed.push({ userId, reason });
    const a = h.agents.get(userId);
    if (a) Object.assign(a, { state: 'not_ready', reason: `missed call: ${reason}` }); // 置忙 with a reason
  };
  m.ports.hotline = {
    matchCaller: async (number) => h.callers.get(number),
    emergency: async (e) => void h.emergencies.push(e),
    abandoned: async (e) => void h.abandoned.push(e),
    overflow: async (e) => void h.overflows.push(e),
    voicemail: async (v) => void h.voicemails.push(v),
  };
  return h;
}
