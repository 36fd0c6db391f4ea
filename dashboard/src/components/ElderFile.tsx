/**
 * The screen-pop (来电弹屏): everything an agent needs to act on one alarm, one glance away. Opens by itself
 * when an alarm is presented to this agent or an inbound call rings; actions have keyboard shortcuts
 * (A accept, C call elder, N note, R resolve, F follow-up, Esc close).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get } from '../api';
import { ageOf, addressOf, greetingMoment } from '../greeting';
import { fmtAgo, fmtDuration, fmtTime, label, locale, t } from '../i18n';
import { CALL_ACTIVE, callPartyName, hangup, liveCallOfAlarm, myLiveCall, startCall } from '../calls';
import { actorName, alarmAction, closeFile, ensureElder, errorText, isLead, isWaiting, onAlarmUpdate, refreshAlarm, type AlarmActionName } from '../session';
import { notify, store, useNow, useStore, type OpenFile } from '../store';
import type { Alarm, AlarmDetail, Contact, Device, ElderFull, LiveCall, TelemetryRow } from '../types';
import { zoneNameOf } from '../zones';
import { DeviceCommands } from './Commands';
import { ConfirmDialog, FollowUpDialog, NoteDialog, ResolveDialog } from './Dialogs';
import { ElderMap, type MapData } from './ElderMap';
import { idNumberFor, isTyping, outcomeLabel } from './file-util';
import { HangupIcon, KindIcon, PhoneIcon } from './icons';
import { LongText } from './LongText';
import { ElderOrders } from './orders/ElderOrders';
import { ManualAlarmDialog } from './ManualAlarm';
import { Timeline } from './Timeline';
import { VitalsSection } from './vitals/Vitals';

export { isTyping } from './file-util';

type Dialog = null | 'note' | 'resolve' | 'follow-up' | 'confirm-close' | 'manual-alarm';
/** A resolve waiting for "yes" because a call of the alarm is still live. */
type Pending = { outcome: string; note?: string } | null;

