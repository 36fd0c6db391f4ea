/**
 * Part 3b: reports (issue 23): the agents' state history, heard from the bus from the start so that no change the
 * later parts make is missed. The report queries themselves are HTTP routes (gateway/http/reports.ts).
 */
import { AgentHistory } from '../reports/agent-history.js';
import type { Db } from '../store/db.js';
import type { Part, PartContext } from './part.js';

export interface ReportsPart extends Part {
  history: AgentHistory;
}

export function startReports({ log, bus }: PartContext, db: Db): ReportsPart {
  const history = new AgentHistory(db, bus, log.child({ part: 'reports' }));
  history.start();
  return { history, stop: () => history.stop() };
}
