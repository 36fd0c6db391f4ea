/**
 * Devices, protocols and the installer's activation test (设备开通, issue 20): the requests the Devices, Activate and
 * Account screens make, and their shapes. The device routes declare no response schema yet, so the shapes are
 * written here by hand and read defensively (fields added by the console routes may be absent on an older gateway).
 * Nothing here renders.
 */
import { HttpError, api, get, post } from './api';
import { hasKey, t, type MsgKey } from './i18n';
import { errorText, inLocale } from './session';

export interface DeviceRow {
  id: number;
  identifier: string;
  protocol: string;
  model: string | null;
  kind: string;
  simPhone: string | null;
  elderId: number | null;
  state: string;
  lastSeen: string | null;
  battery: number | null;
  signal: number | null;
  meta?: Record<string, unknown>;
  createdAt?: string;
  activatedAt?: string | null;
  activatedBy?: number | null;
  testUntil?: string | null;
  /** a shared key (DC-09 AES) is set; the key itself is never sent */
  hasKey?: boolean;
  online?: boolean;
}

/** A JSON schema as TypeBox writes it; only what the forms read. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  description?: string;
  title?: string;
  default?: unknown;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
}

export interface ProtocolCommand {
  type: string;
  params: JsonSchema;
  dangerous: boolean;
  why?: string;
  common: boolean;
}

/** GET /api/protocols (each). */
export interface ProtocolInfo {
  name: string;
  label: string;
  devices?: string;
  transport: string;
  identifierHint: string;
  identifierIsPhone: boolean;
  deviceSecret: boolean;
  /** devices share a symmetric key (DC-09 AES): what one looks like; null = they take none */
  keyHint: string | null;
  /** how a key may be written (hex, ascii); empty: as typed (a SIP password) */
  keyEncodings: string[];
  defaultKind: string | null;
  settings: JsonSchema | null;
  commands: ProtocolCommand[];
}

/** GET /api/devices/unregistered (each): a device that spoke to us but is not registered (待开通). */
export interface UnknownDevice {
  identifier: string;
  protocol: string;
  firstSeen: string;
  lastSeen: string;
  attempts: number;
  remote: string | null;
}

/** GET/POST /api/devices/:id/activation. */
export interface ActivationStatus {
  deviceId: number;
  identifier: string;
  protocol: string;
  kind: string;
  elderId: number | null;
  activatedAt: string | null;
  activatedBy: number | null;
  startedAt: string | null;
  until: string | null;
  active: boolean;
  online: boolean;
  lastSeen: string | null;
  battery: number | null;
  signal: number | null;
  position: { lat: number; lon: number; at: string } | null;
  testAlarms: { id: number; kind: string; at: string; zone: string | null; line?: string }[];
}

/** A command as stored (POST answers {command, delivery}; GET …/commands/:commandId answers the command). */
export interface CommandRow {
  id: number;
  deviceId: number;
  command: Record<string, unknown>;
  keyword: string;
  state: string;
  result: string | null;
  createdAt: string;
  sentAt?: string | null;
  ackedAt?: string | null;
  expiresAt?: string;
}

export interface ElderBrief {
  id: number;
  name: string;
  phone?: string | null;
  address?: string | null;
  area?: string | null;
  devices?: string[];
}

export const DEVICE_KINDS = ['watch', 'one_key_caller', 'fall_sensor', 'panel', 'pendant', 'other'] as const;
/** The kind a new device of a protocol most likely is, when the protocol names none (GET /api/protocols defaultKind). */
const USUAL_KIND: Record<string, string> = { watch: 'watch', gt06: 'watch', contactid: 'panel', 'mqtt-json': 'fall_sensor', phone: 'one_key_caller' };
export const kindFor = (p: ProtocolInfo | undefined): string => p?.defaultKind ?? (p && USUAL_KIND[p.name]) ?? 'other';

/** A command's state when it is over: polling stops. */
export const FINAL_COMMAND_STATES = ['acknowledged', 'failed', 'expired'];

