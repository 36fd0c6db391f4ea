/**
 * Character classes and the date arithmetic of the watch field readers (fields.ts).
 */

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Exact powers of ten up to 1e15: an integer below 2^53 divided by one of them is correctly rounded, as Number() is. */
export const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** `String.fromCharCode(c).toUpperCase()` for ASCII c. */
export const ASCII_UPPER = Array.from({ length: 0x80 }, (_, c) => String.fromCharCode(c).toUpperCase());

/** The characters `String.prototype.trim` removes (ECMAScript WhiteSpace and LineTerminator). */
export function isTrimmed(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f ||
    c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Value of an ASCII hex digit, or -1. */
export function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const l = c | 0x20; // ASCII lower case
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** Two ASCII digits at units[i], units[i+1] as a number, or -1. */
export function twoDigits(units: Uint8Array | Uint16Array, i: number): number {
  const a = units[i]! - DIGIT_0;
  const b = units[i + 1]! - DIGIT_0;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** days from 1 January to the first of each month, in a common year */
const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
/** 1970-01-01 to 2000-01-01 */
const DAYS_TO_2000 = 10957;
const MS_PER_DAY = 86_400_000;

/**
 * DD MM YY hh mm ss (YY = 2000 + yy) as a Date, or undefined when not a real date: rules.time by arithmetic
 * (in 2000-2099 every fourth year, 2000 included, is a leap year).
 */
export function utcDate(day: number, month: number, yy: number, h: number, mi: number, s: number): Date | undefined {
  if (month < 1 || month > 12 || day < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const leap = yy % 4 === 0;
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined;
  const leapDaysBefore = (yy + 3) >> 2; // leap years among 2000 .. 2000+yy-1
  const days = DAYS_TO_2000 + yy * 365 + leapDaysBefore + DAYS_BEFORE_MONTH[month - 1]! + (month > 2 && leap ? 1 : 0) + day - 1;
  return new Date(days * MS_PER_DAY + ((h * 60 + mi) * 60 + s) * 1000);
}

