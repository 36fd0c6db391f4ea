/** The supervisor's view (班长): every agent's state, the queue with the age of each unanswered alarm, today's rates. */
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api';
import { fmtDuration, fmtPercent, label, t } from '../i18n';
import { actorName, elderName, isWaiting, onAlarmUpdate, openFile, refreshAgents } from '../session';
import { store, useNow, useStore } from '../store';
import type { Stats } from '../types';
import { KindIcon } from './icons';
import { useQueue } from './Queue';
import { Reassign } from './Reassign';
import { ForceState, SupervisorCalls } from './SupervisorCalls';

const TARGET60 = 0.975;
const TARGET180 = 0.99;

export function Supervisor() {
  const [stats, setStats] = useState<Stats | null>(null);
  const agents = useStore((s) => s.agents);
  const drops = useStore((s) => s.drops);
  useStore((s) => s.elders);
  const list = useQueue();
  const now = useNow();

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => void get<Stats>('/api/alarms/stats').then(setStats, () => undefined);
    load();
    void refreshAgents();
    const every = setInterval(load, 30_000);
    const agentsEvery = setInterval(() => void refreshAgents(), 60_000);
    const off = onAlarmUpdate(() => {
      clearTimeout(timer);
      timer = setTimeout(load, 1500);
    });
    return () => {
      clearInterval(every);
      clearInterval(agentsEvery);
      clearTimeout(timer);
      off();
    };
  }, []);

  const waiting = list.filter(isWaiting);
  const oldestWaiting = waiting.reduce((m, a) => Math.max(m, (now - new Date(a.firstAt).getTime()) / 1000), 0);
  const rows = [...agents.values()].filter((a) => a.role !== 'installer').sort((a, b) => Number(b.signedIn) - Number(a.signedIn) || (a.displayName ?? '').localeCompare(b.displayName ?? ''));
  const ready = rows.filter((a) => a.signedIn && a.state === 'ready').length;

  return (
    <main class="supervisor" data-testid="supervisor">
      <section class="cards">
        <Card title={t('supervisor.rate60')} value={fmtPercent(stats?.rate60)} target={t('supervisor.target', { p: '97.5%' })} bad={stats?.rate60 !== null && stats?.rate60 !== undefined && stats.rate60 < TARGET60} testid="rate60" />
        <Card title={t('supervisor.rate180')} value={fmtPercent(stats?.rate180)} target={t('supervisor.target', { p: '99%' })} bad={stats?.rate180 !== null && stats?.rate180 !== undefined && stats.rate180 < TARGET180} testid="rate180" />
        <Card title={t('supervisor.today')} value={String(stats?.total ?? '—')} target={t('supervisor.todayNote', { a: stats?.within60 ?? 0, b: stats?.within180 ?? 0 })} testid="total" />
        <Card title={t('supervisor.waiting')} value={String(waiting.length)} target={waiting.length ? t('supervisor.oldest', { age: fmtDuration(oldestWaiting) }) : t('supervisor.none')} bad={oldestWaiting > 60} testid="waiting" />
        <Card title={t('supervisor.ready')} value={`${ready} / ${rows.filter((a) => a.signedIn).length}`} target={t('supervisor.readyNote')} bad={ready === 0 && waiting.length > 0} testid="ready" />
      </section>
      <SupervisorCalls />
      <div class="sup-grid">
        <section class="box" aria-label={t('supervisor.agents')}>
          <h2>{t('supervisor.agents')}</h2>
          <table class="table" data-testid="agents-table">
            <thead>
              <tr>
                <th>{t('supervisor.agent')}</th>
                <th>{t('agent.extension')}</th>
                <th>{t('agent.state')}</th>
                <th>{t('supervisor.inState')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={5} class="muted">
                    {t('supervisor.noAgents')}
                  </td>
                </tr>
              )}
              {rows.map((a) => (
                <tr key={a.userId} data-testid="agent-row" data-user-id={a.userId} data-state={a.signedIn ? a.state : 'signed_out'}>
                  <td>
                    <strong class="agent-name" title={a.displayName || a.username}>
                      {a.displayName || a.username}
                    </strong>
                    {a.role && a.role !== 'agent' && <small> · {label('role', a.role)}</small>}
                  </td>
                  <td class="nowrap">{a.extension ?? '—'}</td>
                  <td class="nowrap">
                    <span class={`state-pill st-${a.signedIn ? a.state : 'away'}`}>{a.signedIn ? label('agentState', a.state) : t('agent.signedOut')}</span>
                  </td>
                  <td class="num">{a.since ? fmtDuration((now - new Date(a.since).getTime()) / 1000) : '—'}</td>
                  <td>{a.signedIn && a.userId !== store.get().user?.id && <ForceState agent={a} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="box" aria-label={t('queue.title')}>
          <h2>
            {t('queue.title')} <small class="muted">{t('supervisor.queueNote', { n: list.length })}</small>
          </h2>
          <table class="table" data-testid="sup-queue">
            <thead>
              <tr>
                <th>{t('supervisor.priority')}</th>
                <th>{t('supervisor.kind')}</th>
                <th>{t('supervisor.elder')}</th>
                <th>{t('supervisor.state')}</th>
                <th>{t('supervisor.owner')}</th>
                <th>{t('supervisor.unanswered')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.length === 0 && (
                <tr>
                  <td colSpan={7} class="muted">
                    {t('queue.empty')}
                  </td>
                </tr>
              )}
              {list.map((a) => {
                const w = isWaiting(a);
                const age = (now - new Date(a.firstAt).getTime()) / 1000;
                return (
                  <tr
                    key={a.id}
                    class={`clickable ${w ? 'waiting' : ''}`}
                    onClick={() => {
                      openFile({ alarmId: a.id, elderId: a.elderId ?? undefined, reason: 'click' });
                      store.set({ view: 'desk' });
                    }}
                    data-testid="sup-queue-row"
                  >
                    <td>
                      <span class={`prio-pill p${a.priority}`}>P{a.priority}</span>
                    </td>
                    <td class="kind-cell">
                      <KindIcon kind={a.kind} size={20} /> {label('kind', a.kind)}
                    </td>
                    <td>{elderName(a.elderId) ?? '—'}</td>
                    <td>{label('state', a.state)}</td>
                    <td>{a.ownerId !== null ? actorName(a.ownerId) : '—'}</td>
                    <td class={`num ${w && age > 60 ? 'late' : ''}`}>{w ? fmtDuration(age) : '—'}</td>
                    <td>
                      <Reassign alarm={a} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      </div>
      <p class="muted small" data-testid="sup-footer">
        {t('supervisor.footer', { since: stats?.since ? new Date(stats.since).toLocaleString(store.get().locale) : '—', drops })}
      </p>
    </main>
  );
}

function Card({ title, value, target, bad, testid }: { title: string; value: string; target: string; bad?: boolean; testid: string }) {
  return (
    <div class={`card ${bad ? 'bad' : ''}`} data-testid={`card-${testid}`}>
      <span class="card-title">{title}</span>
      <strong class="card-value">{value}</strong>
      <span class="card-note">{target}</span>
    </div>
  );
}
