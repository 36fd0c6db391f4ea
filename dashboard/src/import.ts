/**
 * Bulk import and export (issue 20, 批量导入导出): the template and export links, a dry run that lists every bad
 * row, then the import as a job followed to the end (progress bar). Installers and admins only (the server says so).
 */
import { RawBody, get, post } from './api';
import type { paths } from './api-types';

type Json<C> = C extends { content: { 'application/json': infer B } } ? B : never;
export type DryRun = Json<paths['/api/import/dry-run']['post']['responses'][200]>;
export type ImportJob = Json<paths['/api/import']['post']['responses'][202]>;
export type RowError = DryRun['errors'][number];
export type Format = 'xlsx' | 'csv';
export type Kind = 'elders' | 'contacts' | 'devices';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The body type the server takes for a file: by its name (the bytes decide in the end). */
function typeOf(file: File): string {
  return /\.xlsx$/i.test(file.name) ? XLSX : /\.csv$/i.test(file.name) ? 'text/csv' : 'application/octet-stream';
}

const query = (kind?: Kind) => (kind ? `?kind=${kind}` : '');

export const dryRun = (file: File, kind?: Kind) => post<DryRun>(`/api/import/dry-run${query(kind)}`, new RawBody(file, typeOf(file)));
export const startImport = (file: File, kind?: Kind) => post<ImportJob>(`/api/import${query(kind)}`, new RawBody(file, typeOf(file)));
export const importJob = (id: string) => get<ImportJob>(`/api/import/${encodeURIComponent(id)}`);

/** Same-origin download links (the session cookie goes with them). */
export const templateUrl = (format: Format, kind?: Kind) => `/api/import/template?format=${format}${kind ? `&kind=${kind}` : ''}`;
export const exportUrl = (format: Format, kind?: Kind) => `/api/export?format=${format}${kind ? `&kind=${kind}` : ''}`;

/** Follows a job until it is done or failed, calling `progress` on every answer. */
export async function follow(job: ImportJob, progress: (j: ImportJob) => void, everyMs = 500): Promise<ImportJob> {
  let j = job;
  progress(j);
  while (j.state === 'validating' || j.state === 'importing') {
    await new Promise((r) => setTimeout(r, everyMs));
    j = await importJob(j.id);
    progress(j);
  }
  return j;
}
