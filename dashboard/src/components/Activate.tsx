/**
 * 设备开通 (issue 20), the installer's flow on a phone: (1) the device's identifier, typed or scanned, registered
 * here if it is not yet; (2) the elder, found or created, and the device bound to them; (3) the live test: online,
 * a first position, the battery, then an SOS that arrives as a test alarm (no agent is bothered); (4) finish, which
 * marks the device activated by this installer. The device and step are kept in sessionStorage (ids only), so a
 * reload in the middle of the test resumes it.
 */
import { useEffect, useState } from 'preact/hooks';
import { fmtTime, t } from '../i18n';
import { deviceErrorText, finishActivation, getDevice, listProtocols, type DeviceRow, type ProtocolInfo } from '../devices-admin';
import { ensureElder } from '../session';
import { notify, useStore } from '../store';
import { StepElder } from './activate/StepElder';
import { StepIdentify } from './activate/StepIdentify';
import { StepTest } from './activate/StepTest';

/** ids only (the device and the step), never anything of the session; tests/unit/dashboard/html-sinks.test.ts lists it */
const KEY = 'anxin.activation';
type Step = 1 | 2 | 3 | 4;

function saved(): { deviceId: number; step: Step } | null {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as { deviceId?: unknown; step?: unknown } | null;
    return v && typeof v.deviceId === 'number' && [2, 3].includes(v.step as number) ? { deviceId: v.deviceId, step: v.step as Step } : null;
  } catch {
    return null;
  }
}
function save(deviceId: number | null, step: Step): void {
  try {
    if (deviceId === null || step === 1 || step === 4) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem('anxin.activation', JSON.stringify({ deviceId, step }));
  } catch {
    /* storage off: a reload starts over */
  }
}

export function Activate() {
  const me = useStore((s) => s.user);
  const tz = useStore((s) => s.config.timezone);
  const [protocols, setProtocols] = useState<ProtocolInfo[]>([]);
  const [step, setStep] = useState<Step>(1);
  const [device, setDevice] = useState<DeviceRow | null>(null);
  const [elderName, setElderName] = useState<string | null>(null);
  const [done, setDone] = useState<DeviceRow | null>(null);
  const [busy, setBusy] = useState(false);
  const [restoring, setRestoring] = useState(() => saved() !== null);

  useEffect(() => {
    void listProtocols().then(setProtocols, (e: unknown) => notify('error', deviceErrorText(e)));
    const s = saved();
    if (!s) return;
    void getDevice(s.deviceId)
      .then(async (d) => {
        setDevice(d);
        if (d.elderId !== null) setElderName((await ensureElder(d.elderId))?.name ?? null);
        setStep(s.step === 3 && d.elderId === null ? 2 : s.step);
      })
      .catch(() => save(null, 1))
      .finally(() => setRestoring(false));
  }, []);

  const go = (d: DeviceRow | null, next: Step) => {
    setDevice(d);
    setStep(next);
    save(d?.id ?? null, next);
  };

  const pickDevice = async (d: DeviceRow) => {
    setElderName(d.elderId !== null ? ((await ensureElder(d.elderId))?.name ?? null) : null);
    go(d, 2);
  };

  const finish = async () => {
    if (!device) return;
    setBusy(true);
    try {
      const d = await finishActivation(device.id);
      setDone(d);
      go(d, 4);
    } catch (e) {
      notify('error', deviceErrorText(e));
    } finally {
      setBusy(false);
    }
  };

  const startOver = () => {
    setDone(null);
    setElderName(null);
    go(null, 1);
  };

  const protocol = protocols.find((p) => p.name === device?.protocol);
  return (
    <main class="activate-view" data-testid="activate-screen" data-step={step}>
      <ol class="act-progress" aria-label={t('activate.title')}>
        {([1, 2, 3, 4] as Step[]).map((n) => (
          <li key={n} class={n === step ? 'now' : n < step ? 'done' : ''} aria-current={n === step ? 'step' : undefined}>
            <span>{n}</span>
            {t(`activate.stepShort${n}`)}
          </li>
        ))}
      </ol>
      <section class="box act-box">
        {restoring && <p class="muted">{t('common.loading')}</p>}
        {!restoring && step === 1 && <StepIdentify protocols={protocols} onDevice={(d) => void pickDevice(d)} />}
        {!restoring && step === 2 && device && (
          <StepElder
            device={device}
            elderName={elderName}
            onBound={(d, name) => {
              setElderName(name);
              go(d, 3);
            }}
          />
        )}
        {!restoring && step === 3 && device && (
          <>
            <p class="act-who" data-testid="act-device">
              {device.identifier} → <strong>{elderName ?? '—'}</strong>
            </p>
            <StepTest key={device.id} device={device} protocol={protocol} onFinish={() => void (busy || finish())} onCancel={startOver} />
          </>
        )}
        {step === 4 && done && (
          <div class="act-step act-done" data-testid="act-step-done">
            <h2>{t('activate.step4')}</h2>
            <p class="act-done-mark" aria-hidden="true">
              ✓
            </p>
            <p data-testid="act-done-text">
              {t('activate.doneText', {
                identifier: done.identifier,
                name: elderName ?? '—',
                who: me?.displayName || me?.username || '',
                time: done.activatedAt ? fmtTime(done.activatedAt, tz, true) : '—',
              })}
            </p>
            <button type="button" class="btn primary big" onClick={startOver} data-testid="act-next-device">
              {t('activate.nextDevice')}
            </button>
          </div>
        )}
        {step > 1 && step < 4 && (
          <button type="button" class="btn ghost small act-restart-all" onClick={startOver} data-testid="act-start-over">
            {t('activate.startOver')}
          </button>
        )}
      </section>
    </main>
  );
}
