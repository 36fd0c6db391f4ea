/**
 * The greeting script for the moment (glossary.md, "The standard agent greeting"): before noon it starts with
 * 早上好; on public holidays with the holiday greeting (新年好…); an outbound call to an elder addresses them as
 * surname + 先生/女士. Pure (no DOM, no imports), so it is unit-tested from tests/unit/dashboard/.
 */

export type HolidayKey = 'newYear' | 'springFestival' | 'newYearsEve' | 'lantern' | 'labour' | 'dragonBoat' | 'midAutumn' | 'chongyang' | 'national';

export interface GreetingMoment {
  /** a public holiday (takes the place of the time-of-day greeting) */
  holiday: HolidayKey | null;
  /** before noon in the centre's time zone */
  morning: boolean;
}

/** Month, day and hour of an instant in a time zone, in the Gregorian and the Chinese calendars. */
function parts(at: Date, tz: string, calendar: 'gregory' | 'chinese'): { month: string; day: number; hour: number } | null {
  try {
    const p = new Intl.DateTimeFormat(`en-u-ca-${calendar}`, { timeZone: tz, month: 'numeric', day: 'numeric', hour: 'numeric', hourCycle: 'h23' }).formatToParts(at);
    const get = (type: string) => p.find((x) => x.type === type)?.value ?? '';
    return { month: get('month'), day: Number(get('day')), hour: Number(get('hour')) };
  } catch {
    return null;
  }
}

export function greetingMoment(at: Date, tz = 'Asia/Shanghai'): GreetingMoment {
  const g = parts(at, tz, 'gregory');
  const hour = g?.hour ?? at.getHours();
  const morning = hour >= 5 && hour < 12; // 01:30 is the middle of the night, not 早上
  const gm = Number(g?.month ?? at.getMonth() + 1);
  const gd = g?.day ?? at.getDate();
  let holiday: HolidayKey | null = null;
  // The Chinese calendar from ICU: month "1".."12", leap months "4bis" (never a holiday).
  const l = parts(at, tz, 'chinese');
  const lm = l && /^\d+$/.test(l.month) ? Number(l.month) : null;
  const ld = l?.day ?? null;
  const tomorrow = parts(new Date(at.getTime() + 86_400_000), tz, 'chinese');
  if (lm === 1 && ld !== null && ld <= 7) holiday = 'springFestival';
  else if (tomorrow && tomorrow.month === '1' && tomorrow.day === 1) holiday = 'newYearsEve';
  else if (lm === 1 && ld === 15) holiday = 'lantern';
  else if (lm === 5 && ld === 5) holiday = 'dragonBoat';
  else if (lm === 8 && ld === 15) holiday = 'midAutumn';
  else if (lm === 9 && ld === 9) holiday = 'chongyang';
  else if (gm === 1 && gd === 1) holiday = 'newYear';
  else if (gm === 5 && gd <= 5) holiday = 'labour';
  else if (gm === 10 && gd <= 7) holiday = 'national';
  return { holiday, morning };
}

/** Two-character family names (复姓) that must not be cut after the first character. */
const COMPOUND_SURNAMES = [
  '欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '令狐', '宇文', '司徒', '夏侯', '轩辕', '端木',
  '独孤', '南宫', '西门', '呼延', '澹台', '公冶', '太史', '申屠', '万俟', '闻人', '赫连', '钟离', '濮阳', '淳于', '单于', '百里',
];

const HAN = /^[\u3400-\u9fff]/;

/** The family name of a Chinese name (张秀英 → 张, 欧阳明 → 欧阳); for other names the last word. */
export function surnameOf(name: string): string {
  const n = name.trim();
  if (!n) return n;
  if (HAN.test(n)) {
    const two = COMPOUND_SURNAMES.find((s) => n.startsWith(s) && n.length > s.length);
    return two ?? n.slice(0, 1);
  }
  const words = n.split(/\s+/);
  return words[words.length - 1] ?? n;
}

/**
 * How the agent addresses the elder: 张女士 / 张先生 (zh: the title follows the surname), "Ms 张" (en: it precedes it);
 * the full name when the gender is not known.
 */
export function addressOf(name: string, gender: string | null | undefined, titles: { male: string; female: string; titleFirst?: boolean }): string {
  const surname = surnameOf(name);
  const title = gender === 'male' ? titles.male : gender === 'female' ? titles.female : null;
  if (!title) return name;
  return titles.titleFirst ? `${title} ${surname}` : `${surname}${title}`;
}

/** Age in whole years at `at` (birthDate YYYY-MM-DD), or null. */
export function ageOf(birthDate: string | null | undefined, at: Date): number | null {
  const m = birthDate ? /^(\d{4})-(\d{2})-(\d{2})/.exec(birthDate) : null;
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = at.getFullYear() - y;
  if (at.getMonth() + 1 < mo || (at.getMonth() + 1 === mo && at.getDate() < d)) age--;
  return age >= 0 && age < 150 ? age : null;
}
