/**
 * Step 3 of 设备开通: the live test. The gateway opens a test window for the device (POST …/activation): while it
 * lasts, an alarm from the device is a TEST alarm (closed at once, no escalation, no screen-pop to agents). The
 * screen asks every 2 s (GET …/activation) and ticks off: online, a first position (on a small map), the battery,
 * then asks for the SOS (the red key on a one-key caller) and shows the test alarm when it comes. A check that has
 * not passed after a while says what to check on the device (APN, server address and port, SIM credit).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { fmtTime, t, type MsgKey } from '../../i18n';
import { cancelActivation, deviceErrorText, getActivation, startActivation, type ActivationStatus, type DeviceRow, type ProtocolInfo } from '../../devices-admin';
import { notify, useNow, useStore } from '../../store';
import { ElderMap, type MapData } from '../ElderMap';

const POLL_MS = 2000;
/** after this long without the check passing, the screen says what to check */
const HINT_AFTER_S = { online: 90, position: 180, battery: 120, alarm: 120 };

type CheckState = 'pass' | 'wait' | 'late' | 'skip';

export function StepTest({ device, protocol, onFinish, onCancel }: { device: DeviceRow; protocol: ProtocolInfo | undefined; onFinish: () => void; onCancel: () => void }) {
  const tz = useStore((s) => s.config.timezone);
  const tileUrl = useStore((s) => s.config.mapTileUrl);
  const now = useNow();
  const [status, setStatus] = useState<ActivationStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Resumes a running test (a reload mid-test) instead of restarting its window; starts one otherwise.
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const s = await getActivation(device.id);
        if (!alive) return;
        setStatus(s);
        setError(null);
      } catch (e) {
        if (alive) setError(deviceErrorText(e));
      }
      if (alive) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void (async () => {
      try {
        const s = await getActivation(device.id);
        const running = s.active && s.until && new Date(s.until).getTime() > Date.now();
        const started = running ? s : await startActivation(device.id);
        if (alive) setStatus(started);
      } catch (e) {
        if (alive) setError(deviceErrorText(e));
      }
      if (alive) timer = setTimeout(() => void tick(), POLL_MS);
    })();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [device.id]);

  const sessions = protocol ? protocol.transport === 'tcp' || protocol.transport === 'mqtt' : true;
  const positions = device.kind === 'watch' || device.protocol === 'gt06' || device.protocol === 'watch';
  const redKey = device.kind === 'one_key_caller' || device.protocol === 'phone';
  const since = status?.startedAt ? (now - new Date(status.startedAt).getTime()) / 1000 : 0;
  const state = (passed: boolean, hintAfter: number, applies = true): CheckState => (!applies ? 'skip' : passed ? 'pass' : since > hintAfter ? 'late' : 'wait');
  const alarm = status?.testAlarms[0];
  const checks = {
    online: state(!!status?.online, HINT_AFTER_S.online, sessions),
    position: state(!!status?.position, HINT_AFTER_S.position, sessions && positions),
    battery: state(status?.battery !== null && status?.battery !== undefined, HINT_AFTER_S.battery, sessions),
    alarm: state(!!alarm, HINT_AFTER_S.alarm),
  };
  // the key is asked for once the device is heard (a device without sessions: at once)
  const askKey = checks.online === 'pass' || checks.online === 'skip';
  const ready = Object.values(checks).every((c) => c === 'pass' || c === 'skip');
  const expired = status !== null && (!status.active || (status.until !== null && new Date(status.until).getTime() < now));
  const left = status?.until ? Math.max(0, Math.round((new Date(status.until).getTime() - now) / 1000)) : null;
  const mapData = useMemo<MapData>(
    () => ({ home: null, track: [], geofences: [], last: status?.position ? { lat: status.position.lat, lon: status.position.lon, label: fmtTime(status.position.at, tz) } : null }),
    [status?.position?.lat, status?.position?.lon, status?.position?.at],
  );

  const restart = async () => {
    setBusy(true);
    try {
      setStatus(await startActivation(device.id));
    } catch (e) {
      notify('error', deviceErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    setBusy(true);
    try {
      await cancelActivation(device.id);
    } catch {
      /* the window ends by itself at its time anyway */
    } finally {
      setBusy(false);
      onCancel();
    }
  };

  return (
    <div class="act-step" data-testid="act-step-test" data-ready={String(ready)}>
      <h2>{t('activate.step3')}</h2>
      {left !== null && !expired && (
        <p class="muted small" data-testid="act-window">
          {t('activate.windowLeft', { min: Math.floor(left / 60), s: String(left % 60).padStart(2, '0') })}
        </p>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {expired && (
        <div class="act-expired" role="alert" data-testid="act-expired">
          {t('activate.windowOver')}
          <button type="button" class="btn small" disabled={busy} onClick={() => void restart()} data-testid="act-restart">
            {t('activate.restart')}
          </button>
        </div>
      )}
      <ol class="act-checks">
        <Check id="online" state={checks.online} title={t('activate.checkOnline')} detail={status?.online ? t('activate.onlineYes') : t('activate.onlineWait')} hint="activate.hint.online" />
        <Check
          id="position"
          state={checks.position}
          title={t('activate.checkPosition')}
          detail={status?.position ? `${status.position.lat.toFixed(5)}, ${status.position.lon.toFixed(5)} · ${fmtTime(status.position.at, tz)}` : t('activate.positionWait')}
          hint="activate.hint.position"
        />
        {checks.position === 'pass' && (
          <li class="act-map">
            <ElderMap data={mapData} tileUrl={tileUrl || undefined} />
          </li>
        )}
        <Check id="battery" state={checks.battery} title={t('activate.checkBattery')} detail={status?.battery !== null && status?.battery !== undefined ? `${status.battery}%${status.battery <= 20 ? ` · ${t('activate.batteryLow')}` : ''}` : t('activate.batteryWait')} hint="activate.hint.battery" />
        <Check
          id="alarm"
          state={checks.alarm}
          title={t('activate.checkAlarm')}
          detail={alarm ? t('activate.alarmAt', { time: fmtTime(alarm.at, tz) }) : !askKey ? t('activate.alarmAfterOnline') : redKey ? t('activate.pressRed') : t('activate.pressSos')}
          hint={redKey ? 'activate.hint.redKey' : 'activate.hint.alarm'}
          prompt={!alarm && askKey}
        />
      </ol>
      {!ready && <p class="muted small">{t('activate.notReady')}</p>}
      <div class="act-buttons">
        <button type="button" class="btn ghost" disabled={busy} onClick={() => void cancel()} data-testid="act-cancel">
          {t('activate.cancelTest')}
        </button>
        <button type="button" class={`btn big ${ready ? 'primary' : ''}`} disabled={busy || !status} onClick={onFinish} data-testid="act-finish">
          {t('activate.finish')}
        </button>
      </div>
    </div>
  );
}

function Check({ id, state, title, detail, hint, prompt }: { id: string; state: CheckState; title: string; detail: string; hint: MsgKey; prompt?: boolean }) {
  if (state === 'skip') return null;
  return (
    <li class={`act-check ${state} ${prompt && state !== 'pass' ? 'prompt' : ''}`} data-testid={`check-${id}`} data-state={state}>
      <span class="act-mark" aria-hidden="true">
        {state === 'pass' ? '✓' : state === 'late' ? '!' : '…'}
      </span>
      <span class="act-check-body">
        <strong>{title}</strong>
        <span data-testid={`check-${id}-detail`}>{detail}</span>
        {state === 'late' && <small class="act-hint">{t(hint)}</small>}
      </span>
    </li>
  );
}
