/**
 * Work orders (工单, issue 21) on the dashboard: the lifecycle's names as the screens need them, the API calls
 * (orders, dispatch suggestions, stations, staff, rotas), a shared directory of stations and staff for names, and
 * the live `work_order` message. Nothing here renders.
 */
import { useEffect, useState } from 'preact/hooks';
import { HttpError, api, get, post } from './api';
import { hasKey, t } from './i18n';
import { inLocale, isLead, onWs } from './session';
import { notify, store } from './store';
import type { OpenOrderBody, RotaBody, RotaEntry, Staff, StaffBody, Station, StationBody, Suggestions, WorkOrder, WorkOrderDetail, WorkOrderState, WorkOrderType } from './types';

// ---------------------------------------------------------------- the lifecycle's names (workorders/lifecycle.ts)

export const ORDER_TYPES = ['emergency', 'service', 'enquiry', 'complaint'] as const satisfies readonly WorkOrderType[];
export const ORDER_STATES = ['received', 'dispatched', 'accepted', 'on_site', 'done', 'replied', 'followed_up', 'archived', 'cancelled'] as const satisfies readonly WorkOrderState[];
// every type and state is listed (a compile error here when the gateway adds one)
const _everyType: Record<WorkOrderType, true> = { emergency: true, service: true, enquiry: true, complaint: true };
const _everyState: Record<WorkOrderState, true> = { received: true, dispatched: true, accepted: true, on_site: true, done: true, replied: true, followed_up: true, archived: true, cancelled: true };
void _everyType;
void _everyState;

/** The actions, in the order the detail panel offers them. */
export const ORDER_ACTIONS = ['dispatch', 'accept', 'arrive', 'done', 'reply', 'follow_up', 'archive', 'reassign', 'cancel'] as const;
export type OrderAction = (typeof ORDER_ACTIONS)[number];
export const FINAL_STATES: readonly WorkOrderState[] = ['archived', 'cancelled'];
export const SKILLS = ['nurse', 'handyman', 'volunteer'] as const;

export const isOpenOrder = (o: Pick<WorkOrder, 'state'>) => !FINAL_STATES.includes(o.state);
/** The actions the server allows (GET /api/work-orders/:id → allowedActions), known ones only, in panel order. */
export const allowedOf = (d: Pick<WorkOrderDetail, 'allowedActions'>): OrderAction[] => ORDER_ACTIONS.filter((a) => d.allowedActions.includes(a));

/** A label from a family of order keys; the raw value when there is none. */
function lab(prefix: string, v: string): string {
  const k = `${prefix}.${v}`;
  return hasKey(k) ? t(k) : v;
}
export const orderTypeLabel = (v: string) => lab('order.type', v);
export const orderStateLabel = (v: string) => lab('order.state', v);
export const orderActionLabel = (v: string) => lab('order.action', v);
/** The timeline's verbs: the actions, and 'open'. */
export const orderEventLabel = (v: string) => lab('order.event', v);
export const skillLabel = (v: string) => lab('skill', v);

