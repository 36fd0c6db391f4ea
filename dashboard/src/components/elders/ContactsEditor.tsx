/**
 * The ordered emergency contacts (紧急联系人): the cascade calls them in this order. Each has a name, relation,
 * phone and further phones, roles (持钥匙人 key holder, next of kin, may receive SMS) and notes; move up and down,
 * add, remove, then save the whole list (PUT). The API's field errors ("3/phone") show at the field.
 */
import { useState } from 'preact/hooks';
import { t } from '../../i18n';
import { errorText } from '../../session';
import { notify } from '../../store';
import { fieldErrors, putContacts, toDraft, type ContactDraft } from '../../elders-admin';
import type { Contact } from '../../types';

const ROLES = ['keyHolder', 'nextOfKin', 'maySms'] as const;

export function ContactsEditor({ elderId, contacts, onSaved }: { elderId: number; contacts: Contact[]; onSaved: (c: Contact[]) => void }) {
  const [list, setList] = useState<ContactDraft[]>(() => contacts.map(toDraft));
  const [alt, setAlt] = useState<string[]>(() => contacts.map((c) => (c.altPhones ?? []).join(', ')));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);

  const edit = (i: number, patch: Partial<ContactDraft>) => {
    setList((l) => l.map((c, j) => (j === i ? { ...c, ...patch } : c)));
    setDirty(true);
  };
  const move = (i: number, by: number) => {
    const j = i + by;
    if (j < 0 || j >= list.length) return;
    const swap = <T,>(a: T[]) => a.map((x, k) => (k === i ? a[j]! : k === j ? a[i]! : x));
    setList(swap);
    setAlt(swap);
    setDirty(true);
  };
  const remove = (i: number) => {
    setList((l) => l.filter((_, k) => k !== i));
    setAlt((l) => l.filter((_, k) => k !== i));
    setDirty(true);
  };
  const add = () => {
    setList((l) => [...l, toDraft({})]);
    setAlt((l) => [...l, '']);
    setDirty(true);
  };

  const save = async () => {
    const body = list.map((c, i) => {
      const altPhones = (alt[i] ?? '').split(/[,，;；\s]+/).filter(Boolean);
      return { ...c, name: c.name.trim(), altPhones };
    });
    setBusy(true);
    try {
      const saved = await putContacts(elderId, body);
      setList(saved.map(toDraft));
      setAlt(saved.map((c) => (c.altPhones ?? []).join(', ')));
      setErrors({});
      setDirty(false);
      notify('info', t('elders.contactsSaved', { n: saved.length }));
      onSaved(saved);
    } catch (e) {
      const f = fieldErrors(e);
      setErrors(f);
      if (!Object.keys(f).length) notify('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const err = (i: number, k: string) => {
    const m = errors[`${i}/${k}`] ?? (k === 'altPhones' ? Object.entries(errors).find(([f]) => f.startsWith(`${i}/altPhones/`))?.[1] : undefined);
    return m ? (
      <small class="ef-error" role="alert" data-testid="field-error">
        {m}
      </small>
    ) : null;
  };

  return (
    <div class="contacts-editor" data-testid="contacts-editor">
      <p class="muted small">{t('elders.contactsNote')}</p>
      <ol class="ce-list">
        {list.map((c, i) => (
          <li key={i} class="ce-item" data-testid="contact-item" data-position={i + 1}>
            <div class="ce-order">
              <b>{i + 1}</b>
              <button type="button" class="btn ghost small" disabled={i === 0} aria-label={t('elders.moveUp')} title={t('elders.moveUp')} onClick={() => move(i, -1)} data-testid="contact-up">
                ↑
              </button>
              <button type="button" class="btn ghost small" disabled={i === list.length - 1} aria-label={t('elders.moveDown')} title={t('elders.moveDown')} onClick={() => move(i, 1)} data-testid="contact-down">
                ↓
              </button>
            </div>
            <div class="ce-fields">
              <label class="ef-field">
                <span>{t('elders.contactName')}</span>
                <input value={c.name} maxLength={100} onInput={(e) => edit(i, { name: e.currentTarget.value })} data-testid="contact-name" />
                {err(i, 'name')}
              </label>
              <label class="ef-field">
                <span>{t('elders.relation')}</span>
                <input value={c.relation} maxLength={50} onInput={(e) => edit(i, { relation: e.currentTarget.value })} data-testid="contact-relation" />
                {err(i, 'relation')}
              </label>
              <label class="ef-field">
                <span>{t('elders.phone')}</span>
                <input type="tel" value={c.phone} maxLength={32} onInput={(e) => edit(i, { phone: e.currentTarget.value })} data-testid="contact-phone" />
                {err(i, 'phone')}
              </label>
              <label class="ef-field">
                <span>{t('elders.altPhones')}</span>
                <input
                  value={alt[i] ?? ''}
                  placeholder={t('elders.altPhonesHint')}
                  onInput={(e) => {
                    const v = e.currentTarget.value;
                    setAlt((l) => l.map((x, k) => (k === i ? v : x)));
                    setDirty(true);
                  }}
                  data-testid="contact-alt"
                />
                {err(i, 'altPhones')}
              </label>
              <div class="ce-roles">
                {ROLES.map((r) => (
                  <label key={r} class="inline">
                    <input type="checkbox" checked={c[r]} onChange={(e) => edit(i, { [r]: e.currentTarget.checked })} data-testid={`contact-${r}`} />
                    {t(`elders.role.${r}`)}
                  </label>
                ))}
              </div>
              <label class="ef-field wide">
                <span>{t('elders.contactNotes')}</span>
                <input value={c.notes} maxLength={500} onInput={(e) => edit(i, { notes: e.currentTarget.value })} data-testid="contact-notes" />
                {err(i, 'notes')}
              </label>
            </div>
            <button type="button" class="btn ghost small ce-remove" onClick={() => remove(i)} data-testid="contact-remove">
              {t('elders.remove')}
            </button>
          </li>
        ))}
      </ol>
      {list.length === 0 && <p class="muted">{t('elders.noContacts')}</p>}
      <div class="ef-actions">
        <button type="button" class="btn" disabled={list.length >= 20} onClick={add} data-testid="contact-add">
          {t('elders.addContact')}
        </button>
        <button type="button" class="btn primary" disabled={busy || !dirty} onClick={() => void save()} data-testid="contacts-save">
          {t('elders.saveContacts')}
        </button>
      </div>
    </div>
  );
}
