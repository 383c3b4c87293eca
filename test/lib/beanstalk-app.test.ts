import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEPLOYMENT_POLICY_NAMES } from '../../labs/beanstalk/constants';
import {
  BEANSTALK_DEPLOYMENT_POLICIES,
  BEANSTALK_LIMITS,
  BeanstalkApp,
  BeanstalkAppProps,
  BeanstalkEnvironmentOptions,
  BeanstalkPlatform,
  DeploymentPolicy,
  VersionLifecycle,
} from '../../lib/beanstalk-app';
import { testApp } from '../support/synth';
import { problemCodesOf, problemMessagesOf } from '../support/validation';

const PLATFORM = 'Node.js 22 running on 64bit Amazon Linux 2023/6.10.0';

function setup(props: Partial<BeanstalkAppProps> = {}) {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const bucket = s3.Bucket.fromBucketName(stack, 'Bundles', 'bundles');
  // An imported VPC: its subnets are known without synthesizing a VPC in every test.
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a', 'us-east-1b'], publicSubnetIds: ['subnet-a', 'subnet-b'], publicSubnetRouteTableIds: ['rtb-a', 'rtb-b'] });
  const build = () => new BeanstalkApp(stack, 'App', { platform: BeanstalkPlatform.named(PLATFORM), sourceBundle: { bucket, key: 'v1.zip' }, ...props });
  return { stack, vpc, bucket, build };
}

/** The option settings of the one environment `options` adds, as `namespace/name` → value. */
function environmentOptions(options: Partial<BeanstalkEnvironmentOptions> = {}) {
  const { stack, vpc, build } = setup();
  build().addEnvironment('Env', { vpc, ...options });
  const [environment] = Object.values(Template.fromStack(stack).findResources('AWS::ElasticBeanstalk::Environment'));
  return Object.fromEntries((environment.Properties.OptionSettings as { Namespace: string; OptionName: string; Value: unknown }[]).map((o) => [`${o.Namespace}/${o.OptionName}`, o.Value]));
}

const environmentProblems = (options: Partial<BeanstalkEnvironmentOptions>) => {
  const { vpc, build } = setup();
  const app = build();
  return problemMessagesOf(() => app.addEnvironment('Env', { vpc, ...options }));
};

describe('defaults', () => {
  const { stack, build } = setup();
  const app = build();
  const template = Template.fromStack(stack);

  test('keeps the 200 newest versions and leaves their bundles; the service role may delete this application\'s versions only', () => {
    template.hasResourceProperties('AWS::ElasticBeanstalk::Application', {
      ResourceLifecycleConfig: { VersionLifecycleConfig: { MaxCountRule: { Enabled: true, MaxCount: 200, DeleteSourceFromS3: false } } },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'elasticbeanstalk:DeleteApplicationVersion' })] },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('s3:DeleteObject');
  });

  test('a version from the bundle and a saved configuration on the platform ARN of the stack\'s Region', () => {
    template.hasResourceProperties('AWS::ElasticBeanstalk::ApplicationVersion', { SourceBundle: { S3Bucket: 'bundles', S3Key: 'v1.zip' } });
    template.hasResourceProperties('AWS::ElasticBeanstalk::ConfigurationTemplate', {
      PlatformArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticbeanstalk:', { Ref: 'AWS::Region' }, `::platform/${PLATFORM}`]] },
    });
    expect(app.environments).toEqual([]);
  });

  test('no managed policy until an environment needs one; the instance profile wraps a role EC2 assumes', () => {
    template.hasResourceProperties('AWS::IAM::Role', { Description: Match.stringLikeRegexp('^Elastic Beanstalk service role'), ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: Match.stringLikeRegexp('InstanceRole') }] });
  });
});

