/**
 * One elder's file for editing, in tabs: details, contacts, map and geofences, rules and plan, devices and
 * timeline. A new elder has the details tab only until it is created. Each tab saves on its own; what the API
 * answers replaces the loaded elder, so the other tabs start from what was saved.
 */
import { useEffect, useState } from 'preact/hooks';
import { t, type MsgKey } from '../../i18n';
import { errorText } from '../../session';
import { useStore } from '../../store';
import { getElder, type ElderDetail } from '../../elders-admin';
import { ContactsEditor } from './ContactsEditor';
import { ElderForm } from './ElderForm';
import { ElderHistory } from './ElderHistory';
import { GeofenceEditor } from './GeofenceEditor';
import { RulesEditor } from './RulesEditor';
import { CarePlan } from '../care-programmes/CarePlan';

type Tab = 'details' | 'contacts' | 'fences' | 'rules' | 'history' | 'care';
const TABS: Tab[] = ['details', 'contacts', 'fences', 'rules', 'history'];
/** 关怀计划 (issue 22): staff only (installers have no care API); agents see it read-only */
const tabsFor = (role: string | undefined): Tab[] => (role === 'installer' ? TABS : [...TABS, 'care']);

export function ElderEditor({ id, onClose, onCreated }: { id: number | null; onClose: () => void; onCreated: (id: number) => void }) {
  const role = useStore((s) => s.user?.role);
  const [elder, setElder] = useState<ElderDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('details');

  useEffect(() => {
    if (id === null) return;
    getElder(id)
      .then(setElder)
      .catch((e: unknown) => setError(errorText(e)));
  }, [id]);

  /** PATCH answers the elder without contacts and devices: keep those. */
  const saved = (e: ElderDetail) => setElder((old) => (old ? { ...old, ...e, contacts: old.contacts, devices: old.devices } : e));

  const head = (
    <div class="ee-head">
      <button type="button" class="btn ghost small" onClick={onClose} data-testid="ee-back">
        ← {t('elders.back')}
      </button>
      <h2 data-testid="ee-title">{elder ? elder.name : id === null ? t('elders.new') : t('common.loading')}</h2>
      {elder && <span class="muted small">#{elder.id}</span>}
    </div>
  );
  if (error)
    return (
      <section class="box elder-editor">
        {head}
        <p class="form-error">{error}</p>
      </section>
    );
  if (id !== null && !elder)
    return (
      <section class="box elder-editor">
        {head}
        <p class="muted">{t('common.loading')}</p>
      </section>
    );

  return (
    <section class="box elder-editor" data-testid="elder-editor" data-elder-id={elder?.id ?? ''}>
      {head}
      <div class="ee-tabs" role="tablist">
        {tabsFor(role).map((x) => (
          <button key={x} type="button" role="tab" aria-selected={tab === x} class={`chip ${tab === x ? 'on' : ''}`} disabled={!elder && x !== 'details'} onClick={() => setTab(x)} data-testid={`ee-tab-${x}`}>
            {t(`elders.tab.${x}` as MsgKey)}
          </button>
        ))}
      </div>
      <div class="ee-body">
        {tab === 'details' && (
          <ElderForm
            elder={elder}
            onSaved={(e) => {
              if (!elder) onCreated(e.id);
              else saved(e);
            }}
          />
        )}
        {elder && tab === 'contacts' &&
          (role === 'installer' || !elder.contacts ? (
            <p class="muted" data-testid="contacts-hidden">
              {t('elders.contactsHidden')}
            </p>
          ) : (
            <ContactsEditor elderId={elder.id} contacts={elder.contacts} onSaved={(c) => setElder({ ...elder, contacts: c })} />
          ))}
        {elder && tab === 'fences' && <GeofenceEditor elder={elder} onSaved={saved} />}
        {elder && tab === 'rules' && <RulesEditor elder={elder} onSaved={saved} />}
        {elder && tab === 'history' && <ElderHistory elder={elder} />}
        {elder && tab === 'care' && role !== 'installer' && <CarePlan elderId={elder.id} editable={role === 'admin' || role === 'supervisor'} />}
      </div>
    </section>
  );
}
