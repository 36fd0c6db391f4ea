/** The vital-sign charts' options (dashboard/src/vitals-chart.ts): thresholds as labelled dashed lines, steps as the bucket's max. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as v from '../../../dashboard/src/vitals-chart.ts';

const zh = JSON.parse(readFileSync(join(import.meta.dirname, '../../../dashboard/src/locales/zh-CN.json'), 'utf8')) as Record<string, string>;
const asked = new Set<string>();
/** i18n's t() over zh-CN, remembering which keys were asked for */
const tr: v.Tr = (key, params) => {
  asked.add(key);
  return (zh[key] ?? `?${key}`).replace(/\{(\w+)\}/g, (m, k: string) => (params?.[k] !== undefined ? String(params[k]) : m));
};

const stat = (min: number, avg: number, max: number, count = 2) => ({ min, avg, max, count });
const series = {
  range: '24h',
  from: '2026-03-01T00:00:00.000Z',
  to: '2026-03-02T00:00:00.000Z',
  everyS: 600,
  timezone: 'Asia/Shanghai',
  buckets: [
    { time: '2026-03-01T00:00:00.000Z', fields: { heartRate: stat(70, 80, 90), steps: stat(100, 150, 200) } },
    { time: '2026-03-01T00:10:00.000Z', fields: { systolic: stat(120, 125, 130), diastolic: stat(80, 82, 84) } },
  ],
  latest: {},
  thresholds: { heartRate: { min: 40, max: 120 }, systolic: { max: 180 }, diastolic: { max: 100 } },
};

type Line = { name: string; type: string; data: unknown[]; markLine?: { lineStyle: { type: string }; data: { yAxis: number; name: string }[] } };
const opt = (id: string) => v.chartOption(v.MEASURES.find((m) => m.id === id)!, series, { tz: 'Asia/Shanghai', locale: 'zh-CN', tr }) as unknown as { series: Line[]; yAxis: { min: number; max: number } };

describe('vital-sign chart options', () => {
  it('heart rate: a min–max band and the average line, thresholds as dashed lines 上限/下限 with the value', () => {
    const o = opt('heartRate');
    const [min, band, avg] = o.series;
    expect(min!.data).toEqual([[Date.parse('2026-03-01T00:00:00Z'), 70]]);
    expect(band!.data).toEqual([[Date.parse('2026-03-01T00:00:00Z'), 20]]);
    expect(avg!.data).toEqual([{ value: [Date.parse('2026-03-01T00:00:00Z'), 80], stat: stat(70, 80, 90) }]);
    expect(avg!.markLine!.lineStyle.type).toBe('dashed');
    expect(avg!.markLine!.data).toEqual([{ yAxis: 120, name: '上限 120' }, { yAxis: 40, name: '下限 40' }]);
    // the axis holds the thresholds too, on round numbers
    expect(o.yAxis.min).toBeLessThanOrEqual(40);
    expect(o.yAxis.max).toBeGreaterThanOrEqual(120);
    expect(o.yAxis.min % 5).toBe(0);
  });

  it('blood pressure: systolic and diastolic, each with its own threshold', () => {
    const lines = opt('bp').series.filter((s) => s.markLine);
    expect(lines.map((s) => [s.name, s.markLine!.data.map((d) => d.yAxis)])).toEqual([['收缩压', [180]], ['舒张压', [100]]]);
  });

  it('steps: bars of the bucket max (the daily counter at the bucket end), no thresholds', () => {
    const [bars] = opt('steps').series;
    expect(bars).toMatchObject({ type: 'bar', data: [[Date.parse('2026-03-01T00:00:00Z'), 200]] });
    expect(bars!.markLine).toBeUndefined();
  });

  it('only the buckets that carry the measure', () => {
    expect(v.bucketsOf(v.MEASURES.find((m) => m.id === 'spo2')!, series)).toEqual([]);
    expect(v.bucketsOf(v.MEASURES.find((m) => m.id === 'bp')!, series).map((b) => b.time)).toEqual(['2026-03-01T00:10:00.000Z']);
  });

  it('every word it asks for is in the locale files', () => {
    for (const m of v.MEASURES) {
      opt(m.id);
      tr(m.title);
    }
    expect([...asked].filter((k) => !(k in zh))).toEqual([]);
    expect(asked.size).toBeGreaterThan(5);
  });

  it('round axis ends', () => {
    expect(v.niceExtent(40, 120, 0)).toEqual([30, 130]);
    expect(v.niceExtent(36.5, 38.5, 1)).toEqual([36.2, 38.8]);
    expect(v.niceExtent(90, 99, 0)).toEqual([88, 100]);
  });
});
