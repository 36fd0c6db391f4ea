/** Today's figures across the top of the wall: numbers ≥ 64 px; the answer rates green at or above target, red below. */
import { fmtDuration, t } from '../../i18n';
import { fmtRate, type Board } from '../../wallboard';

type Tone = 'good' | 'bad' | 'plain';

function Kpi({ title, value, note, tone = 'plain', testid }: { title: string; value: string; note?: string; tone?: Tone; testid: string }) {
  return (
    <div class={`wb-kpi ${tone}`} data-testid={`wb-${testid}`} data-tone={tone}>
      <span class="wb-kpi-title">{title}</span>
      <strong class="wb-kpi-value">{value}</strong>
      {note && <span class="wb-kpi-note">{note}</span>}
    </div>
  );
}

const toneOf = (rate: number | null, target: number): Tone => (rate === null ? 'plain' : rate >= target ? 'good' : 'bad');

export function BoardKpis({ kpi, devices }: { kpi: Board['kpi']; devices: Board['devices'] }) {
  return (
    <div class="wb-kpis">
      <Kpi title={t('wallboard.kpi.total')} value={String(kpi.total)} testid="total" />
      <Kpi title={t('wallboard.kpi.open')} value={String(kpi.open)} note={t('wallboard.kpi.waiting', { n: kpi.waiting })} tone={kpi.waiting > 0 ? 'bad' : 'plain'} testid="open" />
      <Kpi title={t('wallboard.kpi.rate60')} value={fmtRate(kpi.rate60)} note={t('wallboard.kpi.target', { p: fmtRate(kpi.target60) })} tone={toneOf(kpi.rate60, kpi.target60)} testid="rate60" />
      <Kpi title={t('wallboard.kpi.rate180')} value={fmtRate(kpi.rate180)} note={t('wallboard.kpi.target', { p: fmtRate(kpi.target180) })} tone={toneOf(kpi.rate180, kpi.target180)} testid="rate180" />
      <Kpi title={t('wallboard.kpi.avg')} value={kpi.avgAnswerS === null ? '—' : fmtDuration(kpi.avgAnswerS)} note={t('wallboard.kpi.avgNote')} testid="avg" />
      <Kpi title={t('wallboard.kpi.calls')} value={String(kpi.callsWaiting)} tone={kpi.callsWaiting > 0 ? 'bad' : 'plain'} testid="calls" />
      <Kpi title={t('wallboard.kpi.devices')} value={String(devices.online)} note={t('wallboard.kpi.devicesOf', { n: devices.total })} testid="devices" />
    </div>
  );
}
