/** 统计报表 on the dashboard (dashboard/src/reports.ts): the quick ranges, the periods, the URLs and the cells. */
import { beforeAll, describe, expect, it } from 'vitest';

/** The part of reports.ts tested here (loaded by URL: its imports are the bundler's, not the gateway's tsc's). */
interface R {
  quickRange(q: string, today: string): { from: string; to: string };
  todayIn(tz: string, now: Date): string;
  periods(from: string, to: string, groupBy: string): string[];
  reportPath(s: object): string;
  exportUrl(s: object, format: string): string;
  cellText(key: string, v: unknown, groupBy?: string): string;
  columnTitle(c: { key: string; zh: string; en: string }): string;
}
let r: R;

beforeAll(async () => {
  // i18n and api read the browser's storage when loaded: an empty one (zh-CN, no session)
  const storage = { getItem: () => null, setItem: () => undefined, removeItem: () => undefined };
  Object.assign(globalThis, { localStorage: storage, sessionStorage: storage });
  r = (await import(/* @vite-ignore */ new URL('../../../dashboard/src/reports.ts', import.meta.url).href)) as R;
});

const base = { report: 'alarms', from: '2026-11-01', to: '2026-11-30', groupBy: 'day', area: '', agentId: '', kind: '', priority: '' } as const;

describe('quick ranges', () => {
  it('today, this week (Monday to Sunday), this month, last month, the last 30 days and this year', () => {
    const today = '2026-12-03'; // a Thursday
    expect(r.quickRange('today', today)).toEqual({ from: today, to: today });
    expect(r.quickRange('week', today)).toEqual({ from: '2026-11-30', to: '2026-12-06' });
    expect(r.quickRange('week', '2026-12-06')).toEqual({ from: '2026-11-30', to: '2026-12-06' }); // Sunday ends its week
    expect(r.quickRange('month', today)).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(r.quickRange('lastMonth', today)).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    expect(r.quickRange('lastMonth', '2027-01-15')).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(r.quickRange('lastMonth', '2028-03-31')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
    expect(r.quickRange('last30', today)).toEqual({ from: '2026-11-04', to: today });
    expect(r.quickRange('year', today)).toEqual({ from: '2026-01-01', to: '2026-12-31' });
  });

  it("today is the centre's date, not the browser's", () => {
    const lateUtc = new Date('2026-11-30T17:00:00Z'); // 01:00 on 12-01 in Shanghai
    expect(r.todayIn('Asia/Shanghai', lateUtc)).toBe('2026-12-01');
    expect(r.todayIn('UTC', lateUtc)).toBe('2026-11-30');
  });
});

describe('periods', () => {
  it('every day, ISO week (from its Monday) or month of a range, empty ones too', () => {
    expect(r.periods('2026-11-29', '2026-12-01', 'day')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01']);
    expect(r.periods('2026-11-01', '2026-11-30', 'week')).toEqual(['2026-10-26', '2026-11-02', '2026-11-09', '2026-11-16', '2026-11-23', '2026-11-30']);
    expect(r.periods('2026-11-15', '2027-02-01', 'month')).toEqual(['2026-11-01', '2026-12-01', '2027-01-01', '2027-02-01']);
  });
});

describe('URLs', () => {
  it('sends only what the report reads; the area is encoded; the export adds its format', () => {
    const s = { ...base, area: '幸福 & 和平', kind: 'sos', priority: '1', agentId: '7' } as const;
    expect(r.reportPath(s)).toBe(`/api/reports/alarms?from=2026-11-01&to=2026-11-30&groupBy=day&area=${encodeURIComponent('幸福 & 和平').replace(/%20/g, '+')}&agentId=7&kind=sos&priority=1`);
    expect(r.reportPath({ ...s, report: 'devices' })).toBe(`/api/reports/devices?area=${encodeURIComponent('幸福 & 和平').replace(/%20/g, '+')}`);
    expect(r.reportPath({ ...s, report: 'calls', area: '' })).toBe('/api/reports/calls?from=2026-11-01&to=2026-11-30&groupBy=day&agentId=7');
    expect(r.exportUrl({ ...base, report: 'work-orders' }, 'csv')).toBe('/api/reports/work-orders/export?from=2026-11-01&to=2026-11-30&format=csv');
  });
});

describe('cells', () => {
  it('durations, rates, targets, labels, periods and nothing', () => {
    expect(r.cellText('talkS', 3725)).toBe('1:02:05');
    expect(r.cellText('avgAcceptS', 106.7)).toBe('01:46');
    expect(r.cellText('rate60', 0.975)).toBe('97.5%');
    expect(r.cellText('met60', true)).toBe('达标');
    expect(r.cellText('met180', false)).toBe('未达标');
    expect(r.cellText('kind', 'fall')).toBe('跌倒报警');
    expect(r.cellText('type', 'service')).toBe('服务工单');
    expect(r.cellText('state', 'followed_up')).toBe('已回访');
    expect(r.cellText('count', 12345)).toBe('12,345');
    expect(r.cellText('avgSatisfaction', 4.333)).toBe('4.33');
    expect(r.cellText('rate60', null)).toBe('—');
    expect(r.cellText('bucket', '2026-11-01', 'month')).toBe('2026-11');
    expect(r.cellText('bucket', '2026-10-26', 'week')).toBe('2026-10-26 起的一周');
    expect(r.cellText('name', '<img src=x>')).toBe('<img src=x>');
  });

  it('column titles drop the seconds unit where the cell is a duration', () => {
    expect(r.columnTitle({ key: 'talkS', zh: '通话时长(秒)', en: 'talk time (s)' })).toBe('通话时长');
    expect(r.columnTitle({ key: 'calls', zh: '通话数', en: 'calls' })).toBe('通话数');
  });
});
