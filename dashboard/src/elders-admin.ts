/**
 * 老人档案 for admins and installers (issue 20): the requests of the elders screen and what it needs to know about
 * the API (which fields installers never get, how a field error reads). Nothing here renders.
 */
import { HttpError, RawBody, api, get } from './api';
import { hasKey, t } from './i18n';
import type { JsonSchema, Override } from './components/elders/schema-form';
import type { Contact, ElderFull, ElderTimeline, Geofence } from './types';

/** Care categories, as gateway/store/elders.ts ELDER_CATEGORIES. */
export const CATEGORIES = ['disabled', 'living_alone', 'empty_nest', 'advanced_age'] as const;

/** A row of GET /api/elders (the list's extra fields may be missing on an older gateway: read defensively). */
export type ElderRow = Omit<ElderFull, 'devices' | 'contacts'> & { openAlarms?: number; devices?: string[]; hasPhoto?: boolean };
export type ElderDetail = ElderFull & { hasPhoto?: boolean };

export interface ElderQuery {
  q: string;
  area: string;
  category: string;
  offset: number;
  limit: number;
}

export function listElders(f: ElderQuery): Promise<{ items: ElderRow[]; total: number }> {
  const p = new URLSearchParams({ limit: String(f.limit), offset: String(f.offset) });
  if (f.q.trim()) p.set('q', f.q.trim());
  if (f.area.trim()) p.set('area', f.area.trim());
  if (f.category) p.set('category', f.category);
  return get(`/api/elders?${p.toString()}`);
}

export const getElder = (id: number) => get<ElderDetail>(`/api/elders/${id}`);
export const createElder = (body: Record<string, unknown>) => api<ElderDetail>('POST', '/api/elders', body);
export const patchElder = (id: number, body: Record<string, unknown>) => api<ElderDetail>('PATCH', `/api/elders/${id}`, body);
export const putContacts = (id: number, list: ContactDraft[]) => api<Contact[]>('PUT', `/api/elders/${id}/contacts`, list);
export const elderTimeline = (id: number) => get<ElderTimeline & { entries: unknown[] }>(`/api/elders/${id}/timeline?limit=100`);
export const putPhoto = (id: number, file: Blob) => api<void>('PUT', `/api/elders/${id}/photo`, new RawBody(file, file.type));
export const deletePhoto = (id: number) => api<void>('DELETE', `/api/elders/${id}/photo`);

/** The photo as an object URL for an <img> (the caller revokes it); null when there is none. */
export async function photoUrl(id: number): Promise<string | null> {
  const res = await fetch(`/api/elders/${id}/photo`, { credentials: 'same-origin' });
  if (!res.ok) return null;
  return URL.createObjectURL(await res.blob());
}

export interface RulesSchemaAnswer {
  rules: { schema: JsonSchema; defaults: Record<string, unknown> };
  plan: { schema: JsonSchema; defaults: Record<string, unknown> };
}
let schemaCache: Promise<RulesSchemaAnswer> | null = null;
export function rulesSchema(): Promise<RulesSchemaAnswer> {
  schemaCache ??= get<RulesSchemaAnswer>('/api/rules/schema').catch((e: unknown) => {
    schemaCache = null;
    throw e;
  });
  return schemaCache;
}

/** A contact as the editor holds it (alt phones as typed, split on save). */
export interface ContactDraft {
  name: string;
  relation: string;
  phone: string;
  altPhones: string[];
  keyHolder: boolean;
  nextOfKin: boolean;
  maySms: boolean;
  notes: string;
}

export function toDraft(c: Partial<Contact>): ContactDraft {
  return {
    name: c.name ?? '',
    relation: c.relation ?? '',
    phone: c.phone ?? '',
    altPhones: c.altPhones ?? [],
    keyHolder: c.keyHolder ?? false,
    nextOfKin: c.nextOfKin ?? false,
    maySms: c.maySms ?? false,
    notes: c.notes ?? '',
  };
}

/**
 * The field errors of a 400 ("body/phone: invalid phone number…; body/idNumber: …"), keyed by field path without
 * "body/" ("phone", "0/phone", "rules/lowBattery/belowPct"). The message joins the server's fields[] one per "; ".
 */
export function fieldErrors(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(e instanceof HttpError) || e.status !== 400) return out;
  if (e.fields.length) {
    for (const f of e.fields) out[f.field.replace(/^body\/?/, '')] ??= f.message;
    return out;
  }
  // an older answer without fields[]: read them back from the message (`body/x: …; body/y: …`)
  const re = /(?:^|; )body(?:\/([^:;]*))?: /g;
  const marks = [...e.message.matchAll(re)];
  marks.forEach((m, i) => {
    const end = i + 1 < marks.length ? marks[i + 1]!.index : e.message.length;
    const key = m[1] ?? '';
    out[key] ??= e.message.slice(m.index + m[0].length, end);
  });
  return out;
}

/** The rules override to save: the form's override with the map's geofences (absent when there are none). */
export function rulesWith(override: Override, geofences: Geofence[]): Override {
  const { geofences: _g, ...rest } = override;
  return geofences.length ? { ...rest, geofences } : rest;
}

/** "****1234" → "1234": the last digits an ID number shows in the list. */
export const idTail = (id: string | null | undefined) => (id ? id.slice(-4) : '');

/** 失能 / 独居 / 空巢 / 高龄 in the locale; an unknown code as it is. */
export function categoryLabel(c: string): string {
  const k = `elders.category.${c}`;
  return hasKey(k) ? t(k) : c;
}
