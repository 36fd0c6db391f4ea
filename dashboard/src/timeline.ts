/**
 * One line of an alarm's timeline, in the locale: what happened, by whom, and the detail that matters
 * (弹屏 → 张三、李四; 再次报警：#41 处理完 12 分钟后; a resolve during a live call…). Every action the gateway
 * writes has a label `action.<key>` in both locales (tests/unit/dashboard/locales.test.ts checks it).
 */
import { hasKey, label, t, type MsgKey } from './i18n';
import { actorName } from './session';
import { outcomeLabel } from './components/file-util';
import type { AlarmEvent } from './types';

export interface EventLine {
  text: string;
  who?: string;
  detail?: string;
  /** resolved or closed while a call of the alarm was live */
  duringCall?: boolean;
}

const num = (v: unknown) => (typeof v === 'number' || (typeof v === 'string' && v !== '') ? Number(v) : null);

/** A telephony flow's result (completed, not_reached, accepted, exhausted…), or the raw code. */
function flowStatus(status: string): string {
  const k = `flowStatus.${status}`;
  if (hasKey(k)) return t(k as MsgKey);
  return label('callOutcome', status);
}

export function eventLine(ev: AlarmEvent): EventLine {
  const d = ev.detail ?? {};
  const duringCall = d.duringCall === true;
  if (ev.action === 'present') {
    const names = Array.isArray(d.toNames) ? d.toNames.map(String).filter(Boolean) : [];
    const ids = Array.isArray(d.to) ? d.to.map(Number).filter(Number.isFinite) : [];
    const who = names.length ? names : ids.map((id) => actorName(id));
    if (who.length) return { text: t('timeline.presentTo', { names: who.join(t('timeline.nameSep')) }) };
    if (d.reason !== undefined || Array.isArray(d.to)) return { text: t('timeline.presentNoAgent') };
    return { text: label('action', 'present') };
  }
  if (ev.action === 'recurred') {
    const prev = num(d.previousId);
    const min = num(d.minutesAfter);
    if (prev !== null) return { text: min !== null ? t('timeline.recurred', { id: prev, n: Math.round(min) }) : t('timeline.recurredNoTime', { id: prev }), who: actorName(ev.actor) };
  }
  if (ev.action === 'recurred_as') {
    const next = num(d.nextId);
    const min = num(d.minutesAfter);
    if (next !== null) return { text: min !== null ? t('timeline.recurredAs', { id: next, n: Math.round(min) }) : t('timeline.recurredAsNoTime', { id: next }), who: actorName(ev.actor) };
  }
  // call events carry the call's party and outcome; alarm events an outcome code of the alarm
  const isCall = ev.action.startsWith('call_') || d.party !== undefined;
  const bits = [
    d.note ? String(d.note) : null,
    d.party ? label('callParty', String(d.party)) : null,
    d.outcome ? (isCall ? label('callOutcome', String(d.outcome)) : outcomeLabel(String(d.outcome))) : null,
    d.status ? flowStatus(String(d.status)) : null,
    d.satisfaction ? t('followUp.satisfactionN', { n: String(d.satisfaction) }) : null,
    ev.action === 'contact_accepted' && num(d.position) !== null ? t('timeline.contactN', { n: Number(d.position) }) : null,
    ev.action === 'repeated' && num(d.count) !== null ? t('file.repeats', { n: Number(d.count) }) : null,
    duringCall ? t('timeline.duringCall') : null,
  ].filter(Boolean);
  return { text: label('action', ev.action), who: actorName(ev.actor), detail: bits.join(' · ') || undefined, duringCall };
}