describe('environments', () => {
  test('a single instance by default: arm64 t4g.micro, IMDSv2 only, 10 GiB gp3, enhanced health, managed minor updates on Sundays', () => {
    expect(environmentOptions()).toMatchObject({
      'aws:elasticbeanstalk:environment/EnvironmentType': 'SingleInstance',
      'aws:ec2:instances/InstanceTypes': 't4g.micro',
      'aws:ec2:instances/SupportedArchitectures': 'arm64',
      'aws:autoscaling:launchconfiguration/DisableIMDSv1': 'true',
      'aws:autoscaling:launchconfiguration/RootVolumeType': 'gp3',
      'aws:autoscaling:launchconfiguration/RootVolumeSize': '10',
      'aws:elasticbeanstalk:healthreporting:system/SystemType': 'enhanced',
      'aws:elasticbeanstalk:command/DeploymentPolicy': 'AllAtOnce',
      'aws:elasticbeanstalk:managedactions/ManagedActionsEnabled': 'true',
      'aws:elasticbeanstalk:managedactions/ServiceRoleForManagedUpdates': { 'Fn::GetAtt': [expect.stringMatching(/^AppServiceRole/), 'Arn'] },
      'aws:elasticbeanstalk:managedactions/PreferredStartTime': 'Sun:10:00',
      'aws:elasticbeanstalk:managedactions:platformupdate/UpdateLevel': 'minor',
      'aws:ec2:vpc/VPCId': 'vpc-1',
      'aws:ec2:vpc/Subnets': 'subnet-a,subnet-b',
      'aws:ec2:vpc/AssociatePublicIpAddress': 'true',
    });
  });

  test('load-balanced with a rolling batch: an ALB, the instance counts, the batch as a percentage', () => {
    expect(environmentOptions({ loadBalanced: { minInstances: 2, maxInstances: 4 }, deploymentPolicy: DeploymentPolicy.rolling({ batchSizePercent: 50 }) })).toMatchObject({
      'aws:elasticbeanstalk:environment/EnvironmentType': 'LoadBalanced',
      'aws:elasticbeanstalk:environment/LoadBalancerType': 'application',
      'aws:autoscaling:asg/MinSize': '2',
      'aws:autoscaling:asg/MaxSize': '4',
      'aws:elasticbeanstalk:command/DeploymentPolicy': 'Rolling',
      'aws:elasticbeanstalk:command/BatchSizeType': 'Percentage',
      'aws:elasticbeanstalk:command/BatchSize': '50',
    });
  });

  test('the first environment attaches the enhanced health and managed updates policies to the service role, once', () => {
    const { stack, vpc, build } = setup();
    const app = build();
    app.addEnvironment('One', { vpc });
    app.addEnvironment('Two', { vpc });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('^Elastic Beanstalk service role'),
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy']] },
      ],
    });
  });

  test('a load-balanced worker is a scaling group without a load balancer', () => {
    const { stack, vpc, build } = setup();
    build().addEnvironment('Worker', { vpc, worker: { queue: new sqs.Queue(stack, 'Jobs') }, loadBalanced: { minInstances: 2 }, deploymentPolicy: DeploymentPolicy.rollingWithAdditionalBatch() });
    const [environment] = Object.values(Template.fromStack(stack).findResources('AWS::ElasticBeanstalk::Environment'));
    const options = Object.fromEntries((environment.Properties.OptionSettings as { Namespace: string; OptionName: string; Value: unknown }[]).map((o) => [`${o.Namespace}/${o.OptionName}`, o.Value]));
    expect(options).toMatchObject({ 'aws:elasticbeanstalk:environment/EnvironmentType': 'LoadBalanced', 'aws:autoscaling:asg/MinSize': '2', 'aws:elasticbeanstalk:command/DeploymentPolicy': 'RollingWithAdditionalBatch' });
    expect(options['aws:elasticbeanstalk:environment/LoadBalancerType']).toBeUndefined();
    expect(options['aws:ec2:vpc/ELBSubnets']).toBeUndefined();
  });

  test('managedUpdates: false turns them off', () => {
    expect(environmentOptions({ managedUpdates: false })).toMatchObject({ 'aws:elasticbeanstalk:managedactions/ManagedActionsEnabled': 'false' });
  });

  test('a worker reads its queue, may consume and send to it, and waits for that permission before it starts', () => {
    const { stack, vpc, build } = setup();
    const queue = new sqs.Queue(stack, 'Jobs');
    const app = build();
    const { environment, instanceRole } = app.addEnvironment('Worker', { vpc, worker: { queue } });
    expect(instanceRole).not.toBe(app.instanceRole);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticBeanstalk::Environment', {
      Tier: { Name: 'Worker', Type: 'SQS/HTTP' },
      OptionSettings: Match.arrayWith([
        { Namespace: 'aws:elasticbeanstalk:sqsd', OptionName: 'WorkerQueueURL', Value: { Ref: Match.stringLikeRegexp('^Jobs') } },
        { Namespace: 'aws:elasticbeanstalk:sqsd', OptionName: 'HttpPath', Value: '/' },
      ]),
    });
    const envId = stack.getLogicalId(environment);
    expect(template.toJSON().Resources[envId].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^AppWorkerInstanceRoleDefaultPolicy/)]));
    // The worker's own instance profile: the application's (web) role gets no queue permission.
    expect(template.toJSON().Resources[envId].Properties.OptionSettings).toContainEqual({
      Namespace: 'aws:autoscaling:launchconfiguration', OptionName: 'IamInstanceProfile', Value: { Ref: expect.stringMatching(/^AppWorkerInstanceProfile/) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^AppWorkerInstanceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['sqs:ReceiveMessage']) }),
          // the worker tier's health metrics: PutMetricData has no resource-level permissions
          { Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*' },
        ]),
      },
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: stack.getLogicalId(app.instanceRole.node.defaultChild as CfnRole) }] } }))).not.toContain('sqs:');
  });

  test('instances may report health statistics for this application\'s environments only, before the environment exists', () => {
    const { stack, vpc, build } = setup();
    const app = build();
    const { environment } = app.addEnvironment('Web', { vpc });
    const template = Template.fromStack(stack);
    const applicationRef = { Ref: stack.getLogicalId(app.application) };
    const instanceRoleId = stack.getLogicalId(app.instanceRole.node.defaultChild as CfnRole);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: instanceRoleId }],
      PolicyDocument: {
        Statement: [{
          Action: 'elasticbeanstalk:PutInstanceStatistics',
          Effect: 'Allow',
          Resource: [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticbeanstalk:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':application/', applicationRef]] },
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticbeanstalk:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':environment/', applicationRef, '/*']] },
          ],
        }],
      },
    });
    expect(template.toJSON().Resources[stack.getLogicalId(environment)].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^AppInstanceRoleDefaultPolicy/)]));
  });

  test('settings applied directly come after the construct\'s, so they win', () => {
    const options = environmentOptions({ optionSettings: [{ namespace: 'aws:ec2:instances', optionName: 'InstanceTypes', value: 't4g.small' }] });
    expect(options['aws:ec2:instances/InstanceTypes']).toBe('t4g.small');
  });
});

