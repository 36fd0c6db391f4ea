/** 改派 (issue 19 "Supervisor"): a supervisor gives an open alarm to another signed-in agent, with a reason (audited). */
import { useState } from 'preact/hooks';
import { post } from '../api';
import { label, t } from '../i18n';
import { errorText } from '../session';
import { notify, useStore } from '../store';
import type { Alarm } from '../types';
import { Modal, ReasonTail } from './Dialogs';

export function Reassign({ alarm }: { alarm: Alarm }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        class="btn small"
        onClick={(e) => {
          e.stopPropagation(); // the row opens the file
          setOpen(true);
        }}
        data-testid="reassign"
      >
        {t('supervisor.reassign')}
      </button>
      {open && <ReassignDialog alarm={alarm} onClose={() => setOpen(false)} />}
    </>
  );
}

function ReassignDialog({ alarm, onClose }: { alarm: Alarm; onClose: () => void }) {
  const agents = useStore((s) => s.agents);
  const choices = [...agents.values()].filter((a) => a.signedIn && a.role !== 'installer' && a.userId !== alarm.ownerId);
  const [userId, setUserId] = useState<number | null>(choices.find((a) => a.state === 'ready')?.userId ?? choices[0]?.userId ?? null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const who = (id: number) => {
    const a = agents.get(id);
    return a?.displayName || a?.username || t('actor.agent', { id });
  };
  return (
    <div onClick={(e) => e.stopPropagation()}>
      <Modal title={t('supervisor.reassignTitle', { id: alarm.id, kind: label('kind', alarm.kind) })} onCancel={onClose} testid="reassign-dialog">
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            if (userId === null) return;
            setBusy(true);
            setError(null);
            try {
              await post(`/api/alarms/${alarm.id}/reassign`, { userId, ...(reason.trim().length >= 2 ? { reason: reason.trim() } : {}) });
              notify('info', t('supervisor.reassigned', { id: alarm.id, name: who(userId) }));
              onClose();
            } catch (err) {
              setError(errorText(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          {choices.length === 0 ? (
            <p class="muted">{t('supervisor.reassignNobody')}</p>
          ) : (
            <label class="force-reason">
              <span>{t('supervisor.reassignTo')}</span>
              <select value={userId ?? ''} onChange={(e) => setUserId(Number(e.currentTarget.value))} data-testid="reassign-to">
                {choices.map((a) => (
                  <option key={a.userId} value={a.userId}>
                    {`${who(a.userId)} · ${label('agentState', a.state)}`}
                  </option>
                ))}
              </select>
            </label>
          )}
          <ReasonTail reason={reason} setReason={setReason} error={error} onClose={onClose} canSave={userId !== null && !busy} saveLabel={t('supervisor.reassign')} testid="reassign" />
        </form>
      </Modal>
    </div>
  );
}
