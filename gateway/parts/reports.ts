/**
 * Part 3b: reports (issue 23): the agents' state history, heard from the bus from the start so that no change the
 * later parts make is missed; and the reports' hourly rollups refreshed every ROLLUP_EVERY_MS (only the dirty hours;
 * the advisory lock lets one gateway of several refresh at a time, the others skip that round). A report also
 * refreshes before it reads, so this only keeps that step short. The report queries are HTTP routes
 * (gateway/http/reports.ts).
 */
import { AgentHistory } from '../reports/agent-history.js';
import type { Db } from '../store/db.js';
import { refreshRollups } from '../store/report-rollups.js';
import type { Part, PartContext } from './part.js';

const ROLLUP_EVERY_MS = 30_000;

export interface ReportsPart extends Part {
  history: AgentHistory;
}

export function startReports({ log, bus }: PartContext, db: Db): ReportsPart {
  const plog = log.child({ part: 'reports' });
  const history = new AgentHistory(db, bus, plog);
  history.start();
  let running: Promise<unknown> = Promise.resolve();
  const refresh = () => {
    running = refreshRollups(db, { waitMs: 0 })
      .then((r) => r && Object.values(r.hours).some((n) => n > 0) && plog.debug({ hours: r.hours, ms: Math.round(r.ms) }, 'report rollups refreshed'))
      .catch((err) => plog.warn({ err }, 'report rollups: refresh failed'));
  };
  refresh();
  const timer = setInterval(refresh, ROLLUP_EVERY_MS);
  timer.unref();
  return {
    history,
    stop: async () => {
      clearInterval(timer);
      await running;
      await history.stop();
    },
  };
}
