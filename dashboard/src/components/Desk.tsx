/** The agent's desk: the queue on the left, the elder's file (screen-pop) on the right. */
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';
import { openFile } from '../session';
import { store, useStore } from '../store';
import { ElderFile, isTyping } from './ElderFile';
import { Queue, useQueue } from './Queue';

export function Desk() {
  const open = useStore((s) => s.open);
  const list = useQueue();
  const listRef = useRef(list);
  listRef.current = list;

  // Queue navigation: J/K or ↑/↓ select, Enter opens, ? shows the shortcuts.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || document.querySelector('.modal')) return;
      const l = listRef.current;
      const s = store.get();
      const idx = l.findIndex((a) => a.id === s.selectedAlarmId);
      if (e.key === 'j' || e.key === 'ArrowDown' || e.key === 'k' || e.key === 'ArrowUp') {
        if (!l.length) return;
        const down = e.key === 'j' || e.key === 'ArrowDown';
        const next = l[Math.max(0, Math.min(l.length - 1, idx < 0 ? 0 : idx + (down ? 1 : -1)))]!;
        store.set({ selectedAlarmId: next.id });
        e.preventDefault();
      } else if (e.key === 'Enter' && idx >= 0 && (e.target as HTMLElement | null)?.tagName !== 'BUTTON') {
        const a = l[idx]!;
        openFile({ alarmId: a.id, elderId: a.elderId ?? undefined, reason: 'click' });
        e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <main class="desk">
      <Queue />
      {open ? <ElderFile key={`${open.alarmId ?? ''}-${open.elderId ?? ''}`} open={open} /> : <Idle />}
    </main>
  );
}

function Idle() {
  const me = useStore((s) => s.me);
  const role = useStore((s) => s.user?.role);
  return (
    <section class="file idle-panel" data-testid="idle-panel">
      <h2>{t('idle.title')}</h2>
      {role === 'agent' && !me?.signedIn && <p class="callout">{t('idle.signIn')}</p>}
      <p class="muted">{t('idle.text')}</p>
      <h3>{t('shortcuts.title')}</h3>
      <dl class="shortcuts">
        {(
          [
            ['A', 'shortcuts.accept'],
            ['C', 'shortcuts.callElder'],
            ['N', 'shortcuts.note'],
            ['R', 'shortcuts.resolve'],
            ['F', 'shortcuts.followUp'],
            ['J / K', 'shortcuts.move'],
            ['Enter', 'shortcuts.open'],
            ['Esc', 'shortcuts.close'],
          ] as const
        ).map(([k, label]) => (
          <div key={k}>
            <dt>
              <kbd>{k}</kbd>
            </dt>
            <dd>{t(label)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
