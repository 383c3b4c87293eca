import { Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticbeanstalk from 'aws-cdk-lib/aws-elasticbeanstalk';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from '../core/logs';
import { findingResource } from '../core/nag-ids';
import { PropsValidator } from '../core/validation';
import {
  BEANSTALK_DEPLOYMENT_POLICIES,
  BEANSTALK_LIMITS,
  BeanstalkDeploymentPolicyName,
  BeanstalkOptionSetting,
  BeanstalkPlatform,
  DeploymentPolicy,
  SINGLE_INSTANCE_DEPLOYMENT_POLICIES,
  VersionLifecycle,
} from './options';

// The factories and limits of the props, in a file of their own.
export * from './options';

/** `Mon:10:00` … `Sun:23:59`, in UTC: when managed platform updates may start. */
const MAINTENANCE_WINDOW = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d$/;
/** Graviton instance families (`t4g`, `m7g`, `c8gd` …): the environments run on arm64. */
const ARM64_INSTANCE_TYPE = /^[a-z]+\d+g[a-z]*\.[a-z0-9]+$/;

/** Where an application version's source bundle (a ZIP) is: an S3 asset's bucket and key, for instance. */
export interface SourceBundleLocation {
  readonly bucket: s3.IBucket;
  readonly key: string;
}

export interface BeanstalkAppProps {
  /** The platform of the saved configuration and so of every environment. */
  readonly platform: BeanstalkPlatform;
  /** The source bundle of the first application version. */
  readonly sourceBundle: SourceBundleLocation;
  /** Deletes old versions. `false` keeps every version. @default VersionLifecycle.maxCount(200) */
  readonly versionLifecycle?: false | VersionLifecycle;
  /**
   * Options of the saved configuration every environment starts from: above `.ebextensions` and defaults, below what
   * an environment sets directly. @default none
   */
  readonly savedOptions?: readonly BeanstalkOptionSetting[];
  /** Description of the application. @default none */
  readonly description?: string;
  /** Settings of the log group of the platform lookup's function (`BeanstalkPlatform.latestOfBranch`). @default retention of one month */
  readonly platformLookupLogGroupProps?: CreatedLogGroupProps;
}

export interface BeanstalkEnvironmentOptions {
  /** The VPC of the instances (and load balancer). */
  readonly vpc: ec2.IVpc;
  /** Subnets of the instances; public ones get public addresses. @default public subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** An arm64 (Graviton) instance type. @default t4g.micro */
  readonly instanceType?: string;
  /** Size of each instance's gp3 root volume, in GiB. @default 10 */
  readonly rootVolumeGiB?: number;
  /** A load-balanced environment (an ALB and an Auto Scaling group) instead of a single instance. @default single instance */
  readonly loadBalanced?: LoadBalancedOptions;
  /** How a new version reaches the instances. @default DeploymentPolicy.allAtOnce() */
  readonly deploymentPolicy?: DeploymentPolicy;
  /** Managed platform updates in a weekly window; `false` turns them off. @default { preferredStartTime: 'Sun:10:00', updateLevel: 'minor' } */
  readonly managedUpdates?: false | ManagedUpdatesOptions;
  /** A worker environment: its SQS daemon posts each message of `queue` to the application. @default a web server environment */
  readonly worker?: WorkerOptions;
  /** Options applied directly to the environment: above the saved configuration and `.ebextensions`. @default none */
  readonly optionSettings?: readonly BeanstalkOptionSetting[];
  /** Description of the environment. @default none */
  readonly description?: string;
}

export interface LoadBalancedOptions {
  /** Fewest instances the Auto Scaling group keeps. @default 1 */
  readonly minInstances?: number;
  /** Most instances the Auto Scaling group may run. @default 2 */
  readonly maxInstances?: number;
}

export interface ManagedUpdatesOptions {
  /** Weekly start of the maintenance window, `Day:HH:MM` in UTC. */
  readonly preferredStartTime: string;
  /** `minor` updates within the platform branch, `patch` only patch versions. */
  readonly updateLevel: 'minor' | 'patch';
}

export interface WorkerOptions {
  /** The queue the SQS daemon reads, and where `cron.yaml` jobs are sent. */
  readonly queue: sqs.IQueue;
  /** The local path the daemon posts each message to. @default '/' */
  readonly httpPath?: string;
}

/** An environment `addEnvironment` added, and the role of its instances. */
export interface BeanstalkEnvironment {
  readonly environment: elasticbeanstalk.CfnEnvironment;
  /** `instanceRole` of the application for a web environment; a worker's own role, which may use its queue. */
  readonly instanceRole: iam.IRole;
}

const DEFAULT_MANAGED_UPDATES: ManagedUpdatesOptions = { preferredStartTime: 'Sun:10:00', updateLevel: 'minor' };

/**
 * An Elastic Beanstalk application: its first version from a source bundle, a version lifecycle policy, a saved
 * configuration, the service role and the instance profile. Environments are added with `addEnvironment`; each gets
 * enhanced health, managed platform updates, IMDSv2 only, gp3 root volumes and an arm64 instance type.
 */
export class BeanstalkApp extends Construct {
  public readonly application: elasticbeanstalk.CfnApplication;
  public readonly version: elasticbeanstalk.CfnApplicationVersion;
  public readonly savedConfiguration: elasticbeanstalk.CfnConfigurationTemplate;
  /** Assumed by Elastic Beanstalk: the lifecycle policy, enhanced health and managed updates. */
  public readonly serviceRole: iam.Role;
  /** The role of web environments' instances: only the health statistics of their own environment. */
  public readonly instanceRole: iam.IRole;
  public readonly instanceProfile: iam.InstanceProfile;
  public readonly environments: BeanstalkEnvironment[] = [];
  /** The instance roles already allowed to report health statistics. */
  private readonly healthReporters = new Set<iam.IRole>();

  constructor(scope: Construct, id: string, props: BeanstalkAppProps) {
    super(scope, id);
    const lifecycle = props.versionLifecycle === undefined ? VersionLifecycle.maxCount(200) : props.versionLifecycle;
    const check = new PropsValidator(this, 'BeanstalkApp');
    if (lifecycle) {
      const { maxCount, maxAgeInDays } = lifecycle.rule;
      check.inRange(maxCount, { min: BEANSTALK_LIMITS.minLifecycleMaxCount, max: BEANSTALK_LIMITS.maxApplicationVersions, whole: true }, 'LifecycleMaxCountRange',
        `versionLifecycle max count must be a whole number from ${BEANSTALK_LIMITS.minLifecycleMaxCount} to ${BEANSTALK_LIMITS.maxApplicationVersions} (the version quota), got ${maxCount}`);
      check.inRange(maxAgeInDays, { min: BEANSTALK_LIMITS.minLifecycleMaxAgeDays, max: BEANSTALK_LIMITS.maxLifecycleMaxAgeDays, whole: true }, 'LifecycleMaxAgeRange',
        `versionLifecycle max age must be a whole number of days from ${BEANSTALK_LIMITS.minLifecycleMaxAgeDays} to ${BEANSTALK_LIMITS.maxLifecycleMaxAgeDays}, got ${maxAgeInDays}`);
    }
    check.throwIfInvalid();

    this.serviceRole = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('elasticbeanstalk.amazonaws.com'),
      externalIds: ['elasticbeanstalk'],
      description: 'Elastic Beanstalk service role: version lifecycle, enhanced health, managed platform updates',
    });
    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Elastic Beanstalk web environment instances: health statistics',
    });
    this.instanceRole = instanceRole;
    this.instanceProfile = new iam.InstanceProfile(this, 'InstanceProfile', { role: instanceRole });

    this.application = new elasticbeanstalk.CfnApplication(this, 'Application', {
      description: props.description,
      resourceLifecycleConfig: lifecycle
        ? {
            serviceRole: this.serviceRole.roleArn,
            versionLifecycleConfig: {
              maxCountRule: lifecycle.rule.maxCount !== undefined
                ? { enabled: true, maxCount: lifecycle.rule.maxCount, deleteSourceFromS3: lifecycle.deleteSourceFromS3 }
                : undefined,
              maxAgeRule: lifecycle.rule.maxAgeInDays !== undefined
                ? { enabled: true, maxAgeInDays: lifecycle.rule.maxAgeInDays, deleteSourceFromS3: lifecycle.deleteSourceFromS3 }
                : undefined,
            },
          }
        : undefined,
    });
    if (lifecycle) this.grantLifecycle(lifecycle, props.sourceBundle);

    this.version = new elasticbeanstalk.CfnApplicationVersion(this, 'Version', {
      applicationName: this.application.ref,
      description: 'the source bundle this stack deployed',
      sourceBundle: { s3Bucket: props.sourceBundle.bucket.bucketName, s3Key: props.sourceBundle.key },
    });
    this.savedConfiguration = new elasticbeanstalk.CfnConfigurationTemplate(this, 'SavedConfiguration', {
      applicationName: this.application.ref,
      description: 'saved configuration every environment of this application starts from',
      ...(props.platform.branchName !== undefined
        ? { platformArn: this.lookUpPlatform(props.platform.branchName, props.platformLookupLogGroupProps) }
        : props.platform.properties),
      optionSettings: props.savedOptions?.map((o) => ({ ...o })),
    });
  }

  /**
   * Adds a single-instance (or load-balanced) environment running this application's version on the saved
   * configuration. Its own CloudFormation stack (`awseb-e-…-stack`) holds the instances, security groups and, for a
   * worker with `cron.yaml`, the leader table; deleting the environment deletes that stack.
   */
  addEnvironment(id: string, options: BeanstalkEnvironmentOptions): BeanstalkEnvironment {
    const instanceType = options.instanceType ?? 't4g.micro';
    const rootVolumeGiB = options.rootVolumeGiB ?? 10;
    const policy = options.deploymentPolicy ?? DeploymentPolicy.allAtOnce();
    const managedUpdates = options.managedUpdates === undefined ? DEFAULT_MANAGED_UPDATES : options.managedUpdates;
    const check = new PropsValidator(this, 'BeanstalkApp');
    check.require(ARM64_INSTANCE_TYPE.test(instanceType), 'InstanceTypeNotArm64',
      `instanceType must be a Graviton (arm64) type such as t4g.micro, got ${instanceType}`);
    check.inRange(rootVolumeGiB, { min: BEANSTALK_LIMITS.minRootVolumeGiB, max: BEANSTALK_LIMITS.maxRootVolumeGiB, whole: true }, 'RootVolumeRange',
      `rootVolumeGiB must be a whole number from ${BEANSTALK_LIMITS.minRootVolumeGiB} to ${BEANSTALK_LIMITS.maxRootVolumeGiB}, got ${rootVolumeGiB}`);
    const known = (BEANSTALK_DEPLOYMENT_POLICIES as readonly string[]).includes(policy.name);
    check.require(known, 'UnknownDeploymentPolicy',
      `deploymentPolicy must be one of ${BEANSTALK_DEPLOYMENT_POLICIES.join(', ')}, got ${JSON.stringify(policy.name)}`);
    if (known && !options.loadBalanced) {
      check.require(SINGLE_INSTANCE_DEPLOYMENT_POLICIES.includes(policy.name as BeanstalkDeploymentPolicyName), 'DeploymentPolicyNeedsLoadBalancer',
        `deploymentPolicy ${policy.name} needs a load-balanced environment (loadBalanced); a single instance supports ${SINGLE_INSTANCE_DEPLOYMENT_POLICIES.join(' and ')}`);
    }
    // A worker's Auto Scaling group has no load balancer to split traffic on.
    check.require(!(options.worker && policy.name === 'TrafficSplitting'), 'TrafficSplittingOnWorker',
      'deploymentPolicy TrafficSplitting splits requests at a load balancer, which a worker environment does not have');
    if (policy.batchSizePercent !== undefined) {
      check.inRange(policy.batchSizePercent, { min: BEANSTALK_LIMITS.minBatchSizePercent, max: BEANSTALK_LIMITS.maxBatchSizePercent, whole: true }, 'BatchSizeRange',
        `batchSizePercent must be a whole number from ${BEANSTALK_LIMITS.minBatchSizePercent} to ${BEANSTALK_LIMITS.maxBatchSizePercent}, got ${policy.batchSizePercent}`);
    }
    const minInstances = options.loadBalanced?.minInstances ?? 1;
    const maxInstances = options.loadBalanced?.maxInstances ?? 2;
    if (options.loadBalanced) {
      check.inRange(minInstances, { min: BEANSTALK_LIMITS.minInstances, max: BEANSTALK_LIMITS.maxInstances, whole: true }, 'InstancesRange',
        `loadBalanced.minInstances must be a whole number from ${BEANSTALK_LIMITS.minInstances} to ${BEANSTALK_LIMITS.maxInstances}, got ${minInstances}`);
      check.inRange(maxInstances, { min: Math.max(minInstances, BEANSTALK_LIMITS.minInstances), max: BEANSTALK_LIMITS.maxInstances, whole: true }, 'InstancesRange',
        `loadBalanced.maxInstances must be a whole number from minInstances (${minInstances}) to ${BEANSTALK_LIMITS.maxInstances}, got ${maxInstances}`);
    }
    if (managedUpdates) {
      check.require(MAINTENANCE_WINDOW.test(managedUpdates.preferredStartTime), 'MaintenanceWindowFormat',
        `managedUpdates.preferredStartTime must be Day:HH:MM in UTC (e.g. Sun:10:00), got ${JSON.stringify(managedUpdates.preferredStartTime)}`);
    }
    check.throwIfInvalid();

    // A worker's instances use its queue: a role of their own, so web instances never get those permissions.
    const [instanceRole, instanceProfile] = options.worker ? this.workerInstanceProfile(id) : [this.instanceRole, this.instanceProfile];
    // A worker's load-balanced environment is an Auto Scaling group without a load balancer.
    const loadBalancer = options.loadBalanced && !options.worker;
    const subnets = options.vpc.selectSubnets(options.vpcSubnets ?? { subnetType: ec2.SubnetType.PUBLIC });
    const setting = (namespace: string, optionName: string, value: string) => ({ namespace, optionName, value });
    const settings = [
      setting('aws:elasticbeanstalk:environment', 'EnvironmentType', options.loadBalanced ? 'LoadBalanced' : 'SingleInstance'),
      setting('aws:elasticbeanstalk:environment', 'ServiceRole', this.serviceRole.roleArn),
      setting('aws:autoscaling:launchconfiguration', 'IamInstanceProfile', instanceProfile.instanceProfileName),
      setting('aws:autoscaling:launchconfiguration', 'DisableIMDSv1', 'true'),
      setting('aws:autoscaling:launchconfiguration', 'RootVolumeType', 'gp3'),
      setting('aws:autoscaling:launchconfiguration', 'RootVolumeSize', String(rootVolumeGiB)),
      setting('aws:ec2:instances', 'InstanceTypes', instanceType),
      setting('aws:ec2:instances', 'SupportedArchitectures', 'arm64'),
      setting('aws:ec2:vpc', 'VPCId', options.vpc.vpcId),
      setting('aws:ec2:vpc', 'Subnets', subnets.subnetIds.join(',')),
      setting('aws:ec2:vpc', 'AssociatePublicIpAddress', String(subnets.hasPublic)),
      setting('aws:elasticbeanstalk:healthreporting:system', 'SystemType', 'enhanced'),
      setting('aws:elasticbeanstalk:command', 'DeploymentPolicy', policy.name),
      ...(policy.batchSizePercent !== undefined
        ? [setting('aws:elasticbeanstalk:command', 'BatchSizeType', 'Percentage'), setting('aws:elasticbeanstalk:command', 'BatchSize', String(policy.batchSizePercent))]
        : []),
      ...(options.loadBalanced
        ? [setting('aws:autoscaling:asg', 'MinSize', String(minInstances)), setting('aws:autoscaling:asg', 'MaxSize', String(maxInstances))]
        : []),
      ...(loadBalancer
        ? [setting('aws:elasticbeanstalk:environment', 'LoadBalancerType', 'application'), setting('aws:ec2:vpc', 'ELBSubnets', subnets.subnetIds.join(','))]
        : []),
      ...(managedUpdates
        ? [
            setting('aws:elasticbeanstalk:managedactions', 'ManagedActionsEnabled', 'true'),
            setting('aws:elasticbeanstalk:managedactions', 'ServiceRoleForManagedUpdates', this.serviceRole.roleArn),
            setting('aws:elasticbeanstalk:managedactions', 'PreferredStartTime', managedUpdates.preferredStartTime),
            setting('aws:elasticbeanstalk:managedactions:platformupdate', 'UpdateLevel', managedUpdates.updateLevel),
          ]
        : [setting('aws:elasticbeanstalk:managedactions', 'ManagedActionsEnabled', 'false')]),
      ...(options.worker
        ? [
            setting('aws:elasticbeanstalk:sqsd', 'WorkerQueueURL', options.worker.queue.queueUrl),
            setting('aws:elasticbeanstalk:sqsd', 'HttpPath', options.worker.httpPath ?? '/'),
          ]
        : []),
      ...(options.optionSettings ?? []).map((o) => ({ ...o })),
    ];

    const environment = new elasticbeanstalk.CfnEnvironment(this, id, {
      applicationName: this.application.ref,
      description: options.description,
      templateName: this.savedConfiguration.ref,
      versionLabel: this.version.ref,
      tier: options.worker ? { name: 'Worker', type: 'SQS/HTTP' } : { name: 'WebServer', type: 'Standard' },
      optionSettings: settings,
    });
    this.grantEnvironment(environment, instanceRole, options.worker);
    if (!managedUpdates) {
      Validations.of(environment).acknowledge({ id: 'AwsSolutions-EB3', reason: 'managedUpdates: false was asked for; platform updates are applied by hand.' });
    }
    Validations.of(environment).acknowledge({
      id: 'AwsSolutions-EB4',
      reason:
        "Log rotation to S3 writes into Elastic Beanstalk's account-wide elasticbeanstalk-<region>-<account> bucket, " +
        'which no stack owns and which outlives the environment; logs are requested when needed (eb logs, RequestEnvironmentInfo).',
    });
    const added = { environment, instanceRole };
    this.environments.push(added);
    return added;
  }

  private workerInstanceProfile(id: string): [iam.Role, iam.InstanceProfile] {
    const role = new iam.Role(this, `${id}InstanceRole`, {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Elastic Beanstalk worker environment instances: health statistics, metrics, the worker queue, the cron leader table',
    });
    return [role, new iam.InstanceProfile(this, `${id}InstanceProfile`, { role })];
  }

  /**
   * The ARN of the branch's recommended platform version, from `ListPlatformVersions` at deploy time. The function
   * gets a role of its own (its log group and that one call, no managed policy) instead of AwsCustomResource's
   * default role with AWSLambdaBasicExecutionRole.
   */
  private lookUpPlatform(branchName: string, logGroupProps: CreatedLogGroupProps | undefined): string {
    const logGroup = new logs.LogGroup(this, 'PlatformLookupLogs', { retention: logGroupProps?.retention ?? DEFAULT_LOG_RETENTION, removalPolicy: RemovalPolicy.RETAIN });
    const role = new iam.Role(this, 'PlatformLookupRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Looks up the recommended platform version of ${branchName} when the stack is deployed`,
    });
    logGroup.grantWrite(role);
    // ListPlatformVersions answers with the versions the caller may access: this role sees the one branch only.
    const branchVersions = Stack.of(this).formatArn({ service: 'elasticbeanstalk', account: '', resource: 'platform', resourceName: `${branchName}/*` });
    const call: cr.AwsSdkCall = {
      service: 'ElasticBeanstalk',
      action: 'listPlatformVersions',
      parameters: {
        Filters: [
          { Type: 'PlatformBranchName', Operator: '=', Values: [branchName] },
          { Type: 'PlatformLifecycleState', Operator: '=', Values: ['recommended'] },
        ],
      },
      physicalResourceId: cr.PhysicalResourceId.of(branchName),
      outputPaths: ['PlatformSummaryList.0.PlatformArn'],
    };
    const lookup = new cr.AwsCustomResource(this, 'PlatformLookup', {
      onCreate: call,
      onUpdate: call,
      role,
      logGroup,
      installLatestAwsSdk: false,
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['elasticbeanstalk:ListPlatformVersions'], resources: [branchVersions] })]),
    });
    // The statement is in the custom resource's own policy, not the role's. The id names cdk-nag's plugin: without
    // it, an id with spaces (the branch name) matches no finding.
    Validations.of(lookup).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${findingResource(this, branchVersions)}]`,
      reason: `The versions of the branch ${branchName}: which one is recommended is what the lookup finds out at deploy time.`,
    });
    return lookup.getResponseField('PlatformSummaryList.0.PlatformArn');
  }

  /** The lifecycle policy deletes this application's versions (and their bundles when told to), as the service role. */
  private grantLifecycle(lifecycle: VersionLifecycle, bundle: SourceBundleLocation): void {
    const versions = Stack.of(this).formatArn({ service: 'elasticbeanstalk', resource: 'applicationversion', resourceName: `${this.application.ref}/*` });
    this.serviceRole.addToPolicy(new iam.PolicyStatement({ actions: ['elasticbeanstalk:DeleteApplicationVersion'], resources: [versions] }));
    const reasons = [{
      id: `AwsSolutions-IAM5[Resource::${findingResource(this, versions)}]`,
      reason: 'The lifecycle policy deletes versions of this application only; their labels are made by each deployment.',
    }];
    if (lifecycle.deleteSourceFromS3) {
      const bundles = bundle.bucket.arnForObjects('*');
      this.serviceRole.addToPolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [bundles] }));
      reasons.push({
        id: `AwsSolutions-IAM5[Resource::${findingResource(this, bundles)}]`,
        reason: 'deleteSourceFromS3: each deleted version takes its source bundle, whose key is known only when it is uploaded.',
      });
    }
    Validations.of(this.serviceRole).acknowledge(...reasons);
  }

  /** The service role's managed policies (once), and what the instances of `environment` call. */
  private grantEnvironment(environment: elasticbeanstalk.CfnEnvironment, instanceRole: iam.IRole, worker: WorkerOptions | undefined): void {
    if (this.environments.length === 0) {
      for (const name of ['service-role/AWSElasticBeanstalkEnhancedHealth', 'AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy']) {
        this.serviceRole.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName(name));
      }
      Validations.of(this.serviceRole).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth]',
          reason: "Elastic Beanstalk's own policy for reading the environment's Auto Scaling group, instances and load balancer to report enhanced health; AWS keeps it in step with the service.",
        },
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy]',
          reason:
            'Managed platform updates (ServiceRoleForManagedUpdates) replace instances through the environment\'s own CloudFormation stack, which Elastic Beanstalk names at run time. ' +
            'The policy is wide: elasticbeanstalk:* on every resource, and iam:PassRole of any role to Elastic Beanstalk, EC2, Auto Scaling, ELB, ECS and CloudFormation; ' +
            'it is the policy AWS documents for this role and keeps in step with the calls updates make. Turn managed updates off (managedUpdates: false) to do without it.',
        },
      );
    }
    // The health agent on each instance reports its statistics for enhanced health. The statement names the
    // application's environments rather than this one, so it sits in the role's default policy, which the environment
    // waits for: an environment's own name is known only once it exists, after its instances have started.
    if (!this.healthReporters.has(instanceRole)) {
      this.healthReporters.add(instanceRole);
      const applicationArn = Stack.of(this).formatArn({ service: 'elasticbeanstalk', resource: 'application', resourceName: this.application.ref });
      const environmentsArn = Stack.of(this).formatArn({ service: 'elasticbeanstalk', resource: 'environment', resourceName: `${this.application.ref}/*` });
      instanceRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['elasticbeanstalk:PutInstanceStatistics'], resources: [applicationArn, environmentsArn] }));
      Validations.of(instanceRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${findingResource(this, environmentsArn)}]`,
        reason: "The environments of this application only: an environment's name is set when it is created, after its instances need the permission.",
      });
    }
    environment.node.addDependency(instanceRole);
    if (!worker) return;
    // The SQS daemon reads and deletes messages; the cron leader sends the cron.yaml jobs to the same queue.
    worker.queue.grantConsumeMessages(instanceRole);
    worker.queue.grantSendMessages(instanceRole);
    // Worker instances publish their health metrics (AWSElasticBeanstalkWorkerTier's MetricsAccess statement).
    instanceRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:PutMetricData'], resources: ['*'] }));
    // The cron leader election table is created by the environment's own stack (awseb-e-<id>-stack-AWSEBWorkerCronLeaderRegistry-…).
    instanceRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
      resources: [`arn:${Aws.PARTITION}:dynamodb:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/*-stack-AWSEBWorkerCronLeaderRegistry*`],
    }));
    Validations.of(instanceRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*-stack-AWSEBWorkerCronLeaderRegistry*]',
        reason: "The cron leader table belongs to the worker environment's own stack, named by Elastic Beanstalk when it creates the environment.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'cloudwatch:PutMetricData has no resource-level permissions: the worker instances publish their health metrics.',
      },
    );
  }
}
