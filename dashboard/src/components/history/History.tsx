/**
 * 历史查询 (history, issue 23): alarms, calls and — for admins — the audit log, each searched by date range and its
 * filters, newest first, a page at a time. Calls are the call log's own search and table (CallLog.tsx).
 */
import { useState } from 'preact/hooks';
import { t } from '../../i18n';
import { useStore } from '../../store';
import { LogTab } from '../CallLog';
import { AlarmHistory } from './AlarmHistory';
import { AuditLog } from './AuditLog';
import './history.css';

type Tab = 'alarms' | 'calls' | 'audit';

export function History() {
  const admin = useStore((s) => s.user?.role === 'admin');
  const [tab, setTab] = useState<Tab>('alarms');
  const tabs: Tab[] = admin ? ['alarms', 'calls', 'audit'] : ['alarms', 'calls'];
  const shown = tab === 'audit' && !admin ? 'alarms' : tab;
  return (
    <main class="calllog history" data-testid="history-view">
      <div class="view-tabs" role="tablist">
        {tabs.map((x) => (
          <button type="button" role="tab" key={x} aria-selected={shown === x} class={`chip ${shown === x ? 'on' : ''}`} onClick={() => setTab(x)} data-testid={`history-tab-${x}`}>
            {t(`history.tab.${x}`)}
          </button>
        ))}
      </div>
      {shown === 'alarms' ? <AlarmHistory /> : shown === 'calls' ? <LogTab /> : <AuditLog />}
    </main>
  );
}
