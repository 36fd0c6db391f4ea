/**
 * The elder's devices (with a way to the devices screen) and timeline: alarms and the commands sent to their
 * devices (GET /api/elders/:id/timeline) and, for staff, their calls (GET /api/call-log?elderId=), newest first.
 * Commands read as in the alarm file (commandText).
 */
import { useEffect, useState } from 'preact/hooks';
import { fmtAgo, fmtDuration, fmtTime, hasKey, label, t, type MsgKey } from '../../i18n';
import { actorName, errorText } from '../../session';
import { store, useStore } from '../../store';
import { get } from '../../api';
import { elderTimeline, type ElderDetail } from '../../elders-admin';
import type { CallLogPage, DeviceCommand } from '../../types';
import { commandText } from '../Commands';

interface Line {
  at: string;
  key: string;
  kind: string;
  text: string;
  detail?: string;
  danger?: boolean;
}

const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** One timeline entry as a line; entries of a kind this screen does not know are shown by their kind. */
function lineOf(e: Record<string, unknown>, i: number): Line {
  const at = str(e.at);
  if (e.kind === 'alarm') {
    return {
      at,
      key: `a${str(e.alarmId)}`,
      kind: 'alarm',
      text: `#${str(e.alarmId)} ${label('kind', str(e.alarmKind))} · ${label('state', str(e.state))}`,
      detail: [label('priority', str(e.priority)), Number(e.count) > 1 ? t('file.repeats', { n: Number(e.count) }) : ''].filter(Boolean).join(' · '),
    };
  }
  if (e.kind === 'command' && e.command && typeof e.command === 'object') {
    const c = e.command as DeviceCommand;
    const who = c.createdByName || (c.createdBy !== null ? actorName(c.createdBy) : t('actor.system'));
    return {
      at,
      key: `c${c.id}`,
      kind: 'command',
      text: `${commandText(c)} · ${label('commandState', c.state)}`,
      detail: [t('command.by', { who }), e.deviceIdentifier ? t('command.to', { device: str(e.deviceIdentifier) }) : '', c.reason ? t('command.reason', { reason: c.reason }) : ''].filter(Boolean).join(' · '),
      danger: c.dangerous,
    };
  }
  if (e.kind === 'call') {
    const c = (e.call && typeof e.call === 'object' ? e.call : e) as Record<string, unknown>;
    const dur = typeof c.durationS === 'number' ? fmtDuration(c.durationS) : '';
    return {
      at,
      key: `k${str(c.id) || i}`,
      kind: 'call',
      text: `${t(c.direction === 'inbound' ? 'call.inbound' : 'call.outbound')}${c.party ? ` · ${label('callParty', str(c.party))}` : ''}${c.number ? ` ${str(c.number)}` : ''}`,
      detail: [dur, c.outcome ? label('callOutcome', str(c.outcome)) : '', str(c.agentName)].filter(Boolean).join(' · '),
    };
  }
  if (e.kind === 'care_task') {
    return {
      at,
      key: `t${str(e.taskId)}`,
      kind: 'care',
      text: `${t('careTl.task')} · ${hasKey(`careTl.reason.${str(e.reason)}`) ? t(`careTl.reason.${str(e.reason)}` as MsgKey) : str(e.reason)} · ${e.result === 'reached' ? t('careTl.reached') : t('careTl.notReached')}`,
      detail: [str(e.resultNote), e.doneBy !== null && e.doneBy !== undefined ? actorName(Number(e.doneBy)) : ''].filter(Boolean).join(' · '),
    };
  }
  if (e.kind === 'care_run') {
    return {
      at,
      key: `r${str(e.runId)}`,
      kind: 'care',
      text: `${hasKey(`careTl.kind.${str(e.careKind)}`) ? t(`careTl.kind.${str(e.careKind)}` as MsgKey) : str(e.careKind)} · ${hasKey(`careTl.state.${str(e.state)}`) ? t(`careTl.state.${str(e.state)}` as MsgKey) : str(e.state)}`,
      detail: [t('careTl.attempts', { n: Number(e.attempts) }), e.alarmId ? `#${str(e.alarmId)}` : ''].filter(Boolean).join(' · '),
    };
  }
  return { at, key: `x${i}`, kind: str(e.kind), text: str(e.kind) };
}

