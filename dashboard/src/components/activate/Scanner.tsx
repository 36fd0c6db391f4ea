/**
 * Scan the IMEI from the box or the device label: the phone's camera and the browser's BarcodeDetector (QR and the
 * usual 1-D codes). Offered only where both exist; typing the number always works.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n';

interface Detected {
  rawValue: string;
}
interface Detector {
  detect(source: HTMLVideoElement): Promise<Detected[]>;
}
type DetectorClass = new (o?: { formats?: string[] }) => Detector;

const FORMATS = ['qr_code', 'code_128', 'code_39', 'ean_13', 'data_matrix'];

/** True where a scan can work: a BarcodeDetector and a camera. */
export async function canScan(): Promise<boolean> {
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices?.enumerateDevices) return false;
  try {
    return (await navigator.mediaDevices.enumerateDevices()).some((d) => d.kind === 'videoinput');
  } catch {
    return false;
  }
}

/** The IMEI in what a label's code says ("IMEI:862…", "862…;SN…"), else the text itself, trimmed. */
export function identifierFromCode(raw: string): string {
  return /\b\d{15}\b/.exec(raw)?.[0] ?? raw.trim();
}

export function Scanner({ onResult, onClose }: { onResult: (identifier: string) => void; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let alive = true;
    const Cls = (window as unknown as { BarcodeDetector: DetectorClass }).BarcodeDetector;
    const detector = new Cls({ formats: FORMATS });
    const look = async () => {
      if (!alive || !video.current) return;
      try {
        const found = await detector.detect(video.current);
        if (found[0]?.rawValue && alive) {
          onResult(identifierFromCode(found[0].rawValue));
          return;
        }
      } catch {
        /* the video is not ready yet: look again */
      }
      timer = setTimeout(() => void look(), 300);
    };
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment' }, audio: false })
      .then(async (s) => {
        stream = s;
        if (!alive || !video.current) return;
        video.current.srcObject = s;
        await video.current.play().catch(() => undefined);
        void look();
      })
      .catch(() => setError(t('activate.scanDenied')));
    return () => {
      alive = false;
      clearTimeout(timer);
      stream?.getTracks().forEach((tr) => tr.stop());
    };
  }, []);
  return (
    <div class="scanner" data-testid="scanner">
      <video ref={video} muted playsInline class="scanner-video" />
      <p class="muted small">{error ?? t('activate.scanHint')}</p>
      <button type="button" class="btn ghost" onClick={onClose}>
        {t('common.cancel')}
      </button>
    </div>
  );
}
