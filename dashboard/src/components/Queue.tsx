/** The live alarm queue: priority colour, kind icon, elder's name, age counting up, repeat count. Priority, then age. */
import { fmtDuration, label, t } from '../i18n';
import { actorName, byPriorityThenAge, elderName, isAfterCare, isOpenAlarm, isWaiting, openFile } from '../session';
import { useNow, useStore } from '../store';
import type { Alarm } from '../types';
import { KindIcon } from './icons';

/** The live queue: alarms not yet resolved, priority first, then age. */
export function useQueue(): Alarm[] {
  const alarms = useStore((s) => s.alarms);
  return [...alarms.values()].filter(isOpenAlarm).sort(byPriorityThenAge);
}

/** Resolved alarms still open on the server: waiting for the follow-up call (回访) or for closing. */
function useAfterCare(): Alarm[] {
  const alarms = useStore((s) => s.alarms);
  return [...alarms.values()].filter(isAfterCare).sort((a, b) => (a.resolvedAt ?? a.lastAt).localeCompare(b.resolvedAt ?? b.lastAt));
}

export function Queue() {
  const list = useQueue();
  useStore((s) => s.elders); // re-render when names arrive
  const openId = useStore((s) => s.open?.alarmId);
  const selected = useStore((s) => s.selectedAlarmId);
  const userId = useStore((s) => s.user?.id);
  const now = useNow();
  const waiting = list.filter(isWaiting).length;
  return (
    <section class="queue" aria-label={t('queue.title')} data-testid="queue">
      <header class="panel-head">
        <h2>{t('queue.title')}</h2>
        <span class="counts">
          <b data-testid="queue-count">{list.length}</b> {t('queue.open')}
          {waiting > 0 && <span class="badge waiting">{t('queue.waiting', { n: waiting })}</span>}
        </span>
      </header>
      {list.length === 0 ? (
        <div class="empty" data-testid="queue-empty">
          {t('queue.empty')}
        </div>
      ) : (
        <ol class="qlist">
          {list.map((a) => {
            const age = (now - new Date(a.firstAt).getTime()) / 1000;
            const name = elderName(a.elderId);
            const w = isWaiting(a);
            return (
              <li key={a.id}>
                <button
                  type="button"
                  class={`qrow p${a.priority} ${w ? 'waiting' : ''} ${openId === a.id ? 'open' : ''} ${selected === a.id ? 'selected' : ''} ${a.presentedTo.includes(userId ?? -1) && w ? 'mine' : ''}`}
                  onClick={() => openFile({ alarmId: a.id, elderId: a.elderId ?? undefined, reason: 'click' })}
                  data-testid="queue-row"
                  data-alarm-id={a.id}
                  data-state={a.state}
                  data-priority={a.priority}
                  aria-current={openId === a.id}
                >
                  <span class="prio" aria-label={t('queue.priority', { p: a.priority })}>
                    P{a.priority}
                  </span>
                  <span class="qicon">
                    <KindIcon kind={a.kind} />
                  </span>
                  <span class="qmain">
                    <span class="qname">{name ?? (a.elderId ? '…' : t('queue.unknownElder'))}</span>
                    <span class="qkind">
                      {label('kind', a.kind)}
                      <span class={`qstate s-${a.state}`}>{label('state', a.state)}</span>
                      {a.ownerId !== null && <span class="qowner">{actorName(a.ownerId)}</span>}
                    </span>
                  </span>
                  <span class="qside">
                    <span class={`age ${w && age > 60 ? 'late' : ''}`} title={t('queue.age')} data-testid="age">
                      {fmtDuration(age)}
                    </span>
                    {a.count > 1 && (
                      <span class="count" title={t('queue.repeats')} data-testid="repeat-count">
                        ×{a.count}
                      </span>
                    )}
                  </span>
                </button>
              </li>
            );
          })}
        </ol>
      )}
      <AfterCare />
    </section>
  );
}

function AfterCare() {
  const list = useAfterCare();
  const openId = useStore((s) => s.open?.alarmId);
  const outcomes = useStore((s) => s.outcomes);
  const locale = useStore((s) => s.locale);
  if (!list.length) return null;
  return (
    <details class="aftercare" data-testid="aftercare">
      <summary>{t('queue.afterCare', { n: list.length })}</summary>
      <ol>
        {list.map((a) => {
          const o = a.outcome ? outcomes[a.outcome] : undefined;
          return (
            <li key={a.id}>
              <button type="button" class={`acrow ${openId === a.id ? 'open' : ''}`} onClick={() => openFile({ alarmId: a.id, elderId: a.elderId ?? undefined, reason: 'click' })} data-testid="aftercare-row" data-alarm-id={a.id}>
                <span class="qname">{elderName(a.elderId) ?? '—'}</span>
                <span class="qkind">
                  {label('kind', a.kind)}
                  <span class={`qstate s-${a.state}`}>{label('state', a.state)}</span>
                  {o && <span class="muted">{locale === 'en' ? o.en : o.zh}</span>}
                </span>
              </button>
            </li>
          );
        })}
      </ol>
    </details>
  );
}