export function ElderHistory({ elder }: { elder: ElderDetail }) {
  const tz = useStore((s) => s.config.timezone);
  useStore((s) => s.agents);
  const [lines, setLines] = useState<Line[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const role = useStore((s) => s.user?.role);
  useEffect(() => {
    let alive = true;
    // the elder's calls come from the call log, which is for staff (not installers)
    const calls = role === 'installer' ? Promise.resolve([]) : get<CallLogPage>(`/api/call-log?elderId=${elder.id}&limit=50`).then((p) => p.items.map((c) => ({ ...c, kind: 'call', at: c.createdAt })), () => []);
    Promise.all([elderTimeline(elder.id), calls])
      .then(([tl, cs]) => {
        if (!alive) return;
        const entries = [...(Array.isArray(tl?.entries) ? (tl.entries as Record<string, unknown>[]) : []), ...(cs as Record<string, unknown>[])];
        setLines(entries.map(lineOf).sort((a, b) => b.at.localeCompare(a.at)));
      })
      .catch((e: unknown) => alive && setError(errorText(e)));
    return () => {
      alive = false;
    };
  }, [elder.id, role]);

  return (
    <div class="elder-history">
      <section class="box" data-testid="elder-devices">
        <div class="eh-head">
          <h3>{t('elders.boundDevices')}</h3>
          <button type="button" class="btn small" onClick={() => store.set({ view: 'devices' })} data-testid="elder-go-devices">
            {t('elders.toDevices')}
          </button>
        </div>
        {elder.devices.length === 0 ? (
          <p class="muted">{t('elders.noDevices')}</p>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>{t('elders.deviceId')}</th>
                <th>{t('elders.deviceKind')}</th>
                <th>{t('elders.deviceSim')}</th>
                <th>{t('elders.deviceSeen')}</th>
                <th>{t('elders.deviceBattery')}</th>
                <th>{t('elders.deviceActivated')}</th>
              </tr>
            </thead>
            <tbody>
              {elder.devices.map((d) => (
                <tr key={d.id} data-testid="elder-device" data-identifier={d.identifier}>
                  <td class="mono">{d.identifier}</td>
                  <td>
                    {label('deviceKind', d.kind)}
                    {d.model ? <small class="muted"> {d.model}</small> : null}
                  </td>
                  <td class="nowrap">{d.simPhone ?? '—'}</td>
                  <td class="nowrap">{d.lastSeen ? fmtAgo(d.lastSeen) : t('common.never')}</td>
                  <td class="num">{d.battery !== null ? `${d.battery}%` : '—'}</td>
                  <td class="nowrap" data-testid="elder-device-activated">
                    {d.activatedAt ? t('elders.deviceActivatedAt', { at: fmtTime(d.activatedAt, tz, true) }) : <span class="muted">{t('elders.deviceNotActivated')}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="box timeline" data-testid="elder-timeline">
        <h3>{t('elders.timeline')}</h3>
        {error && <p class="form-error">{error}</p>}
        {!lines && !error && <p class="muted">{t('common.loading')}</p>}
        {lines && lines.length === 0 && <p class="muted">{t('file.noHistory')}</p>}
        {lines && lines.length > 0 && (
          <ol>
            {lines.map((l) => (
              <li key={l.key} class={`tl-${l.kind === 'command' ? 'event' : l.kind}${l.danger ? ' cmd-dangerous' : ''}`} data-testid="elder-tl-entry" data-kind={l.kind}>
                <time>{fmtTime(l.at, tz, true)}</time>
                <span class="tl-text">
                  {l.text}
                  {l.detail && <em> {l.detail}</em>}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
