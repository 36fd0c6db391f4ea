/**
 * The chart of each report (EChart: SVG, rich-text tooltips). Every figure drawn here is also in the table under it.
 * Names from data (agents, areas) reach ECharts as plain strings, which it draws as SVG text.
 */
import { useMemo } from 'preact/hooks';
import { label, t, type MsgKey } from '../../i18n';
import { useStore } from '../../store';
import { bucketText, cellText, periods, type Report, type Row } from '../../reports';
import { EChart, type ChartOption } from '../charts/EChart';

const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const GRID = { left: 48, right: 24, top: 40, bottom: 36, containLabel: true };
const LEGEND = { top: 0, type: 'scroll' };
const TIP = { trigger: 'axis' };

/** Alarms: stacked bars of each kind over every period of the range (priorities added up). */
function alarmsOption(r: Report): ChartOption {
  const xs = periods(r.from, r.to, r.groupBy);
  const kinds = [...new Set(r.rows.map((x) => String(x.kind)))];
  return {
    grid: GRID,
    legend: LEGEND,
    tooltip: TIP,
    xAxis: { type: 'category', data: xs.map((b) => bucketText(b, r.groupBy)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: kinds.map((k) => ({
      type: 'bar',
      stack: 'kind',
      name: label('kind', k),
      data: xs.map((b) => r.rows.filter((x) => x.bucket === b && x.kind === k).reduce((s, x) => s + num(x.count), 0)),
    })),
  };
}

/** Alarms: weekday (rows) × hour of day (columns). */
function heatOption(r: Report): ChartOption {
  const cells = r.heatmap ?? [];
  const max = Math.max(1, ...cells.map((c) => c.count));
  return {
    grid: { left: 64, right: 16, top: 8, bottom: 64 },
    tooltip: { trigger: 'item' },
    xAxis: { type: 'category', data: Array.from({ length: 24 }, (_, h) => String(h)), name: t('reports.hour'), nameLocation: 'middle', nameGap: 24, splitArea: { show: true } },
    yAxis: { type: 'category', data: [1, 2, 3, 4, 5, 6, 7].map((d) => t(`reports.weekdayShort.${d}` as MsgKey)), inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, inRange: { color: ['#f4f7fb', '#f0a35e', '#c0392b'] } },
    series: [{ type: 'heatmap', name: t('reports.heatmap'), data: cells.map((c) => [c.hour, c.weekday - 1, c.count]), label: { show: true, formatter: (p: { value: number[] }) => (p.value[2] ? String(p.value[2]) : '') } }],
  };
}

/** Answering: the 60 s and 180 s rates (%) with the targets as lines. */
function answeringOption(r: Report): ChartOption {
  const xs = r.rows.map((x) => bucketText(String(x.bucket), r.groupBy));
  const pct = (v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 10 : null);
  const target = (v: number | undefined, name: string, position: string) => ({
    symbol: 'none',
    data: v === undefined ? [] : [{ yAxis: v * 100, name, label: { formatter: `${name} ${(v * 100).toFixed(1)}%`, position } }],
  });
  // a period without alarms has no rate: a gap, not a line to zero
  const line = { type: 'line', connectNulls: false, showSymbol: true, showAllSymbol: true, symbolSize: 6 };
  return {
    grid: GRID,
    legend: LEGEND,
    tooltip: TIP,
    xAxis: { type: 'category', data: xs },
    yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    series: [
      { ...line, name: t('reports.rate60'), data: r.rows.map((x) => pct(x.rate60)), markLine: target(r.targets?.rate60, t('reports.target60'), 'insideStartBottom') },
      { ...line, name: t('reports.rate180'), data: r.rows.map((x) => pct(x.rate180)), markLine: target(r.targets?.rate180, t('reports.target180'), 'insideEndTop') },
    ],
  };
}

export const agentName = (x: Row) => String(x.name || x.username || `#${String(x.agentId)}`);

/** Agents: alarms handled and calls per agent; talk time in minutes on the right. */
function agentsOption(r: Report): ChartOption {
  return {
    grid: GRID,
    legend: LEGEND,
    tooltip: TIP,
    xAxis: { type: 'category', data: r.rows.map(agentName), axisLabel: { interval: 0, width: 90, overflow: 'truncate' } },
    yAxis: [
      { type: 'value', minInterval: 1 },
      { type: 'value', name: t('reports.minutes'), splitLine: { show: false } },
    ],
    series: [
      { type: 'bar', name: t('reports.alarmsHandled'), data: r.rows.map((x) => num(x.alarms)) },
      { type: 'bar', name: t('reports.calls'), data: r.rows.map((x) => num(x.calls)) },
      { type: 'bar', name: t('reports.talkMin'), yAxisIndex: 1, data: r.rows.map((x) => Math.round(num(x.talkS) / 6) / 10) },
    ],
  };
}

/** Agents: hours in each state (stacked), one bar per agent. */
const STATES = [['ready', 'readyS'], ['not_ready', 'notReadyS'], ['away', 'awayS'], ['wrap_up', 'wrapUpS'], ['on_call', 'onCallS'], ['handling', 'handlingS'], ['ringing', 'ringingS']] as const;
function statesOption(r: Report): ChartOption {
  return {
    legend: LEGEND,
    tooltip: TIP,
    grid: { ...GRID, bottom: 40 },
    xAxis: { type: 'value', name: t('reports.hours'), nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'category', inverse: true, data: r.rows.map(agentName), axisLabel: { width: 90, overflow: 'truncate' } },
    series: STATES.map(([state, key]) => ({ type: 'bar', stack: 'state', name: label('agentState', state), data: r.rows.map((x) => Math.round(num(x[key]) / 36) / 100) })),
  };
}

function callsOption(r: Report): ChartOption {
  const keys = ['inbound', 'outbound', 'answered', 'abandoned'] as const;
  return {
    grid: GRID,
    legend: LEGEND,
    tooltip: TIP,
    xAxis: { type: 'category', data: r.rows.map((x) => bucketText(String(x.bucket), r.groupBy)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: keys.map((k) => ({ type: 'bar', name: t(`reports.calls.${k}`), data: r.rows.map((x) => num(x[k])) })),
  };
}

/** Work orders: orders of each type stacked by state; the average satisfaction (1-5) of each type on the right. */
function ordersOption(r: Report): ChartOption {
  const types = [...new Set(r.rows.map((x) => String(x.type)))];
  const states = [...new Set(r.rows.map((x) => String(x.state)))];
  const of = (ty: string) => r.rows.filter((x) => x.type === ty);
  const satisfaction = (ty: string) => {
    const rated = of(ty).reduce((s, x) => s + num(x.rated), 0);
    return rated ? Math.round((of(ty).reduce((s, x) => s + num(x.avgSatisfaction) * num(x.rated), 0) / rated) * 100) / 100 : null;
  };
  return {
    grid: GRID,
    legend: LEGEND,
    tooltip: TIP,
    xAxis: { type: 'category', data: types.map((ty) => cellText('type', ty)) },
    yAxis: [
      { type: 'value', minInterval: 1 },
      { type: 'value', name: t('reports.satisfaction'), min: 0, max: 5, splitLine: { show: false } },
    ],
    series: [
      ...states.map((st) => ({ type: 'bar', stack: 'state', name: cellText('state', st), data: types.map((ty) => of(ty).filter((x) => x.state === st).reduce((s, x) => s + num(x.orders), 0)) })),
      { type: 'line', name: t('reports.satisfaction'), yAxisIndex: 1, data: types.map(satisfaction), symbolSize: 10 },
    ],
  };
}

/** Devices now: online, silent, low battery and never activated per area. */
function devicesOption(r: Report): ChartOption {
  const keys = ['online', 'silent', 'lowBattery', 'neverActivated'] as const;
  return {
    grid: GRID,
    legend: LEGEND,
    tooltip: TIP,
    xAxis: { type: 'category', data: r.rows.map((x) => String(x.area)), axisLabel: { interval: 0, width: 100, overflow: 'truncate' } },
    yAxis: { type: 'value', minInterval: 1 },
    series: keys.map((k) => ({ type: 'bar', name: t(`reports.devices.${k}`), data: r.rows.map((x) => num(x[k])) })),
  };
}

const OPTIONS: Record<string, (r: Report) => ChartOption> = {
  alarms: alarmsOption,
  answering: answeringOption,
  agents: agentsOption,
  calls: callsOption,
  'work-orders': ordersOption,
  devices: devicesOption,
};

export function ReportChart({ report, height = 280 }: { report: Report; height?: number }) {
  const locale = useStore((s) => s.locale);
  const build = OPTIONS[report.report];
  const option = useMemo(() => build?.(report), [report, locale]);
  if (!option) return null;
  // nothing to draw: the table under it says so
  if (report.rows.length === 0) return null;
  return (
    <div class="report-chart" data-testid={`report-chart-${report.report}`}>
      <EChart option={option} height={height} label={t(`reports.chart.${report.report}` as MsgKey)} />
    </div>
  );
}

export function AgentStatesChart({ report }: { report: Report }) {
  const locale = useStore((s) => s.locale);
  const option = useMemo(() => statesOption(report), [report, locale]);
  if (report.rows.length === 0) return null;
  return (
    <div class="report-chart" data-testid="report-chart-agent-states">
      <EChart option={option} height={Math.min(420, 110 + 34 * report.rows.length)} label={t('reports.agentStates')} />
    </div>
  );
}

export function HeatmapChart({ report, height = 260 }: { report: Report; height?: number }) {
  const locale = useStore((s) => s.locale);
  const option = useMemo(() => heatOption(report), [report, locale]);
  return (
    <div class="report-chart" data-testid="report-chart-heatmap">
      <EChart option={option} height={height} label={t('reports.heatmap')} />
    </div>
  );
}
