/**
 * Commands to one device: the protocol's commands (GET /api/protocols), common ones first (locate, SOS numbers,
 * upload interval, find, reset); a form made from the chosen command's parameter schema. Dangerous commands
 * (POWEROFF, raw text…) are the admin's only and need a reason (gateway/commands.ts); installers do not see them.
 * After sending, the command's state is polled until it is over (acknowledged, failed, expired).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtTime, hasKey, label, t } from '../../i18n';
import { FINAL_COMMAND_STATES, deviceErrorText, getCommand, sendCommand, type CommandRow, type DeviceRow, type ProtocolInfo } from '../../devices-admin';
import { useStore } from '../../store';
import { SchemaForm, cleanValues, initialValues, type Values } from './SchemaForm';

const POLL_MS = 1500;
/** stop polling a command still "sent" after this long: the device may never echo it */
const POLL_FOR_MS = 120_000;
const MIN_REASON = 4;

/** "立即定位" for CR, the raw type for a command without a label. */
export function commandLabel(type: string): string {
  const key = `devices.cmd.${type}`;
  return hasKey(key) ? t(key) : type;
}

export function CommandPanel({ device, protocol }: { device: DeviceRow; protocol: ProtocolInfo | undefined }) {
  const role = useStore((s) => s.user?.role);
  const tz = useStore((s) => s.config.timezone);
  const commands = (protocol?.commands ?? []).filter((c) => !c.dangerous || role === 'admin');
  const ordered = [...commands.filter((c) => c.common), ...commands.filter((c) => !c.common)];
  const [type, setType] = useState(ordered[0]?.type ?? '');
  const cmd = ordered.find((c) => c.type === type);
  const [params, setParams] = useState<Values>(() => initialValues(cmd?.params));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<CommandRow[]>([]);
  const polls = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  useEffect(
    () => () => {
      for (const timer of polls.current.values()) clearTimeout(timer);
    },
    [],
  );

  if (!ordered.length) return <p class="muted" data-testid="no-commands">{t('devices.noCommands')}</p>;

  const choose = (next: string) => {
    setType(next);
    setParams(initialValues(ordered.find((c) => c.type === next)?.params));
    setReason('');
    setError(null);
  };

  const poll = (row: CommandRow, since: number) => {
    const timer = setTimeout(async () => {
      polls.current.delete(row.id);
      try {
        const c = await getCommand(device.id, row.id);
        setSent((list) => list.map((x) => (x.id === c.id ? c : x)));
        if (!FINAL_COMMAND_STATES.includes(c.state) && Date.now() - since < POLL_FOR_MS) poll(c, since);
      } catch {
        if (Date.now() - since < POLL_FOR_MS) poll(row, since);
      }
    }, POLL_MS);
    polls.current.set(row.id, timer);
  };

  const send = async () => {
    if (!cmd) return;
    const { values, missing } = cleanValues(cmd.params, params);
    if (missing) return setError(t('devices.err.param', { field: missing }));
    if (cmd.dangerous && reason.trim().length < MIN_REASON) return setError(t('devices.err.reason'));
    setBusy(true);
    setError(null);
    try {
      const r = await sendCommand(device.id, { type: cmd.type, ...values, ...(cmd.dangerous ? { reason: reason.trim() } : {}) });
      setSent((list) => [r.command, ...list].slice(0, 10));
      if (!FINAL_COMMAND_STATES.includes(r.command.state)) poll(r.command, Date.now());
      setReason('');
    } catch (e) {
      setError(deviceErrorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="command-panel" data-testid="command-panel">
      <div class="cmd-quick" role="group" aria-label={t('devices.commands')}>
        {ordered.map((c) => (
          <button type="button" key={c.type} class={`chip small ${c.type === type ? 'on' : ''} ${c.dangerous ? 'cmd-danger' : ''}`} aria-pressed={c.type === type} onClick={() => choose(c.type)} data-testid={`cmd-${c.type}`}>
            {commandLabel(c.type)}
          </button>
        ))}
      </div>
      {cmd && (
        <form
          class="cmd-form"
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <SchemaForm schema={cmd.params} value={params} onChange={setParams} prefix="param" />
          {cmd.dangerous && (
            <div class="cmd-danger-box" role="note">
              <strong>{t('devices.dangerous')}</strong>
              {cmd.why && <small>{cmd.why}</small>}
              <label>
                <span>{t('devices.reason')}</span>
                <textarea rows={2} maxLength={500} value={reason} placeholder={t('devices.reasonHint')} onInput={(e) => setReason(e.currentTarget.value)} data-testid="cmd-reason" />
              </label>
            </div>
          )}
          {error && (
            <p class="form-error" role="alert" data-testid="cmd-error">
              {error}
            </p>
          )}
          <button type="submit" class={`btn ${cmd.dangerous ? 'danger' : 'primary'}`} disabled={busy} data-testid="cmd-send">
            {busy ? t('common.wait') : t('devices.send', { command: commandLabel(cmd.type) })}
          </button>
        </form>
      )}
      {sent.length > 0 && (
        <ol class="cmd-sent" data-testid="cmd-sent">
          {sent.map((c) => (
            <li key={c.id} data-testid="cmd-row" data-command-id={c.id} data-state={c.state}>
              <time>{fmtTime(c.createdAt, tz)}</time>
              <code>{commandLabel(String(c.command.type ?? c.keyword))}</code>
              <span class={`cmd-state cs-${c.state}`} data-testid="cmd-state">
                {label('commandState', c.state)}
              </span>
              {c.result && <small class="cmd-result">{t('command.result', { result: c.result })}</small>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
