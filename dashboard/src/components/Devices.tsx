/**
 * Devices (设备, issue 20), for admins and installers: every registered device with its battery, signal, last
 * contact, online or not, activated or not and the elder it is issued to; search and an "unbound only" filter.
 * Register a device of any protocol (its settings from the protocol's schema; an MQTT device's secret shown once),
 * issue it to an elder (发放终端) or take it back, edit it, send it commands and follow their state. The second
 * tab lists the devices that spoke to us unregistered (待开通), each with "register this". Text only, never HTML.
 */
import { useEffect, useState } from 'preact/hooks';
import { fmtAgo, fmtTime, label, t } from '../i18n';
import { bindDevice, deviceErrorText, listDevices, listProtocols, listUnregistered, searchElders, unbindDevice, type DeviceRow, type ProtocolInfo, type UnknownDevice } from '../devices-admin';
import { notify, useNow, useStore } from '../store';
import { ConfirmDialog } from './Dialogs';
import { CommandPanel } from './devices/CommandPanel';
import { ElderPicker } from './devices/ElderPicker';
import { EditForm, RegisterForm, type Prefill } from './devices/RegisterForm';
import { SecretDialog } from './devices/SecretDialog';

type Side = { kind: 'none' } | { kind: 'register'; prefill?: Prefill; nonce: number } | { kind: 'device'; id: number };

