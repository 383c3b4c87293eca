import { Duration, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';

/** The limits of an AppConfig deployment strategy (AppConfig API reference, `CreateDeploymentStrategy`). */
export const CONFIG_ROLLOUT_LIMITS = {
  /** Percentage of targets that receive the configuration at each step: 1.0 to 100.0. */
  minGrowthFactor: 1,
  maxGrowthFactor: 100,
  /** `DeploymentDurationInMinutes` and `FinalBakeTimeInMinutes`: whole minutes, 0 to 1,440 (24 hours). */
  maxDeploymentDurationMinutes: 1440,
  maxFinalBakeTimeMinutes: 1440,
} as const;

/**
 * How the share of targets that have the new configuration grows at each step. Linear: `factor` % more each step
 * (20 → 20 %, 40 %, 60 % …). Exponential: `factor` × 2^step % (2 → 2 %, 4 %, 8 % …), a small canary first.
 */
export class RolloutGrowth {
  static linear(factor: number): RolloutGrowth {
    return new RolloutGrowth(appconfig.GrowthType.LINEAR, factor);
  }

  static exponential(factor: number): RolloutGrowth {
    return new RolloutGrowth(appconfig.GrowthType.EXPONENTIAL, factor);
  }

  private constructor(
    readonly growthType: appconfig.GrowthType,
    /** Percentage, 1 to 100. */
    readonly factor: number,
  ) {}
}

export interface ConfigRolloutProps {
  /** The AppConfig application the environment belongs to. */
  readonly application: appconfig.IApplication;
  /** How the rollout grows: `RolloutGrowth.linear(20)` or `RolloutGrowth.exponential(2)`. */
  readonly growth: RolloutGrowth;
  /** Time over which the configuration reaches every target: whole minutes, 0 to 24 hours. */
  readonly deploymentDuration: Duration;
  /**
   * Time AppConfig keeps watching the rollback alarms after every target has the configuration, before it calls the
   * deployment complete: whole minutes, 0 to 24 hours. @default no bake time
   */
  readonly finalBakeTime?: Duration;
  /**
   * Alarms that roll a deployment back: while a deployment to the environment runs or bakes, any of them in ALARM makes
   * AppConfig return every target to the previous version. AppConfig reads them through a role of their own, allowed
   * `cloudwatch:DescribeAlarms` on these alarms only. @default none: nothing rolls a deployment back but a person
   */
  readonly rollbackAlarms?: readonly cloudwatch.IAlarm[];
  /** Name of the environment. @default one derived from the construct path */
  readonly environmentName?: string;
  /** Name of the deployment strategy. @default one derived from the construct path */
  readonly deploymentStrategyName?: string;
  /**
   * Whether deleting the environment checks that no client read its configuration recently (deletion protection).
   * @default DeletionProtectionCheck.ACCOUNT_DEFAULT: the account's setting decides
   */
  readonly deletionProtectionCheck?: appconfig.DeletionProtectionCheck;
}

/**
 * An AppConfig environment with a custom deployment strategy and, optionally, CloudWatch alarms that roll a deployment
 * back: the parts of a safe configuration rollout besides the configuration itself.
 */
export class ConfigRollout extends Construct {
  public readonly deploymentStrategy: appconfig.DeploymentStrategy;
  public readonly environment: appconfig.Environment;
  /** The role AppConfig assumes to read the rollback alarms; only when there are some. */
  public readonly monitorRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: ConfigRolloutProps) {
    super(scope, id);
    const check = new PropsValidator(this, 'ConfigRollout');
    const limits = CONFIG_ROLLOUT_LIMITS;
    check.inRange(
      props.growth.factor,
      { min: limits.minGrowthFactor, max: limits.maxGrowthFactor },
      'GrowthFactorRange',
      `growth factor must be a percentage from ${limits.minGrowthFactor} to ${limits.maxGrowthFactor}, got ${props.growth.factor}`,
    );
    const minutes = (duration: Duration | undefined, propName: string, max: number, code: string) => {
      const seconds = check.seconds(duration, propName, { tokenUnit: 'minutes' });
      if (seconds === undefined) return;
      check.require(seconds % 60 === 0, 'NotWholeMinutes', `${propName} must be a whole number of minutes, got ${seconds} s`);
      check.inRange(seconds / 60, { min: 0, max }, code, `${propName} must be 0 to ${max} minutes (24 hours), got ${seconds / 60} min`);
    };
    minutes(props.deploymentDuration, 'deploymentDuration', limits.maxDeploymentDurationMinutes, 'DeploymentDurationRange');
    minutes(props.finalBakeTime, 'finalBakeTime', limits.maxFinalBakeTimeMinutes, 'FinalBakeTimeRange');
    check.throwIfInvalid();

    const rolloutProps = {
      growthFactor: props.growth.factor,
      deploymentDuration: props.deploymentDuration,
      finalBakeTime: props.finalBakeTime ?? Duration.minutes(0),
    };
    this.deploymentStrategy = new appconfig.DeploymentStrategy(this, 'Strategy', {
      deploymentStrategyName: props.deploymentStrategyName,
      rolloutStrategy:
        props.growth.growthType === appconfig.GrowthType.LINEAR
          ? appconfig.RolloutStrategy.linear(rolloutProps)
          : appconfig.RolloutStrategy.exponential(rolloutProps),
    });

    const alarms = props.rollbackAlarms ?? [];
    if (alarms.length > 0) {
      this.monitorRole = new iam.Role(this, 'MonitorRole', {
        description: 'Lets AppConfig read the state of the alarms that roll a deployment back',
        // Only AppConfig acting for this account: another account's AppConfig cannot use the role.
        assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com').withConditions({
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        }),
        // Inline, so the permission exists as soon as the role does, before the environment's first deployment.
        inlinePolicies: {
          ReadRollbackAlarms: new iam.PolicyDocument({
            statements: [new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarms.map((a) => a.alarmArn) })],
          }),
        },
      });
    }
    this.environment = new appconfig.Environment(this, 'Environment', {
      application: props.application,
      environmentName: props.environmentName,
      deletionProtectionCheck: props.deletionProtectionCheck,
      monitors: alarms.length > 0 ? alarms.map((alarm) => appconfig.Monitor.fromCloudWatchAlarm(alarm, this.monitorRole)) : undefined,
    });
  }
}
