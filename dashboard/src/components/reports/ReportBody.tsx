/**
 * One report's chart and the tables of the same numbers: the screen and the printable month both show this. The
 * alarms report adds the weekday × hour heat map (and its numbers) and the false alarms per device and per elder.
 */
import { t, type MsgKey } from '../../i18n';
import type { Column, Report } from '../../reports';
import { AgentStatesChart, HeatmapChart, ReportChart } from './ReportChart';
import { ReportTable } from './ReportTable';

const col = (key: string, zh: MsgKey): Column => ({ key, zh: t(zh), en: t(zh) });

export function ReportBody({ report, chartHeight, print = false }: { report: Report; chartHeight?: number; print?: boolean }) {
  const id = report.report;
  return (
    <div class="report-body" data-testid={`report-body-${id}`}>
      {id === 'devices' && <p class="muted report-note">{t('reports.devicesSnapshot', { h: report.silentH ?? 24 })}</p>}
      <ReportChart report={report} height={chartHeight} />
      {id === 'agents' && <AgentStatesChart report={report} />}
      <ReportTable columns={report.columns} rows={report.rows} totals={report.totals} groupBy={report.groupBy} testid={`report-table-${id}`} />
      {id === 'alarms' && (
        <>
          <h3 class="report-sub">{t('reports.heatmap')}</h3>
          <HeatmapChart report={report} height={print ? 220 : 260} />
          <HeatTable report={report} />
          <div class="report-pair">
            <div>
              <h3 class="report-sub">{t('reports.falseByDevice')}</h3>
              <ReportTable
                columns={[col('identifier', 'reports.col.device'), col('deviceKind', 'reports.col.deviceKind'), col('elderName', 'reports.col.elder'), col('count', 'reports.col.falseCount')]}
                rows={report.falseAlarmsByDevice ?? []}
                testid="report-false-devices"
              />
            </div>
            <div>
              <h3 class="report-sub">{t('reports.falseByElder')}</h3>
              <ReportTable
                columns={[col('elderName', 'reports.col.elder'), col('area', 'reports.col.area'), col('count', 'reports.col.falseCount')]}
                rows={report.falseAlarmsByElder ?? []}
                testid="report-false-elders"
              />
            </div>
          </div>
        </>
      )}
    </div>
  );
}

/** The heat map's numbers: a weekday per row, an hour per column (blank where none). */
function HeatTable({ report }: { report: Report }) {
  const cells = report.heatmap ?? [];
  const at = (d: number, h: number) => cells.find((c) => c.weekday === d && c.hour === h)?.count;
  return (
    <div class="table-wrap report-table-wrap">
      <table class="table report-table heat-table" data-testid="report-heat-table">
        <thead>
          <tr>
            <th scope="col">{t('reports.hour')}</th>
            {Array.from({ length: 24 }, (_, h) => (
              <th key={h} scope="col" class="rnum">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[1, 2, 3, 4, 5, 6, 7].map((d) => (
            <tr key={d}>
              <th scope="row">{t(`reports.weekdayShort.${d}` as MsgKey)}</th>
              {Array.from({ length: 24 }, (_, h) => (
                <td key={h} class="rnum" data-weekday={d} data-hour={h}>
                  {at(d, h) ?? ''}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
