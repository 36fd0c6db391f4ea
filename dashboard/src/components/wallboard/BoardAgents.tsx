/** Agents by state: a count per state (the numbers), then who is in which state and for how long. */
import { fmtDuration, label, t } from '../../i18n';
import type { Board } from '../../wallboard';

/** The states in the order a supervisor reads them: who can take the next alarm first. */
const ORDER = ['ready', 'ringing', 'on_call', 'handling', 'wrap_up', 'not_ready', 'away'];

export function BoardAgents({ agents, now }: { agents: Board['agents']; now: number }) {
  const shown = ORDER.filter((s) => s === 'ready' || (agents.counts[s] ?? 0) > 0);
  const list = [...agents.list].sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || a.name.localeCompare(b.name));
  return (
    <div class="wb-agents-body">
      <div class="wb-states" data-testid="wb-agent-counts">
        {shown.map((s) => (
          <div key={s} class={`wb-state st-${s}`} data-state={s}>
            <strong>{agents.counts[s] ?? 0}</strong>
            <span>{label('agentState', s)}</span>
          </div>
        ))}
      </div>
      {list.length ? (
        <ul class="wb-agent-list">
          {list.map((a) => (
            <li key={a.userId} class={`st-${a.state}`}>
              <span class="name">{a.name}</span>
              <span class="state">{label('agentState', a.state)}</span>
              <span class="since">{fmtDuration((now - new Date(a.since).getTime()) / 1000)}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="wb-empty">{t('wallboard.agentsNone')}</p>
      )}
    </div>
  );
}
