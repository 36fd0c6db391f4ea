/**
 * ▶ a call's recording: the <audio> element appears (and fetches) only when asked, so each playback the server
 * audits is one the user started. The file comes from Anxin (GET /api/calls/:id/recording or, for a voicemail,
 * GET /api/callbacks/:id/recording; same-origin, the session
 * cookie goes with it), never from Asterisk.
 */
import { useState } from 'preact/hooks';
import { recordingUrl, type RecordingOf } from '../call-log';
import { t } from '../i18n';

export function RecordingPlayer({ flowId, callbackId, compact = false }: { flowId?: string; callbackId?: number; compact?: boolean }) {
  const of: RecordingOf = flowId !== undefined ? { flowId } : { callbackId: callbackId ?? 0 };
  const [open, setOpen] = useState(false);
  const [failed, setFailed] = useState(false);
  if (!open) {
    return (
      <button
        type="button"
        class={`btn small play-btn ${compact ? 'ghost' : ''}`}
        onClick={(e) => {
          e.stopPropagation();
          setOpen(true);
        }}
        title={t('recording.play')}
        aria-label={t('recording.play')}
        data-testid="play-recording"
      >
        ▶{compact ? '' : ` ${t('recording.play')}`}
      </button>
    );
  }
  return (
    <span class="recording" onClick={(e) => e.stopPropagation()}>
      {/* recordingUrl() is always a same-origin /api path built from an encoded call id or a call-back row's number */}
      <audio controls autoPlay preload="auto" src={recordingUrl(of)} onError={() => setFailed(true)} data-testid="recording-audio" data-flow-id={flowId} data-callback-id={callbackId} />
      {failed && (
        <span class="form-error" data-testid="recording-error">
          {t('recording.failed')}
        </span>
      )}
    </span>
  );
}
