import { describe, expect, it } from 'vitest';
import { covers, localDay, onDutyStaff, rotaProblem, suggestResponders, type RotaEntry, type SuggestStaff, type SuggestStation } from '../../../workorders/index.ts';

const TZ = 'Asia/Shanghai';
/** 2026-12-07 is a Monday. Shanghai is UTC+8 all year. */
const sh = (local: string) => new Date(`${local}+08:00`);
const wk = (staffId: number, weekday: number, start: string, end: string): RotaEntry => ({ staffId, weekday, date: null, start, end });
const dt = (staffId: number, date: string, start: string, end: string): RotaEntry => ({ staffId, weekday: null, date, start, end });

describe('rotas (排班)', () => {
  it('reads the local day, weekday and minute in the centre time zone', () => {
    expect(localDay(new Date('2026-12-06T17:30:00Z'), TZ)).toEqual({ date: '2026-12-07', weekday: 1, minute: 90 });
    expect(localDay(new Date('2026-12-06T17:30:00Z'), 'UTC')).toEqual({ date: '2026-12-06', weekday: 7, minute: 17 * 60 + 30 });
  });

  it('a day shift covers [start, end) of its weekday only', () => {
    const e = wk(1, 1, '08:00', '17:00');
    expect(covers(e, localDay(sh('2026-12-07T08:00:00'), TZ))).toBe(true);
    expect(covers(e, localDay(sh('2026-12-07T16:59:00'), TZ))).toBe(true);
    expect(covers(e, localDay(sh('2026-12-07T17:00:00'), TZ))).toBe(false);
    expect(covers(e, localDay(sh('2026-12-08T09:00:00'), TZ))).toBe(false);
  });

  it('a night shift runs over midnight into the next day (also Sunday night into Monday)', () => {
    const mon = wk(1, 1, '22:00', '06:00');
    expect(covers(mon, localDay(sh('2026-12-07T23:30:00'), TZ))).toBe(true);
    expect(covers(mon, localDay(sh('2026-12-08T05:59:00'), TZ)), 'Tuesday early morning').toBe(true);
    expect(covers(mon, localDay(sh('2026-12-08T06:00:00'), TZ))).toBe(false);
    expect(covers(mon, localDay(sh('2026-12-07T05:00:00'), TZ)), "Monday early morning belongs to Sunday's shift").toBe(false);
    const sun = wk(2, 7, '20:00', '08:00');
    expect(covers(sun, localDay(sh('2026-12-07T07:00:00'), TZ))).toBe(true);
    const nye = dt(3, '2026-12-31', '18:00', '02:00');
    expect(covers(nye, localDay(sh('2027-01-01T01:00:00'), TZ)), 'a dated shift over midnight and the year end').toBe(true);
    expect(covers(nye, localDay(sh('2027-01-01T03:00:00'), TZ))).toBe(false);
  });

  it('equal start and end is a 24-hour shift; 24:00 ends at midnight', () => {
    const e = wk(1, 1, '08:00', '08:00');
    expect(covers(e, localDay(sh('2026-12-07T08:00:00'), TZ))).toBe(true);
    expect(covers(e, localDay(sh('2026-12-08T07:59:00'), TZ))).toBe(true);
    expect(covers(e, localDay(sh('2026-12-08T08:00:00'), TZ))).toBe(false);
    const late = wk(1, 1, '18:00', '24:00');
    expect(covers(late, localDay(sh('2026-12-07T23:59:00'), TZ))).toBe(true);
    expect(covers(late, localDay(sh('2026-12-08T00:00:00'), TZ))).toBe(false);
  });

  it('a dated shift counts on its date only', () => {
    const rotas = [dt(1, '2026-12-07', '09:00', '12:00'), wk(2, 2, '09:00', '12:00')];
    expect([...onDutyStaff(rotas, sh('2026-12-07T10:00:00'), TZ)]).toEqual([1]);
    expect([...onDutyStaff(rotas, sh('2026-12-08T10:00:00'), TZ)]).toEqual([2]);
  });

  it('names the problem of a bad entry', () => {
    expect(rotaProblem({ weekday: 1, date: '2026-12-07', start: '08:00', end: '09:00' })?.field).toBe('weekday');
    expect(rotaProblem({ weekday: null, date: null, start: '08:00', end: '09:00' })?.field).toBe('weekday');
    expect(rotaProblem({ weekday: 8, date: null, start: '08:00', end: '09:00' })?.field).toBe('weekday');
    expect(rotaProblem({ weekday: null, date: '2026-02-30', start: '08:00', end: '09:00' })?.field).toBe('date');
    expect(rotaProblem({ weekday: 1, date: null, start: '24:00', end: '09:00' })?.field).toBe('start');
    expect(rotaProblem({ weekday: 1, date: null, start: '08:00', end: '9:00' })?.field).toBe('end');
    expect(rotaProblem({ weekday: 1, date: null, start: '08:00', end: '24:00' })).toBeUndefined();
  });
});