export const listProtocols = () => get<ProtocolInfo[]>('/api/protocols');
export function listDevices(f: { q?: string; unbound?: boolean } = {}): Promise<DeviceRow[]> {
  const qs = new URLSearchParams({ limit: '500' });
  if (f.q?.trim()) qs.set('q', f.q.trim());
  if (f.unbound) qs.set('unbound', 'true');
  return get<DeviceRow[]>(`/api/devices?${qs}`);
}
export const listUnregistered = () => get<UnknownDevice[]>('/api/devices/unregistered');
export const getDevice = (id: number) => get<DeviceRow>(`/api/devices/${id}`);
export type RegisterInput = { identifier: string; protocol: string; model?: string; kind?: string; simPhone?: string; meta?: Record<string, unknown>; elderId?: number; key?: string; keyEncoding?: 'hex' | 'ascii' };
export const registerDevice = (b: RegisterInput) => post<DeviceRow & { mqttSecret?: string }>('/api/devices', b);
export const patchDevice = (id: number, b: Record<string, unknown>) => api<DeviceRow>('PATCH', `/api/devices/${id}`, b);
export const bindDevice = (id: number, elderId: number) => post<DeviceRow>(`/api/devices/${id}/bind`, { elderId });
export const unbindDevice = (id: number) => post<DeviceRow>(`/api/devices/${id}/unbind`, {});
export const sendCommand = (id: number, body: Record<string, unknown>) => post<{ command: CommandRow; delivery: 'sent' | 'queued' }>(`/api/devices/${id}/commands`, body);
export const getCommand = (id: number, commandId: number) => get<CommandRow>(`/api/devices/${id}/commands/${commandId}`);
export const startActivation = (id: number, minutes?: number) => post<ActivationStatus>(`/api/devices/${id}/activation`, minutes ? { minutes } : {});
export const getActivation = (id: number) => get<ActivationStatus>(`/api/devices/${id}/activation`);
export const finishActivation = (id: number) => post<DeviceRow>(`/api/devices/${id}/activation/finish`, {});
export const cancelActivation = (id: number) => post<ActivationStatus>(`/api/devices/${id}/activation/cancel`, {});

export async function searchElders(q: string, limit = 20): Promise<ElderBrief[]> {
  const qs = new URLSearchParams({ limit: String(limit) });
  if (q.trim()) qs.set('q', q.trim());
  const page = await get<{ items: ElderBrief[] } | ElderBrief[]>(`/api/elders?${qs}`);
  return Array.isArray(page) ? page : (page.items ?? []);
}
export const createElder = (b: { name: string; phone?: string; address?: string }) => post<ElderBrief>('/api/elders', b);

/** The device registered under this identifier (exact match), or null. */
export async function findDevice(identifier: string): Promise<DeviceRow | null> {
  const list = await listDevices({ q: identifier });
  return list.find((d) => d.identifier === identifier) ?? null;
}

/**
 * The protocols an identifier could be, most likely first, from its shape: 15 digits is an IMEI (a watch or a GT06
 * tracker), a phone number a one-key landline caller, 4 hex characters a Contact ID account. Only among `known`.
 */
export function guessProtocols(identifier: string, known: string[]): string[] {
  const s = identifier.trim();
  const guesses: string[] = [];
  if (/^\d{15,16}$/.test(s)) guesses.push('watch', 'gt06');
  else if (/^\+?\d{6,20}$/.test(s) && /^(\+?86)?(1[3-9]\d{9}|0\d{9,11})$/.test(s)) guesses.push('phone', 'watch');
  else if (/^\d{6,20}$/.test(s)) guesses.push('watch');
  else if (/^[0-9A-F]{4}$/i.test(s) || /^\d{10}$/.test(s)) guesses.push('contactid');
  else if (/^0x[0-9a-f]{16}$/i.test(s)) guesses.push('zigbee2mqtt');
  else if (s) guesses.push('mqtt-json');
  return [...guesses.filter((g) => known.includes(g)), ...known.filter((k) => !guesses.includes(k))];
}

/** The identifier rule of a protocol in the user's language (the server's English hint for a protocol not listed). */
export function identifierHint(p: ProtocolInfo | undefined): string {
  if (!p) return '';
  const key = `devices.hint.${p.name}`;
  return hasKey(key) ? t(key) : p.identifierHint;
}

/** The field a 400 names (`body/current: …` → `current`), or null. */
export function errorField(e: unknown): string | null {
  if (!(e instanceof HttpError) || e.status !== 400) return null;
  return /\bbody\/(\w+)/.exec(e.message)?.[1] ?? null;
}

/** The server's refusal in the user's words: a taken identifier, a not-bound device, else the general text. */
export function deviceErrorText(e: unknown): string {
  if (e instanceof HttpError) {
    if (e.status === 409 && /identifier|IMEI/i.test(e.message)) return t('devices.err.taken');
    if (e.status === 409 && /phone number/i.test(e.message)) return t('devices.err.simTaken');
    if (e.code === 'not_bound') return t('activate.err.notBound');
    if (e.status === 404) return t('devices.err.missing');
    if (e.status === 400) {
      const field = errorField(e);
      const key: MsgKey | undefined = field ? FIELD_KEYS[field] : undefined;
      if (key) return `${t(key)} (${inLocale(e.message)})`;
      return inLocale(e.message);
    }
    if (e.status === 403 && e.message) return `${t('error.forbidden')} ${inLocale(e.message)}`;
  }
  return errorText(e);
}

const FIELD_KEYS: Record<string, MsgKey> = {
  identifier: 'devices.err.identifier',
  simPhone: 'devices.err.simPhone',
  elderId: 'devices.err.elder',
  reason: 'devices.err.reason',
  phone: 'devices.err.phone',
  key: 'devices.err.key',
  meta: 'devices.err.meta',
};
