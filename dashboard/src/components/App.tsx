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
  return (
    <div class="shell">
      <StatusBar />
      <OfflineBanner />
      <SoundPrompt />
      <SupervisorAlerts />
      <Notices />
      {view === 'account' ? (
        <Account />
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
      ) : view === 'orders' ? (
        <Orders />
      ) : view === 'care' ? (
        <CareView />
      ) : (
        <Desk />
      )}
    </div>
  );
}
