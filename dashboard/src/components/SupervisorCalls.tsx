/**
 * The supervisor's call controls (班长, issue 19): every agent's live call with 监听 (listen), 耳语 (whisper) and
 * 强插 (barge); one session at a time, shown with 结束 to end it. And forcing an agent's state (置闲 / 置忙 / 离席 /
 * 话后整理) with a reason, kept in the audit log.
 */
import { useEffect, useState } from 'preact/hooks';
import { HttpError } from '../api';
import { endSupervision, forceAgentState, liveFlows, supervise, switchSupervision, useSupervision, type LiveFlowBrief } from '../call-log';
import { fmtDuration, label, t } from '../i18n';
import { elderName, ensureElder, errorText, onWs, refreshAgents } from '../session';
import { notify, useNow, useStore } from '../store';
import { SETTABLE_STATES, type AgentStatus, type SettableState, type SuperviseMode } from '../types';
import { Modal, ReasonTail } from './Dialogs';

const MODES: SuperviseMode[] = ['listen', 'whisper', 'barge'];

/** The live calls (from the call records), refreshed on every pushed call state and every few seconds. */
function useLiveFlows(): LiveFlowBrief[] {
  const [flows, setFlows] = useState<LiveFlowBrief[]>([]);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      void liveFlows().then(
        (f) => {
          if (!alive) return;
          setFlows(f);
          for (const x of f) if (x.elderId !== null) void ensureElder(x.elderId);
        },
        () => undefined,
      );
    load();
    const every = setInterval(load, 5000);
    const off = onWs('call', () => {
      clearTimeout(timer);
      timer = setTimeout(load, 400);
    });
    return () => {
      alive = false;
      clearInterval(every);
      clearTimeout(timer);
      off();
    };
  }, []);
  return flows;
}

const modeLabel = (m: SuperviseMode) => t(m === 'listen' ? 'supervisor.listen' : m === 'whisper' ? 'supervisor.whisper' : 'supervisor.barge');

