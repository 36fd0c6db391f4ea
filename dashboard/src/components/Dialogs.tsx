/** The elder file's dialogs (note, resolve, follow-up) and an in-page confirmation in the same style. */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { useStore } from '../store';
import { isTyping, outcomeLabel } from './file-util';

export function Modal({ title, children, onCancel, testid }: { title: string; children: ComponentChildren; onCancel: () => void; testid: string }) {
  return (
    <div class="modal-back" onClick={(e) => e.target === e.currentTarget && onCancel()}>
      <div class="modal" role="dialog" aria-modal="true" aria-label={title} data-testid={testid}>
        <h3>{title}</h3>
        {children}
      </div>
    </div>
  );
}

/** A supervisor's reason (kept in audit_log), the server's error and cancel/submit: the tail of their dialogs. */
export function ReasonTail(p: { reason: string; setReason: (v: string) => void; error: string | null; onClose: () => void; canSave: boolean; saveLabel: string; testid: string }) {
  return (
    <>
      <label class="force-reason">
        <span>{t('supervisor.reason')}</span>
        <textarea rows={2} maxLength={200} value={p.reason} placeholder={t('supervisor.reasonPlaceholder')} onInput={(e) => p.setReason(e.currentTarget.value)} data-testid={`${p.testid}-reason`} />
      </label>
      {p.error && <p class="form-error">{p.error}</p>}
      <div class="modal-actions">
        <button type="button" class="btn ghost" onClick={p.onClose}>
          {t('common.cancel')}
        </button>
        <button type="submit" class="btn primary" disabled={!p.canSave} data-testid={`${p.testid}-save`}>
          {p.saveLabel}
        </button>
      </div>
    </>
  );
}

export function NoteDialog({ onCancel, onSave, busy }: { onCancel: () => void; onSave: (note: string) => void; busy: boolean }) {
  const [note, setNote] = useState('');
  return (
    <Modal title={t('note.title')} onCancel={onCancel} testid="note-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (note.trim()) onSave(note.trim());
        }}
      >
        <textarea
          autoFocus
          rows={4}
          value={note}
          placeholder={t('note.placeholder')}
          onInput={(e) => setNote(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && note.trim()) onSave(note.trim());
          }}
          data-testid="note-text"
        />
        <div class="modal-actions">
          <button type="button" class="btn ghost" onClick={onCancel}>
            {t('common.cancel')} <kbd>Esc</kbd>
          </button>
          <button type="submit" class="btn primary" disabled={busy || !note.trim()} data-testid="note-save">
            {t('common.save')} <kbd>Ctrl+Enter</kbd>
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function ResolveDialog({ onCancel, onSave, busy }: { onCancel: () => void; onSave: (outcome: string, note: string) => void; busy: boolean }) {
  const outcomes = useStore((s) => s.outcomes);
  const codes = Object.keys(outcomes);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const keys = useRef({ codes, outcome, note, onSave });
  keys.current = { codes, outcome, note, onSave };
  // Attached as the dialog renders: a number typed right after R must not be lost.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      const k = keys.current;
      if (/^[1-9]$/.test(e.key)) {
        e.preventDefault();
        const c = k.codes[Number(e.key) - 1];
        if (c) setOutcome(c);
      } else if (e.key === 'Enter' && k.outcome && (e.target as HTMLElement | null)?.tagName !== 'BUTTON') {
        e.preventDefault();
        k.onSave(k.outcome, k.note.trim());
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <Modal title={t('resolve.title')} onCancel={onCancel} testid="resolve-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (outcome) onSave(outcome, note.trim());
        }}
      >
        <fieldset class="outcomes">
          <legend>{t('resolve.outcome')}</legend>
          {codes.map((c, i) => (
            <label key={c} class={`outcome-opt ${outcome === c ? 'on' : ''}`}>
              <input type="radio" name="outcome" value={c} checked={outcome === c} onChange={() => setOutcome(c)} data-testid={`outcome-${c}`} />
              <kbd>{i + 1}</kbd> {outcomeLabel(c)}
              {outcomes[c]?.followUp && <small>{t('resolve.needsFollowUp')}</small>}
            </label>
          ))}
        </fieldset>
        <textarea rows={2} value={note} placeholder={t('resolve.notePlaceholder')} onInput={(e) => setNote(e.currentTarget.value)} data-testid="resolve-note" />
        <div class="modal-actions">
          <button type="button" class="btn ghost" onClick={onCancel}>
            {t('common.cancel')} <kbd>Esc</kbd>
          </button>
          <button type="submit" class="btn resolve" disabled={busy || !outcome} data-testid="resolve-save">
            {t('resolve.submit')} <kbd>Enter</kbd>
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function FollowUpDialog({ onCancel, onSave, busy }: { onCancel: () => void; onSave: (satisfaction: number, note: string) => void; busy: boolean }) {
  const [sat, setSat] = useState(5);
  const [note, setNote] = useState('');
  return (
    <Modal title={t('followUp.title')} onCancel={onCancel} testid="follow-up-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onSave(sat, note.trim());
        }}
      >
        <fieldset class="satisfaction">
          <legend>{t('followUp.satisfaction')}</legend>
          {[1, 2, 3, 4, 5].map((n) => (
            <label key={n} class={`chip ${sat === n ? 'on' : ''}`}>
              <input type="radio" name="sat" value={n} checked={sat === n} onChange={() => setSat(n)} />
              {n}
            </label>
          ))}
        </fieldset>
        <textarea rows={3} value={note} placeholder={t('followUp.notePlaceholder')} onInput={(e) => setNote(e.currentTarget.value)} />
        <div class="modal-actions">
          <button type="button" class="btn ghost" onClick={onCancel}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn primary" disabled={busy}>
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Asks before something that cannot be undone (resolving while a call is live). Enter confirms, Esc cancels. */
export function ConfirmDialog({ title, text, confirm, onCancel, onConfirm, busy }: { title: string; text: string; confirm: string; onCancel: () => void; onConfirm: () => void; busy: boolean }) {
  const ok = useRef<HTMLButtonElement>(null);
  useEffect(() => ok.current?.focus(), []);
  return (
    <Modal title={title} onCancel={onCancel} testid="confirm-dialog">
      <p class="confirm-text">{text}</p>
      <div class="modal-actions">
        <button type="button" class="btn ghost" onClick={onCancel} data-testid="confirm-cancel">
          {t('common.cancel')} <kbd>Esc</kbd>
        </button>
        <button type="button" ref={ok} class="btn danger" disabled={busy} onClick={onConfirm} data-testid="confirm-ok">
          {confirm}
        </button>
      </div>
    </Modal>
  );
}
