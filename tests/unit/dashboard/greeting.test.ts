/** The greeting script for the moment (glossary.md): morning, holidays from both calendars, how to address the elder. */
import { describe, expect, it } from 'vitest';
import { addressOf, ageOf, greetingMoment, surnameOf } from '../../../dashboard/src/greeting.ts';

const TZ = 'Asia/Shanghai';

describe('greetingMoment', () => {
  it('says 早上好 from 05:00 to noon in the centre’s time zone, not after, and not in the night', () => {
    expect(greetingMoment(new Date('2026-11-23T01:00:00Z'), TZ)).toEqual({ holiday: null, morning: true }); // 09:00
    expect(greetingMoment(new Date('2026-11-23T06:00:00Z'), TZ)).toEqual({ holiday: null, morning: false }); // 14:00
    // 22:00 UTC is 06:00 the next morning in Shanghai
    expect(greetingMoment(new Date('2026-11-22T22:00:00Z'), TZ).morning).toBe(true);
    expect(greetingMoment(new Date('2026-11-22T22:00:00Z'), 'UTC').morning).toBe(false);
    // 17:30 UTC is 01:30 in Shanghai: the middle of the night, not 早上
    expect(greetingMoment(new Date('2026-11-22T17:30:00Z'), TZ).morning).toBe(false);
    expect(greetingMoment(new Date('2026-11-22T21:00:00Z'), TZ).morning).toBe(true); // 05:00
  });

  it('knows the public holidays of the Gregorian calendar', () => {
    expect(greetingMoment(new Date('2027-01-01T02:00:00Z'), TZ).holiday).toBe('newYear');
    expect(greetingMoment(new Date('2026-05-01T02:00:00Z'), TZ).holiday).toBe('labour');
    expect(greetingMoment(new Date('2026-10-02T02:00:00Z'), TZ).holiday).toBe('national');
    expect(greetingMoment(new Date('2026-10-09T02:00:00Z'), TZ).holiday).toBe(null);
  });

  it('knows the lunar holidays (Spring Festival, its eve, Mid-Autumn, Double Ninth) and prefers them', () => {
    expect(greetingMoment(new Date('2026-02-17T02:00:00Z'), TZ).holiday).toBe('springFestival'); // 正月初一
    expect(greetingMoment(new Date('2026-02-16T02:00:00Z'), TZ).holiday).toBe('newYearsEve'); // 除夕
    expect(greetingMoment(new Date('2026-03-03T02:00:00Z'), TZ).holiday).toBe('lantern'); // 正月十五
    expect(greetingMoment(new Date('2025-10-06T02:00:00Z'), TZ).holiday).toBe('midAutumn'); // also in the National Day week
    expect(greetingMoment(new Date('2025-10-29T02:00:00Z'), TZ).holiday).toBe('chongyang'); // 重阳, seniors' day
    expect(greetingMoment(new Date('2026-06-19T02:00:00Z'), TZ).holiday).toBe('dragonBoat'); // 端午
  });
});

describe('addressing the elder', () => {
  it('finds the family name, including two-character ones', () => {
    expect(surnameOf('张秀英')).toBe('张');
    expect(surnameOf('欧阳建国')).toBe('欧阳');
    expect(surnameOf('司马')).toBe('司'); // a two-character name is family name + given name
    expect(surnameOf('Mary Smith')).toBe('Smith');
  });

  it('uses 先生/女士 after the family name, Mr/Ms before it, and the full name when the gender is unknown', () => {
    const zh = { male: '先生', female: '女士' };
    expect(addressOf('张秀英', 'female', zh)).toBe('张女士');
    expect(addressOf('欧阳建国', 'male', zh)).toBe('欧阳先生');
    expect(addressOf('李华', null, zh)).toBe('李华');
    expect(addressOf('张秀英', 'female', { male: 'Mr', female: 'Ms', titleFirst: true })).toBe('Ms 张');
  });

  it('computes the age from the birth date', () => {
    expect(ageOf('1943-05-12', new Date('2026-05-11T12:00:00'))).toBe(82);
    expect(ageOf('1943-05-12', new Date('2026-05-12T12:00:00'))).toBe(83);
    expect(ageOf(null, new Date())).toBe(null);
    expect(ageOf('not a date', new Date())).toBe(null);
  });
});
