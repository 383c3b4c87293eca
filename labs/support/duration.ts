/**
 * A length of time in a lab's constants (`labs/<id>/constants.ts`), which the exercise and the tests read without
 * loading aws-cdk-lib. The stack turns it into CDK's `Duration` of the same amount and unit with `withCdkDurations`
 * (labs/support/cdk-duration.ts); the conversions below are the ones of `Duration` that the labs use.
 */
type LabDurationUnit = 'seconds' | 'minutes' | 'hours' | 'days';

const SECONDS_PER: Record<LabDurationUnit, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 };

export class LabDuration {
  static seconds(amount: number): LabDuration {
    return new LabDuration(amount, 'seconds');
  }

  static minutes(amount: number): LabDuration {
    return new LabDuration(amount, 'minutes');
  }

  static hours(amount: number): LabDuration {
    return new LabDuration(amount, 'hours');
  }

  static days(amount: number): LabDuration {
    return new LabDuration(amount, 'days');
  }

  private constructor(
    readonly amount: number,
    readonly unit: LabDurationUnit,
  ) {}

  toSeconds(): number {
    return this.amount * SECONDS_PER[this.unit];
  }

  toMinutes(): number {
    return this.toSeconds() / SECONDS_PER.minutes;
  }

  toHours(): number {
    return this.toSeconds() / SECONDS_PER.hours;
  }

  toDays(): number {
    return this.toSeconds() / SECONDS_PER.days;
  }
}
