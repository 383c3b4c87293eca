import { Duration } from 'aws-cdk-lib';
import { withCdkDurations } from '../../../labs/support/cdk-duration';
import { LabDuration } from '../../../labs/support/duration';

test('a LabDuration becomes the CDK Duration of the same amount and unit', () => {
  const converted = withCdkDurations({ retention: LabDuration.days(180), timeout: LabDuration.seconds(30) });
  expect(converted.retention).toBeInstanceOf(Duration);
  expect(converted.retention.toDays()).toBe(180);
  // The unit is kept, not only the length: CloudFormation properties render Duration in the unit it was made with.
  expect(converted.retention.toHumanString()).toBe('180 days');
  expect(converted.timeout.toHumanString()).toBe('30 seconds');
  expect(withCdkDurations(LabDuration.minutes(5)).toHumanString()).toBe('5 minutes');
  expect(withCdkDurations(LabDuration.hours(2)).toHumanString()).toBe('2 hours');
});

test('durations are converted at any depth, in objects and arrays, and everything else is kept as it is', () => {
  const pattern = /^orders-/;
  const describe = (x: number) => `x${x}`;
  const converted = withCdkDurations({
    name: 'orders',
    count: 3,
    missing: null,
    absent: undefined,
    pattern,
    describe,
    nested: { windows: [LabDuration.minutes(1), LabDuration.hours(1)], labels: ['a', 'b'] },
  });
  expect(converted.nested.windows.map((d) => d.toHumanString())).toEqual(['1 minute', '1 hour']);
  expect(converted.nested.labels).toEqual(['a', 'b']);
  expect(converted).toMatchObject({ name: 'orders', count: 3, missing: null, absent: undefined });
  expect(converted.pattern).toBe(pattern);
  expect(converted.describe).toBe(describe);
});

test('an object that is not a plain object (a Date, a class instance) is kept as it is, not copied', () => {
  const when = new Date(0);
  class Settings {
    readonly retention = LabDuration.days(1);
  }
  const settings = new Settings();
  const converted = withCdkDurations({ when, settings });
  expect(converted.when).toBe(when);
  expect(converted.settings).toBe(settings);
});
