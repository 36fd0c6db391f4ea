/**
 * In the call (通话控制), under the status bar while my call is connected: 保持/取回, 静音/取消静音, 按键 (DTMF pad),
 * 转接 (blind or attended to an extension or a number; quick targets 120, 110 and the elder's contacts), 完成转接 /
 * 取消转接 while consulting, 三方通话 (add a party, remove it), 挂机. The hotline's pop shows here while my phone
 * rings, and its caller line once answered. 拨号盘 (the dial pad) sits in the idle call widget. Each button shows
 * its state and waits while its request is in flight; everything is reachable with Tab and Enter, Esc closes a panel.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { callPartyName, hangup, myLiveCall } from '../calls';
import { addParty, cancelTransfer, completeTransfer, controlError, dialPad, removeParty, sendDtmf, setHold, setMute, transfer, useHotline, type Controls, type Target } from '../hotline';
import { t } from '../i18n';
import { notify, store, useStore, type State } from '../store';
import type { LiveCall } from '../types';
import { HangupIcon } from './icons';
import { CallerLine, IncomingCall } from './IncomingCall';

/** My connected call, shown in the band with its controls (and 挂机: the status bar's call widget then has none). */
export function bandCall(s: State): LiveCall | undefined {
  const c = myLiveCall(s);
  return c && c.state === 'connected' && s.currentCallId === String(c.id) && s.user?.role !== 'installer' ? c : undefined;
}

/** The band under the status bar: the ringing pop, or my connected call with its controls. */
export function CallBand() {
  const pop = useHotline((s) => s.pop);
  const call = useStore(bandCall);
  if (pop?.status === 'ringing') return <IncomingCall pop={pop} />;
  if (!call) return null;
  const hotline = pop?.status === 'answered' && pop.call.entryId === String(call.id) ? pop : null;
  return (
    <section class="call-band" aria-label={t('ctl.group')} data-testid="call-band" data-call-id={String(call.id)}>
      {hotline ? (
        <CallerLine pop={hotline} />
      ) : (
        <div class="ic-line">
          <strong>{callPartyName(call)}</strong>
        </div>
      )}
      <CallControls key={String(call.id)} call={call} />
    </section>
  );
}

type Panel = null | 'dtmf' | 'transfer' | 'conference';

const NONE: Omit<Controls, 'callId'> = { held: false, muted: false, consult: null, third: null, busy: null, digits: '' };

