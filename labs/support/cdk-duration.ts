import { Duration } from 'aws-cdk-lib';
import { LabDuration } from './duration';

/** `T` with every `LabDuration` in it replaced by CDK's `Duration`. */
export type WithCdkDurations<T> = T extends LabDuration
  ? Duration
  : T extends RegExp | ((...args: never[]) => unknown)
    ? T
    : T extends object
      ? { [K in keyof T]: WithCdkDurations<T[K]> }
      : T;

/** CDK's `Duration` of the same amount and unit: `LabDuration.days(180)` becomes `Duration.days(180)`. */
function cdkDuration(duration: LabDuration): Duration {
  return Duration[duration.unit](duration.amount);
}

/**
 * A lab's constants as its stack uses them: every `LabDuration` (at any depth, in objects and arrays) becomes the
 * CDK `Duration` of the same amount and unit; everything else is kept as it is.
 */
export function withCdkDurations<T>(constants: T): WithCdkDurations<T> {
  const convert = (value: unknown): unknown => {
    if (value instanceof LabDuration) return cdkDuration(value);
    if (Array.isArray(value)) return value.map(convert);
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, convert(item)]));
    }
    return value;
  };
  return convert(constants) as WithCdkDurations<T>;
}
