/**
 * The elder's photo: fetched with the session (GET /api/elders/:id/photo) and shown from an object URL, so the
 * <img> never loads a URL from data; replaced by a file the user picks (PUT, the raw image), or removed.
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { errorText } from '../../session';
import { notify } from '../../store';
import { deletePhoto, photoUrl, putPhoto, type ElderDetail } from '../../elders-admin';

const TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const MAX_BYTES = 1024 * 1024;

export function ElderPhoto({ elder }: { elder: ElderDetail }) {
  const [has, setHas] = useState(elder.hasPhoto === true);
  const [blobUrl, setBlobUrl] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!has) return;
    let alive = true;
    let made: string | null = null;
    void photoUrl(elder.id)
      .then((u) => {
        made = u;
        if (alive) setBlobUrl(u);
        else if (u) URL.revokeObjectURL(u);
      })
      .catch(() => undefined);
    return () => {
      alive = false;
      if (made) URL.revokeObjectURL(made);
      setBlobUrl(null);
    };
  }, [elder.id, has, version]);

  const upload = async (file: File | undefined) => {
    if (!file) return;
    if (!TYPES.includes(file.type)) return notify('error', t('elders.photoType'));
    if (file.size > MAX_BYTES) return notify('error', t('elders.photoSize'));
    setBusy(true);
    try {
      await putPhoto(elder.id, file);
      setHas(true);
      setVersion((v) => v + 1);
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await deletePhoto(elder.id);
      setHas(false);
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="ef-photo" data-testid="ef-photo" data-has-photo={String(has)}>
      <div class="ef-photo-frame">{blobUrl ? <img src={blobUrl} alt={t('elders.photo')} data-testid="ef-photo-img" /> : <span class="muted small">{t('elders.noPhoto')}</span>}</div>
      <div class="ef-photo-actions">
        <label class="btn small">
          {has ? t('elders.photoReplace') : t('elders.photoUpload')}
          <input type="file" accept={TYPES.join(',')} hidden disabled={busy} onChange={(e) => void upload(e.currentTarget.files?.[0])} data-testid="ef-photo-file" />
        </label>
        {has && (
          <button type="button" class="btn ghost small" disabled={busy} onClick={() => void remove()} data-testid="ef-photo-remove">
            {t('elders.photoRemove')}
          </button>
        )}
      </div>
    </div>
  );
}
