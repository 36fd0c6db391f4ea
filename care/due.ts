/** The agents' daily list (issue 22): birthdays made from birth dates, and the reasons a care task can have. Pure. */
import { dayNumber } from './schedule.ts';

export const CARE_TASK_REASONS = ['birthday', 'after_hospital', 'follow_up', 'welfare_failed', 'custom'] as const;
export type CareTaskReason = (typeof CARE_TASK_REASONS)[number];

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * Elders whose birthday is the local `date` (yyyy-mm-dd), with the age they turn. Someone born on 29 February is
 * called on 28 February in other years, so they are never skipped. Missing or malformed birth dates, and birth
 * dates on or after `date`, give nothing.
 */
export function birthdaysOn(date: string, elders: readonly { id: number; birthDate: string | null }[]): { elderId: number; age: number }[] {
  if (Number.isNaN(dayNumber(date))) throw new RangeError(`not a yyyy-mm-dd date: ${JSON.stringify(date)}`);
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const out: { elderId: number; age: number }[] = [];
  for (const e of elders) {
    if (e.birthDate === null || Number.isNaN(dayNumber(e.birthDate))) continue;
    const [by, bm, bdRaw] = e.birthDate.split('-').map(Number) as [number, number, number];
    const bd = bm === 2 && bdRaw === 29 && !isLeap(year) ? 28 : bdRaw;
    const age = year - by;
    if (bm === month && bd === day && age > 0) out.push({ elderId: e.id, age });
  }
  return out;
}
