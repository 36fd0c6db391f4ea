/**
 * Resident ID numbers (居民身份证号码, GB 11643-1999): 6-digit area, 8-digit birth date, 3-digit sequence, check
 * character. One check for the API (POST/PATCH /api/elders) and the bulk import (gateway/import/), so a number the
 * one refuses the other refuses too.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export type IdNumberResult = { ok: true; number: string; birthDate: string; gender: 'male' | 'female' } | { ok: false; message: string };

/** The check character (ISO 7064 MOD 11-2) of the first 17 digits. */
export function idCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK[sum % 11]!;
}

/** Checks the form, the check character and the birth date; `now` is the clock a future birth date is judged by. */
export function checkIdNumber(input: string, now = Date.now()): IdNumberResult {
  const id = input.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return { ok: false, message: '身份证号应为 18 位（最后一位可为 X）/ an ID number has 18 characters: 17 digits and a digit or X' };
  if (id[17] !== idCheckChar(id)) return { ok: false, message: '身份证号校验位错误 / the ID number\'s check character is wrong (a digit is mistyped)' };
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1880 || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d || date.getTime() > now) {
    return { ok: false, message: '身份证号中的出生日期无效 / the birth date inside the ID number is not a real date' };
  }
  const birthDate = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  return { ok: true, number: id, birthDate, gender: Number(id[16]) % 2 === 1 ? 'male' : 'female' };
}
