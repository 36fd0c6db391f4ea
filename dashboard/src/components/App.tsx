import { t } from '../i18n';
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
      {view === 'users' && user.role === 'admin' ? (
        <Users />
      ) : view === 'import' && (user.role === 'admin' || user.role === 'installer') ? (
        <ImportExport />
      ) : user.role === 'installer' ? (
        <main class="desk">
          <p class="callout">{t('installer.note')}</p>
        </main>
      ) : view === 'supervisor' ? (
        <Supervisor />
      ) : view === 'calls' ? (
        <CallLog />
      ) : (
        <Desk />
      )}
    </div>
  );
}
