/** Vital signs in the elder's file (issue 23): GET /api/elders/:id/vitals/series; the charts are in vitals-chart.ts. */
import { get } from './api';
import { t, type MsgKey } from './i18n';
import type { Tr, VitalRange, VitalsSeries } from './vitals-chart';

export const fetchVitals = (elderId: number, range: VitalRange) => get<VitalsSeries>(`/api/elders/${elderId}/vitals/series?range=${range}`);

/** t() for the pure chart code: every vitals.* key it asks for is in the locale files (tests/unit/dashboard/vitals.test.ts). */
export const tr: Tr = (key, params) => t(key as MsgKey, params);