export function Devices() {
  const tz = useStore((s) => s.config.timezone);
  const now = useNow();
  const [protocols, setProtocols] = useState<ProtocolInfo[]>([]);
  const [devices, setDevices] = useState<DeviceRow[] | null>(null);
  const [waiting, setWaiting] = useState<UnknownDevice[]>([]);
  const [names, setNames] = useState<Map<number, string>>(new Map());
  const [q, setQ] = useState('');
  const [unbound, setUnbound] = useState(false);
  const [tab, setTab] = useState<'devices' | 'waiting'>('devices');
  const [side, setSide] = useState<Side>({ kind: 'none' });
  const [secret, setSecret] = useState<{ identifier: string; secret: string } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const load = async () => {
    try {
      const [list, unknown] = await Promise.all([listDevices({ q, unbound }), listUnregistered().catch(() => [] as UnknownDevice[])]);
      setDevices(list);
      setWaiting(unknown);
      setLoadError(null);
    } catch (e) {
      setLoadError(deviceErrorText(e));
    }
  };
  useEffect(() => {
    void listProtocols().then(setProtocols, (e: unknown) => setLoadError(deviceErrorText(e)));
    void loadElderNames(setNames);
  }, []);
  // a short pause while typing the search
  useEffect(() => {
    const timer = setTimeout(() => void load(), 250);
    return () => clearTimeout(timer);
  }, [q, unbound]);
  // battery, signal and online change by themselves: refresh while the screen is open
  useEffect(() => {
    const timer = setInterval(() => void load(), 30_000);
    return () => clearInterval(timer);
  }, [q, unbound]);

  const put = (d: DeviceRow) => setDevices((list) => (list ? (list.some((x) => x.id === d.id) ? list.map((x) => (x.id === d.id ? d : x)) : [d, ...list]) : [d]));
  const selected = side.kind === 'device' ? devices?.find((d) => d.id === side.id) : undefined;
  const protoOf = (name: string) => protocols.find((p) => p.name === name);
  const elderName = (id: number | null) => (id === null ? null : (names.get(id) ?? `#${id}`));

  return (
    <main class="devices-view" data-testid="devices-screen">
      <section class="box devices-list" aria-label={t('devices.title')}>
        <div class="devices-head">
          <h2>{t('devices.title')}</h2>
          <div class="view-switch devices-tabs" role="tablist">
            <button type="button" role="tab" aria-selected={tab === 'devices'} class={`chip small ${tab === 'devices' ? 'on' : ''}`} onClick={() => setTab('devices')} data-testid="tab-devices">
              {t('devices.tabRegistered', { n: devices?.length ?? 0 })}
            </button>
            <button type="button" role="tab" aria-selected={tab === 'waiting'} class={`chip small ${tab === 'waiting' ? 'on' : ''}`} onClick={() => setTab('waiting')} data-testid="tab-waiting">
              {t('devices.tabWaiting', { n: waiting.length })}
            </button>
          </div>
          <button type="button" class="btn primary" onClick={() => setSide({ kind: 'register', nonce: Date.now() })} data-testid="device-new">
            {t('devices.new')}
          </button>
        </div>
        {tab === 'devices' && (
          <div class="devices-filter">
            <input type="search" value={q} placeholder={t('devices.search')} aria-label={t('devices.search')} onInput={(e) => setQ(e.currentTarget.value)} data-testid="device-search" />
            <label class="inline">
              <input type="checkbox" checked={unbound} onChange={(e) => setUnbound(e.currentTarget.checked)} data-testid="device-unbound" />
              {t('devices.unboundOnly')}
            </label>
            <button type="button" class="btn ghost small" onClick={() => void load()} data-testid="device-refresh">
              {t('devices.refresh')}
            </button>
          </div>
        )}
        {loadError && (
          <p class="form-error" role="alert">
            {loadError}
          </p>
        )}
        {tab === 'devices' && !devices && !loadError && <p class="muted">{t('common.loading')}</p>}
        {tab === 'devices' && devices && (
          <div class="table-wrap">
            <table class="table devices-table" data-testid="devices-table">
              <thead>
                <tr>
                  <th>{t('devices.identifier')}</th>
                  <th>{t('devices.protocol')}</th>
                  <th>{t('devices.elder')}</th>
                  <th>{t('devices.status')}</th>
                  <th class="num">{t('devices.battery')}</th>
                  <th class="num">{t('devices.signal')}</th>
                  <th>{t('devices.lastSeen')}</th>
                </tr>
              </thead>
              <tbody>
                {devices.map((d) => (
                  <tr
                    key={d.id}
                    class={`clickable ${selected?.id === d.id ? 'selected' : ''}`}
                    onClick={() => setSide({ kind: 'device', id: d.id })}
                    data-testid="device-row"
                    data-identifier={d.identifier}
                    data-device-id={d.id}
                    data-online={String(!!d.online)}
                    data-bound={String(d.elderId !== null)}
                  >
                    <td>
                      <button type="button" class="link-btn" onClick={() => setSide({ kind: 'device', id: d.id })}>
                        <strong>{d.identifier}</strong>
                      </button>
                      <small class="muted block">
                        {label('deviceKind', d.kind)}
                        {d.model ? ` · ${d.model}` : ''}
                      </small>
                    </td>
                    <td class="nowrap">{protoOf(d.protocol)?.label || d.protocol}</td>
                    <td class="devices-elder" data-testid="device-elder">
                      {d.elderId !== null ? elderName(d.elderId) : <span class="muted">{t('devices.unbound')}</span>}
                    </td>
                    <td class="nowrap">
                      <OnlineBadge online={d.online} />
                      {d.activatedAt ? <span class="dev-badge ok" title={fmtTime(d.activatedAt, tz, true)}>{t('devices.activated')}</span> : <span class="dev-badge none">{t('devices.notActivated')}</span>}
                    </td>
                    <td class="num">
                      <Battery value={d.battery} />
                    </td>
                    <td class="num">{d.signal ?? '—'}</td>
                    <td class="nowrap" title={d.lastSeen ? fmtTime(d.lastSeen, tz, true) : ''}>
                      {fmtAgo(d.lastSeen, now)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {!devices.length && <p class="muted">{t('devices.none')}</p>}
          </div>
        )}
        {tab === 'waiting' && (
          <div class="table-wrap">
            <p class="muted small">{t('devices.waitingNote')}</p>
            <table class="table" data-testid="waiting-table">
              <thead>
                <tr>
                  <th>{t('devices.identifier')}</th>
                  <th>{t('devices.protocol')}</th>
                  <th>{t('devices.firstSeen')}</th>
                  <th>{t('devices.lastSeen')}</th>
                  <th class="num">{t('devices.attempts')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {waiting.map((u) => (
                  <tr key={u.identifier} data-testid="waiting-row" data-identifier={u.identifier}>
                    <td>
                      <strong>{u.identifier}</strong>
                      {u.remote && <small class="muted block">{u.remote}</small>}
                    </td>
                    <td>{protoOf(u.protocol)?.label || u.protocol}</td>
                    <td class="nowrap">{fmtTime(u.firstSeen, tz, true)}</td>
                    <td class="nowrap">{fmtAgo(u.lastSeen, now)}</td>
                    <td class="num">{u.attempts}</td>
                    <td>
                      <button type="button" class="btn small primary" onClick={() => setSide({ kind: 'register', prefill: { identifier: u.identifier, protocol: u.protocol }, nonce: Date.now() })} data-testid="waiting-register">
                        {t('devices.registerThis')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {!waiting.length && <p class="muted">{t('devices.noneWaiting')}</p>}
          </div>
        )}
      </section>

      {side.kind === 'register' && protocols.length > 0 && (
        <section class="box devices-side" aria-label={t('devices.new')} data-testid="register-panel">
          <h3>{t('devices.new')}</h3>
          <RegisterForm
            key={side.nonce}
            protocols={protocols}
            prefill={side.prefill}
            onCancel={() => setSide({ kind: 'none' })}
            onDone={(d, s) => {
              put(d);
              setWaiting((w) => w.filter((x) => x.identifier !== d.identifier));
              setTab('devices');
              setSide({ kind: 'device', id: d.id });
              if (d.elderId !== null) void loadElderNames(setNames);
              if (s) setSecret({ identifier: d.identifier, secret: s });
              else notify('info', t('devices.registered', { identifier: d.identifier }));
            }}
          />
        </section>
      )}
      {selected && (
        <DevicePanel
          key={selected.id}
          device={selected}
          protocol={protoOf(selected.protocol)}
          elderName={elderName(selected.elderId)}
          onChanged={(d) => {
            put(d);
            void loadElderNames(setNames);
          }}
          onClose={() => setSide({ kind: 'none' })}
        />
      )}
      {secret && <SecretDialog identifier={secret.identifier} secret={secret.secret} onClose={() => setSecret(null)} />}
    </main>
  );
}

async function loadElderNames(set: (m: Map<number, string>) => void): Promise<void> {
  try {
    const list = await searchElders('', 500);
    set(new Map(list.map((e) => [e.id, e.name])));
  } catch {
    /* names are a nicety: the list shows #id without them */
  }
}

export function OnlineBadge({ online }: { online: boolean | undefined }) {
  return (
    <span class={`dev-badge ${online ? 'online' : 'offline'}`} data-testid="online-badge">
      <i />
      {online ? t('devices.online') : t('devices.offline')}
    </span>
  );
}

export function Battery({ value }: { value: number | null | undefined }) {
  if (value === null || value === undefined) return <span class="muted">—</span>;
  return <span class={`battery ${value <= 20 ? 'low' : ''}`}>{value}%</span>;
}

/** One device: what it is, issue it to an elder or take it back, edit it, commands. */
function DevicePanel({ device, protocol, elderName, onChanged, onClose }: { device: DeviceRow; protocol: ProtocolInfo | undefined; elderName: string | null; onChanged: (d: DeviceRow) => void; onClose: () => void }) {
  const tz = useStore((s) => s.config.timezone);
  const [mode, setMode] = useState<'view' | 'bind' | 'edit'>('view');
  const [confirmUnbind, setConfirmUnbind] = useState(false);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<DeviceRow>) => {
    setBusy(true);
    try {
      onChanged(await fn());
      setMode('view');
    } catch (e) {
      notify('error', deviceErrorText(e));
    } finally {
      setBusy(false);
      setConfirmUnbind(false);
    }
  };
  return (
    <section class="box devices-side" aria-label={device.identifier} data-testid="device-panel" data-device-id={device.id}>
      <div class="devices-side-head">
        <h3>{device.identifier}</h3>
        <button type="button" class="btn ghost small" onClick={onClose} aria-label={t('common.dismiss')}>
          ✕
        </button>
      </div>
      <dl class="device-facts">
        <dt>{t('devices.protocol')}</dt>
        <dd>{protocol?.label || device.protocol}</dd>
        <dt>{t('devices.kind')}</dt>
        <dd>
          {label('deviceKind', device.kind)}
          {device.model ? ` · ${device.model}` : ''}
        </dd>
        {device.simPhone && (
          <>
            <dt>{t('devices.simPhone')}</dt>
            <dd>{device.simPhone}</dd>
          </>
        )}
        <dt>{t('devices.status')}</dt>
        <dd>
          <OnlineBadge online={device.online} /> <Battery value={device.battery} /> {device.lastSeen ? fmtTime(device.lastSeen, tz, true) : t('common.never')}
        </dd>
        <dt>{t('devices.activation')}</dt>
        <dd data-testid="device-activated">{device.activatedAt ? t('devices.activatedAt', { at: fmtTime(device.activatedAt, tz, true) }) : t('devices.notActivated')}</dd>
        <dt>{t('devices.elder')}</dt>
        <dd data-testid="panel-elder">{elderName ?? <span class="muted">{t('devices.unbound')}</span>}</dd>
      </dl>
      <div class="device-actions">
        {device.elderId === null ? (
          <button type="button" class="btn primary small" disabled={busy} onClick={() => setMode(mode === 'bind' ? 'view' : 'bind')} data-testid="device-bind">
            {t('devices.issue')}
          </button>
        ) : (
          <button type="button" class="btn small" disabled={busy} onClick={() => setConfirmUnbind(true)} data-testid="device-unbind">
            {t('devices.unbind')}
          </button>
        )}
        <button type="button" class="btn ghost small" disabled={busy} onClick={() => setMode(mode === 'edit' ? 'view' : 'edit')} data-testid="device-edit">
          {t('devices.edit')}
        </button>
      </div>
      {mode === 'bind' && (
        <div class="device-bind">
          <p class="muted small">{t('devices.issueHint')}</p>
          <ElderPicker autoFocus onPick={(e) => void run(() => bindDevice(device.id, e.id))} />
        </div>
      )}
      {mode === 'edit' && <EditForm device={device} protocol={protocol} onCancel={() => setMode('view')} onDone={(d) => (onChanged(d), setMode('view'))} />}
      <h4>{t('devices.commands')}</h4>
      <CommandPanel device={device} protocol={protocol} />
      {confirmUnbind && (
        <ConfirmDialog
          title={t('devices.unbindTitle')}
          text={t('devices.unbindText', { identifier: device.identifier, name: elderName ?? '' })}
          confirm={t('devices.unbind')}
          busy={busy}
          onCancel={() => setConfirmUnbind(false)}
          onConfirm={() => void run(() => unbindDevice(device.id))}
        />
      )}
    </section>
  );
}
