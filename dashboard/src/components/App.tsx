import { useStore } from '../store';
import { Notices, OfflineBanner, SoundPrompt } from './Banners';
import { CallLog } from './CallLog';
import { Desk } from './Desk';
import { ImportExport } from './ImportExport';
import { LoginView } from './LoginView';
import { StatusBar } from './StatusBar';
import { Supervisor } from './Supervisor';
import { SupervisorAlerts } from './SupervisorAlerts';
import { Users } from './Users';
import { Account } from './Account';
import { Activate } from './Activate';
import { Devices } from './Devices';
import { Elders } from './Elders';
import { Orders } from './Orders';
import { CareView } from './care-programmes/CareView';
import { Wallboard } from './wallboard/Wallboard';
import { Reports } from './reports/Reports';
import { History } from './history/History';

export function App() {
  const user = useStore((s) => s.user);
  const view = useStore((s) => s.view);
  useStore((s) => s.locale); // every string re-renders on a language switch
  if (!user) {
    return (
      <>
        <Notices />
        <LoginView />
      </>
    );
  }
  // The wall's kiosk account (大屏): the board and nothing else, no tabs, no agent controls.
  if (user.role === 'wallboard') return <Wallboard kiosk />;
  return (
    <div class="shell">
      <StatusBar />
      <OfflineBanner />
      <SoundPrompt />
      <SupervisorAlerts />
      <Notices />
      {view === 'account' ? (
        <Account />
      ) : view === 'wallboard' && (user.role === 'admin' || user.role === 'supervisor') ? (
        <Wallboard kiosk={false} />
      ) : view === 'users' && user.role === 'admin' ? (
        <Users />
      ) : view === 'import' && (user.role === 'admin' || user.role === 'installer') ? (
        <ImportExport />
      ) : view === 'elders' && (user.role === 'admin' || user.role === 'installer') ? (
        <Elders />
      ) : view === 'devices' && (user.role === 'admin' || user.role === 'installer') ? (
        <Devices />
      ) : user.role === 'installer' ? (
        <Activate />
      ) : view === 'supervisor' ? (
        <Supervisor />
      ) : view === 'calls' ? (
        <CallLog />
      ) : view === 'history' ? (
        <History />
      ) : view === 'orders' ? (
        <Orders />
      ) : view === 'care' ? (
        <CareView />
      ) : view === 'reports' ? (
        <Reports />
      ) : (
        <Desk />
      )}
    </div>
  );
}
