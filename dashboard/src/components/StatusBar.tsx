/** The top bar: who is logged in, the phone extension (签入/签出), the agent state with its timer, the current call. */
import { useState } from 'preact/hooks';
import { fmtDuration, label, t } from '../i18n';
import { CALL_ACTIVE, callPartyName, dismissCall, hangup, myLiveCall } from '../calls';
import { isRinging, useHotline } from '../hotline';
import { errorText, isLead, logout, setAgentState, signIn, signOut } from '../session';
import { notify, store, useNow, useStore } from '../store';
import { SETTABLE_STATES } from '../types';
import { HangupIcon, PhoneIcon } from './icons';
import { LocaleSwitch } from './LocaleSwitch';
import { CallBand, DialPadButton, bandCall } from './CallControls';

type View = ReturnType<typeof store.get>['view'];

/** The screens each role may switch between, in tab order (the first is where the role starts). */
export function viewsFor(role: string, lead: boolean): View[] {
  if (role === 'installer') return ['activate', 'elders', 'devices', 'import', 'account'];
  if (role === 'wallboard') return ['wallboard'];
  const desk: View[] = ['desk', ...(lead ? (['supervisor', 'wallboard'] as View[]) : []), 'calls', 'history', 'orders', 'care', 'reports'];
  return role === 'admin' ? [...desk, 'elders', 'devices', 'users', 'import', 'account'] : [...desk, 'account'];
}

function ViewTabs({ role, lead, view }: { role: string; lead: boolean; view: View }) {
  return (
    <div class="view-switch" role="tablist">
      {viewsFor(role, lead).map((v) => (
        <button type="button" role="tab" key={v} aria-selected={view === v} class={`chip ${view === v ? 'on' : ''}`} onClick={() => store.set({ view: v })} data-testid={`view-${v}`}>
          {t(`view.${v}`)}
        </button>
      ))}
    </div>
  );
}

export function StatusBar() {
  const user = useStore((s) => s.user);
  const view = useStore((s) => s.view);
  const connection = useStore((s) => s.connection);
  // the wallboard kiosk has no bar: no agent controls, no calls (App shows it the board alone)
  if (!user || user.role === 'wallboard') return null;
  return (
    <>
      <header class="statusbar" data-testid="statusbar">
        <div class="sb-brand">
          <span class="brand">{t('app.brand')}</span>
          <span class="sb-user" data-testid="sb-user">
            {user.displayName || user.username}
            <small>{label('role', user.role)}</small>
          </span>
        </div>
        {user.role !== 'installer' && <AgentControls compact={view === 'supervisor'} />}
        {user.role !== 'installer' && <CallWidget compact={view === 'supervisor'} />}
        <div class="sb-right">
          {user.role !== 'installer' && (
            // installers get no live stream (issue 15): a grey "not connected" would only worry them
            <span class={`conn conn-${connection}`} data-testid="connection" data-state={connection}>
              <i />
              {label('conn', connection)}
            </span>
          )}
          <ViewTabs role={user.role} lead={isLead(user)} view={view} />
          <LocaleSwitch />
          <button type="button" class="btn ghost small" onClick={() => void logout()} data-testid="logout">
            {t('login.logout')}
          </button>
        </div>
      </header>
      {user.role !== 'installer' && <CallBand />}
    </>
  );
}

