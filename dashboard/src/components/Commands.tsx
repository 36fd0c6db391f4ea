/**
 * The commands sent to the elder's devices (GET /api/elders/:id/timeline): when, what, who sent it, why, what
 * became of it, and a clear mark on the dangerous ones (raw text, POWEROFF, IP, APN… admin-only with a reason).
 * Everything is text: a reason or a raw command is whatever someone typed.
 */
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api';
import { fmtTime, label, t } from '../i18n';
import { actorName } from '../session';
import { useStore } from '../store';
import type { DeviceCommand, ElderTimeline } from '../types';

const SHOWN = 8;

/** "UPLOAD seconds=600", "custom: pw,123456,IP,…" */
export function commandText(c: DeviceCommand): string {
  const { type, content, ...rest } = c.command;
  if (type === 'custom') return `custom: ${typeof content === 'string' ? content : ''}`;
  const params = Object.entries(rest)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return [String(type ?? c.keyword), ...params].join(' ');
}

export function DeviceCommands({ elderId, reload }: { elderId: number; reload?: unknown }) {
  const [list, setList] = useState<{ command: DeviceCommand; device: string | null }[] | null>(null);
  const tz = useStore((s) => s.config.timezone);
  useStore((s) => s.agents); // names of the senders
  useEffect(() => {
    let alive = true;
    void get<ElderTimeline>(`/api/elders/${elderId}/timeline?limit=50`)
      .then((tl) => {
        if (!alive || !Array.isArray(tl?.entries)) return;
        setList(tl.entries.flatMap((e) => (e.kind === 'command' && e.command ? [{ command: e.command, device: e.deviceIdentifier }] : [])));
      })
      .catch(() => undefined); // the file works without it
    return () => {
      alive = false;
    };
  }, [elderId, reload]);

  if (!list?.length) return null;
  const more = list.length - SHOWN;
  return (
    <div class="box commands" data-testid="device-commands">
      <h3>{t('file.commands')}</h3>
      <ol>
        {list.slice(0, SHOWN).map(({ command: c, device }) => {
          const what = commandText(c);
          const who = c.createdByName || (c.createdBy !== null ? actorName(c.createdBy) : t('actor.system'));
          return (
            <li key={c.id} class={c.dangerous ? 'cmd-dangerous' : ''} data-testid="command-row" data-command-id={c.id} data-dangerous={String(c.dangerous)}>
              <time>{fmtTime(c.createdAt, tz, true)}</time>
              <span class="cmd-main">
                <span class="cmd-head">
                  {c.dangerous && (
                    <span class="flag danger small" title={t('command.dangerousTitle')} data-testid="command-dangerous">
                      {t('command.dangerous')}
                    </span>
                  )}
                  <code class="cmd-what" title={what}>
                    {what}
                  </code>
                  <span class={`cmd-state cs-${c.state}`}>{label('commandState', c.state)}</span>
                </span>
                <small class="cmd-meta">
                  {t('command.by', { who })}
                  {device ? ` · ${t('command.to', { device })}` : ''}
                </small>
                {c.reason ? (
                  <span class="cmd-reason" title={c.reason} data-testid="command-reason">
                    {t('command.reason', { reason: c.reason })}
                  </span>
                ) : (
                  c.dangerous && <span class="cmd-reason muted">{t('command.noReason')}</span>
                )}
                {c.result && <small class="cmd-result">{t('command.result', { result: c.result })}</small>}
              </span>
            </li>
          );
        })}
      </ol>
      {more > 0 && <p class="muted small">{t('command.more', { n: more })}</p>}
    </div>
  );
}
