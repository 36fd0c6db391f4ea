/**
 * The vital-sign charts' options (issue 23), pure so they are unit-tested (tests/unit/dashboard/vitals.test.ts):
 * the words come in through `tr`. The gateway buckets the readings in the telemetry store; this only draws them
 * (no aggregation here): the min–max band and the average line per bucket, steps as the bucket's max (a daily
 * counter, so its value at the bucket's end), and the elder's alarm thresholds as dashed lines labelled 上限/下限.
 */
import type { paths } from './api-types.ts';

/** t() of the locale files, for the vitals.* keys. */
export type Tr = (key: `vitals.${string}`, params?: Record<string, string | number>) => string;

type Series200 = paths['/api/elders/{id}/vitals/series']['get']['responses'][200]['content']['application/json'];
export type VitalsSeries = Series200;
export type VitalRange = paths['/api/elders/{id}/vitals/series']['get']['parameters']['query']['range'];
export type VitalField = 'heartRate' | 'spo2' | 'systolic' | 'diastolic' | 'temperature' | 'steps';
type Bucket = VitalsSeries['buckets'][number];
type Threshold = { min?: number; max?: number };

export const VITAL_RANGES: readonly VitalRange[] = ['24h', '7d', '30d'];

/** One chart per measure; blood pressure draws systolic and diastolic together. */
export interface Measure {
  id: 'heartRate' | 'bp' | 'spo2' | 'temperature' | 'steps';
  title: `vitals.${string}`;
  unit: `vitals.${string}`;
  fields: readonly VitalField[];
  /** decimals shown */
  digits: number;
}

export const MEASURES: readonly Measure[] = [
  { id: 'heartRate', title: 'vitals.heartRate', unit: 'vitals.unit.bpm', fields: ['heartRate'], digits: 0 },
  { id: 'bp', title: 'vitals.bp', unit: 'vitals.unit.mmHg', fields: ['systolic', 'diastolic'], digits: 0 },
  { id: 'spo2', title: 'vitals.spo2', unit: 'vitals.unit.percent', fields: ['spo2'], digits: 0 },
  { id: 'temperature', title: 'vitals.temperature', unit: 'vitals.unit.celsius', fields: ['temperature'], digits: 1 },
  { id: 'steps', title: 'vitals.steps', unit: 'vitals.unit.steps', fields: ['steps'], digits: 0 },
];

/** Steps are a counter that grows through the day: a bucket's max is its count at the bucket's end. */
export const valueOf = (f: VitalField, s: { avg: number; max: number }) => (f === 'steps' ? s.max : s.avg);

export const fmtValue = (v: number, digits: number) => v.toFixed(digits);

/** The buckets that have any of the measure's fields. */
export const bucketsOf = (m: Measure, s: VitalsSeries): Bucket[] => s.buckets.filter((b: Bucket) => m.fields.some((f) => b.fields[f]));

const COLORS: Record<VitalField, string> = {
  heartRate: '#d32f2f',
  systolic: '#6a1b9a',
  diastolic: '#1565c0',
  spo2: '#00838f',
  temperature: '#ef6c00',
  steps: '#2e7d32',
};