describe('dispatch suggestion', () => {
  // Three stations along a line east of the elder, in two areas.
  const stations: SuggestStation[] = [
    { id: 1, name: 'Far, same area', area: '幸福社区', lat: 31.2, lon: 121.6, active: true },
    { id: 2, name: 'Near, other area', area: '和平社区', lat: 31.2, lon: 121.41, active: true },
    { id: 3, name: 'Middle, other area', area: '和平社区', lat: 31.2, lon: 121.5, active: true },
    { id: 4, name: 'Closed', area: '幸福社区', lat: 31.2, lon: 121.4, active: false },
  ];
  const staff: SuggestStaff[] = [
    { id: 11, name: 'A', stationId: 1, skills: ['nurse'], active: true },
    { id: 12, name: 'B', stationId: 2, skills: ['handyman'], active: true },
    { id: 13, name: 'C', stationId: 3, skills: ['nurse', 'volunteer'], active: true },
    { id: 14, name: 'Off duty, same area', stationId: 1, skills: ['nurse'], active: true },
    { id: 15, name: 'Inactive', stationId: 2, skills: ['nurse'], active: false },
    { id: 16, name: 'At a closed station', stationId: 4, skills: ['nurse'], active: true },
  ];
  const now = sh('2026-12-07T10:00:00');
  const rotas = [11, 12, 13, 15, 16].map((id) => wk(id, 1, '08:00', '20:00'));
  const base = { stations, staff, rotas, now, timeZone: TZ };

  it("puts the on-duty staff of the elder's area first, then the nearest", () => {
    const s = suggestResponders({ ...base, elder: { area: ' 幸福社区 ', lat: 31.2, lon: 121.4 } });
    expect(s.basis).toEqual({ area: true, position: true });
    expect(s.staff.map((x) => x.id)).toEqual([11, 12, 13]);
    expect(s.staff[0]).toMatchObject({ areaMatch: true });
    expect(s.stations.map((x) => x.id)).toEqual([1, 2, 3]);
    expect(s.stations[0]!.onDutyStaffIds).toEqual([11]);
    expect(s.staff[1]!.distanceM).toBeGreaterThan(900);
    expect(s.staff[1]!.distanceM).toBeLessThan(1000);
  });

  it('ranks by distance when no area matches', () => {
    const s = suggestResponders({ ...base, elder: { area: '别的社区', lat: 31.2, lon: 121.4 } });
    expect(s.staff.map((x) => x.id)).toEqual([12, 13, 11]);
    expect(s.staff.every((x) => !x.areaMatch)).toBe(true);
  });

  it('filters by skill, and knows nobody at night', () => {
    expect(suggestResponders({ ...base, elder: { area: '', lat: 31.2, lon: 121.4 }, skill: 'nurse' }).staff.map((x) => x.id)).toEqual([13, 11]);
    const night = suggestResponders({ ...base, now: sh('2026-12-07T23:00:00'), elder: { area: '幸福社区', lat: null, lon: null } });
    expect(night).toMatchObject({ stations: [], staff: [], basis: { area: true, position: false } });
  });

  it('without an elder position or area, lists the on-duty staff by id with unknown distances', () => {
    const s = suggestResponders({ ...base, elder: { area: null, lat: null, lon: null } });
    expect(s.staff.map((x) => [x.id, x.distanceM])).toEqual([[11, null], [12, null], [13, null]]);
  });
});