describe('bad input lists every problem with its code', () => {
  test.each([0, BEANSTALK_LIMITS.maxApplicationVersions + 1, 2.5])('a lifecycle max count of %s', (count) => {
    const { build } = setup({ versionLifecycle: VersionLifecycle.maxCount(count) });
    expect(problemMessagesOf(build)).toEqual([
      `BeanstalkApp.LifecycleMaxCountRange: versionLifecycle max count must be a whole number from 1 to 1000 (the version quota), got ${count}`,
    ]);
  });

  test('a lifecycle max count of 1 and of 1000, and a max age of 1 and 180 days, are accepted', () => {
    const limits = [VersionLifecycle.maxCount(1), VersionLifecycle.maxCount(BEANSTALK_LIMITS.maxApplicationVersions), VersionLifecycle.maxAge(1), VersionLifecycle.maxAge(BEANSTALK_LIMITS.maxLifecycleMaxAgeDays)];
    for (const lifecycle of limits) {
      expect(problemCodesOf(setup({ versionLifecycle: lifecycle }).build)).toEqual([]);
    }
  });

  test('a lifecycle max age of 0 or 181 days', () => {
    expect(problemCodesOf(setup({ versionLifecycle: VersionLifecycle.maxAge(0) }).build)).toEqual(['BeanstalkApp.LifecycleMaxAgeRange']);
    expect(problemMessagesOf(setup({ versionLifecycle: VersionLifecycle.maxAge(BEANSTALK_LIMITS.maxLifecycleMaxAgeDays + 1) }).build)).toEqual([
      'BeanstalkApp.LifecycleMaxAgeRange: versionLifecycle max age must be a whole number of days from 1 to 180, got 181',
    ]);
  });

  test('deleteSourceFromS3 lets the service role delete the bucket\'s objects, and nothing else of it', () => {
    const { stack, build } = setup({ versionLifecycle: VersionLifecycle.maxAge(30, { deleteSourceFromS3: true }) });
    build();
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:DeleteObject', Resource: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':s3:::bundles/*'])] }) })]) },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ElasticBeanstalk::Application', {
      ResourceLifecycleConfig: { VersionLifecycleConfig: { MaxAgeRule: { Enabled: true, MaxAgeInDays: 30, DeleteSourceFromS3: true } } },
    });
  });

  test('a deployment policy that does not exist names the five that do', () => {
    expect(environmentProblems({ deploymentPolicy: DeploymentPolicy.named('BlueGreen') })).toEqual([
      'BeanstalkApp.UnknownDeploymentPolicy: deploymentPolicy must be one of AllAtOnce, Rolling, RollingWithAdditionalBatch, Immutable, TrafficSplitting, got "BlueGreen"',
    ]);
  });

  test.each([DeploymentPolicy.rolling(), DeploymentPolicy.rollingWithAdditionalBatch(), DeploymentPolicy.trafficSplitting()])('$name on a single instance', (policy) => {
    expect(environmentProblems({ deploymentPolicy: policy }).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.DeploymentPolicyNeedsLoadBalancer']);
    expect(environmentProblems({ deploymentPolicy: policy, loadBalanced: {} })).toEqual([]);
  });

  test('traffic splitting on a worker, which has no load balancer', () => {
    const { stack, vpc, build } = setup();
    const app = build();
    const worker = { queue: new sqs.Queue(stack, 'Jobs') };
    expect(problemMessagesOf(() => app.addEnvironment('Worker', { vpc, worker, loadBalanced: {}, deploymentPolicy: DeploymentPolicy.trafficSplitting() }))).toEqual([
      'BeanstalkApp.TrafficSplittingOnWorker: deploymentPolicy TrafficSplitting splits requests at a load balancer, which a worker environment does not have',
    ]);
  });

  test('a batch size outside 1–100 %; 1 and 100 are accepted', () => {
    const rolling = (batchSizePercent: number) => ({ deploymentPolicy: DeploymentPolicy.rolling({ batchSizePercent }), loadBalanced: {} });
    expect(environmentProblems(rolling(0))).toEqual(['BeanstalkApp.BatchSizeRange: batchSizePercent must be a whole number from 1 to 100, got 0']);
    expect(environmentProblems(rolling(101)).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.BatchSizeRange']);
    expect(environmentProblems(rolling(1))).toEqual([]);
    expect(environmentProblems(rolling(100))).toEqual([]);
  });

  test('the lab\'s list of policy names is the construct\'s', () => {
    expect([...DEPLOYMENT_POLICY_NAMES]).toEqual([...BEANSTALK_DEPLOYMENT_POLICIES]);
  });

  test('instance counts below 1 or a maximum below the minimum', () => {
    expect(environmentProblems({ loadBalanced: { minInstances: 0, maxInstances: 2 } }).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.InstancesRange']);
    expect(environmentProblems({ loadBalanced: { minInstances: 3, maxInstances: 2 } })).toEqual([
      'BeanstalkApp.InstancesRange: loadBalanced.maxInstances must be a whole number from minInstances (3) to 10000, got 2',
    ]);
    expect(environmentProblems({ loadBalanced: { minInstances: 2, maxInstances: 2 } })).toEqual([]);
    expect(environmentProblems({ loadBalanced: { minInstances: 1, maxInstances: BEANSTALK_LIMITS.maxInstances } })).toEqual([]);
    expect(environmentProblems({ loadBalanced: { minInstances: 1, maxInstances: BEANSTALK_LIMITS.maxInstances + 1 } }).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.InstancesRange']);
  });

  test('an x86 instance type, a bad maintenance window and a root volume of 0 GiB, all at once', () => {
    expect(environmentProblems({ instanceType: 't3.micro', managedUpdates: { preferredStartTime: 'Sunday 10:00', updateLevel: 'minor' }, rootVolumeGiB: 0 }).map((p) => p.split(':')[0])).toEqual([
      'BeanstalkApp.InstanceTypeNotArm64',
      'BeanstalkApp.RootVolumeRange',
      'BeanstalkApp.MaintenanceWindowFormat',
    ]);
    expect(environmentProblems({ instanceType: 'c8gd.large', managedUpdates: { preferredStartTime: 'Mon:23:59', updateLevel: 'patch' } })).toEqual([]);
    expect(environmentProblems({ managedUpdates: { preferredStartTime: 'Mon:24:00', updateLevel: 'minor' } }).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.MaintenanceWindowFormat']);
    expect(environmentProblems({ rootVolumeGiB: 1 })).toEqual([]);
    expect(environmentProblems({ rootVolumeGiB: BEANSTALK_LIMITS.maxRootVolumeGiB })).toEqual([]);
    expect(environmentProblems({ rootVolumeGiB: BEANSTALK_LIMITS.maxRootVolumeGiB + 1 })).toEqual(['BeanstalkApp.RootVolumeRange: rootVolumeGiB must be a whole number from 1 to 16384, got 16385']);
  });
});

describe('the platform looked up at deploy time', () => {
  const { stack, build } = setup({ platform: BeanstalkPlatform.latestOfBranch('Node.js 22 running on 64bit Amazon Linux 2023') });
  const app = build();
  const template = Template.fromStack(stack);

  test('ListPlatformVersions filtered to the branch\'s recommended version feeds the saved configuration', () => {
    const [lookup] = Object.entries(template.findResources('Custom::AWS'));
    const create = JSON.parse(JSON.stringify(lookup[1].Properties.Create).replace(/^"|"$/g, '').replace(/\\"/g, '"'));
    expect(create).toMatchObject({
      service: 'ElasticBeanstalk',
      action: 'listPlatformVersions',
      parameters: {
        Filters: [
          { Type: 'PlatformBranchName', Operator: '=', Values: ['Node.js 22 running on 64bit Amazon Linux 2023'] },
          { Type: 'PlatformLifecycleState', Operator: '=', Values: ['recommended'] },
        ],
      },
    });
    template.hasResourceProperties('AWS::ElasticBeanstalk::ConfigurationTemplate', {
      PlatformArn: { 'Fn::GetAtt': [lookup[0], 'PlatformSummaryList.0.PlatformArn'] },
      SolutionStackName: Match.absent(),
    });
    expect(app.savedConfiguration.platformArn).toBeDefined();
  });

  test('its function\'s role may list that branch\'s versions and write its own log group, and holds no managed policy', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 'elasticbeanstalk:ListPlatformVersions',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticbeanstalk:', { Ref: 'AWS::Region' }, '::platform/Node.js 22 running on 64bit Amazon Linux 2023/*']] },
        }]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', { Description: Match.stringLikeRegexp('^Looks up the recommended platform version'), ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::Lambda::Function', { Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AppPlatformLookupRole'), 'Arn'] }, LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^AppPlatformLookupLogs') } } });
  });
});

// The catalogue checks run cdk-nag on the lab (platform lookup, web and worker environments); the lab keeps the bundles.
test('cdk-nag finds nothing unacknowledged when the lifecycle deletes the bundles with their versions', () => {
  const app = testApp({}, { builtinCloudFormationValidation: false });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Nag');
  new BeanstalkApp(stack, 'App', {
    platform: BeanstalkPlatform.named(PLATFORM),
    sourceBundle: { bucket: s3.Bucket.fromBucketName(stack, 'Bundles', 'bundles'), key: 'v1.zip' },
    versionLifecycle: VersionLifecycle.maxCount(10, { deleteSourceFromS3: true }),
  });
  expect(() => app.synth()).not.toThrow();
});