export function ElderFile({ open }: { open: OpenFile }) {
  const alarmId = open.alarmId;
  const [detail, setDetail] = useState<AlarmDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const liveAlarm = useStore((s) => (alarmId !== undefined ? s.alarms.get(alarmId) : undefined));
  const alarm: Alarm | undefined = pickNewer(liveAlarm, detail?.alarm);
  const elderId = alarm?.elderId ?? open.elderId ?? detail?.elder?.id;
  const elder = useStore((s) => (elderId !== undefined && elderId !== null ? s.elders.get(elderId) : undefined));
  const user = useStore((s) => s.user);
  const me = useStore((s) => s.me);
  const [history, setHistory] = useState<Alarm[]>([]);
  const [track, setTrack] = useState<[number, number][]>([]);
  const [lastFix, setLastFix] = useState<{ lat: number; lon: number; time: string } | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [flash, setFlash] = useState(false);
  const panel = useRef<HTMLElement>(null);

  // Load the alarm with its timeline, and keep it fresh while open.
  useEffect(() => {
    setDetail(null);
    setError(null);
    setLoadError(null);
    setDialog(null);
    if (alarmId === undefined) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let loads = 0;
    const load = async () => {
      const d = await refreshAlarm(alarmId);
      if (!alive) return;
      if (d) setDetail(d);
      else setLoadError(t('file.loadFailed'));
      // the devices' battery and last seen change with the alarm traffic: refresh them with it
      if (d?.alarm.elderId && loads++ > 0) void ensureElder(d.alarm.elderId, true);
    };
    void load();
    const off = onAlarmUpdate((a) => {
      if (a.id !== alarmId) return;
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 250);
    });
    return () => {
      alive = false;
      clearTimeout(timer);
      off();
    };
  }, [alarmId]);

  // Re-presentation of the same alarm: flash the panel.
  useEffect(() => {
    setFlash(true);
    panel.current?.focus({ preventScroll: true });
    const f = setTimeout(() => setFlash(false), 1600);
    return () => clearTimeout(f);
  }, [open.nonce]);

  // The elder's file, recent alarms, the last hour's track and the last known position.
  useEffect(() => {
    if (elderId === undefined || elderId === null) return;
    let alive = true;
    void ensureElder(elderId, true);
    void get<Alarm[]>(`/api/alarms?elderId=${elderId}&open=false&limit=12`)
      .then((list) => alive && setHistory(list))
      .catch(() => undefined);
    const to = new Date();
    const from = new Date(to.getTime() - 3600_000);
    if (store.get().config.features?.track === false) return;
    void get<TelemetryRow[]>(`/api/elders/${elderId}/track?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&limit=500`)
      .then((rows) => {
        if (!alive || !Array.isArray(rows)) return;
        const pts = rows.map((r) => [Number(r.fields.lat), Number(r.fields.lon)] as [number, number]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
        setTrack(pts);
        const last = rows[rows.length - 1];
        if (last && pts.length) setLastFix({ lat: pts[pts.length - 1]![0], lon: pts[pts.length - 1]![1], time: last.time });
      })
      .catch(() => setTrack([])); // telemetry may be absent or down: the map shows what it has
    return () => {
      alive = false;
    };
  }, [elderId]);

  // When the track is empty, ask for the devices' last positions.
  const full = elder && typeof elder === 'object' ? elder : null;
  useEffect(() => {
    if (!full || track.length || lastFix || store.get().config.features?.lastPositions === false) return;
    const ids = (full.devices ?? []).map((d) => d.identifier);
    if (!ids.length) return;
    let alive = true;
    void get<TelemetryRow[]>(`/api/telemetry/last-positions?${ids.map((d) => `device=${encodeURIComponent(d)}`).join('&')}`)
      .then((rows) => {
        if (!alive || !Array.isArray(rows) || !rows.length) return;
        const newest = [...rows].sort((a, b) => b.time.localeCompare(a.time))[0]!;
        const lat = Number(newest.fields.lat);
        const lon = Number(newest.fields.lon);
        if (Number.isFinite(lat) && Number.isFinite(lon)) setLastFix({ lat, lon, time: newest.time });
      })
      .catch(() => undefined);
    return () => {
      alive = false;
    };
  }, [full, track.length, lastFix]);

  const contacts: Contact[] = detail?.contacts?.length ? detail.contacts : (full?.contacts ?? []);
  const devices: Device[] = full?.devices ?? detail?.devices ?? [];
  const e = full ?? detail?.elder ?? null;
  const mine = !!alarm && alarm.ownerId === user?.id;
  const lead = isLead(user);
  const outcomes = useStore((s) => s.outcomes);
  const followUpNeeded = alarm?.outcome ? (outcomes[alarm.outcome]?.followUp ?? true) : true;
  // One call at a time: while mine is live, the call buttons (and C) wait.
  const onCall = useStore((s) => !!myLiveCall(s));
  const alarmCallLive = useStore((s) => (alarmId !== undefined ? !!liveCallOfAlarm(alarmId, s) : false));
  // The records say live; a call the page saw end meanwhile (its record not updated yet) is not.
  const calls = useStore((s) => s.calls);
  const callLive = alarmCallLive || !!detail?.calls?.some((c) => (c.liveState === 'ringing' || c.liveState === 'up') && !(c.flowId && calls.get(c.flowId)?.state === 'ended'));
  const [pending, setPending] = useState<Pending>(null);

  const can = {
    accept: !!alarm && isWaiting(alarm),
    call: !!e && !onCall,
    note: !!alarm && !['closed', 'cleared'].includes(alarm.state),
    resolve: !!alarm && ['accepted', 'in_progress'].includes(alarm.state) && (mine || lead),
    followUp: !!alarm && alarm.state === 'resolved' && followUpNeeded,
    close: !!alarm && ((alarm.state === 'resolved' && !followUpNeeded) || alarm.state === 'followed_up'),
    release: !!alarm && ['accepted', 'in_progress'].includes(alarm.state) && (mine || lead),
  };

  const act = async (action: AlarmActionName, body: { note?: string; outcome?: string; satisfaction?: number } = {}) => {
    if (!alarm) return false;
    setBusy(action);
    setError(null);
    try {
      await alarmAction(alarm.id, action, body);
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      setBusy(null);
    }
  };

  const call = async (target: { contactId?: number }) => {
    if (!e) return;
    setBusy(target.contactId ? `call-${target.contactId}` : 'call');
    setError(null);
    const contact = target.contactId ? contacts.find((c) => c.id === target.contactId) : undefined;
    const name = contact ? `${contact.name}${contact.relation ? `（${contact.relation}）` : ''}` : e.name;
    try {
      await startCall({ alarmId: alarm?.id, elderId: e.id, ...target }, name);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  // Keyboard shortcuts while the file is open.
  const keys = useRef({ can, act, call, dialog, pending });
  keys.current = { can, act, call, dialog, pending };
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      const k = keys.current;
      if (ev.key === 'Escape') {
        ev.preventDefault();
        if (k.pending) setPending(null);
        else if (k.dialog) setDialog(null);
        else closeFile();
        return;
      }
      if (k.dialog || k.pending || ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(ev.target)) return;
      const key = ev.key.toLowerCase();
      if (key === 'a' && k.can.accept) void k.act('accept');
      else if (key === 'c' && k.can.call) void k.call({});
      else if (key === 'n' && k.can.note) setDialog('note');
      else if (key === 'r' && k.can.resolve) setDialog('resolve');
      else if (key === 'f' && k.can.followUp) setDialog('follow-up');
      else return;
      ev.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const currentLocale = useStore((s) => s.locale);
  const mapData: MapData = useMemo(() => {
    const geofences = (e?.rules?.geofences ?? []).filter((g) => g && g.shape);
    const home = e && typeof e.lat === 'number' && typeof e.lon === 'number' ? { lat: e.lat, lon: e.lon } : null;
    let last: MapData['last'] = null;
    if (alarm && alarm.lat !== null && alarm.lon !== null) last = { lat: alarm.lat, lon: alarm.lon, label: t('map.alarmAt', { time: fmtTime(alarm.lastAt, store.get().config.timezone) }) };
    else if (lastFix) last = { lat: lastFix.lat, lon: lastFix.lon, label: t('map.lastAt', { time: fmtTime(lastFix.time, store.get().config.timezone) }) };
    return { home, last, track, geofences };
  }, [e, alarm?.lat, alarm?.lon, alarm?.lastAt, track, lastFix, currentLocale]);

  const config = useStore((s) => s.config);

  if (!alarm && !e) {
    return (
      <section class="file loading" ref={panel} tabIndex={-1} data-testid="elder-file">
        <button type="button" class="btn ghost small close" onClick={closeFile}>
          {t('file.close')}
        </button>
        <p>{loadError ?? t('common.loading')}</p>
      </section>
    );
  }

  return (
    <section class={`file ${flash ? 'flash' : ''} ${alarm ? `p${alarm.priority}` : ''}`} ref={panel} tabIndex={-1} aria-label={t('file.title')} data-testid="elder-file" data-alarm-id={alarm?.id} data-state={alarm?.state}>
      <FileHeader alarm={alarm} elder={e} reason={open.reason} zoneName={zoneNameOf(alarm, devices)} />
      <div class="actions" role="toolbar" aria-label={t('file.actions')}>
        <button type="button" class="btn accept big" disabled={!can.accept || !!busy} onClick={() => void act('accept')} data-testid="action-accept">
          {t('action.acceptBtn')} <kbd>A</kbd>
        </button>
        <button type="button" class="btn call big" disabled={!can.call || !!busy} title={onCall ? t('call.inProgress') : undefined} onClick={() => void call({})} data-testid="action-call-elder">
          <PhoneIcon /> {t('action.callElder')} <kbd>C</kbd>
        </button>
        <button type="button" class="btn" disabled={!can.note || !!busy} onClick={() => setDialog('note')} data-testid="action-note">
          {t('action.noteBtn')} <kbd>N</kbd>
        </button>
        <button type="button" class="btn resolve" disabled={!can.resolve || !!busy} onClick={() => setDialog('resolve')} data-testid="action-resolve">
          {t('action.resolveBtn')} <kbd>R</kbd>
        </button>
        {can.followUp && (
          <button type="button" class="btn" disabled={!!busy} onClick={() => setDialog('follow-up')} data-testid="action-follow-up">
            {t('action.followUpBtn')} <kbd>F</kbd>
          </button>
        )}
        {can.close && (
          <button type="button" class="btn" disabled={!!busy} onClick={() => (callLive ? setDialog('confirm-close') : void act('close'))} data-testid="action-close">
            {t('action.closeBtn')}
          </button>
        )}
        {can.release && (
          <button type="button" class="btn ghost" disabled={!!busy} onClick={() => void act('release')} data-testid="action-release">
            {t('action.releaseBtn')}
          </button>
        )}
        {!alarm && e && (
          <button type="button" class="btn danger" disabled={!!busy} onClick={() => setDialog('manual-alarm')} data-testid="action-manual-alarm">
            {t('manualAlarm.button')}
          </button>
        )}
        {alarm && alarm.ownerId !== null && !mine && (
          <span class="owner-note" data-testid="owner-note">
            {t('file.ownedBy', { who: actorName(alarm.ownerId) })}
          </span>
        )}
        {!me?.signedIn && user?.role === 'agent' && <span class="hint">{t('call.signInFirst')}</span>}
      </div>
      {error && (
        <div class="action-error" role="alert" data-testid="action-error">
          {error}
          <button type="button" class="btn ghost small" onClick={() => setError(null)} aria-label={t('common.dismiss')}>
            ×
          </button>
        </div>
      )}
      <FileCalls alarmId={alarm?.id} elderId={e?.id} />
      <div class="file-body">
        <div class="col">
          {e && <Greeting elder={e} inbound={open.reason === 'call'} />}
          {e && <Access elder={e} />}
          <Contacts contacts={contacts} onCall={(c) => void call({ contactId: c.id })} busy={busy} calling={onCall} />
          <ElderOrders elderId={e?.id} alarmId={alarm?.id} />
          {e && <Profile elder={e} />}
        </div>
        <div class="col">
          <ElderMap data={mapData} tileUrl={config.mapTileUrl} credit={config.mapTileAttribution} />
          <Devices devices={devices} current={alarm?.deviceId ?? null} />
          {e && <DeviceCommands elderId={e.id} reload={detail} />}
          <Timeline alarm={alarm} events={detail?.timeline ?? []} calls={detail?.calls ?? []} history={history} />
        </div>
      </div>
      {e && <VitalsSection elderId={e.id} />}
      {dialog === 'manual-alarm' && e && <ManualAlarmDialog elderId={e.id} onCancel={() => setDialog(null)} onDone={() => setDialog(null)} />}
      {dialog === 'note' && alarm && <NoteDialog onCancel={() => setDialog(null)} onSave={async (note) => (await act('note', { note })) && setDialog(null)} busy={!!busy} />}
      {dialog === 'resolve' && alarm && (
        <ResolveDialog
          onCancel={() => setDialog(null)}
          onSave={async (outcome, note) => {
            // A call of this alarm is still live: ask first (the call is not hung up by resolving).
            if (callLive) {
              setDialog(null);
              setPending({ outcome, note: note || undefined });
              return;
            }
            if (await act('resolve', { outcome, note: note || undefined })) setDialog(null);
          }}
          busy={!!busy}
        />
      )}
      {pending && alarm && (
        <ConfirmDialog
          title={t('confirm.resolveDuringCall.title')}
          text={t('confirm.resolveDuringCall.text')}
          confirm={t('confirm.resolveDuringCall.ok')}
          busy={!!busy}
          onCancel={() => setPending(null)}
          onConfirm={async () => {
            await act('resolve', pending);
            setPending(null);
          }}
        />
      )}
      {dialog === 'confirm-close' && alarm && (
        <ConfirmDialog
          title={t('confirm.closeDuringCall.title')}
          text={t('confirm.closeDuringCall.text')}
          confirm={t('confirm.closeDuringCall.ok')}
          busy={!!busy}
          onCancel={() => setDialog(null)}
          onConfirm={async () => {
            await act('close');
            setDialog(null);
          }}
        />
      )}
      {dialog === 'follow-up' && alarm && (
        <FollowUpDialog onCancel={() => setDialog(null)} onSave={async (satisfaction, note) => (await act('follow-up', { satisfaction, note: note || undefined })) && setDialog(null)} busy={!!busy} />
      )}
    </section>
  );
}

function pickNewer(a: Alarm | undefined, b: Alarm | undefined): Alarm | undefined {
  if (!a) return b;
  if (!b) return a;
  return ((a as { updatedAt?: string }).updatedAt ?? '') >= ((b as { updatedAt?: string }).updatedAt ?? '') ? a : b;
}

function FileHeader({ alarm, elder, reason, zoneName }: { alarm?: Alarm; elder: ElderFull | AlarmDetail['elder'] | null; reason: OpenFile['reason']; zoneName?: string }) {
  const now = useNow();
  const age = elder ? ageOf(elder.birthDate, new Date(now)) : null;
  return (
    <header class="file-head">
      {alarm && (
        <div class={`file-prio p${alarm.priority}`}>
          <KindIcon kind={alarm.kind} size={34} />
          <span>P{alarm.priority}</span>
        </div>
      )}
      <div class="file-who">
        <h2 data-testid="elder-name">
          {elder?.name ?? t('queue.unknownElder')}
          {elder && (
            <small>
              {[elder.gender ? label('gender', elder.gender) : null, age !== null ? t('file.ageYears', { n: age }) : null].filter(Boolean).join(' · ')}
            </small>
          )}
        </h2>
        {elder && (elder.address || elder.phone) && (
          <div class="file-addr" data-testid="elder-address">
            {elder.address && <LongText text={elder.address} lines={2} />}
            {elder.address && elder.phone ? ' · ' : ''}
            {elder.phone && <span class="phone">{elder.phone}</span>}
          </div>
        )}
        {alarm ? (
          <div class="file-alarm">
            <strong>{label('kind', alarm.kind)}</strong>
            {alarm.zone && (
              // a panel's zone: which detector or pendant (防区), named as the installer registered it
              <span class="zone" data-testid="alarm-zone">
                {t('file.zone', { zone: alarm.zone })}
                {zoneName ? ` · ${zoneName}` : ''}
              </span>
            )}
            <span class={`qstate s-${alarm.state}`} data-testid="alarm-state">
              {label('state', alarm.state)}
            </span>
            <span class="timer" title={t('queue.age')}>
              {fmtDuration((now - new Date(alarm.firstAt).getTime()) / 1000)}
            </span>
            {alarm.count > 1 && <span class="count">{t('file.repeats', { n: alarm.count })}</span>}
            {alarm.outcome && <span class="outcome">{outcomeLabel(alarm.outcome)}</span>}
            {reason === 'present' && <span class="pop-tag">{t('file.popped')}</span>}
          </div>
        ) : (
          <div class="file-alarm">{reason === 'call' && <span class="pop-tag">{t('file.inboundCall')}</span>}</div>
        )}
      </div>
      <button type="button" class="btn ghost close" onClick={closeFile} data-testid="file-close">
        {t('file.close')} <kbd>Esc</kbd>
      </button>
    </header>
  );
}

function Greeting({ elder, inbound }: { elder: NonNullable<AlarmDetail['elder']>; inbound: boolean }) {
  const [mode, setMode] = useState<'out' | 'in'>(inbound ? 'in' : 'out');
  const tz = useStore((s) => s.config.timezone);
  const centre = useStore((s) => s.config.centreName) || t('greeting.centre');
  const agent = useStore((s) => s.user?.displayName || s.user?.username || '');
  const now = useNow();
  const moment = greetingMoment(new Date(now), tz ?? 'Asia/Shanghai');
  const prefix = moment.holiday ? t(`holiday.${moment.holiday}`) : moment.morning ? t('greeting.morning') : '';
  const addr = addressOf(elder.name, elder.gender, { male: t('greeting.mr'), female: t('greeting.ms'), titleFirst: locale() === 'en' });
  const text = mode === 'out' ? t('greeting.outbound', { prefix, address: addr, centre, agent }) : t('greeting.inbound', { prefix, centre });
  return (
    <div class="greeting" data-testid="greeting">
      <div class="greeting-head">
        <span class="label">{t('greeting.title')}</span>
        <span class="seg">
          <button type="button" class={`chip small ${mode === 'out' ? 'on' : ''}`} onClick={() => setMode('out')}>
            {t('greeting.outboundTab')}
          </button>
          <button type="button" class={`chip small ${mode === 'in' ? 'on' : ''}`} onClick={() => setMode('in')}>
            {t('greeting.inboundTab')}
          </button>
        </span>
      </div>
      <p class="script">{text}</p>
    </div>
  );
}

/** What the agent must not miss before sending anyone: how to get in, living alone, allergies. */
function Access({ elder }: { elder: NonNullable<AlarmDetail['elder']> }) {
  return (
    <>
      {elder.accessNotes && (
        <div class="access" data-testid="access-notes">
          <span class="label">{t('file.access')}</span>
          <LongText text={elder.accessNotes} lines={6} />
        </div>
      )}
      <div class="flags">
        {elder.livesAlone && <span class="flag danger">{t('file.livesAlone')}</span>}
        {elder.allergies && (
          <span class="flag warn" data-testid="allergies">
            {t('file.allergies')}: <LongText text={elder.allergies} lines={3} />
          </span>
        )}
        {elder.dialect && (
          <span class="flag info">
            {t('file.dialect')}: {elder.dialect}
          </span>
        )}
      </div>
    </>
  );
}

function Profile({ elder }: { elder: NonNullable<AlarmDetail['elder']> }) {
  const role = useStore((s) => s.user?.role);
  const rows: [string, string | null | undefined][] = [
    [t('file.conditions'), elder.conditions],
    [t('file.medications'), elder.medications],
    [t('file.idNumber'), elder.idNumber ? idNumberFor(elder.idNumber, role) : null],
  ];
  if (!rows.some(([, v]) => v)) return null;
  return (
    <div class="box profile">
      <h3>{t('file.health')}</h3>
      <dl>
        {rows
          .filter(([, v]) => v)
          .map(([k, v]) => (
            <div key={k} class="dl-row">
              <dt>{k}</dt>
              <dd>
                <LongText text={v!} lines={6} />
              </dd>
            </div>
          ))}
      </dl>
    </div>
  );
}

function Contacts({ contacts, onCall, busy, calling }: { contacts: Contact[]; onCall: (c: Contact) => void; busy: string | null; calling: boolean }) {
  return (
    <div class="box contacts" data-testid="contacts">
      <h3>{t('file.contacts')}</h3>
      {contacts.length === 0 ? (
        <p class="muted">{t('file.noContacts')}</p>
      ) : (
        <ol>
          {[...contacts]
            .sort((a, b) => a.position - b.position)
            .map((c, i) => (
              <li key={c.id}>
                <span class="ord">{i + 1}</span>
                <span class="cname">
                  <strong>{c.name}</strong>
                  {c.relation && <small>{c.relation}</small>}
                  {c.notes && <LongText text={c.notes} lines={3} class="muted small-text" />}
                </span>
                <span class="phone">{c.phone}</span>
                <button type="button" class="btn call small" disabled={!!busy || calling} title={calling ? t('call.inProgress') : undefined} onClick={() => onCall(c)} data-testid="call-contact">
                  <PhoneIcon size={16} /> {t('action.call')}
                </button>
              </li>
            ))}
        </ol>
      )}
    </div>
  );
}

function Devices({ devices, current }: { devices: Device[]; current: number | null }) {
  const now = useNow();
  if (!devices.length) return null;
  return (
    <div class="box devices" data-testid="devices">
      <h3>{t('file.devices')}</h3>
      <ul>
        {devices.map((d) => {
          const seen = d.lastSeen ? (now - new Date(d.lastSeen).getTime()) / 1000 : null;
          const online = seen !== null && seen < 900;
          return (
            <li key={d.id} class={d.id === current ? 'current' : ''}>
              <span class={`dot ${online ? 'on' : 'off'}`} title={online ? t('device.online') : t('device.offline')} />
              <span class="dname">
                {label('deviceKind', d.kind)}
                <small title={`${d.model ? `${d.model} · ` : ''}${d.identifier}`}>
                  {d.model ? `${d.model} · ` : ''}
                  {d.identifier}
                </small>
              </span>
              <span class={`battery ${d.battery !== null && d.battery < 20 ? 'low' : ''}`}>{d.battery !== null ? t('device.battery', { n: d.battery }) : '—'}</span>
              <span class="seen">{t('device.lastSeen', { ago: fmtAgo(d.lastSeen, now) })}</span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** The call on this alarm (or elder), live from the WebSocket: who, state, duration, hang-up. */
function FileCalls({ alarmId, elderId }: { alarmId?: number; elderId?: number }) {
  const calls = useStore((s) => s.calls);
  const now = useNow();
  const list = [...calls.values()].filter((c) => CALL_ACTIVE.has(String(c.state)) && ((alarmId !== undefined && c.alarmId === alarmId) || (alarmId === undefined && elderId !== undefined && c.elderId === elderId)));
  if (!list.length) return null;
  return (
    <div class="file-calls">
      {list.map((c: LiveCall) => (
        <div key={String(c.id)} class={`file-call call-${c.state}`} data-testid="file-call" data-state={c.state}>
          <PhoneIcon />
          <strong>{callPartyName(c)}</strong>
          <span>{label('callState', String(c.state))}</span>
          {c.state === 'connected' && c.answeredAt ? (
            <span class="timer">{fmtDuration((now - new Date(c.answeredAt).getTime()) / 1000)}</span>
          ) : (
            c.startedAt && <span class="timer">{fmtDuration((now - new Date(c.startedAt).getTime()) / 1000)}</span>
          )}
          <button
            type="button"
            class="btn danger small"
            onClick={() => void hangup(String(c.id)).catch((e: unknown) => notify('error', errorText(e)))}
          >
            <HangupIcon size={16} /> {t('call.hangup')}
          </button>
        </div>
      ))}
    </div>
  );
}