export function SupervisorCalls() {
  const flows = useLiveFlows();
  const agents = useStore((s) => s.agents);
  const me = useStore((s) => s.user);
  useStore((s) => s.elders);
  const session = useSupervision();
  const now = useNow();
  const [busy, setBusy] = useState(false);
  const name = (id: number) => {
    const a = agents.get(id);
    return a?.displayName || a?.username || t('actor.agent', { id });
  };
  const rows = flows.flatMap((f) => f.agentIds.filter((id) => id !== me?.id).map((agentId) => ({ f, agentId })));

  const start = async (f: LiveFlowBrief, agentId: number, mode: SuperviseMode) => {
    setBusy(true);
    try {
      let s;
      try {
        s = await supervise(f.flowId, agentId, mode);
      } catch (e) {
        if (!(e instanceof HttpError && e.code === 'no_extension')) throw e;
        // not signed in to a phone: ask which one to ring
        const ext = window.prompt(t('supervisor.extensionPrompt'))?.trim();
        if (!ext) return;
        s = await supervise(f.flowId, agentId, mode, ext);
      }
      if (s.status === 'not_reached') notify('error', t('supervisor.notReached', { mode: modeLabel(mode) }));
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const change = async (mode: SuperviseMode) => {
    setBusy(true);
    try {
      await switchSupervision(mode);
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const end = async () => {
    setBusy(true);
    try {
      await endSupervision();
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="box sup-calls" aria-label={t('supervisor.liveCalls')} data-testid="sup-calls">
      <h2>
        {t('supervisor.liveCalls')} <small class="muted">{t('supervisor.liveCallsNote')}</small>
      </h2>
      {session && (
        <div class={`sup-session mode-${session.mode}`} data-testid="sup-session" data-mode={session.mode} data-call-id={session.callId}>
          <strong>{t('supervisor.sessionOn', { mode: modeLabel(session.mode), name: name(session.agentId) })}</strong>
          <button type="button" class="btn danger small" disabled={busy} onClick={() => void end()} data-testid="sup-session-end">
            {t('supervisor.endSession')}
          </button>
        </div>
      )}
      <table class="table" data-testid="sup-calls-table">
        <thead>
          <tr>
            <th>{t('supervisor.agent')}</th>
            <th>{t('supervisor.call')}</th>
            <th>{t('callLog.elder')}</th>
            <th>{t('supervisor.callTime')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={5} class="muted">
                {t('supervisor.noLiveCalls')}
              </td>
            </tr>
          )}
          {rows.map(({ f, agentId }) => {
            const mine = session?.callId === f.flowId;
            return (
              <tr key={`${f.flowId}:${agentId}`} class={mine ? 'selected' : ''} data-testid="sup-call-row" data-call-id={f.flowId} data-agent-id={agentId}>
                <td>
                  <strong class="agent-name">{name(agentId)}</strong>
                </td>
                <td>
                  <span class="cell-clip">
                    {f.party ? label('callParty', f.party) : '—'} <span class="phone">{f.number ?? ''}</span>
                  </span>
                  {!f.up && <small class="muted"> · {t('call.liveRinging')}</small>}
                </td>
                <td>
                  <span class="cell-clip">{f.elderId !== null ? (elderName(f.elderId) ?? `#${f.elderId}`) : '—'}</span>
                </td>
                <td class="num">{fmtDuration((now - new Date(f.since).getTime()) / 1000)}</td>
                <td class="nowrap row-actions">
                  {mine ? (
                    MODES.map((m) =>
                      m === session.mode ? (
                        <span key={m} class="state-pill st-on_call">{modeLabel(m)}</span>
                      ) : (
                        <button key={m} type="button" class="btn ghost small" disabled={busy} onClick={() => void change(m)} title={t('supervisor.switchTo', { mode: modeLabel(m) })} data-testid={`sup-switch-${m}`}>
                          {t('supervisor.switchTo', { mode: modeLabel(m) })}
                        </button>
                      ),
                    )
                  ) : (
                    MODES.map((m) => (
                      <button key={m} type="button" class={`btn small sup-${m}`} disabled={busy || !!session || !f.up} onClick={() => void start(f, agentId, m)} data-testid={`sup-${m}`}>
                        {modeLabel(m)}
                      </button>
                    ))
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** 强制 (force) an agent's state: a button opening a dialog with the state and the reason. */
export function ForceState({ agent }: { agent: AgentStatus }) {
  const [open, setOpen] = useState(false);
  const who = agent.displayName || agent.username || t('actor.agent', { id: agent.userId });
  return (
    <>
      <button type="button" class="btn small" disabled={!agent.signedIn} onClick={() => setOpen(true)} data-testid="force-state">
        {t('supervisor.force')}
      </button>
      {open && <ForceDialog agent={agent} who={who} onClose={() => setOpen(false)} />}
    </>
  );
}

function ForceDialog({ agent, who, onClose }: { agent: AgentStatus; who: string; onClose: () => void }) {
  const [state, setState] = useState<SettableState>(agent.state === 'ready' ? 'not_ready' : 'ready');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ok = reason.trim().length >= 2;
  return (
    <Modal title={t('supervisor.forceTitle', { name: who, state: label('agentState', state) })} onCancel={onClose} testid="force-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (!ok) return;
          setBusy(true);
          setError(null);
          try {
            await forceAgentState(agent.userId, state, reason.trim());
            notify('info', t('supervisor.forced', { name: who, state: label('agentState', state) }));
            void refreshAgents();
            onClose();
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="states force-states" role="radiogroup" aria-label={t('agent.state')}>
          {SETTABLE_STATES.map((s) => (
            <button type="button" key={s} role="radio" aria-checked={state === s} class={`state-btn st-${s} ${state === s ? 'on' : ''}`} onClick={() => setState(s)} data-testid={`force-${s}`}>
              {label('agentState', s)}
            </button>
          ))}
        </div>
        <ReasonTail reason={reason} setReason={setReason} error={error} onClose={onClose} canSave={ok && !busy} saveLabel={t('common.save')} testid="force" />
      </form>
    </Modal>
  );
}
