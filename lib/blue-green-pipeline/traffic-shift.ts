import { Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';
import { BLUE_GREEN_PIPELINE_LIMITS as LIMITS } from './limits';

/** CodeDeploy's predefined Lambda configurations, used instead of a custom one when a shift matches. */
const PREDEFINED_LAMBDA_CONFIGS: Record<string, codedeploy.ILambdaDeploymentConfig> = {
  'canary-10-5': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  'canary-10-10': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
  'canary-10-15': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
  'canary-10-30': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES,
  'linear-10-1': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  'linear-10-2': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_2MINUTES,
  'linear-10-3': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
  'linear-10-10': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES,
};

/**
 * How CodeDeploy moves traffic from the old version to the new one: `TrafficShift.canary(10, Duration.minutes(5))`,
 * `TrafficShift.linear(10, Duration.minutes(1))` or `TrafficShift.allAtOnce()`. The same shift serves a Lambda alias
 * and an ECS service; a predefined CodeDeploy configuration is used when one matches (Lambda), else one is created.
 */
export class TrafficShift {
  /** `percentage` of traffic first, the rest after `interval` (whole minutes, at most 2 days). */
  static canary(percentage: number, interval: Duration): TrafficShift {
    return new TrafficShift('canary', percentage, interval);
  }

  /** `percentage` more traffic every `interval` (whole minutes), all steps together at most 2 days. */
  static linear(percentage: number, interval: Duration): TrafficShift {
    return new TrafficShift('linear', percentage, interval);
  }

  /** Every request to the new version at once (rollback still happens on alarm or failure). */
  static allAtOnce(): TrafficShift {
    return new TrafficShift('all-at-once');
  }

  /** Canary 10% for 5 minutes: the default of both deploy targets. */
  static readonly DEFAULT = TrafficShift.canary(10, Duration.minutes(5));

  private constructor(
    private readonly shape: 'canary' | 'linear' | 'all-at-once',
    /** Percentage of traffic per step; undefined for all-at-once. */
    public readonly percentage?: number,
    /** Wait between steps; undefined for all-at-once. */
    public readonly interval?: Duration,
  ) {}

  /**
   * Records what CodeDeploy would refuse: a percentage outside 1–99, an interval outside 1–2,880 whole minutes, a linear
   * shift over 2 days, a token interval in a unit other than minutes (CodeDeploy takes minutes; it cannot be converted).
   */
  validate(check: PropsValidator, propName: string): void {
    const { shape, percentage, interval } = this;
    if (shape === 'all-at-once') return;
    check.require(percentage !== undefined && Number.isInteger(percentage) && percentage >= LIMITS.minTrafficPercentage && percentage <= LIMITS.maxTrafficPercentage,
      'TrafficPercentageRange', `${shape} percentage must be a whole number from ${LIMITS.minTrafficPercentage} to ${LIMITS.maxTrafficPercentage}, got ${percentage}`);
    // CodeDeploy takes minutes: a token interval renders only when given in minutes.
    const seconds = check.seconds(interval, `${propName} interval`, { integral: false, tokenUnit: 'minutes' });
    if (seconds === undefined) return;
    const minutes = seconds / 60;
    const { minTrafficShiftMinutes: min, maxTrafficShiftMinutes: max } = LIMITS;
    check.inRange(
      minutes,
      { min, max, whole: true },
      'TrafficIntervalRange',
      `${shape} interval must be whole minutes from ${min} to ${max} (2 days), got ${minutes} minutes`);
    if (shape === 'linear' && percentage && percentage >= LIMITS.minTrafficPercentage && minutes >= min) {
      const total = (Math.ceil(100 / percentage) - 1) * minutes;
      check.require(total <= max, 'TrafficShiftTooLong',
        `linear ${percentage}% every ${minutes} minutes waits ${total} minutes in all, over CodeDeploy's 2-day limit`);
    }
  }

  /**
   * The Lambda deployment configuration: a predefined one when it matches, else `TrafficShift` created in `scope`
   * (always for a token interval). Called after `validate`.
   */
  lambdaConfig(scope: Construct): codedeploy.ILambdaDeploymentConfig {
    const routing = this.routing();
    if (!routing) return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
    const { interval } = this;
    const minutes = interval && !interval.isUnresolved() ? interval.toSeconds({ integral: false }) / 60 : undefined;
    const predefined = minutes === undefined ? undefined : PREDEFINED_LAMBDA_CONFIGS[`${this.shape}-${this.percentage}-${minutes}`];
    return predefined ?? new codedeploy.LambdaDeploymentConfig(scope, 'TrafficShift', { trafficRouting: routing });
  }

  /** The ECS deployment configuration: all-at-once, or `TrafficShift` created in `scope`. */
  ecsConfig(scope: Construct): codedeploy.IEcsDeploymentConfig {
    const routing = this.routing();
    if (!routing) return codedeploy.EcsDeploymentConfig.ALL_AT_ONCE;
    return new codedeploy.EcsDeploymentConfig(scope, 'TrafficShift', { trafficRouting: routing });
  }

  /** The time-based routing both compute platforms share; undefined for all-at-once. */
  private routing(): codedeploy.TrafficRouting | undefined {
    const { percentage, interval } = this;
    if (percentage === undefined || interval === undefined) return undefined;
    return this.shape === 'canary'
      ? codedeploy.TrafficRouting.timeBasedCanary({ percentage, interval })
      : codedeploy.TrafficRouting.timeBasedLinear({ percentage, interval });
  }
}
