/**
 * 通话记录 (the call log) and 回拨列表 (the call-back list), issue 19. The log: filters (number, elder, agent,
 * direction, outcome, dates), newest first, "more" through nextCursor; a row opens the call's detail: its legs,
 * its timeline of in-call actions (who, when), ▶ its recording, the alarm and the elder file. The call-back list:
 * callers who hung up in the queue (呼损) or left a voicemail (留言), priority first, with 回拨 and 完成.
 * Everything from data renders as text.
 */
import { useEffect, useState } from 'preact/hooks';
import { CALL_OUTCOMES, callbackDone, callDetail, searchCalls, useCallbacks, type CallLogQuery } from '../call-log';
import { myLiveCall, startCall } from '../calls';
import { fmtDuration, fmtTime, hasKey, label, t, type MsgKey } from '../i18n';
import { elderName, ensureElder, errorText, isLead, openFile, refreshAgents } from '../session';
import { notify, store, useNow, useStore } from '../store';
import type { CallAction, CallbackRequest, CallDetail, CallLogEntry } from '../types';
import { showOrder } from '../orders';
import { PhoneIcon } from './icons';
import { NewOrderDialog } from './orders/NewOrderDialog';
import { RecordingPlayer } from './RecordingPlayer';

type Tab = 'log' | 'callbacks';

/** Another screen asks for the call log of one elder (a link): the filter it opens with. */
let pendingElder: { id: number; name: string | null } | null = null;
export function showCallsOf(elderId: number, name: string | null): void {
  pendingElder = { id: elderId, name };
  store.set({ view: 'calls' });
}

export function CallLog() {
  const [tab, setTab] = useState<Tab>('log');
  const callbacks = useCallbacks();
  return (
    <main class="calllog" data-testid="call-log-view">
      <div class="view-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'log'} class={`chip ${tab === 'log' ? 'on' : ''}`} onClick={() => setTab('log')} data-testid="tab-call-log">
          {t('callLog.title')}
        </button>
        <button type="button" role="tab" aria-selected={tab === 'callbacks'} class={`chip ${tab === 'callbacks' ? 'on' : ''}`} onClick={() => setTab('callbacks')} data-testid="tab-callbacks">
          {t('callbacks.title')}
          {callbacks && callbacks.length > 0 && (
            <b class="tab-count" data-testid="callbacks-count">
              {callbacks.length}
            </b>
          )}
        </button>
      </div>
      {tab === 'log' ? <LogTab /> : <CallbacksTab list={callbacks} />}
    </main>
  );
}

// ---------------------------------------------------------------- the log

interface Filters {
  number: string;
  elder: { id: number; name: string | null } | null;
  agentId: string;
  direction: '' | 'inbound' | 'outbound';
  outcome: string;
  /** yyyy-mm-dd, in the browser's time zone */
  from: string;
  to: string;
}

const EMPTY: Filters = { number: '', elder: null, agentId: '', direction: '', outcome: '', from: '', to: '' };

function toQuery(f: Filters): CallLogQuery {
  const day = (d: string, plus = 0) => {
    const x = new Date(`${d}T00:00:00`);
    x.setDate(x.getDate() + plus);
    return x.toISOString();
  };
  return {
    number: f.number.replace(/[^\d+]/g, '') || undefined,
    elderId: f.elder?.id,
    agentId: f.agentId ? Number(f.agentId) : undefined,
    direction: f.direction || undefined,
    outcome: f.outcome || undefined,
    from: f.from ? day(f.from) : undefined,
    // the whole "to" day: the route's `to` is exclusive
    to: f.to ? day(f.to, 1) : undefined,
    limit: 50,
  };
}