export function CallControls({ call }: { call: LiveCall }) {
  const id = String(call.id);
  const c = useHotline((s) => (s.controls?.callId === id ? s.controls : { callId: id, ...NONE }));
  const [panel, setPanel] = useState<Panel>(null);
  const [hanging, setHanging] = useState(false);
  const busy = !!c.busy || hanging;
  const toggle = (p: Panel) => setPanel((cur) => (cur === p ? null : p));
  return (
    <div class="ctl" role="group" aria-label={t('ctl.group')} data-testid="call-controls" data-held={String(c.held)} data-muted={String(c.muted)} data-consulting={String(!!c.consult)} data-conference={String(!!c.third)} data-busy={c.busy ?? ''}>
      {c.consult ? (
        <>
          <span class="ctl-state consult" data-testid="ctl-consulting">
            {t('ctl.consulting')}
          </span>
          <button type="button" class="btn primary" disabled={busy} onClick={() => void completeTransfer(id)} data-testid="ctl-transfer-complete">
            {t('ctl.complete')}
          </button>
          <button type="button" class="btn" disabled={busy} onClick={() => void cancelTransfer(id)} data-testid="ctl-transfer-cancel">
            {t('ctl.cancel')}
          </button>
        </>
      ) : (
        <>
          <button type="button" class={`btn ctl-btn ${c.held ? 'on' : ''}`} aria-pressed={c.held} disabled={busy} onClick={() => void setHold(id, !c.held)} data-testid="ctl-hold">
            {c.held ? t('ctl.unhold') : t('ctl.hold')}
          </button>
          <button type="button" class={`btn ctl-btn ${c.muted ? 'on' : ''}`} aria-pressed={c.muted} disabled={busy} onClick={() => void setMute(id, !c.muted)} data-testid="ctl-mute">
            {c.muted ? t('ctl.unmute') : t('ctl.mute')}
          </button>
          <button type="button" class={`btn ctl-btn ${panel === 'dtmf' ? 'open' : ''}`} aria-expanded={panel === 'dtmf'} disabled={busy} onClick={() => toggle('dtmf')} data-testid="ctl-dtmf">
            {t('ctl.dtmf')}
          </button>
          <button type="button" class={`btn ctl-btn ${panel === 'transfer' ? 'open' : ''}`} aria-expanded={panel === 'transfer'} disabled={busy || !!c.third} onClick={() => toggle('transfer')} data-testid="ctl-transfer">
            {t('ctl.transfer')}
          </button>
          {c.third ? (
            <button type="button" class="btn ctl-btn on" disabled={busy} onClick={() => void removeParty(id)} data-testid="ctl-conference-remove">
              {t('ctl.removeParty')}
            </button>
          ) : (
            <button type="button" class={`btn ctl-btn ${panel === 'conference' ? 'open' : ''}`} aria-expanded={panel === 'conference'} disabled={busy} onClick={() => toggle('conference')} data-testid="ctl-conference">
              {t('ctl.conference')}
            </button>
          )}
        </>
      )}
      <button
        type="button"
        class="btn danger"
        disabled={hanging}
        onClick={async () => {
          setHanging(true);
          try {
            await hangup(id);
          } catch (e) {
            notify('error', controlError(e));
          } finally {
            setHanging(false);
          }
        }}
        data-testid="hangup"
      >
        <HangupIcon /> {t('call.hangup')}
      </button>
      <span class="ctl-status" aria-live="polite" data-testid="ctl-status">
        {c.busy ? t('ctl.busy') : c.held && !c.consult ? t('ctl.held') : c.muted ? t('ctl.muted') : c.third ? t('ctl.inConference') : ''}
      </span>
      {panel === 'dtmf' && (
        <Popover title={t('ctl.dtmfTitle')} onClose={() => setPanel(null)} testid="dtmf-pad">
          <Keypad onKey={(k) => sendDtmf(id, k)} />
          <p class="muted small" data-testid="dtmf-sent">
            {c.digits ? t('ctl.sent', { digits: c.digits }) : '\u00a0'}
          </p>
        </Popover>
      )}
      {panel === 'transfer' && (
        <Popover title={t('ctl.transfer')} onClose={() => setPanel(null)} testid="transfer-panel">
          <TargetForm
            modes
            submitLabel={t('ctl.transfer')}
            busy={busy}
            onSubmit={async (target, mode) => {
              if (await transfer(id, mode, target)) setPanel(null);
            }}
          />
        </Popover>
      )}
      {panel === 'conference' && (
        <Popover title={t('ctl.conference')} onClose={() => setPanel(null)} testid="conference-panel">
          <TargetForm
            submitLabel={t('ctl.addParty')}
            busy={busy}
            onSubmit={async (target) => {
              if (await addParty(id, target)) setPanel(null);
            }}
          />
        </Popover>
      )}
    </div>
  );
}

/** A small panel under the controls; Esc closes it (and only it: the file behind stays open). */
function Popover({ title, onClose, children, testid }: { title: string; onClose: () => void; children: ComponentChildren; testid: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('input, button:not(.pop-close)')?.focus();
  }, []);
  return (
    <div
      class="ctl-pop"
      role="dialog"
      aria-label={title}
      ref={ref}
      data-testid={testid}
      onKeyDown={(e) => {
        // the desk's and the file's shortcuts must not see what is typed here
        e.stopPropagation();
        if (e.key === 'Escape') {
          e.preventDefault();
          onClose();
        }
      }}
    >
      <div class="ctl-pop-head">
        <strong>{title}</strong>
        <button type="button" class="btn ghost small pop-close" onClick={onClose} aria-label={t('ctl.close')} title={t('ctl.close')}>
          ×
        </button>
      </div>
      {children}
    </div>
  );
}

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

function Keypad({ onKey }: { onKey: (k: string) => void }) {
  return (
    <div
      class="keypad"
      onKeyDown={(e) => {
        if (KEYS.includes(e.key) && !(e.target instanceof HTMLInputElement)) {
          e.preventDefault();
          onKey(e.key);
        }
      }}
    >
      {KEYS.map((k) => (
        <button type="button" key={k} class="btn key" onClick={() => onKey(k)} data-testid={`key-${k === '*' ? 'star' : k === '#' ? 'hash' : k}`}>
          {k}
        </button>
      ))}
    </div>
  );
}

interface Quick {
  label: string;
  target: Target;
}

/** The elder's contacts of the file on screen (or of the caller), as quick targets. */
function useQuickTargets(): Quick[] {
  const pop = useHotline((s) => s.pop);
  const elderId = useStore((s) => s.open?.elderId ?? (s.open?.alarmId !== undefined ? s.alarms.get(s.open.alarmId)?.elderId : undefined) ?? pop?.call.match?.elder?.id);
  const elder = useStore((s) => (elderId !== undefined && elderId !== null ? s.elders.get(elderId) : undefined));
  const list: Quick[] = [
    { label: t('ctl.q120'), target: { number: '120' } },
    { label: t('ctl.q110'), target: { number: '110' } },
  ];
  if (elder && typeof elder === 'object') {
    for (const c of elder.contacts ?? []) if (c.phone) list.push({ label: `${c.name}${c.relation ? `（${c.relation}）` : ''}`, target: { number: c.phone } });
  }
  return list;
}

