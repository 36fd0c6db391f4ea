/**
 * The hotline's incoming-call pop (来电弹屏) while my phone rings: who is calling (the elder, a contact of an
 * elder, or a new caller with a 建档 shortcut), the hotline and IVR choice, priority, the wait ticking, the
 * elder's open alarms and recent calls. Answered, it shrinks to the in-call header (CallerLine). Text only:
 * every string from the server is rendered as text.
 */
import { useState } from 'preact/hooks';
import { post } from '../api';
import { fmtDuration, fmtTime, label, t } from '../i18n';
import { callerName, openCallerFile, type Pop } from '../hotline';
import { errorText, openFile } from '../session';
import { notify, useNow } from '../store';
import type { ElderFull, IncomingCall as IncomingCallMessage } from '../types';
import { KindIcon, PhoneIcon } from './icons';

function lineOf(c: IncomingCallMessage): string {
  return c.hotline && c.hotline !== c.did ? `${c.hotline}（${c.did}）` : c.did || c.hotline;
}

/** The chips every form of the pop shows: hotline, IVR choice, priority, the wait. */
function CallFacts({ c, ringing }: { c: IncomingCallMessage; ringing: boolean }) {
  const now = useNow();
  const wait = fmtDuration((Math.max(now, Date.now()) - new Date(c.arrivedAt).getTime()) / 1000);
  return (
    <div class="ic-facts">
      <span class="ic-fact" data-testid="ic-line">
        {t('hotline.line', { hotline: lineOf(c) })}
      </span>
      {c.ivrChoice && (
        <span class={`ic-fact ivr-${c.ivrChoice}`} data-testid="ic-ivr" data-ivr={c.ivrChoice}>
          {t(c.ivrChoice === 'emergency' ? 'hotline.ivr.emergency' : 'hotline.ivr.services')}
        </span>
      )}
      {c.priority && (
        <span class="ic-fact ic-priority" data-testid="ic-priority">
          {t('hotline.priority')}
        </span>
      )}
      {ringing && (
        <span class="ic-fact ic-wait" data-testid="ic-wait">
          {t('hotline.wait', { time: wait })}
        </span>
      )}
    </div>
  );
}

/** Who: "张秀英（老人本人来电）", "李芳（女儿）— 张秀英的联系人", or 新来电. */
function Who({ c }: { c: IncomingCallMessage }) {
  const m = c.match;
  if (m?.contact) {
    return (
      <div class="ic-who" data-testid="ic-who" data-match="contact">
        <strong data-testid="ic-name">{callerName(c)}</strong>
        {m.elder && <span class="ic-of">{t('hotline.contactOf', { elder: m.elder.name ?? `#${m.elder.id}` })}</span>}
      </div>
    );
  }
  if (m?.elder) {
    return (
      <div class="ic-who" data-testid="ic-who" data-match="elder">
        <strong data-testid="ic-name">{m.elder.name ?? `#${m.elder.id}`}</strong>
        <span class="ic-of">{t('hotline.elderSelf')}</span>
      </div>
    );
  }
  return (
    <div class="ic-who" data-testid="ic-who" data-match="none">
      <strong data-testid="ic-name">{t('hotline.newCaller')}</strong>
      <span class="ic-of">{t('hotline.unknownNote')}</span>
    </div>
  );
}

