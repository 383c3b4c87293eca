import { Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';
import { findingText } from '../core/nag-ids';

/** The CodeDeploy limits ServerDeployment checks. */
export const SERVER_DEPLOYMENT_LIMITS = {
  /** `FLEET_PERCENT`: a whole percentage of the instances in the deployment. */
  minHealthyPercent: { min: 0, max: 100 },
  /** `HOST_COUNT`: a whole number of instances. */
  minHealthyHostCount: { min: 0 },
  /** Alarms one deployment group can watch. */
  maxRollbackAlarms: 10,
} as const;

/** How many instances must stay healthy while a deployment replaces the revision on the others. */
export class HealthyHosts {
  /** At least `percent` % of the instances (rounded up to whole instances when the deployment starts). */
  static percentage(percent: number): HealthyHosts {
    return new HealthyHosts('FLEET_PERCENT', percent);
  }

  /** At least `hosts` instances. */
  static count(hosts: number): HealthyHosts {
    return new HealthyHosts('HOST_COUNT', hosts);
  }

  private constructor(
    /** CodeDeploy's `MinimumHealthyHosts.Type`. */
    readonly type: 'FLEET_PERCENT' | 'HOST_COUNT',
    readonly value: number,
  ) {}
}

export interface ServerDeploymentProps {
  /** The instances to deploy to. */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /**
   * The user data the group's instances boot with (their launch template's): the construct adds the commands that
   * install the CodeDeploy agent to it, starting with `set -euo pipefail`, which also holds for commands added after.
   * @default the agent is not installed: the image must carry it
   */
  readonly userData?: ec2.UserData;
  /** The role of the instances: it gets read access to the revisions and the agent's installer, nothing more. */
  readonly instanceRole: iam.IRole;
  /** Where revisions are uploaded (`aws deploy push` or the SDK); the instances read them under `revisionPrefix`. */
  readonly revisionBucket: s3.IBucket;
  /** Key prefix of the revisions in `revisionBucket`: not empty, ending in `/`. @default 'revisions/' */
  readonly revisionPrefix?: string;
  /** Configuration of the in-place deployment group. @default ServerDeploymentConfig.ONE_AT_A_TIME */
  readonly deploymentConfig?: codedeploy.IServerDeploymentConfig;
  /** Custom deployment configurations to create, by construct id: how many hosts must stay healthy. @default none */
  readonly customConfigs?: Readonly<Record<string, HealthyHosts>>;
  /**
   * The target group the instances serve behind: with it, CodeDeploy blocks traffic to an instance before it stops
   * the application and allows it again after `ValidateService`. @default no load balancer: traffic is not managed
   */
  readonly targetGroup?: elbv2.IApplicationTargetGroup;
  /** Alarms that stop a deployment and roll it back when one goes to ALARM (at most 10). @default none */
  readonly rollbackAlarms?: readonly cloudwatch.IAlarm[];
}

const DEFAULT_REVISION_PREFIX = 'revisions/';

/**
 * A CodeDeploy EC2/on-premises application deploying in place to an Auto Scaling group (traffic blocked and allowed
 * through a target group when given), custom deployment configurations, automatic rollback on a failed deployment and
 * on alarms, the CodeDeploy agent installed by user data, and the instance role's least-privilege access to the
 * revisions. No blue/green group: CloudFormation creates blue/green groups for Lambda only (README).
 */
export class ServerDeployment extends Construct {
  public readonly application: codedeploy.IServerApplication;
  /** The in-place deployment group. */
  public readonly inPlaceGroup: codedeploy.IServerDeploymentGroup;
  /** The role CodeDeploy assumes: `AWSCodeDeployRole`, to which a blue/green group's copy permissions can be added. */
  public readonly serviceRole: iam.IRole;
  /** The custom configurations, by the id they were given under. */
  public readonly customConfigs: Readonly<Record<string, codedeploy.IServerDeploymentConfig>>;
  /** The instance role's read access to the revisions and the agent installer. */
  public readonly instanceAccessPolicy: iam.IPolicy;

  constructor(scope: Construct, id: string, props: ServerDeploymentProps) {
    super(scope, id);
    const limits = SERVER_DEPLOYMENT_LIMITS;
    const check = new PropsValidator(this, 'ServerDeployment');
    for (const [name, hosts] of Object.entries(props.customConfigs ?? {})) {
      if (hosts.type === 'FLEET_PERCENT') {
        check.inRange(hosts.value, { ...limits.minHealthyPercent, whole: true }, 'MinimumHealthyPercentRange',
          `customConfigs.${name}: a minimum healthy percentage must be a whole number from ${limits.minHealthyPercent.min} to ${limits.minHealthyPercent.max}, got ${hosts.value}`);
      } else {
        check.inRange(hosts.value, { ...limits.minHealthyHostCount, whole: true }, 'MinimumHealthyCountRange',
          `customConfigs.${name}: a minimum healthy host count must be a whole number of at least ${limits.minHealthyHostCount.min}, got ${hosts.value}`);
      }
    }
    const alarms = props.rollbackAlarms ?? [];
    check.require(alarms.length <= limits.maxRollbackAlarms, 'TooManyRollbackAlarms',
      `a deployment group watches at most ${limits.maxRollbackAlarms} alarms, got ${alarms.length}`);
    const prefix = props.revisionPrefix ?? DEFAULT_REVISION_PREFIX;
    // An empty prefix would let the instances read the whole bucket; one without '/' every key that starts like it.
    check.require(prefix.length > 1 && prefix.endsWith('/'), 'RevisionPrefixInvalid',
      `revisionPrefix must be a key prefix ending in '/' (e.g. 'revisions/'), got ${JSON.stringify(prefix)}`);
    check.throwIfInvalid();

    this.application = new codedeploy.ServerApplication(this, 'Application');
    this.customConfigs = Object.fromEntries(
      Object.entries(props.customConfigs ?? {}).map(([name, hosts]) => [
        name,
        new codedeploy.ServerDeploymentConfig(this, name, {
          minimumHealthyHosts: hosts.type === 'FLEET_PERCENT'
            ? codedeploy.MinimumHealthyHosts.percentage(hosts.value)
            : codedeploy.MinimumHealthyHosts.count(hosts.value),
        }),
      ]),
    );

    const serviceRole = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: 'CodeDeploy: reads the Auto Scaling group and target group, registers and deregisters instances',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRole')],
    });
    Validations.of(serviceRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRole]',
      reason:
        'AWSCodeDeployRole is the service role policy CodeDeploy documents for EC2/on-premises: Auto Scaling lifecycle ' +
        'hooks, ELB registration, EC2 tag reads and SNS triggers, kept current by AWS as the service adds calls.',
    });
    this.serviceRole = serviceRole;

    this.inPlaceGroup = new codedeploy.ServerDeploymentGroup(this, 'InPlace', {
      application: this.application,
      role: serviceRole,
      deploymentConfig: props.deploymentConfig ?? codedeploy.ServerDeploymentConfig.ONE_AT_A_TIME,
      autoScalingGroups: [props.autoScalingGroup],
      // The agent is installed below, for Amazon Linux 2023, without CDK's `yum update` and its S3 List/Get* grant.
      installAgent: false,
      loadBalancers: props.targetGroup ? [codedeploy.LoadBalancer.application(props.targetGroup)] : undefined,
      alarms: [...alarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: alarms.length > 0 },
    });

    this.instanceAccessPolicy = this.grantInstanceAccess(props.instanceRole, props.revisionBucket, prefix);
    if (props.userData) this.installAgent(props.userData);
  }

  /** The instances read revisions under their prefix and the agent's installer and updates from AWS's bucket. */
  private grantInstanceAccess(role: iam.IRole, bucket: s3.IBucket, prefix: string): iam.Policy {
    const region = Stack.of(this).region;
    const policy = new iam.Policy(this, 'InstanceAccess', {
      statements: [
        new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [bucket.arnForObjects(`${prefix}*`)] }),
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`arn:${Stack.of(this).partition}:s3:::aws-codedeploy-${region}/*`] }),
      ],
    });
    policy.attachToRole(role);
    const bucketArn = findingText(this, bucket.bucketArn);
    if (bucketArn !== undefined) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`,
        reason: 'Revision keys are chosen at upload time, one per version, under the revision prefix: read-only objects.',
      });
    }
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::aws-codedeploy-<AWS::Region>/*]',
      reason: 'The agent installer fetches versioned packages under latest/ and releases/ of the Regional aws-codedeploy bucket, read-only.',
    });
    return policy;
  }

  /**
   * The CodeDeploy agent, installed at boot on Amazon Linux 2023 (Ruby is its one dependency). Any failing command
   * stops the script, so a half-installed agent shows in the instance's console output instead of a silent
   * "no agent" at the first deployment; the download is retried, as S3 or the network may not answer the first time.
   */
  private installAgent(userData: ec2.UserData): void {
    const region = Stack.of(this).region;
    userData.addCommands(
      'set -euo pipefail',
      'dnf install -y ruby wget',
      'cd /tmp',
      `for attempt in 1 2 3 4 5; do wget -q -O install https://aws-codedeploy-${region}.s3.${region}.amazonaws.com/latest/install && break; [ "$attempt" -lt 5 ] || exit 1; sleep 10; done`,
      'chmod +x ./install',
      './install auto',
      'systemctl enable --now codedeploy-agent',
    );
  }
}
