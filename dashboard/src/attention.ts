/**
 * Nobody misses a P1: while the page is hidden (another tab in front, the window minimised, the screen locked),
 * a P1 presented to this agent raises a system notification and flashes the page title
 * (「【紧急】跌倒报警 张秀英」 and the normal title in turn) until the page is visible again. Beeps and speech go
 * on as usual. Permission for notifications is asked on a click (登录, 签入), never on page load.
 */
import { t } from './i18n';

export interface Attention {
  alarmId: number;
  /** re-read on every flash: the elder's name may arrive after the alarm */
  title: () => string;
  body: string;
}

const FLASH_MS = 1000;
let flashTimer: ReturnType<typeof setInterval> | undefined;
let flashOn = false;
const pending = new Map<number, Attention>();
const shown = new Map<number, Notification>();

const hidden = () => document.hidden || document.visibilityState === 'hidden';

/** Call from a click handler. Does nothing where notifications are unsupported or already decided. */
export function askNotificationPermission(): void {
  try {
    if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
    void Promise.resolve(Notification.requestPermission()).catch(() => undefined);
  } catch {
    /* no notifications here */
  }
}

/** A P1 for this agent arrived: if the page is hidden, notify and flash until it is visible. */
export function attend(a: Attention, onClick: () => void): void {
  if (!hidden()) return;
  pending.set(a.alarmId, a);
  notifySystem(a, onClick);
  if (!flashTimer) {
    flashOn = false;
    flashTimer = setInterval(flash, FLASH_MS);
    flash();
  }
}

function notifySystem(a: Attention, onClick: () => void): void {
  try {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || shown.has(a.alarmId)) return;
    const n = new Notification(a.title(), { body: a.body, tag: `anxin-alarm-${a.alarmId}`, requireInteraction: true });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
    n.onclose = () => shown.delete(a.alarmId);
    shown.set(a.alarmId, n);
  } catch {
    /* e.g. a browser that only allows notifications from a service worker: the title still flashes */
  }
}

function flash(): void {
  if (!hidden()) {
    stopAttention();
    return;
  }
  const latest = [...pending.values()].pop();
  flashOn = !flashOn;
  document.title = flashOn && latest ? latest.title() : t('app.title');
}

/** The page is visible again (or the session ended): stop flashing, take the notifications away. */
export function stopAttention(): void {
  clearInterval(flashTimer);
  flashTimer = undefined;
  pending.clear();
  for (const n of shown.values()) n.close();
  shown.clear();
  document.title = t('app.title');
}

document.addEventListener('visibilitychange', () => {
  if (!hidden() && flashTimer) stopAttention();
});