/** Axis labels and tooltips in the centre's time zone, whatever the browser's. */
export function timeLabel(ms: number, range: VitalRange, tz: string | undefined, locale: string): string {
  const o: Intl.DateTimeFormatOptions = range === '24h' ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : range === '7d' ? { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : { month: '2-digit', day: '2-digit' };
  return new Intl.DateTimeFormat(locale, { timeZone: tz, ...o }).format(new Date(ms));
}

export const fieldName = (f: VitalField, tr: Tr): string => tr(`vitals.field.${f}`);

/** 上限 120 / 下限 40, as the threshold lines and the text beside the chart say it. */
export function thresholdLabels(th: Threshold | undefined, tr: Tr): { kind: 'max' | 'min'; value: number; text: string }[] {
  const out: { kind: 'max' | 'min'; value: number; text: string }[] = [];
  if (th?.max !== undefined) out.push({ kind: 'max', value: th.max, text: tr('vitals.upper', { value: th.max }) });
  if (th?.min !== undefined) out.push({ kind: 'min', value: th.min, text: tr('vitals.lower', { value: th.min }) });
  return out;
}

export const thresholdOf = (s: VitalsSeries, f: VitalField): Threshold | undefined => (s.thresholds as Record<string, Threshold | undefined>)[f];

/**
 * The y axis from the readings and the thresholds (ECharts leaves mark lines out of its own extent), widened a
 * little and to whole steps so the axis labels are round numbers.
 */
export function niceExtent(lo: number, hi: number, digits: number): [number, number] {
  const span = Math.max(hi - lo, digits ? 1 : 10);
  const mag = 10 ** Math.floor(Math.log10(span));
  const step = span / mag < 2.5 ? mag / 5 : span / mag < 5 ? mag / 2 : mag; // 1, 2 or 5 × 10ⁿ
  const pad = span * 0.08;
  return [Math.floor((lo - pad) / step) * step, Math.ceil((hi + pad) / step) * step].map((v) => Number(v.toFixed(6))) as [number, number];
}

/** The ECharts option of one measure: per field a band (min–max) and a line (avg; steps: bars of the max). */
export function chartOption(m: Measure, s: VitalsSeries, o: { tz: string | undefined; locale: string; tr: Tr }): Record<string, unknown> {
  const { tz, locale, tr } = o;
  const range = s.range as VitalRange;
  const unit = tr(m.unit);
  const buckets = bucketsOf(m, s);
  const series: object[] = [];
  const extent: number[] = [];
  for (const f of m.fields) {
    const rows = buckets.filter((b) => b.fields[f]).map((b) => ({ x: Date.parse(b.time), s: b.fields[f]! }));
    const lines = thresholdLabels(thresholdOf(s, f), tr);
    extent.push(...rows.flatMap((r) => [r.s.min, r.s.max]), ...lines.map((l) => l.value));
    const markLine = lines.length
      ? {
          silent: true,
          symbol: 'none',
          lineStyle: { type: 'dashed', color: COLORS[f], width: 1.5 },
          label: { formatter: m.fields.length > 1 ? (p: { name: string }) => `${fieldName(f, tr)} ${p.name}` : '{b}', position: 'insideEndTop', color: COLORS[f], fontSize: 11 },
          data: lines.map((l) => ({ yAxis: l.value, name: l.text })),
        }
      : undefined;
    if (f === 'steps') {
      series.push({ name: fieldName(f, tr), type: 'bar', barMaxWidth: 14, itemStyle: { color: COLORS[f] }, data: rows.map((r) => [r.x, r.s.max]), markLine });
      continue;
    }
    // the band: an invisible line at min, and max−min stacked on it with its area filled
    series.push({ name: `${f}-min`, type: 'line', stack: f, symbol: 'none', lineStyle: { opacity: 0 }, data: rows.map((r) => [r.x, r.s.min]), tooltip: { show: false } });
    series.push({ name: `${f}-band`, type: 'line', stack: f, symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: COLORS[f], opacity: 0.15 }, data: rows.map((r) => [r.x, r.s.max - r.s.min]), tooltip: { show: false } });
    series.push({
      name: fieldName(f, tr),
      type: 'line',
      symbolSize: 4,
      showSymbol: rows.length < 60,
      itemStyle: { color: COLORS[f] },
      data: rows.map((r) => ({ value: [r.x, r.s.avg], stat: r.s })),
      markLine,
    });
  }
  const [yMin, yMax] = niceExtent(Math.min(...extent), Math.max(...extent), m.digits);
  return {
    grid: { left: 44, right: 16, top: m.fields.length > 1 ? 28 : 12, bottom: 24 },
    legend: m.fields.length > 1 ? { data: m.fields.map((f) => fieldName(f, tr)), top: 0, right: 0, textStyle: { fontSize: 11 } } : undefined,
    xAxis: {
      type: 'time',
      min: Date.parse(s.from),
      max: Date.parse(s.to),
      axisLabel: { formatter: (v: number) => timeLabel(v, range, tz, locale), hideOverlap: true, fontSize: 11 },
    },
    yAxis: {
      type: 'value',
      min: m.id === 'steps' ? 0 : yMin,
      max: yMax,
      axisLabel: { fontSize: 11 },
      splitLine: { lineStyle: { color: '#eceff1' } },
    },
    tooltip: {
      trigger: 'item',
      formatter: (p: { seriesName: string; value: [number, number]; data: { stat?: { min: number; avg: number; max: number; count: number } } }) => {
        const when = timeLabel(p.value[0], range, tz, locale);
        const st = p.data?.stat;
        if (!st) return `${p.seriesName} ${when}\n${fmtValue(p.value[1], m.digits)} ${unit}`;
        return `${p.seriesName} ${when}\n${tr('vitals.tooltip', { avg: fmtValue(st.avg, m.digits), min: fmtValue(st.min, m.digits), max: fmtValue(st.max, m.digits), unit, n: st.count })}`;
      },
    },
    series,
  };
}
