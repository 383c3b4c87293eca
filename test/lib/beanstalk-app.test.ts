import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
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

/** The findings acknowledged on a construct, as `<rule pack>::<id>` → reason. */
const acknowledged = (construct: IConstruct) =>
  Object.assign({}, ...construct.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((e) => e.data as object)) as Record<string, string>;

/** Why the instances of any environment may report health statistics for the application's environments. */
const HEALTH_STATISTICS_REASON = "The environments of this application only: an environment's name is set when it is created, after its instances need the permission.";

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
      ResourceLifecycleConfig: { VersionLifecycleConfig: { MaxCountRule: { Enabled: true, MaxCount: 200, DeleteSourceFromS3: false }, MaxAgeRule: Match.absent() } },
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

  test('the service role: assumed by Elastic Beanstalk with its external id; the lifecycle grant acknowledged with why', () => {
    const roles = template.findResources('AWS::IAM::Role');
    const serviceRole = roles[stack.getLogicalId(app.serviceRole.node.defaultChild as CfnRole)].Properties;
    expect(serviceRole.Description).toBe('Elastic Beanstalk service role: version lifecycle, enhanced health, managed platform updates');
    expect(serviceRole.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'elasticbeanstalk.amazonaws.com' }, Condition: { StringEquals: { 'sts:ExternalId': 'elasticbeanstalk' } } },
    ]);
    expect(roles[stack.getLogicalId(app.instanceRole.node.defaultChild as CfnRole)].Properties).toMatchObject({
      Description: 'Elastic Beanstalk web environment instances: health statistics',
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] },
    });
    expect(acknowledged(app.serviceRole)).toEqual({
      [`Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticbeanstalk:<AWS::Region>:<AWS::AccountId>:applicationversion/<${stack.getLogicalId(app.application)}>/*]`]:
        'The lifecycle policy deletes versions of this application only; their labels are made by each deployment.',
    });
    template.hasResourceProperties('AWS::ElasticBeanstalk::ApplicationVersion', { Description: 'the source bundle this stack deployed' });
    template.hasResourceProperties('AWS::ElasticBeanstalk::ConfigurationTemplate', { Description: 'saved configuration every environment of this application starts from' });
  });

  test('no managed policy until an environment needs one; the instance profile wraps a role EC2 assumes', () => {
    template.hasResourceProperties('AWS::IAM::Role', { Description: Match.stringLikeRegexp('^Elastic Beanstalk service role'), ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: stack.getLogicalId(app.instanceRole.node.defaultChild as CfnRole) }] });
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
    expect(Object.keys(environmentOptions()).filter((key) => key.startsWith('aws:elasticbeanstalk:command/Batch') || key.startsWith('aws:autoscaling:asg/'))).toEqual([]);
  });

  test('the subnets given, else the public ones even where private subnets exist', () => {
    const { stack, build } = setup();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Mixed', {
      vpcId: 'vpc-2', availabilityZones: ['us-east-1a', 'us-east-1b'],
      publicSubnetIds: ['subnet-a', 'subnet-b'], publicSubnetRouteTableIds: ['rtb-a', 'rtb-b'],
      privateSubnetIds: ['subnet-p', 'subnet-q'], privateSubnetRouteTableIds: ['rtb-p', 'rtb-q'],
    });
    const app = build();
    const given = app.addEnvironment('Private', { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } });
    const byDefault = app.addEnvironment('Public', { vpc });
    expect(app.environments).toEqual([given, byDefault]);
    const resources = Template.fromStack(stack).toJSON().Resources;
    const subnetsOf = (environment: typeof given) =>
      (resources[stack.getLogicalId(environment.environment)].Properties.OptionSettings as { OptionName: string; Value: unknown }[])
        .filter((o) => ['Subnets', 'AssociatePublicIpAddress'].includes(o.OptionName)).map((o) => o.Value);
    expect([subnetsOf(given), subnetsOf(byDefault)]).toEqual([['subnet-p,subnet-q', 'false'], ['subnet-a,subnet-b', 'true']]);
    // Both share the web instance role: its statement and acknowledgement are added once.
    const entries = (construct: IConstruct) => construct.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).length;
    expect([entries(app.instanceRole), entries(app.serviceRole)]).toEqual([1, 3]);
    // Managed updates on: only the log-rotation finding is acknowledged.
    expect(Object.keys(acknowledged(given.environment))).toEqual(['Annotation::AwsSolutions-EB4']);
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

  test('managedUpdates: false turns them off, acknowledged; a load-balanced web environment puts its ALB in the subnets', () => {
    const { stack, vpc, build } = setup();
    const app = build();
    const { environment } = app.addEnvironment('Web', { vpc, loadBalanced: {}, managedUpdates: false });
    const properties = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(environment)].Properties;
    const options = Object.fromEntries((properties.OptionSettings as { Namespace: string; OptionName: string; Value: unknown }[]).map((o) => [`${o.Namespace}/${o.OptionName}`, o.Value]));
    expect(options).toMatchObject({
      'aws:elasticbeanstalk:managedactions/ManagedActionsEnabled': 'false',
      'aws:elasticbeanstalk:environment/LoadBalancerType': 'application',
      'aws:ec2:vpc/ELBSubnets': 'subnet-a,subnet-b',
      'aws:elasticbeanstalk:environment/ServiceRole': { 'Fn::GetAtt': [stack.getLogicalId(app.serviceRole.node.defaultChild as CfnRole), 'Arn'] },
      'aws:autoscaling:launchconfiguration/IamInstanceProfile': { Ref: stack.getLogicalId(app.instanceProfile.node.defaultChild as CfnRole) },
    });
    expect(options['aws:elasticbeanstalk:managedactions/PreferredStartTime']).toBeUndefined();
    expect(properties).toMatchObject({ Tier: { Name: 'WebServer', Type: 'Standard' }, TemplateName: { Ref: stack.getLogicalId(app.savedConfiguration) }, VersionLabel: { Ref: stack.getLogicalId(app.version) } });
    expect(acknowledged(environment)).toEqual({
      'Annotation::AwsSolutions-EB3': 'managedUpdates: false was asked for; platform updates are applied by hand.',
      'Annotation::AwsSolutions-EB4':
        "Log rotation to S3 writes into Elastic Beanstalk's account-wide elasticbeanstalk-<region>-<account> bucket, " +
        'which no stack owns and which outlives the environment; logs are requested when needed (eb logs, RequestEnvironmentInfo).',
    });
    expect(acknowledged(app.instanceRole)).toEqual({
      [`Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticbeanstalk:<AWS::Region>:<AWS::AccountId>:environment/<${stack.getLogicalId(app.application)}>/*]`]: HEALTH_STATISTICS_REASON,
    });
    // the service role's managed policies, acknowledged once with the first environment
    expect(Object.keys(acknowledged(app.serviceRole)).slice(1)).toEqual([
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth]',
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy]',
    ]);
    expect(Object.values(acknowledged(app.serviceRole)).slice(1)).toEqual([
      "Elastic Beanstalk's own policy for reading the environment's Auto Scaling group, instances and load balancer to report enhanced health; AWS keeps it in step with the service.",
      'Managed platform updates (ServiceRoleForManagedUpdates) replace instances through the environment\'s own CloudFormation stack, which Elastic Beanstalk names at run time. ' +
        'The policy is wide: elasticbeanstalk:* on every resource, and iam:PassRole of any role to Elastic Beanstalk, EC2, Auto Scaling, ELB, ECS and CloudFormation; ' +
        'it is the policy AWS documents for this role and keeps in step with the calls updates make. Turn managed updates off (managedUpdates: false) to do without it.',
    ]);
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

  test("a worker's role: described, may use the cron leader table of its environment's stack, acknowledged with why; its own path", () => {
    const { stack, vpc, build } = setup();
    const app = build();
    const { environment, instanceRole } = app.addEnvironment('Worker', { vpc, worker: { queue: new sqs.Queue(stack, 'Jobs'), httpPath: '/jobs' } });
    const template = Template.fromStack(stack);
    const roleId = stack.getLogicalId(instanceRole.node.defaultChild as CfnRole);
    expect(template.toJSON().Resources[roleId].Properties).toMatchObject({
      Description: 'Elastic Beanstalk worker environment instances: health statistics, metrics, the worker queue, the cron leader table',
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }] },
    });
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [{ Ref: roleId }] });
    // The cron leader sends the cron.yaml jobs to the queue the daemon reads.
    template.hasResourceProperties('AWS::IAM::Policy', { Roles: [{ Ref: roleId }], PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']) })]) } });
    expect(template.toJSON().Resources[stack.getLogicalId(environment)].Properties.OptionSettings).toContainEqual({ Namespace: 'aws:elasticbeanstalk:sqsd', OptionName: 'HttpPath', Value: '/jobs' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':table/*-stack-AWSEBWorkerCronLeaderRegistry*']] },
        }]),
      },
    });
    expect(acknowledged(instanceRole)).toEqual({
      [`Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticbeanstalk:<AWS::Region>:<AWS::AccountId>:environment/<${stack.getLogicalId(app.application)}>/*]`]: HEALTH_STATISTICS_REASON,
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/*-stack-AWSEBWorkerCronLeaderRegistry*]':
        "The cron leader table belongs to the worker environment's own stack, named by Elastic Beanstalk when it creates the environment.",
      'Annotation::AwsSolutions-IAM5[Resource::*]': 'cloudwatch:PutMetricData has no resource-level permissions: the worker instances publish their health metrics.',
    });
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

  test('a lifecycle max age of 2.5 days', () => {
    expect(problemCodesOf(setup({ versionLifecycle: VersionLifecycle.maxAge(2.5) }).build)).toEqual(['BeanstalkApp.LifecycleMaxAgeRange']);
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
      ResourceLifecycleConfig: { VersionLifecycleConfig: { MaxAgeRule: { Enabled: true, MaxAgeInDays: 30, DeleteSourceFromS3: true }, MaxCountRule: Match.absent() } },
    });
    const app = stack.node.findChild('App') as BeanstalkApp;
    expect(Object.values(acknowledged(app.serviceRole))).toContain('deleteSourceFromS3: each deleted version takes its source bundle, whose key is known only when it is uploaded.');
    expect(VersionLifecycle.maxAge(30).deleteSourceFromS3).toBe(false);
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

  test('a single instance takes AllAtOnce or Immutable, and says so', () => {
    expect(DeploymentPolicy.immutable().name).toBe('Immutable');
    expect(environmentProblems({ deploymentPolicy: DeploymentPolicy.immutable() })).toEqual([]);
    expect(environmentProblems({ deploymentPolicy: DeploymentPolicy.rolling() })).toEqual([
      'BeanstalkApp.DeploymentPolicyNeedsLoadBalancer: deploymentPolicy Rolling needs a load-balanced environment (loadBalanced); a single instance supports AllAtOnce and Immutable',
    ]);
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
    expect(environmentProblems(rolling(50.5)).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.BatchSizeRange']);
  });

  test('the lab\'s list of policy names is the construct\'s', () => {
    expect([...DEPLOYMENT_POLICY_NAMES]).toEqual([...BEANSTALK_DEPLOYMENT_POLICIES]);
  });

  test('instance counts below 1 or a maximum below the minimum', () => {
    expect(environmentProblems({ loadBalanced: { minInstances: 0, maxInstances: 2 } })).toEqual([
      'BeanstalkApp.InstancesRange: loadBalanced.minInstances must be a whole number from 1 to 10000, got 0',
    ]);
    expect(environmentProblems({ loadBalanced: { minInstances: 1.5, maxInstances: 2.5 } }).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.InstancesRange', 'BeanstalkApp.InstancesRange']);
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
    expect(environmentProblems({ instanceType: 't3.micro', managedUpdates: { preferredStartTime: 'Sunday 10:00', updateLevel: 'minor' } })).toEqual([
      'BeanstalkApp.InstanceTypeNotArm64: instanceType must be a Graviton (arm64) type such as t4g.micro, got t3.micro',
      'BeanstalkApp.MaintenanceWindowFormat: managedUpdates.preferredStartTime must be Day:HH:MM in UTC (e.g. Sun:10:00), got "Sunday 10:00"',
    ]);
    // Anchored at both ends: nothing before the day or the family, nothing after the minutes or the size.
    for (const preferredStartTime of ['ASun:10:00', 'Sun:10:000']) {
      expect(environmentProblems({ managedUpdates: { preferredStartTime, updateLevel: 'minor' } }).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.MaintenanceWindowFormat']);
    }
    for (const instanceType of ['1t4g.micro', 't4g.micro-x']) {
      expect(environmentProblems({ instanceType }).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.InstanceTypeNotArm64']);
    }
    expect(environmentProblems({ instanceType: 'im4gn.large' })).toEqual([]);
    expect(environmentProblems({ rootVolumeGiB: 10.5 }).map((p) => p.split(':')[0])).toEqual(['BeanstalkApp.RootVolumeRange']);
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
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Looks up the recommended platform version of Node.js 22 running on 64bit Amazon Linux 2023 when the stack is deployed',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
    });
    expect(Object.values(template.findResources('AWS::Logs::LogGroup'))).toEqual([expect.objectContaining({ DeletionPolicy: 'Retain', Properties: { RetentionInDays: 30 } })]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^AppPlatformLookupRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AppPlatformLookupLogs'), 'Arn'] } })]) },
    });
  });

  test('the lookup runs again only when the branch changes, with the SDK of the runtime; its grant acknowledged with why', () => {
    const [lookup] = Object.values(template.findResources('Custom::AWS'));
    expect(lookup.Properties.InstallLatestAwsSdk).toBe(false);
    for (const call of [lookup.Properties.Create, lookup.Properties.Update]) {
      expect(JSON.parse(call)).toMatchObject({ physicalResourceId: { id: 'Node.js 22 running on 64bit Amazon Linux 2023' }, outputPaths: ['PlatformSummaryList.0.PlatformArn'] });
    }
    expect(acknowledged(app.node.findChild('PlatformLookup'))).toEqual({
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticbeanstalk:<AWS::Region>::platform/Node.js-22-running-on-64bit-Amazon-Linux-2023/*]':
        'The versions of the branch Node.js 22 running on 64bit Amazon Linux 2023: which one is recommended is what the lookup finds out at deploy time.',
    });
  });
});

test('a solution stack, or a platform ARN, is given to the saved configuration as is', () => {
  for (const [platform, expected] of [
    [BeanstalkPlatform.solutionStack('64bit Amazon Linux 2023 v6.10.0 running Node.js 22'), { SolutionStackName: '64bit Amazon Linux 2023 v6.10.0 running Node.js 22', PlatformArn: Match.absent() }],
    [BeanstalkPlatform.fromArn('arn:aws:elasticbeanstalk:us-east-1::platform/Node.js 22/6.10.0'), { PlatformArn: 'arn:aws:elasticbeanstalk:us-east-1::platform/Node.js 22/6.10.0', SolutionStackName: Match.absent() }],
  ] as const) {
    const { stack, build } = setup({ platform, versionLifecycle: false });
    build();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticBeanstalk::ConfigurationTemplate', expected);
    // versionLifecycle: false keeps every version, and the service role may delete none
    template.hasResourceProperties('AWS::ElasticBeanstalk::Application', { ResourceLifecycleConfig: Match.absent() });
    template.resourceCountIs('AWS::IAM::Policy', 0);
  }
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