export function LogTab() {
  const user = useStore((s) => s.user);
  const agents = useStore((s) => s.agents);
  const tz = useStore((s) => s.config.timezone);
  const lead = isLead(user);
  const [draft, setDraft] = useState<Filters>(() => {
    const p = pendingElder;
    pendingElder = null;
    return p ? { ...EMPTY, elder: p } : EMPTY;
  });
  const [applied, setApplied] = useState<Filters>(draft);
  const [items, setItems] = useState<CallLogEntry[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  const load = async (f: Filters, after?: number) => {
    setLoading(true);
    setError(null);
    try {
      const page = await searchCalls({ ...toQuery(f), cursor: after });
      setItems((prev) => (after ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load(applied);
  }, [applied]);
  useEffect(() => {
    if (lead) void refreshAgents();
  }, [lead]);

  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));
  const agentList = [...agents.values()].filter((a) => a.role !== 'installer').sort((a, b) => (a.displayName || a.username || '').localeCompare(b.displayName || b.username || ''));

  return (
    <div class={`calllog-body ${selected ? 'with-detail' : ''}`}>
      <section class="box calllog-list" aria-label={t('callLog.title')}>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            setSelected(null);
            setApplied({ ...draft });
          }}
          data-testid="call-log-filters"
        >
          <label>
            <span>{t('callLog.number')}</span>
            <input inputMode="tel" value={draft.number} placeholder={t('callLog.numberPlaceholder')} onInput={(e) => set({ number: e.currentTarget.value })} data-testid="filter-number" />
          </label>
          {draft.elder && (
            <span class="chip small on filter-elder" data-testid="filter-elder">
              {t('callLog.elder')}: {draft.elder.name ?? elderName(draft.elder.id) ?? `#${draft.elder.id}`}
              <button type="button" class="btn ghost small" aria-label={t('common.dismiss')} onClick={() => set({ elder: null })}>
                ×
              </button>
            </span>
          )}
          <label>
            <span>{t('callLog.agent')}</span>
            {lead ? (
              <select value={draft.agentId} onChange={(e) => set({ agentId: e.currentTarget.value })} data-testid="filter-agent">
                <option value="">{t('callLog.all')}</option>
                {agentList.map((a) => (
                  <option key={a.userId} value={String(a.userId)}>
                    {a.displayName || a.username || `#${a.userId}`}
                  </option>
                ))}
              </select>
            ) : (
              <select value={draft.agentId} onChange={(e) => set({ agentId: e.currentTarget.value })} data-testid="filter-agent">
                <option value="">{t('callLog.all')}</option>
                {user && <option value={String(user.id)}>{t('callLog.mine')}</option>}
              </select>
            )}
          </label>
          <label>
            <span>{t('callLog.direction')}</span>
            <select value={draft.direction} onChange={(e) => set({ direction: e.currentTarget.value as Filters['direction'] })} data-testid="filter-direction">
              <option value="">{t('callLog.all')}</option>
              <option value="inbound">{t('call.inbound')}</option>
              <option value="outbound">{t('call.outbound')}</option>
            </select>
          </label>
          <label>
            <span>{t('callLog.outcome')}</span>
            <select value={draft.outcome} onChange={(e) => set({ outcome: e.currentTarget.value })} data-testid="filter-outcome">
              <option value="">{t('callLog.all')}</option>
              {CALL_OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {label('callOutcome', o)}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t('callLog.from')}</span>
            <input type="date" value={draft.from} onInput={(e) => set({ from: e.currentTarget.value })} data-testid="filter-from" />
          </label>
          <label>
            <span>{t('callLog.to')}</span>
            <input type="date" value={draft.to} onInput={(e) => set({ to: e.currentTarget.value })} data-testid="filter-to" />
          </label>
          <div class="filter-actions">
            <button type="submit" class="btn primary small" disabled={loading} data-testid="filter-apply">
              {t('callLog.search')}
            </button>
            <button
              type="button"
              class="btn ghost small"
              onClick={() => {
                setDraft(EMPTY);
                setSelected(null);
                setApplied(EMPTY);
              }}
            >
              {t('callLog.reset')}
            </button>
          </div>
        </form>
        {error && <p class="form-error">{error}</p>}
        <div class="table-wrap">
          <table class="table calllog-table" data-testid="call-log-table">
            <thead>
              <tr>
                <th>{t('callLog.time')}</th>
                <th>{t('callLog.direction')}</th>
                <th>{t('callLog.party')}</th>
                <th>{t('callLog.elder')}</th>
                <th>{t('callLog.agent')}</th>
                <th>{t('callLog.outcome')}</th>
                <th>{t('callLog.talk')}</th>
                <th>{t('callLog.recording')}</th>
              </tr>
            </thead>
            <tbody>
              {!loading && items.length === 0 && (
                <tr>
                  <td colSpan={8} class="muted" data-testid="call-log-empty">
                    {t('callLog.empty')}
                  </td>
                </tr>
              )}
              {items.map((c) => (
                <tr
                  key={c.id}
                  class={`${c.flowId ? 'clickable' : ''} ${c.flowId && c.flowId === selected ? 'selected' : ''}`}
                  tabIndex={c.flowId ? 0 : undefined}
                  onClick={() => c.flowId && setSelected(c.flowId)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && c.flowId) setSelected(c.flowId);
                  }}
                  data-testid="call-log-row"
                  data-flow-id={c.flowId ?? ''}
                  data-outcome={c.outcome ?? ''}
                >
                  <td class="nowrap">{fmtTime(c.createdAt, tz, true)}</td>
                  <td class="nowrap">
                    <span class={`dir dir-${c.direction}`}>{t(c.direction === 'inbound' ? 'call.inbound' : 'call.outbound')}</span>
                    {c.flow && hasKey(`callFlow.${c.flow}`) && <small class="muted"> · {t(`callFlow.${c.flow}` as MsgKey)}</small>}
                  </td>
                  <td>
                    <span class="cell-clip" title={c.number ?? ''}>
                      {label('callParty', c.party)} <span class="phone">{c.number ?? ''}</span>
                    </span>
                  </td>
                  <td>
                    <span class="cell-clip" data-testid="call-log-elder">
                      {c.elderName ?? '—'}
                    </span>
                  </td>
                  <td>
                    <span class="cell-clip">{c.agentName ?? '—'}</span>
                  </td>
                  <td class="nowrap">{c.outcome ? label('callOutcome', c.outcome) : c.endedAt ? '—' : t('call.liveUp')}</td>
                  <td class="num">{c.talkS !== null ? fmtDuration(c.talkS) : '—'}</td>
                  <td>{c.hasRecording && c.flowId ? <RecordingPlayer flowId={c.flowId} compact /> : <span class="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="list-foot">
          {loading && <span class="muted">{t('common.loading')}</span>}
          {!loading && cursor !== null && (
            <button type="button" class="btn small" onClick={() => void load(applied, cursor)} data-testid="call-log-more">
              {t('callLog.more')}
            </button>
          )}
        </div>
      </section>
      {selected && (
        <CallDetailPanel
          key={selected}
          flowId={selected}
          onClose={() => setSelected(null)}
          onElderCalls={(id, name) => {
            const f = { ...EMPTY, elder: { id, name } };
            setDraft(f);
            setSelected(null);
            setApplied(f);
          }}
        />
      )}
    </div>
  );
}

// ---------------------------------------------------------------- one call

const legState = (l: CallLogEntry) => (l.outcome ? label('callOutcome', l.outcome) : l.endedAt ? '—' : l.answeredAt ? t('call.liveUp') : t('call.liveRinging'));

/** The detail of an action that matters: the extension or number added, the digits, the mute direction… */
function actionDetail(a: CallAction): string | null {
  const d = a.detail ?? {};
  const bits: string[] = [];
  const s = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
  if (s(d.extension)) bits.push(t('callLog.extensionN', { ext: s(d.extension)! }));
  if (s(d.number)) bits.push(s(d.number)!);
  if (s(d.digits)) bits.push(t('callLog.digits', { digits: s(d.digits)! }));
  if (s(d.direction) && hasKey(`callLog.muteDir.${s(d.direction)!}`)) bits.push(t(`callLog.muteDir.${s(d.direction)!}` as MsgKey));
  if (s(d.from) && hasKey(`callAction.${s(d.from)!}`) && (a.action === 'listen' || a.action === 'whisper' || a.action === 'barge')) bits.push(t('callLog.fromMode', { mode: label('callAction', s(d.from)!) }));
  if (typeof d.durationS === 'number') bits.push(fmtDuration(d.durationS));
  if (s(d.outcome)) bits.push(label('callOutcome', s(d.outcome)!));
  return bits.length ? bits.join(' · ') : null;
}

function CallDetailPanel({ flowId, onClose, onElderCalls }: { flowId: string; onClose: () => void; onElderCalls: (elderId: number, name: string | null) => void }) {
  const tz = useStore((s) => s.config.timezone);
  const [d, setD] = useState<CallDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    callDetail(flowId).then(
      (x) => alive && setD(x),
      (e: unknown) => alive && setError(errorText(e)),
    );
    return () => void (alive = false);
  }, [flowId]);
  const [creating, setCreating] = useState(false);
  const far = d?.legs.find((l) => l.party !== 'agent') ?? d?.legs[0];
  const alarmId = d?.legs.find((l) => l.alarmId !== null)?.alarmId ?? null;
  const elderId = d?.legs.find((l) => l.elderId !== null)?.elderId ?? null;
  const elder = d?.legs.find((l) => l.elderName)?.elderName ?? null;
  const goDesk = (target: { alarmId?: number; elderId?: number }) => {
    openFile({ ...target, reason: 'click' });
    store.set({ view: 'desk' });
  };
  return (
    <aside class="box call-detail" aria-label={t('callLog.detail')} data-testid="call-detail" data-flow-id={flowId}>
      <div class="detail-head">
        <h2>{t('callLog.detail')}</h2>
        <button type="button" class="btn ghost small" aria-label={t('common.dismiss')} onClick={onClose} data-testid="call-detail-close">
          ×
        </button>
      </div>
      {error && <p class="form-error">{error}</p>}
      {!d && !error && <p class="muted">{t('common.loading')}</p>}
      {d && far && (
        <>
          <div class="detail-who">
            <strong data-testid="call-detail-party">
              {t(far.direction === 'inbound' ? 'call.inbound' : 'call.outbound')} · {label('callParty', far.party)} {far.number ?? ''}
            </strong>
            {elder && (
              <span data-testid="call-detail-elder">
                {t('callLog.elder')}: {elder}
              </span>
            )}
            <span class="muted">
              {fmtTime(far.createdAt, tz, true)}
              {far.talkS !== null && ` · ${t('callLog.talk')} ${fmtDuration(far.talkS)}`}
            </span>
          </div>
          <div class="detail-links">
            <button type="button" class="btn small primary" onClick={() => setCreating(true)} data-testid="call-detail-open-order">
              {t('orders.newFromCall')}
            </button>
            {alarmId !== null && (
              <button type="button" class="btn small" onClick={() => goDesk({ alarmId, ...(elderId !== null ? { elderId } : {}) })} data-testid="call-detail-open-alarm">
                {t('callLog.openAlarm', { id: alarmId })}
              </button>
            )}
            {elderId !== null && (
              <>
                <button type="button" class="btn small" onClick={() => goDesk({ elderId })} data-testid="call-detail-open-elder">
                  {t('callLog.openElder')}
                </button>
                <button type="button" class="btn ghost small" onClick={() => onElderCalls(elderId, elder)} data-testid="call-detail-elder-calls">
                  {t('callLog.elderCalls')}
                </button>
              </>
            )}
          </div>
          {creating && (
            <NewOrderDialog
              from={{ callId: flowId }}
              onCancel={() => setCreating(false)}
              onDone={(o) => {
                setCreating(false);
                showOrder(o.id);
              }}
            />
          )}
          <div class="detail-recording">
            <h3>{t('callLog.recording')}</h3>
            {d.hasRecording ? <RecordingPlayer flowId={flowId} /> : <span class="muted">{t('recording.none')}</span>}
          </div>
          <h3>{t('callLog.legs')}</h3>
          <table class="table legs" data-testid="call-legs">
            <tbody>
              {d.legs.map((l) => (
                <tr key={l.id} data-party={l.party}>
                  <td>
                    {l.party === 'agent' ? (l.agentName ?? label('callParty', 'agent')) : label('callParty', l.party)}
                    <small class="muted phone"> {l.number ?? ''}</small>
                  </td>
                  <td class="nowrap">{fmtTime(l.createdAt, tz)}</td>
                  <td class="nowrap">{legState(l)}</td>
                  <td class="num">{l.talkS !== null ? fmtDuration(l.talkS) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>{t('callLog.timeline')}</h3>
          {d.actions.length === 0 ? (
            <p class="muted">{t('callLog.noActions')}</p>
          ) : (
            <ol class="call-timeline" data-testid="call-timeline">
              {d.actions.map((a) => {
                const more = actionDetail(a);
                return (
                  <li key={a.id} data-action={a.action} data-testid="call-action">
                    <time>{fmtTime(a.at, tz)}</time>
                    <span>
                      <strong>{label('callAction', a.action)}</strong>
                      <small> · {a.byUser === 'system' ? t('actor.system') : (a.byName ?? t('actor.agent', { id: a.byUser }))}</small>
                      {more && <em> · {more}</em>}
                    </span>
                  </li>
                );
              })}
            </ol>
          )}
        </>
      )}
    </aside>
  );
}

// ---------------------------------------------------------------- the call-back list

function CallbacksTab({ list }: { list: CallbackRequest[] | null }) {
  const tz = useStore((s) => s.config.timezone);
  useStore((s) => s.elders);
  const me = useStore((s) => s.me);
  const onCall = useStore((s) => !!myLiveCall(s));
  const now = useNow();
  const [busy, setBusy] = useState<number | null>(null);
  useEffect(() => {
    for (const r of list ?? []) if (r.elderId !== null) void ensureElder(r.elderId);
  }, [list]);
  const run = async (id: number, fn: () => Promise<unknown>) => {
    setBusy(id);
    try {
      await fn();
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setBusy(null);
    }
  };
  const callBack = (r: CallbackRequest) => {
    const name = (r.elderId !== null ? elderName(r.elderId) : null) ?? r.callerNumber;
    if (r.elderId !== null && r.contactId !== null) return startCall({ elderId: r.elderId, contactId: r.contactId }, name);
    if (r.elderId !== null) return startCall({ elderId: r.elderId, number: r.callerNumber }, name);
    return startCall({ number: r.callerNumber }, name);
  };
  return (
    <section class="box callbacks" aria-label={t('callbacks.title')}>
      <h2>
        {t('callbacks.title')} <small class="muted">{t('callbacks.note')}</small>
      </h2>
      {!me?.signedIn && <p class="hint">{t('call.signInFirst')}</p>}
      <table class="table" data-testid="callbacks-table">
        <thead>
          <tr>
            <th>{t('callbacks.priority')}</th>
            <th>{t('callbacks.reason')}</th>
            <th>{t('callbacks.caller')}</th>
            <th>{t('callLog.elder')}</th>
            <th>{t('callbacks.queued')}</th>
            <th>{t('callbacks.since')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list === null && (
            <tr>
              <td colSpan={7} class="muted">
                {t('common.loading')}
              </td>
            </tr>
          )}
          {list?.length === 0 && (
            <tr>
              <td colSpan={7} class="muted" data-testid="callbacks-empty">
                {t('callbacks.empty')}
              </td>
            </tr>
          )}
          {list?.map((r) => (
            <tr key={r.id} class={r.priority ? 'waiting' : ''} data-testid="callback-row" data-id={r.id} data-reason={r.reason}>
              <td>{r.priority ? <span class="prio-pill p1">{t('callbacks.urgent')}</span> : <span class="muted">{t('callbacks.normal')}</span>}</td>
              <td>
                <strong>{t(r.reason === 'voicemail' ? 'callbacks.voicemail' : 'callbacks.abandoned')}</strong>
                {r.reason === 'voicemail' && r.recording && (
                  <span data-testid="voicemail-note">
                    {' '}
                    <RecordingPlayer callbackId={r.id} compact />
                  </span>
                )}
              </td>
              <td class="nowrap phone" data-testid="callback-number">
                {r.callerNumber}
              </td>
              <td>{r.elderId !== null ? (elderName(r.elderId) ?? `#${r.elderId}`) : '—'}</td>
              <td class="num">
                {fmtDuration(r.waitMs / 1000)}
                {r.position !== null && <small class="muted"> · {t('callbacks.position', { n: r.position })}</small>}
              </td>
              <td class="num" title={fmtTime(r.createdAt, tz, true)}>
                {fmtDuration((now - new Date(r.createdAt).getTime()) / 1000)}
              </td>
              <td class="nowrap row-actions">
                <button type="button" class="btn call small" disabled={busy !== null || onCall || !me?.signedIn} onClick={() => void run(r.id, () => callBack(r))} data-testid="callback-call">
                  <PhoneIcon size={16} /> {t('callbacks.callBack')}
                </button>
                <button type="button" class="btn small" disabled={busy !== null} onClick={() => void run(r.id, () => callbackDone(r.id))} data-testid="callback-done">
                  {t('callbacks.done')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
