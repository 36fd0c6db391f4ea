/**
 * One ECharts chart (reports, vitals, the wallboard). ECharts ships zh-CN and English; the chart follows the
 * dashboard's language and is rebuilt on a switch.
 *
 * No HTML from data (issue 15): the renderer is SVG and tooltips render as rich text inside the chart, never as an
 * HTML overlay, so a name like `<img onerror>` stays text. Only the pieces the screens use are bundled.
 */
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'preact/hooks';
import { useStore } from '../../store';

echarts.use([BarChart, LineChart, HeatmapChart, PieChart, ScatterChart, GridComponent, LegendComponent, TooltipComponent, TitleComponent, VisualMapComponent, MarkLineComponent, MarkAreaComponent, DataZoomComponent, SVGRenderer]);
// ZH and EN are built into echarts/core

export type ChartOption = echarts.EChartsCoreOption;

/** Options every chart gets: rich-text tooltips (no HTML), no animation (screens and tests see the final state). */
const BASE = { animation: false, tooltip: { renderMode: 'richText', confine: true } };

export function EChart({ option, height = 280, testId, label }: { option: ChartOption; height?: number; testId?: string; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const locale = useStore((s) => s.locale);

  useEffect(() => {
    if (!box.current) return;
    const c = echarts.init(box.current, undefined, { renderer: 'svg', locale: locale === 'en' ? 'EN' : 'ZH' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(box.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [locale]);

  useEffect(() => {
    const o = option as { tooltip?: object };
    chart.current?.setOption({ ...BASE, ...option, tooltip: { ...BASE.tooltip, ...(o.tooltip ?? {}) } }, { notMerge: true });
  }, [option, locale]);

  // role=img with a label: a screen reader gets the title; the numbers are in the table beside every chart
  return <div ref={box} class="echart" style={{ height: `${height}px` }} role="img" aria-label={label} data-testid={testId} />;
}
