/** The agents' daily list (care/due.ts): birthdays from birth dates. */
import { describe, expect, it } from 'vitest';
import { CARE_TASK_REASONS, birthdaysOn } from '../../../care/index.ts';

describe('birthdaysOn', () => {
  const elders = [
    { id: 1, birthDate: '1940-12-07' },
    { id: 2, birthDate: '1936-02-29' },
    { id: 3, birthDate: null },
    { id: 4, birthDate: '1950-12-08' },
    { id: 5, birthDate: 'unknown' },
    { id: 6, birthDate: '1944-02-28' },
  ];

  it('lists the elders born on this month and day, with the age they turn', () => {
    expect(birthdaysOn('2026-12-07', elders)).toEqual([{ elderId: 1, age: 86 }]);
    expect(birthdaysOn('2026-12-06', elders)).toEqual([]);
  });

  it('29 February birthdays fall on 28 February in other years, and on the day in leap years', () => {
    expect(birthdaysOn('2026-02-28', elders)).toEqual([{ elderId: 2, age: 90 }, { elderId: 6, age: 82 }]);
    expect(birthdaysOn('2026-03-01', elders)).toEqual([]);
    expect(birthdaysOn('2028-02-28', elders)).toEqual([{ elderId: 6, age: 84 }]);
    expect(birthdaysOn('2028-02-29', elders)).toEqual([{ elderId: 2, age: 92 }]);
    expect(birthdaysOn('2100-02-28', elders).map((b) => b.elderId)).toEqual([2, 6]); // 2100 is not a leap year
  });

  it('the day of birth itself is not a birthday; a bad date is an error', () => {
    expect(birthdaysOn('1940-12-07', elders)).toEqual([]);
    expect(() => birthdaysOn('2026-13-01', elders)).toThrow(RangeError);
  });

  it('the task reasons', () => {
    expect(CARE_TASK_REASONS).toEqual(['birthday', 'after_hospital', 'follow_up', 'welfare_failed', 'custom']);
  });
});
