/** The alarm's timeline: its events, its calls, and the elder's recent alarms, newest first. */
import { fmtDuration, fmtTime, label, t } from '../i18n';
import { useStore } from '../store';
import { eventLine } from '../timeline';
import type { Alarm, AlarmEvent, CallRecord } from '../types';
import { outcomeLabel } from './file-util';
import { LongText } from './LongText';
import { RecordingPlayer } from './RecordingPlayer';
import { recordedFlow } from '../call-log';

interface Entry {
  at: string;
  key: string;
  icon: 'event' | 'call' | 'alarm';
  action?: string;
  text: string;
  who?: string;
  detail?: string;
  live?: boolean;
  /** a call whose recording can be played (its flow id) */
  recording?: string | null;
}

export function Timeline({ alarm, events, calls, history }: { alarm?: Alarm; events: AlarmEvent[]; calls: CallRecord[]; history: Alarm[] }) {
  const tz = useStore((s) => s.config.timezone);
  useStore((s) => s.agents); // names of the agents an alarm was presented to
  const entries: Entry[] = [];
  for (const ev of events) entries.push({ at: ev.at, key: `e${ev.id}`, icon: 'event', action: ev.action, ...eventLine(ev) });
  for (const c of calls) {
    const live = c.liveState === 'ringing' || c.liveState === 'up';
    const dur = live ? t(c.liveState === 'up' ? 'call.liveUp' : 'call.liveRinging') : c.durationS !== null ? fmtDuration(c.durationS) : c.answeredAt ? '' : t('call.notAnswered');
    entries.push({
      at: c.createdAt,
      key: `c${c.id}`,
      icon: 'call',
      text: `${t(c.direction === 'inbound' ? 'call.inbound' : 'call.outbound')} · ${label('callParty', c.party)}${c.number ? ` ${c.number}` : ''}`,
      detail: [dur, c.outcome ? label('callOutcome', c.outcome) : null].filter(Boolean).join(' · ') || undefined,
      live,
      recording: live ? null : recordedFlow(c),
    });
  }
  for (const h of history) {
    if (h.id === alarm?.id) continue;
    entries.push({ at: h.firstAt, key: `a${h.id}`, icon: 'alarm', text: `${label('kind', h.kind)} · ${label('state', h.state)}`, detail: h.outcome ? outcomeLabel(h.outcome) : undefined });
  }
  entries.sort((a, b) => b.at.localeCompare(a.at));
  return (
    <div class="box timeline" data-testid="timeline">
      <h3>{t('file.timeline')}</h3>
      {entries.length === 0 ? (
        <p class="muted">{t('file.noHistory')}</p>
      ) : (
        <ol>
          {entries.slice(0, 30).map((en) => (
            <li key={en.key} class={`tl-${en.icon}${en.live ? ' tl-live' : ''}`} data-action={en.action}>
              <time>{fmtTime(en.at, tz, true)}</time>
              <span class="tl-text">
                {en.text}
                {en.who && <small> · {en.who}</small>}
                {en.detail && (
                  <em>
                    <LongText text={en.detail} lines={3} />
                  </em>
                )}
                {en.recording && <RecordingPlayer flowId={en.recording} compact />}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