export function IncomingCall({ pop }: { pop: Pop }) {
  const c = pop.call;
  const matched = c.match?.elder !== undefined;
  return (
    <section class={`incoming ${c.priority || c.ivrChoice === 'emergency' ? 'urgent' : ''}`} role="alert" aria-label={t('hotline.title')} data-testid="incoming-call" data-entry-id={c.entryId} data-match={matched ? 'elder' : 'none'}>
      <div class="ic-main">
        <div class="ic-ring" aria-hidden="true">
          <PhoneIcon size={30} />
        </div>
        <div class="ic-head">
          <div class="ic-title">
            <span class="ic-tag">{t('hotline.title')}</span>
            <span class="ic-number" data-testid="ic-number">
              {c.callerNumber || t('hotline.withheld')}
            </span>
          </div>
          <Who c={c} />
          <CallFacts c={c} ringing />
          <span class="ic-hint">{t('hotline.ringing')}</span>
        </div>
        <div class="ic-actions">
          {matched ? (
            <button type="button" class="btn primary" onClick={() => openCallerFile(c, true)} data-testid="ic-open-file">
              {t('hotline.openFile')}
            </button>
          ) : (
            <CreateElder number={c.callerNumber} />
          )}
        </div>
      </div>
      {matched && (
        <div class="ic-lists">
          <div class="ic-list" data-testid="ic-alarms">
            <h3>{t('hotline.openAlarms')}</h3>
            {c.openAlarms.length ? (
              <ul>
                {c.openAlarms.map((a) => (
                  <li key={a.id}>
                    <button type="button" class="ic-alarm" onClick={() => openFile({ alarmId: a.id, elderId: c.match?.elder?.id, reason: 'click' })} data-testid="ic-alarm" data-alarm-id={a.id}>
                      <span class={`prio-pill p${a.priority}`} title={label('priority', a.priority)}>
                        P{a.priority}
                      </span>
                      <KindIcon kind={a.kind} size={18} />
                      <span>{label('kind', a.kind)}</span>
                      <span class={`qstate s-${a.state}`}>{label('state', a.state)}</span>
                      <span class="muted">{fmtTime(a.firstAt, undefined, true)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">{t('hotline.noOpenAlarms')}</p>
            )}
          </div>
          <div class="ic-list" data-testid="ic-recent">
            <h3>{t('hotline.recentCalls')}</h3>
            {c.recentCalls.length ? (
              <ul>
                {c.recentCalls.slice(0, 3).map((r) => (
                  <li key={r.id} class="ic-recent">
                    <span class="muted">{fmtTime(r.createdAt, undefined, true)}</span>
                    <span>{t(r.direction === 'inbound' ? 'call.inbound' : 'call.outbound')}</span>
                    <span>{r.outcome ? label('callOutcome', r.outcome) : '—'}</span>
                    {r.talkS !== null && <span class="muted">{fmtDuration(r.talkS)}</span>}
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">{t('hotline.noRecentCalls')}</p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

/** The answered pop as the in-call header: who, the hotline, the wait it had. */
export function CallerLine({ pop }: { pop: Pop }) {
  const c = pop.call;
  return (
    <div class="ic-line" data-testid="in-call-header" data-entry-id={c.entryId}>
      <span class="ic-tag small">{t('hotline.inCall')}</span>
      <Who c={c} />
      <span class="ic-number small">{c.callerNumber}</span>
      <CallFacts c={c} ringing={false} />
      {c.match?.elder && (
        <button type="button" class="btn ghost small" onClick={() => openCallerFile(c, true)} data-testid="ic-open-file">
          {t('hotline.openFile')}
        </button>
      )}
    </div>
  );
}

/** 建档: a record for a new caller (POST /api/elders takes name and phone from any staff role), then its file. */
function CreateElder({ number }: { number: string }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [phone, setPhone] = useState(number);
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button type="button" class="btn primary" onClick={() => setOpen(true)} data-testid="ic-create">
        {t('hotline.create')}
      </button>
    );
  }
  return (
    <form
      class="ic-create"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!name.trim()) return;
        setBusy(true);
        try {
          const elder = await post<ElderFull>('/api/elders', { name: name.trim(), ...(phone.trim() ? { phone: phone.trim() } : {}) });
          notify('info', t('hotline.created', { name: elder.name }));
          openFile({ elderId: elder.id, reason: 'call' });
          setOpen(false);
        } catch (err) {
          notify('error', errorText(err));
        } finally {
          setBusy(false);
        }
      }}
      data-testid="ic-create-form"
    >
      <input autoFocus required maxLength={100} placeholder={t('hotline.createName')} aria-label={t('hotline.createName')} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="ic-create-name" />
      <input maxLength={32} inputMode="tel" placeholder={t('hotline.createPhone')} aria-label={t('hotline.createPhone')} value={phone} onInput={(e) => setPhone(e.currentTarget.value)} data-testid="ic-create-phone" />
      <button type="submit" class="btn primary small" disabled={busy || !name.trim()} data-testid="ic-create-save">
        {t('hotline.createSave')}
      </button>
      <button type="button" class="btn ghost small" onClick={() => setOpen(false)}>
        {t('common.cancel')}
      </button>
    </form>
  );
}
