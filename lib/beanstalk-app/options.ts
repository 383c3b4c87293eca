import { Aws } from 'aws-cdk-lib';

/** Limits this construct checks (Elastic Beanstalk quotas and option ranges). */
export const BEANSTALK_LIMITS = {
  /** Application versions per account and Region (default quota): a lifecycle count above it never deletes anything. */
  maxApplicationVersions: 1000,
  /** The lifecycle rules keep at least one version, and count age in whole days. */
  minLifecycleMaxCount: 1,
  minLifecycleMaxAgeDays: 1,
  /** The console's upper bound for the max-age rule. */
  maxLifecycleMaxAgeDays: 180,
  /** `aws:elasticbeanstalk:command` BatchSize with BatchSizeType Percentage. */
  minBatchSizePercent: 1,
  maxBatchSizePercent: 100,
  /** `aws:autoscaling:launchconfiguration` RootVolumeSize of a gp3 volume, in GiB. */
  minRootVolumeGiB: 1,
  maxRootVolumeGiB: 16_384,
  /** `aws:autoscaling:asg` MinSize / MaxSize. */
  minInstances: 1,
  maxInstances: 10_000,
} as const;

/** Every deployment policy Elastic Beanstalk has (`aws:elasticbeanstalk:command` DeploymentPolicy). */
export const BEANSTALK_DEPLOYMENT_POLICIES = ['AllAtOnce', 'Rolling', 'RollingWithAdditionalBatch', 'Immutable', 'TrafficSplitting'] as const;
export type BeanstalkDeploymentPolicyName = (typeof BEANSTALK_DEPLOYMENT_POLICIES)[number];
/** The policies a single-instance environment supports: the others move traffic between instances behind a load balancer. */
export const SINGLE_INSTANCE_DEPLOYMENT_POLICIES: readonly BeanstalkDeploymentPolicyName[] = ['AllAtOnce', 'Immutable'];

export interface BatchOptions {
  /** Percentage of the instances each batch takes. @default 100 */
  readonly batchSizePercent?: number;
}

/** How a new version reaches an environment's instances (`aws:elasticbeanstalk:command` DeploymentPolicy). */
export class DeploymentPolicy {
  /** Every instance at once: the environment is down while they deploy. Works on a single instance. */
  static allAtOnce(): DeploymentPolicy {
    return new DeploymentPolicy('AllAtOnce');
  }

  /** Batch after batch of the existing instances (load-balanced only). */
  static rolling(options: BatchOptions = {}): DeploymentPolicy {
    return new DeploymentPolicy('Rolling', options.batchSizePercent);
  }

  /** Like `rolling`, launching one batch of new instances first so capacity never drops (load-balanced only). */
  static rollingWithAdditionalBatch(options: BatchOptions = {}): DeploymentPolicy {
    return new DeploymentPolicy('RollingWithAdditionalBatch', options.batchSizePercent);
  }

  /** A full set of new instances in a temporary Auto Scaling group, moved in once healthy. Works on a single instance. */
  static immutable(): DeploymentPolicy {
    return new DeploymentPolicy('Immutable');
  }

  /** A full set of new instances behind the same ALB, receiving a share of requests for an evaluation time (web, load-balanced only). */
  static trafficSplitting(): DeploymentPolicy {
    return new DeploymentPolicy('TrafficSplitting');
  }

  /** A policy by name, with its defaults (a context parameter, say); a name that is none of them is refused at synth. */
  static named(name: string): DeploymentPolicy {
    return new DeploymentPolicy(name);
  }

  private constructor(
    readonly name: string,
    readonly batchSizePercent?: number,
  ) {}
}

/** One configuration option: a namespace (`aws:elasticbeanstalk:application:environment`), its option name and value. */
export interface BeanstalkOptionSetting {
  readonly namespace: string;
  readonly optionName: string;
  readonly value: string;
}

/**
 * The platform environments run on. Elastic Beanstalk lets new environments use only the latest version of a branch
 * (or one the account used in the last 30 days), so a pinned version goes stale: `latestOfBranch` looks the
 * recommended version up at deploy time.
 */
export class BeanstalkPlatform {
  /**
   * The branch's recommended version, looked up when the stack is deployed (a custom resource calling
   * `ListPlatformVersions`, allowed to list that branch's versions only): `Node.js 22 running on 64bit Amazon Linux 2023`.
   * The version found at the first deployment stays until the branch name changes.
   */
  static latestOfBranch(branchName: string): BeanstalkPlatform {
    return new BeanstalkPlatform({}, branchName);
  }

  /** A solution stack name: `64bit Amazon Linux 2023 v6.10.0 running Node.js 22`. */
  static solutionStack(name: string): BeanstalkPlatform {
    return new BeanstalkPlatform({ solutionStackName: name });
  }

  /** A platform name and version in the stack's Region: `Node.js 22 running on 64bit Amazon Linux 2023/6.10.0`. */
  static named(nameAndVersion: string): BeanstalkPlatform {
    return new BeanstalkPlatform({ platformArn: `arn:${Aws.PARTITION}:elasticbeanstalk:${Aws.REGION}::platform/${nameAndVersion}` });
  }

  /** A platform ARN, as `list-platform-versions` prints it. */
  static fromArn(platformArn: string): BeanstalkPlatform {
    return new BeanstalkPlatform({ platformArn });
  }

  private constructor(
    readonly properties: { readonly solutionStackName?: string; readonly platformArn?: string },
    /** The branch whose recommended version is looked up at deploy time, for `latestOfBranch`. */
    readonly branchName?: string,
  ) {}
}

/** Which application versions Elastic Beanstalk deletes for you, so the account never reaches its version quota. */
export class VersionLifecycle {
  /** Keep the `count` newest versions. */
  static maxCount(count: number, options: VersionLifecycleOptions = {}): VersionLifecycle {
    return new VersionLifecycle({ maxCount: count }, options.deleteSourceFromS3 ?? false);
  }

  /** Delete versions older than `days`. */
  static maxAge(days: number, options: VersionLifecycleOptions = {}): VersionLifecycle {
    return new VersionLifecycle({ maxAgeInDays: days }, options.deleteSourceFromS3 ?? false);
  }

  private constructor(
    readonly rule: { readonly maxCount?: number; readonly maxAgeInDays?: number },
    readonly deleteSourceFromS3: boolean,
  ) {}
}

export interface VersionLifecycleOptions {
  /** Delete the source bundle from S3 with the version. @default false: the bundle stays (its bucket's own expiry applies) */
  readonly deleteSourceFromS3?: boolean;
}
