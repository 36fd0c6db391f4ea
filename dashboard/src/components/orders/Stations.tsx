/**
 * 服务站与人员 (admins): the service stations (name, area, position picked on the map, phone, active), their staff
 * (name, phone, skills, station, active) and each staff member's duty rota (排班: a weekday or a date, from–to;
 * PUT /api/staff/:id/rota, all or nothing). Dispatch suggests only who is on duty, so a rota is what makes a
 * staff member suggestible. Everything from data renders as text.
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { SKILLS, createStaff, createStation, getRota, listStaff, listStations, orderErrorText, patchStaff, patchStation, putRota, refreshDirectory, skillLabel } from '../../orders';
import { notify } from '../../store';
import type { LatLon, RotaEntry, Staff, Station } from '../../types';
import { StationMap } from './StationMap';

export function Stations() {
  const [stations, setStations] = useState<Station[] | null>(null);
  const [staff, setStaff] = useState<Staff[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editStation, setEditStation] = useState<Station | 'new' | null>(null);
  const [editStaff, setEditStaff] = useState<Staff | 'new' | null>(null);

  const load = async () => {
    try {
      const [a, b] = await Promise.all([listStations(), listStaff()]);
      setStations(a);
      setStaff(b);
      setError(null);
    } catch (e) {
      setError(orderErrorText(e));
    }
  };
  useEffect(() => void load(), []);
  const saved = () => {
    void load();
    void refreshDirectory();
  };
  const stationName = (id: number | null) => (id === null ? '—' : (stations?.find((s) => s.id === id)?.name ?? `#${id}`));

  return (
    <div class="stations-body" data-testid="stations-view">
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <section class="box stations-box" aria-label={t('stations.stations')}>
        <div class="users-head">
          <h2>{t('stations.stations')}</h2>
          <span class="muted">{stations ? t('orders.count', { n: stations.length }) : ''}</span>
          <div class="users-head-actions">
            <button type="button" class="btn primary" onClick={() => setEditStation(editStation === 'new' ? null : 'new')} data-testid="station-new">
              {editStation === 'new' ? t('common.cancel') : t('stations.newStation')}
            </button>
          </div>
        </div>
        {editStation && (
          <StationForm
            key={editStation === 'new' ? 'new' : editStation.id}
            station={editStation === 'new' ? null : editStation}
            onCancel={() => setEditStation(null)}
            onSaved={(s) => {
              setEditStation(s);
              notify('info', t('stations.saved', { name: s.name }));
              saved();
            }}
          />
        )}
        {stations && stations.length === 0 && <p class="muted">{t('stations.noStations')}</p>}
        {stations && stations.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="stations-table">
              <thead>
                <tr>
                  <th>{t('stations.stationName')}</th>
                  <th>{t('stations.area')}</th>
                  <th>{t('stations.phone')}</th>
                  <th>{t('stations.position')}</th>
                  <th>{t('stations.active')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {stations.map((s) => (
                  <tr key={s.id} class={s.active ? '' : 'user-disabled'} data-testid="station-row" data-station-id={s.id}>
                    <td>
                      <strong>{s.name}</strong>
                    </td>
                    <td>{s.area || '—'}</td>
                    <td class="nowrap">{s.phone ?? '—'}</td>
                    <td class="nowrap muted">{s.lat !== null && s.lon !== null ? `${s.lat.toFixed(4)}, ${s.lon.toFixed(4)}` : '—'}</td>
                    <td>{s.active ? t('stations.yes') : t('stations.no')}</td>
                    <td class="row-actions">
                      <button type="button" class="btn small" onClick={() => setEditStation(s)} data-testid="station-edit">
                        {t('stations.edit')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="box stations-box" aria-label={t('stations.staff')}>
        <div class="users-head">
          <h2>{t('stations.staff')}</h2>
          <span class="muted">{staff ? t('orders.count', { n: staff.length }) : ''}</span>
          <div class="users-head-actions">
            <button type="button" class="btn primary" onClick={() => setEditStaff(editStaff === 'new' ? null : 'new')} data-testid="staff-new">
              {editStaff === 'new' ? t('common.cancel') : t('stations.newStaff')}
            </button>
          </div>
        </div>
        {editStaff && (
          <StaffForm
            key={editStaff === 'new' ? 'new' : editStaff.id}
            member={editStaff === 'new' ? null : editStaff}
            stations={stations ?? []}
            onCancel={() => setEditStaff(null)}
            onSaved={(s) => {
              setEditStaff(s);
              notify('info', t('stations.saved', { name: s.name }));
              saved();
            }}
          />
        )}
        {staff && staff.length === 0 && <p class="muted">{t('stations.noStaff')}</p>}
        {staff && staff.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="staff-table">
              <thead>
                <tr>
                  <th>{t('stations.staffName')}</th>
                  <th>{t('stations.phone')}</th>
                  <th>{t('stations.skills')}</th>
                  <th>{t('stations.station')}</th>
                  <th>{t('stations.active')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {staff.map((s) => (
                  <tr key={s.id} class={s.active ? '' : 'user-disabled'} data-testid="staff-row" data-staff-id={s.id}>
                    <td>
                      <strong>{s.name}</strong>
                    </td>
                    <td class="nowrap">{s.phone}</td>
                    <td>{s.skills.map(skillLabel).join('、') || '—'}</td>
                    <td>{stationName(s.stationId)}</td>
                    <td>{s.active ? t('stations.yes') : t('stations.no')}</td>
                    <td class="row-actions">
                      <button type="button" class="btn small" onClick={() => setEditStaff(s)} data-testid="staff-edit">
                        {t('stations.editRota')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function StationForm({ station, onCancel, onSaved }: { station: Station | null; onCancel: () => void; onSaved: (s: Station) => void }) {
  const [name, setName] = useState(station?.name ?? '');
  const [area, setArea] = useState(station?.area ?? '');
  const [phone, setPhone] = useState(station?.phone ?? '');
  const [active, setActive] = useState(station?.active ?? true);
  const [pos, setPos] = useState<LatLon | null>(station && station.lat !== null && station.lon !== null ? { lat: station.lat, lon: station.lon } : null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    setBusy(true);
    setError(null);
    const body = { name: name.trim(), area: area.trim(), phone: phone.trim() || null, active, lat: pos?.lat ?? null, lon: pos?.lon ?? null };
    try {
      onSaved(station ? await patchStation(station.id, body) : await createStation(body));
    } catch (e) {
      setError(orderErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="device-form station-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      data-testid="station-form"
    >
      <div class="form-row">
        <label>
          <span>
            {t('stations.stationName')} <span class="req">*</span>
          </span>
          <input required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="st-name" />
        </label>
        <label>
          <span>{t('stations.area')}</span>
          <input maxLength={100} value={area} placeholder={t('stations.areaHint')} onInput={(e) => setArea(e.currentTarget.value)} data-testid="st-area" />
        </label>
        <label>
          <span>{t('stations.phone')}</span>
          <input inputMode="tel" maxLength={32} value={phone} onInput={(e) => setPhone(e.currentTarget.value)} data-testid="st-phone" />
        </label>
        <label class="sf-check">
          <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} data-testid="st-active" />
          <span>{t('stations.active')}</span>
        </label>
      </div>
      <span class="field-label">
        {t('stations.positionHint')} <span data-testid="st-pos">{pos ? `${pos.lat.toFixed(5)}, ${pos.lon.toFixed(5)}` : t('stations.noPosition')}</span>
      </span>
      <StationMap pos={pos} name={name} onPick={setPos} testid="st-map" />
      {error && (
        <p class="form-error" role="alert" data-testid="st-error">
          {error}
        </p>
      )}
      <div class="device-form-actions">
        <button type="button" class="btn ghost" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" class="btn primary" disabled={busy || !name.trim()} data-testid="st-save">
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}

function StaffForm({ member, stations, onCancel, onSaved }: { member: Staff | null; stations: Station[]; onCancel: () => void; onSaved: (s: Staff) => void }) {
  const [name, setName] = useState(member?.name ?? '');
  const [phone, setPhone] = useState(member?.phone ?? '');
  const [skills, setSkills] = useState<string[]>(member?.skills ?? []);
  const [stationId, setStationId] = useState(member?.stationId ? String(member.stationId) : '');
  const [active, setActive] = useState(member?.active ?? true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    setBusy(true);
    setError(null);
    const body = { name: name.trim(), phone: phone.trim(), skills, stationId: stationId ? Number(stationId) : null, active };
    try {
      onSaved(member ? await patchStaff(member.id, body) : await createStaff(body));
    } catch (e) {
      setError(orderErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  const allSkills = [...new Set([...SKILLS, ...skills])];
  return (
    <div class="staff-edit">
      <form
        class="device-form staff-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
        data-testid="staff-form"
      >
        <div class="form-row">
          <label>
            <span>
              {t('stations.staffName')} <span class="req">*</span>
            </span>
            <input required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="sf-name" />
          </label>
          <label>
            <span>
              {t('stations.phone')} <span class="req">*</span>
            </span>
            <input required inputMode="tel" maxLength={32} value={phone} onInput={(e) => setPhone(e.currentTarget.value)} data-testid="sf-phone" />
          </label>
          <label>
            <span>{t('stations.station')}</span>
            <select value={stationId} onChange={(e) => setStationId(e.currentTarget.value)} data-testid="sf-station">
              <option value="">—</option>
              {stations.map((s) => (
                <option key={s.id} value={String(s.id)}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div class="form-row">
          <span class="field-label">{t('stations.skills')}</span>
          {allSkills.map((k) => (
            <label key={k} class="sf-check">
              <input type="checkbox" checked={skills.includes(k)} onChange={(e) => setSkills((x) => (e.currentTarget.checked ? [...x, k] : x.filter((y) => y !== k)))} data-testid={`sf-skill-${k}`} />
              <span>{skillLabel(k)}</span>
            </label>
          ))}
          <label class="sf-check">
            <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} data-testid="sf-active" />
            <span>{t('stations.active')}</span>
          </label>
        </div>
        {error && (
          <p class="form-error" role="alert" data-testid="sf-error">
            {error}
          </p>
        )}
        <div class="device-form-actions">
          <button type="button" class="btn ghost" onClick={onCancel}>
            {t('common.cancel')}
          </button>
          <button type="submit" class="btn primary" disabled={busy || !name.trim() || !phone.trim()} data-testid="sf-save">
            {t('common.save')}
          </button>
        </div>
      </form>
      {member ? <RotaEditor member={member} /> : <p class="muted">{t('stations.rotaAfterSave')}</p>}
    </div>
  );
}

interface RotaRow {
  kind: 'weekday' | 'date';
  weekday: string;
  date: string;
  start: string;
  end: string;
}
const toRow = (e: RotaEntry): RotaRow => ({ kind: e.date ? 'date' : 'weekday', weekday: String(e.weekday ?? 1), date: e.date ?? '', start: e.start, end: e.end });
const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;

/** 排班: the staff member's shifts; an end not after the start runs past midnight. Saved all at once. */
function RotaEditor({ member }: { member: Staff }) {
  const [rows, setRows] = useState<RotaRow[] | null>(null);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    getRota(member.id)
      .then((r) => alive && setRows(r.map(toRow)))
      .catch((e: unknown) => alive && setError(orderErrorText(e)));
    return () => {
      alive = false;
    };
  }, [member.id]);
  const edit = (i: number, patch: Partial<RotaRow>) => {
    setRows((r) => (r ? r.map((x, j) => (j === i ? { ...x, ...patch } : x)) : r));
    setDirty(true);
  };
  const save = async () => {
    if (!rows) return;
    setBusy(true);
    setError(null);
    try {
      const out = await putRota(member.id, { entries: rows.map((r) => (r.kind === 'date' ? { date: r.date, start: r.start.trim(), end: r.end.trim() } : { weekday: Number(r.weekday), start: r.start.trim(), end: r.end.trim() })) });
      setRows(out.map(toRow));
      setDirty(false);
      notify('info', t('stations.rotaSaved', { name: member.name }));
    } catch (e) {
      setError(orderErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="rota" data-testid="rota" data-staff-id={member.id}>
      <h3>{t('stations.rota', { name: member.name })}</h3>
      {!rows && !error && <p class="muted">{t('common.loading')}</p>}
      {rows && rows.length === 0 && <p class="muted">{t('stations.rotaEmpty')}</p>}
      {rows && rows.length > 0 && (
        <ul class="rota-rows">
          {rows.map((r, i) => (
            <li key={i} data-testid="rota-row">
              <select value={r.kind} onChange={(e) => edit(i, { kind: e.currentTarget.value as RotaRow['kind'] })} aria-label={t('stations.rotaKind')} data-testid="rota-kind">
                <option value="weekday">{t('stations.rotaWeekly')}</option>
                <option value="date">{t('stations.rotaDate')}</option>
              </select>
              {r.kind === 'weekday' ? (
                <select value={r.weekday} onChange={(e) => edit(i, { weekday: e.currentTarget.value })} aria-label={t('stations.weekday')} data-testid="rota-weekday">
                  {WEEKDAYS.map((d) => (
                    <option key={d} value={String(d)}>
                      {t(`weekday.${d}`)}
                    </option>
                  ))}
                </select>
              ) : (
                <input type="date" value={r.date} onInput={(e) => edit(i, { date: e.currentTarget.value })} aria-label={t('stations.rotaDate')} data-testid="rota-date" />
              )}
              <input class="hhmm" value={r.start} placeholder="08:00" pattern="([01][0-9]|2[0-3]):[0-5][0-9]" onInput={(e) => edit(i, { start: e.currentTarget.value })} aria-label={t('stations.from')} data-testid="rota-start" />
              <span>–</span>
              <input class="hhmm" value={r.end} placeholder="17:00" pattern="(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)" onInput={(e) => edit(i, { end: e.currentTarget.value })} aria-label={t('stations.to')} data-testid="rota-end" />
              <button type="button" class="btn ghost small" onClick={() => (setRows((x) => (x ? x.filter((_, j) => j !== i) : x)), setDirty(true))} aria-label={t('stations.rotaRemove')} data-testid="rota-remove">
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <p class="muted small-text">{t('stations.rotaHint')}</p>
      {error && (
        <p class="form-error" role="alert" data-testid="rota-error">
          {error}
        </p>
      )}
      <div class="device-form-actions">
        <button type="button" class="btn" disabled={!rows} onClick={() => (setRows((x) => [...(x ?? []), { kind: 'weekday', weekday: '1', date: '', start: '08:00', end: '17:00' }]), setDirty(true))} data-testid="rota-add">
          {t('stations.rotaAdd')}
        </button>
        <button type="button" class="btn primary" disabled={busy || !rows || !dirty} onClick={() => void save()} data-testid="rota-save">
          {t('stations.rotaSave')}
        </button>
      </div>
    </div>
  );
}