/** compact (the supervisor's view): only an agent who is signed in sees the controls there. */
function AgentControls({ compact }: { compact: boolean }) {
  const me = useStore((s) => s.me);
  const user = useStore((s) => s.user);
  const wrapUpS = useStore((s) => s.config.wrapUpS);
  const now = useNow();
  const [ext, setExt] = useState(() => localStorage.getItem('anxin.extension') ?? user?.extension ?? '');
  const [busy, setBusy] = useState(false);
  // 置闲/置忙 wait while my call is live or a hotline call rings me (after the call: 话后整理, set by the server)
  const onCall = useStore((s) => !!myLiveCall(s));
  const ringing = useHotline((s) => isRinging(s));
  const locked = ringing ? t('agent.lockedRinging') : onCall ? t('agent.lockedCall') : undefined;
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };
  if (!me) return <div class="sb-agent" data-testid="agent-state" data-state="loading" />;
  const signedIn = me.signedIn;
  if (compact && !signedIn) return <div class="sb-agent" data-testid="agent-state" data-state="signed_out" />;
  const since = me.since ? new Date(me.since).getTime() : now;
  // Wrap-up ends by itself (自动置闲): count down to it.
  const wrapLeft = me.state === 'wrap_up' && me.wrapUpUntil ? Math.max(0, Math.min(wrapUpS ?? Infinity, Math.ceil((new Date(me.wrapUpUntil).getTime() - Math.max(now, Date.now())) / 1000))) : null;
  return (
    <div class="sb-agent">
      {signedIn ? (
        <div class="sb-ext" data-testid="extension">
          <span class="muted">{t('agent.extension')}</span>
          <strong>{me?.extension}</strong>
          <button type="button" class="btn ghost small" disabled={busy} onClick={() => void run(signOut)} data-testid="sign-out">
            {t('agent.signOut')}
          </button>
        </div>
      ) : (
        <form
          class="sb-ext"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => signIn(ext.trim()));
          }}
        >
          <input class="ext-input" inputMode="numeric" pattern="[0-9]{2,8}" placeholder={t('agent.extensionPlaceholder')} aria-label={t('agent.extension')} value={ext} onInput={(e) => setExt(e.currentTarget.value)} required data-testid="extension-input" />
          <button type="submit" class="btn primary" disabled={busy} data-testid="sign-in">
            {t('agent.signIn')}
          </button>
        </form>
      )}
      <div class="states" role="group" aria-label={t('agent.state')}>
        {SETTABLE_STATES.map((s) => (
          <button
            type="button"
            key={s}
            class={`state-btn st-${s} ${me?.state === s ? 'on' : ''}`}
            aria-pressed={me?.state === s}
            disabled={!signedIn || busy || !!locked}
            title={signedIn ? locked : undefined}
            onClick={() => void run(() => setAgentState(s))}
            data-testid={`state-${s}`}
          >
            {label('agentState', s)}
          </button>
        ))}
      </div>
      <div class={`state-now st-${me?.state ?? 'away'}`} data-testid="agent-state" data-state={signedIn ? me?.state : 'signed_out'}>
        <span>{signedIn ? label('agentState', me?.state ?? 'away') : t('agent.signedOut')}</span>
        {signedIn && (wrapLeft !== null ? (
          <span class="timer" data-testid="wrap-up-left" title={t('agent.wrapUpLeft')}>
            {fmtDuration(wrapLeft)}
          </span>
        ) : (
          <span class="timer">{fmtDuration((now - since) / 1000)}</span>
        ))}
      </div>
      {signedIn && me.state === 'wrap_up' && (
        <button type="button" class="btn small end-wrap" disabled={busy} onClick={() => void run(() => setAgentState('ready'))} data-testid="end-wrap-up">
          {t('agent.endWrapUp')}
        </button>
      )}
    </div>
  );
}

function CallWidget({ compact }: { compact: boolean }) {
  const call = useStore((s) => (s.currentCallId ? s.calls.get(s.currentCallId) : undefined));
  useStore((s) => s.elders); // the far party's name after a reload
  const now = useNow();
  const [busy, setBusy] = useState(false);
  // connected: 挂机 is in the call band under the bar, with the other controls
  const banded = useStore((s) => bandCall(s)?.id);
  // a hotline call ringing my phone: no 挂机 (it would hang up the caller, who is waiting in the queue)
  const ringingPop = useHotline((s) => (s.pop?.status === 'ringing' ? s.pop.call.entryId : null));
  if (!call) {
    if (compact) return <div class="sb-call idle" data-testid="current-call" data-state="none" />;
    return (
      <div class="sb-call idle" data-testid="current-call" data-state="none">
        <PhoneIcon />
        <span class="muted">{t('call.none')}</span>
        <DialPadButton />
      </div>
    );
  }
  const key = String(call.id);
  const active = CALL_ACTIVE.has(String(call.state));
  // Connected: the talk time; before that, the time since the call started (both survive a reload).
  const from = call.state === 'connected' ? call.answeredAt : active ? call.startedAt : null;
  const timer = from ? fmtDuration((now - new Date(from).getTime()) / 1000) : null;
  return (
    <div class={`sb-call call-${call.state}`} data-testid="current-call" data-state={call.state} data-call-id={key}>
      <PhoneIcon />
      <div class="call-text">
        <strong>{callPartyName(call)}</strong>
        <span>
          {label('callState', String(call.state))}
          {timer && (
            <span class="timer" data-testid="call-timer">
              {' '}
              {timer}
            </span>
          )}
        </span>
      </div>
      {active && (banded === call.id || ringingPop === key) ? null : active ? (
        <button
          type="button"
          class="btn danger"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await hangup(key);
            } catch (e) {
              notify('error', errorText(e));
            } finally {
              setBusy(false);
            }
          }}
          data-testid="hangup"
        >
          <HangupIcon /> {t('call.hangup')}
        </button>
      ) : (
        <button type="button" class="btn ghost small" onClick={dismissCall} aria-label={t('common.dismiss')} title={t('common.dismiss')}>
          ×
        </button>
      )}
    </div>
  );
}