/** "850 m" / "2.4 km"; null when the distance is unknown. */
export function fmtDistance(m: number | null | undefined): string | null {
  if (m === null || m === undefined || !Number.isFinite(m)) return null;
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(m < 10_000 ? 1 : 0)} km`;
}

/** The time the order entered its current state (the age of the step it is at). */
export function stateSince(o: WorkOrder): string {
  const at: Record<WorkOrderState, string | null> = {
    received: o.receivedAt,
    dispatched: o.dispatchedAt,
    accepted: o.acceptedAt,
    on_site: o.onSiteAt,
    done: o.doneAt,
    replied: o.repliedAt,
    followed_up: o.followedUpAt,
    archived: o.archivedAt,
    cancelled: o.cancelledAt,
  };
  return at[o.state] ?? o.updatedAt;
}

/** The order's age in seconds: from reception to now, or to its end when it is final. */
export function orderAgeS(o: WorkOrder, now: number): number {
  const end = o.state === 'archived' ? o.archivedAt : o.state === 'cancelled' ? o.cancelledAt : null;
  return Math.max(0, ((end ? new Date(end).getTime() : now) - new Date(o.receivedAt).getTime()) / 1000);
}

/** A follow-up call (回访) is due: replied, and its time has come. */
export const followUpDue = (o: WorkOrder, now: number) => o.state === 'replied' && !!o.dueFollowUpAt && new Date(o.dueFollowUpAt).getTime() <= now;

// ---------------------------------------------------------------- the API

export interface OrderQuery {
  open?: boolean;
  state?: WorkOrderState;
  type?: WorkOrderType;
  due?: boolean;
  /** the follow-up calls assigned to this agent */
  followUpAgentId?: number;
  elderId?: number;
  alarmId?: number;
  limit?: number;
}

export function ordersPath(q: OrderQuery): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '' && v !== null && v !== false) p.set(k, String(v));
  const qs = p.toString();
  return `/api/work-orders${qs ? `?${qs}` : ''}`;
}

export const listOrders = (q: OrderQuery) => get<WorkOrder[]>(ordersPath(q));
export const orderDetail = (id: number) => get<WorkOrderDetail>(`/api/work-orders/${Math.trunc(id)}`);
export const suggestFor = (id: number) => get<Suggestions>(`/api/work-orders/${Math.trunc(id)}/suggest`);
export const openOrder = (body: OpenOrderBody) => post<WorkOrder>('/api/work-orders', body);

/** What each action sends (the route's body). */
export interface ActBody {
  stationId?: number;
  staffId?: number;
  note?: string;
  result?: string;
  followUpAt?: string;
  satisfaction?: number;
  comment?: string;
  reason?: string;
}
export const orderAct = (id: number, action: OrderAction, body: ActBody) => post<WorkOrder>(`/api/work-orders/${Math.trunc(id)}/${action.replace('_', '-')}`, body);

export const listStations = () => get<Station[]>('/api/stations');
export const createStation = (b: StationBody) => post<Station>('/api/stations', b);
export const patchStation = (id: number, b: Partial<StationBody>) => api<Station>('PATCH', `/api/stations/${Math.trunc(id)}`, b);
export const listStaff = () => get<Staff[]>('/api/staff');
export const createStaff = (b: StaffBody) => post<Staff>('/api/staff', b);
export const patchStaff = (id: number, b: Partial<StaffBody>) => api<Staff>('PATCH', `/api/staff/${Math.trunc(id)}`, b);
export const getRota = (id: number) => get<RotaEntry[]>(`/api/staff/${Math.trunc(id)}/rota`);
export const putRota = (id: number, b: RotaBody) => api<RotaEntry[]>('PUT', `/api/staff/${Math.trunc(id)}/rota`, b);

/** The server's refusal in the user's language: its own bilingual message when it has one. */
export function orderErrorText(e: unknown): string {
  if (e instanceof HttpError) {
    if (e.status === 0) return t('error.network');
    if (e.status === 403) return t('error.forbidden');
    const field = e.fields[0];
    const msg = field && field.message !== e.message ? `${inLocale(e.message)} (${field.field}: ${inLocale(field.message)})` : inLocale(e.message);
    return e.status === 409 ? t('order.error.conflict', { message: msg }) : t('order.error.server', { status: e.status, message: msg });
  }
  return String((e as Error)?.message ?? e);
}

// ---------------------------------------------------------------- stations and staff, for names

interface Directory {
  stations: Map<number, Station>;
  staff: Map<number, Staff>;
}
let directory: Directory = { stations: new Map(), staff: new Map() };
let dirLoaded: Promise<void> | null = null;
const dirListeners = new Set<() => void>();

export async function refreshDirectory(): Promise<void> {
  const [stations, staff] = await Promise.all([listStations().catch(() => null), listStaff().catch(() => null)]);
  directory = {
    stations: stations ? new Map(stations.map((s) => [s.id, s])) : directory.stations,
    staff: staff ? new Map(staff.map((s) => [s.id, s])) : directory.staff,
  };
  dirListeners.forEach((f) => f());
}

/** Stations and staff by id (loaded once; refreshDirectory() after a change). */
export function useDirectory(): Directory {
  const [d, setD] = useState(directory);
  useEffect(() => {
    const f = () => setD(directory);
    dirListeners.add(f);
    dirLoaded ??= refreshDirectory();
    return () => void dirListeners.delete(f);
  }, []);
  return d;
}

/** Who did a step: a staff member (`staff:3`, from their page or an SMS) by name, the system, or a user. */
export function orderActorName(actor: string, d: Directory, userName: (a: string) => string): string {
  const m = /^staff:(\d+)$/.exec(actor);
  if (m) return d.staff.get(Number(m[1]))?.name ?? t('order.staffN', { id: Number(m[1]) });
  return userName(actor);
}

/** "服务站 · 人员", or — */
export function responderText(o: Pick<WorkOrder, 'stationId' | 'staffId'>, d: Directory): string {
  const st = o.stationId !== null ? (d.stations.get(o.stationId)?.name ?? t('order.stationN', { id: o.stationId })) : null;
  const sf = o.staffId !== null ? (d.staff.get(o.staffId)?.name ?? t('order.staffN', { id: o.staffId })) : null;
  return [st, sf].filter(Boolean).join(' · ') || '—';
}

// ---------------------------------------------------------------- live

/** Every pushed work-order change (opened, or an action), as the order row. */
export function onOrderChange(fn: (o: WorkOrder, action: string) => void): () => void {
  return onWs('work_order', (m) => fn(m.order as unknown as WorkOrder, m.action));
}

/** Another screen (the elder file's box) asks the orders view to open one order. */
let pendingOrder: number | null = null;
export function showOrder(id: number): void {
  pendingOrder = id;
  store.set({ view: 'orders' });
}
export function takePendingOrder(): number | null {
  const p = pendingOrder;
  pendingOrder = null;
  return p;
}

/** The list after one pushed change: replaced in place, added when it matches the filters, dropped when it no longer does. */
export function mergeOrder(list: WorkOrder[], o: WorkOrder, matches: (o: WorkOrder) => boolean): WorkOrder[] {
  const i = list.findIndex((x) => x.id === o.id);
  if (!matches(o)) return i < 0 ? list : list.filter((x) => x.id !== o.id);
  if (i < 0) return [o, ...list];
  const out = list.slice();
  out[i] = { ...list[i]!, ...o };
  return out;
}

/** Whether an order belongs in a list with these filters (what the server's query would say). */
export function matchesQuery(o: WorkOrder, q: OrderQuery, now: number): boolean {
  if (q.open && !isOpenOrder(o)) return false;
  if (q.state && o.state !== q.state) return false;
  if (q.type && o.type !== q.type) return false;
  if (q.elderId !== undefined && o.elderId !== q.elderId) return false;
  if (q.alarmId !== undefined && o.alarmId !== q.alarmId) return false;
  if (q.due && !followUpDue(o, now)) return false;
  if (q.followUpAgentId !== undefined && o.followUpAgentId !== q.followUpAgentId) return false;
  return true;
}

/**
 * A missed service level is the supervisors' alert, whatever screen they are on (the order's timeline keeps it for
 * everyone): "order 12 not accepted in time", with the way to it.
 */
onWs('work_order', (m) => {
  if (m.action !== 'sla_overdue' || !isLead(store.get().user)) return;
  const o = m.order as unknown as WorkOrder;
  notify('alert', t('order.overdueAlert', { id: o.id, title: o.title }), { ms: 0 });
});

/** The SMS (短信) sent or received about an order, newest first (GET /api/sms). */
export interface SmsRow {
  id: number;
  direction: 'out' | 'in';
  number: string;
  body: string;
  template: string | null;
  state: string;
  reason: string | null;
  createdAt: string;
}
export const orderSms = (orderId: number) => get<SmsRow[]>(`/api/sms?workOrderId=${orderId}`);
export const smsStateLabel = (v: string) => lab('sms.state', v);
