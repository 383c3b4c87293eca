import { LabDuration } from '../../../labs/support/duration';

test('each factory keeps the amount and its unit', () => {
  expect([LabDuration.seconds(30), LabDuration.minutes(5), LabDuration.hours(24), LabDuration.days(180)].map((d) => [d.amount, d.unit])).toEqual([
    [30, 'seconds'],
    [5, 'minutes'],
    [24, 'hours'],
    [180, 'days'],
  ]);
});

test('toSeconds converts every unit: 1 s, 60 s a minute, 3600 s an hour, 86400 s a day', () => {
  expect([LabDuration.seconds(7), LabDuration.minutes(2), LabDuration.hours(3), LabDuration.days(2)].map((d) => d.toSeconds())).toEqual([
    7, 120, 10_800, 172_800,
  ]);
});

test('toMinutes, toHours and toDays divide the seconds by the length of the unit', () => {
  expect(LabDuration.hours(2).toMinutes()).toBe(120);
  expect(LabDuration.seconds(90).toMinutes()).toBe(1.5);
  expect(LabDuration.days(2).toHours()).toBe(48);
  expect(LabDuration.minutes(90).toHours()).toBe(1.5);
  expect(LabDuration.hours(36).toDays()).toBe(1.5);
  expect(LabDuration.days(365).toDays()).toBe(365);
});