const EXT_RE = /^[0-9]{2,8}$/;
const NUMBER_RE = /^\+?[0-9*#]{2,32}$/;

/** Whom to transfer to or add: an extension or a number, typed or picked. */
function TargetForm({ modes, submitLabel, busy, onSubmit }: { modes?: boolean; submitLabel: string; busy: boolean; onSubmit: (t: Target, mode: 'blind' | 'attended') => void | Promise<void> }) {
  const quick = useQuickTargets();
  const [mode, setMode] = useState<'blind' | 'attended'>('attended');
  const [kind, setKind] = useState<'extension' | 'number'>('extension');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (target: Target) => {
    setError(null);
    void onSubmit(target, mode);
  };
  return (
    <form
      class="target-form"
      onSubmit={(e) => {
        e.preventDefault();
        const v = value.replace(/[\s-]/g, '');
        if (kind === 'extension' ? !EXT_RE.test(v) : !NUMBER_RE.test(v)) {
          setError(t('ctl.targetInvalid'));
          return;
        }
        submit(kind === 'extension' ? { extension: v } : { number: v });
      }}
    >
      {modes && (
        <fieldset class="seg" data-testid="transfer-mode">
          <legend class="sr-only">{t('ctl.transfer')}</legend>
          {(['attended', 'blind'] as const).map((m) => (
            <label key={m} class={`chip small ${mode === m ? 'on' : ''}`}>
              <input type="radio" name="xfer-mode" value={m} checked={mode === m} onChange={() => setMode(m)} data-testid={`mode-${m}`} />
              {t(m === 'blind' ? 'ctl.blind' : 'ctl.attended')}
            </label>
          ))}
        </fieldset>
      )}
      <div class="target-row">
        <select aria-label={t('ctl.target')} value={kind} onChange={(e) => setKind(e.currentTarget.value === 'number' ? 'number' : 'extension')} data-testid="target-kind">
          <option value="extension">{t('ctl.extension')}</option>
          <option value="number">{t('ctl.number')}</option>
        </select>
        <input inputMode="tel" maxLength={32} required aria-label={t('ctl.target')} placeholder={t(kind === 'extension' ? 'ctl.extension' : 'ctl.number')} value={value} onInput={(e) => setValue(e.currentTarget.value)} data-testid="target-input" />
        <button type="submit" class="btn primary" disabled={busy} data-testid="target-submit">
          {submitLabel}
        </button>
      </div>
      {error && (
        <p class="form-error small" role="alert">
          {error}
        </p>
      )}
      <div class="quick" aria-label={t('ctl.quick')}>
        <span class="muted small">{t('ctl.quick')}</span>
        {quick.map((q) => (
          <button type="button" key={`${q.label}-${'number' in q.target ? q.target.number : q.target.extension}`} class="chip small" disabled={busy} onClick={() => submit(q.target)} data-testid="quick-target">
            {q.label}
          </button>
        ))}
      </div>
    </form>
  );
}

/** 拨号盘 in the idle call widget: a number not in the file, rung through my extension. */
export function DialPadButton() {
  const me = useStore((s) => s.me);
  const [open, setOpen] = useState(false);
  const [number, setNumber] = useState('');
  const [busy, setBusy] = useState(false);
  if (!me?.signedIn) return null;
  const dial = async () => {
    const n = number.replace(/[\s-]/g, '');
    if (!NUMBER_RE.test(n)) {
      notify('error', t('ctl.targetInvalid'));
      return;
    }
    setBusy(true);
    try {
      await dialPad(n, store.get().open?.alarmId);
      setOpen(false);
      setNumber('');
    } catch (e) {
      notify('error', controlError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="dialpad-wrap">
      <button type="button" class="btn ghost small" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="dial-pad-open">
        {t('ctl.dialPad')}
      </button>
      {open && (
        <Popover title={t('ctl.dialPad')} onClose={() => setOpen(false)} testid="dial-pad">
          <form
            class="target-row"
            onSubmit={(e) => {
              e.preventDefault();
              void dial();
            }}
          >
            <input inputMode="tel" maxLength={32} aria-label={t('ctl.dialNumber')} placeholder={t('ctl.dialNumber')} value={number} onInput={(e) => setNumber(e.currentTarget.value)} data-testid="dial-pad-number" />
            <button type="submit" class="btn primary" disabled={busy || !number.trim()} data-testid="dial-pad-call">
              {t('ctl.dial')}
            </button>
          </form>
          <Keypad onKey={(k) => setNumber((n) => (n + k).slice(0, 32))} />
        </Popover>
      )}
    </div>
  );
}
