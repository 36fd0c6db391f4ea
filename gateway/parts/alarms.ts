/**
 * Part 4: the alarm engine. Journal replay first, so nothing committed before a crash is lost or doubled; then
 * escalation (kicked by `alarm.raised` on the bus), agent states, the user actions, and the engine's timer.
 */
import { join } from 'node:path';
import { startSingleton, type LeaderOptions, type Leader } from '../cluster/leader.js';
import { AgentStates } from '../alarms/agent-states.js';
import { AlarmActions } from '../alarms/alarm-actions.js';
import { AlarmService } from '../alarms/alarm-service.js';
import { CommitThread } from '../alarms/commit-thread.js';
import { EngineTimer } from '../alarms/engine-timer.js';
import { Escalator } from '../alarms/escalator.js';
import { Journal } from '../alarms/journal.js';
import { Presence } from '../alarms/presence.js';
import { RuleEngine } from '../alarms/rule-engine.js';
import { ALARM_POOL, type Db } from '../store/db.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface AlarmsPart extends Part {
  alarms: AlarmService;
  rules: RuleEngine;
  escalator: Escalator;
  agents: AgentStates;
  actions: AlarmActions;
  /** who has a dashboard open (WebSocket) */
  presence: Presence;
  /** starts a singleton (one node at a time, gateway/cluster/leader.ts) on this database; the caller stops it */
  singleton(name: string, work: Pick<LeaderOptions, 'onAcquire' | 'onLose'>): Promise<Leader>;
}

/**
 * `alarm`: where alarm commits go. With `databaseUrl` and ALARM_COMMIT_THREAD on, a thread of their own with its own
 * connections (commit-thread.ts); otherwise `db`, the pool reserved for them (store part). Everything else uses `db`.
 */
export async function startAlarms(ctx: PartContext, db: Db, alarm: { db: Db; databaseUrl?: string }, presence: Presence = new Presence()): Promise<AlarmsPart> {
  const { cfg, log, metrics, health, bus } = ctx;
  const stops = new Stops(log);
  return stops.starting(async () => {
    const singleton = (name: string, work: Pick<LeaderOptions, 'onAcquire' | 'onLose'>) => startSingleton(ctx, db, name, work);
    const journal = new Journal<never>(cfg.journalDir ?? join(cfg.dataDir, 'journal'));
    stops.add('journal', () => journal.close());
    const rules = new RuleEngine(db, log.child({ part: 'rules' }), cfg.timezone);
    // several nodes (issue 24): each merges the rule states the others saved (rule-engine.ts `shared`)
    rules.shared = Boolean(cfg.redisUrl);
    await rules.load();
    // a device connecting here may come from another node: its saved state is read before its next message
    if (rules.shared) stops.add('rules-arrived', bus.on('device.online', ({ device }) => rules.arrived(device.id)));
    let thread: CommitThread | undefined;
    if (cfg.alarmCommitThread && alarm.databaseUrl) {
      // commits (at most ALARM_POOL at once, fair-gate.ts), escalation's pass and an agent's offer beside them
      const t = new CommitThread({ databaseUrl: alarm.databaseUrl, poolSize: ALARM_POOL + 2 });
      t.start();
      stops.add('alarm-commit-thread', () => t.stop());
      thread = t;
    }
    const alarms = new AlarmService(alarm.db, bus, metrics, journal as never, rules, log.child({ part: 'alarms' }), thread && ((k, p) => thread.commit(k, p, presence.users())));
    await alarms.replay();
    const escalator = new Escalator(db, bus, metrics, log.child({ part: 'escalation' }), 1000, presence, thread);
    // A commit that created alarms: the first step runs at once. With the commit thread, the thread runs it by itself
    // right after the commit and sends what it did.
    if (thread) thread.onEscalated = (pass) => escalator.apply(pass);
    else stops.add('escalator-kick', bus.on('alarm.raised', () => escalator.kick()));
    escalator.start();
    stops.add('escalator', () => escalator.stop());
    const agents = new AgentStates(db, bus, cfg.wrapUpS, log.child({ part: 'agents' }));
    agents.onReady = (ids) => void escalator.offer(ids).catch((e) => log.warn({ err: e }, 'offering waiting alarms failed'));
    agents.start();
    stops.add('agent-states', () => agents.stop());
    const actions = new AlarmActions(db, bus, agents);
    // Time-based rules (silent devices, inactivity, missed tests), journal retries, rule-state persistence.
    // The time-based rules run on one node at a time (issue 24); a node taking over judges the other nodes' devices
    // by the rule states they saved, not by what it saw itself: with several nodes its ticks merge them (the first
    // one everything saved since this node started), keeping its own copy of the devices it handles.
    const engineTimer = new EngineTimer(db, alarms, rules, log);
    engineTimer.leading = false;
    engineTimer.start();
    stops.add('engine-timer', () => engineTimer.stop());
    let started = false;
    const timerLease = await singleton('alarm-engine-timer', {
      onAcquire: async () => {
        if (started && !rules.shared) await rules.load().catch((e) => log.warn({ err: e }, 'rule states not reloaded at takeover; judging by this node\'s own'));
        engineTimer.leading = true;
      },
      onLose: () => {
        engineTimer.leading = false;
      },
    });
    started = true;
    stops.add('engine-timer-lease', () => timerLease.stop());
    stops.add('rules-persist', () => rules.persist(true).catch(() => undefined));
    health.register('alarm_journal', () => ({ state: alarms.journalDepth > 0 ? 'degraded' : 'up', detail: `${alarms.journalDepth} alarm messages waiting for PostgreSQL` }));
    return { alarms, rules, escalator, agents, actions, presence, singleton, stop: () => stops.stop() };
  });
}
