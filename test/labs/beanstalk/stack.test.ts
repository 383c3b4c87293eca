import { Match, Template } from 'aws-cdk-lib/assertions';
import { beanstalkLab } from '../../../labs/beanstalk/lab';
import { BEANSTALK_LAB } from '../../../labs/beanstalk/constants';
import { BeanstalkLabStack } from '../../../labs/beanstalk/stack';
import { withStack } from '../../../labs/support/app';
import { ConstructValidationError } from '../../../lib/core/validation';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

const lab = withStack(beanstalkLab, BeanstalkLabStack);
const template = labTemplate(lab);
const withEverything = labTemplate(lab, { allFeatures: true });

/** The lab with the web environment and the given context parameters, without cdk-nag or validation. */
const webEnvironmentWith = (context: Record<string, string>) =>
  Template.fromStack(new BeanstalkLabStack(testApp({ 'beanstalk:environment': 'true', ...context }, { builtinCloudFormationValidation: false }), { lab }));

const optionsOf = (t: Template, tier: string) => {
  const [environment] = Object.values(t.findResources('AWS::ElasticBeanstalk::Environment', { Properties: { Tier: { Name: tier } } }));
  return Object.fromEntries(
    (environment.Properties.OptionSettings as { Namespace: string; OptionName: string; Value: unknown }[]).map((o) => [`${o.Namespace}/${o.OptionName}`, o.Value]),
  );
};

describe('by default ($0 idle)', () => {
  test('an application whose lifecycle policy keeps 5 versions and leaves their bundles in S3', () => {
    template.hasResourceProperties('AWS::ElasticBeanstalk::Application', {
      ResourceLifecycleConfig: {
        ServiceRole: { 'Fn::GetAtt': [Match.stringLikeRegexp('ServiceRole'), 'Arn'] },
        VersionLifecycleConfig: { MaxCountRule: { Enabled: true, MaxCount: BEANSTALK_LAB.maxVersions, DeleteSourceFromS3: false } },
      },
    });
  });

  test('a version from the zipped source bundle asset, and a saved configuration on the Node.js 22 branch\'s recommended version, looked up at deploy time', () => {
    template.hasResourceProperties('AWS::ElasticBeanstalk::ApplicationVersion', {
      SourceBundle: { S3Bucket: Match.anyValue(), S3Key: Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$') },
    });
    const [lookupId] = Object.keys(template.findResources('Custom::AWS'));
    expect(JSON.stringify(template.toJSON().Resources[lookupId].Properties.Create)).toContain(BEANSTALK_LAB.platformBranch);
    template.hasResourceProperties('AWS::ElasticBeanstalk::ConfigurationTemplate', {
      PlatformArn: { 'Fn::GetAtt': [lookupId, 'PlatformSummaryList.0.PlatformArn'] },
      OptionSettings: [{ Namespace: BEANSTALK_LAB.precedence.namespace, OptionName: 'GREETING', Value: BEANSTALK_LAB.precedence.savedConfiguration }],
    });
  });

  test('the service role trusts Elastic Beanstalk with its external id and may only delete this application\'s versions', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'elasticbeanstalk.amazonaws.com' }, Condition: { StringEquals: { 'sts:ExternalId': 'elasticbeanstalk' } } }],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{
          Action: 'elasticbeanstalk:DeleteApplicationVersion',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', Match.arrayWith([':applicationversion/', { Ref: Match.stringLikeRegexp('Application') }, '/*'])] },
        }],
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('ManagedPolicyArns');
    template.resourcePropertiesCountIs('AWS::ElasticBeanstalk::Application', {}, 1);
  });

  test('no environment, no VPC, no queue; outputs what the exercise reads', () => {
    template.resourceCountIs('AWS::ElasticBeanstalk::Environment', 0);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(['ApplicationName', 'SavedConfigurationName', 'SourceBundleBucket', 'SourceBundleKey', 'VersionLabel']);
  });
});

describe('with -c beanstalk:environment=true, -c beanstalk:load-balanced=true and -c beanstalk:worker=true', () => {
  const web = optionsOf(withEverything, 'WebServer');
  const worker = optionsOf(withEverything, 'Worker');

  test('the web environment is load-balanced: an ALB in both public subnets and 2 instances; the worker is a single instance', () => {
    expect(web).toMatchObject({
      'aws:elasticbeanstalk:environment/EnvironmentType': 'LoadBalanced',
      'aws:elasticbeanstalk:environment/LoadBalancerType': 'application',
      'aws:autoscaling:asg/MinSize': String(BEANSTALK_LAB.loadBalancedInstances),
      'aws:autoscaling:asg/MaxSize': String(BEANSTALK_LAB.loadBalancedInstances),
      'aws:ec2:vpc/ELBSubnets': { 'Fn::Join': ['', [{ Ref: expect.stringMatching(/^VpcpublicSubnet1/) }, ',', { Ref: expect.stringMatching(/^VpcpublicSubnet2/) }]] },
    });
    expect(worker['aws:elasticbeanstalk:environment/EnvironmentType']).toBe('SingleInstance');
    withEverything.resourceCountIs('AWS::ElasticBeanstalk::Environment', 2);
  });

  test('each instance is an arm64 t4g.micro with IMDSv2 only and a 10 GB gp3 root volume, in the lab VPC\'s public subnets', () => {
    for (const options of [web, worker]) {
      expect(options).toMatchObject({
        'aws:ec2:instances/InstanceTypes': 't4g.micro',
        'aws:ec2:instances/SupportedArchitectures': 'arm64',
        'aws:autoscaling:launchconfiguration/DisableIMDSv1': 'true',
        'aws:autoscaling:launchconfiguration/RootVolumeType': 'gp3',
        'aws:autoscaling:launchconfiguration/RootVolumeSize': '10',
        'aws:ec2:vpc/VPCId': { Ref: expect.stringMatching('^Vpc') },
        'aws:ec2:vpc/AssociatePublicIpAddress': 'true',
      });
    }
    withEverything.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  test('enhanced health and managed platform updates (minor, Sundays 10:00 UTC) on both', () => {
    for (const options of [web, worker]) {
      expect(options).toMatchObject({
        'aws:elasticbeanstalk:healthreporting:system/SystemType': 'enhanced',
        'aws:elasticbeanstalk:managedactions/ManagedActionsEnabled': 'true',
        'aws:elasticbeanstalk:managedactions/PreferredStartTime': 'Sun:10:00',
        'aws:elasticbeanstalk:managedactions:platformupdate/UpdateLevel': 'minor',
      });
    }
  });

  test('both start from the saved configuration and the stack\'s version; the precedence option is not applied directly', () => {
    withEverything.resourcePropertiesCountIs('AWS::ElasticBeanstalk::Environment', {
      TemplateName: { Ref: Match.stringLikeRegexp('SavedConfiguration') },
      VersionLabel: { Ref: Match.stringLikeRegexp('Version') },
    }, 2);
    expect(web['aws:elasticbeanstalk:application:environment/GREETING']).toBeUndefined();
    expect(web['aws:elasticbeanstalk:command/DeploymentPolicy']).toBe('AllAtOnce');
    expect(web['aws:elasticbeanstalk:managedactions/ServiceRoleForManagedUpdates']).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AppServiceRole/), 'Arn'] });
  });

  test('the worker reads the lab queue (which has a DLQ) and posts to /jobs; its instances may use only that queue', () => {
    withEverything.hasResourceProperties('AWS::ElasticBeanstalk::Environment', { Tier: { Name: 'Worker', Type: 'SQS/HTTP' } });
    expect(worker).toMatchObject({
      'aws:elasticbeanstalk:sqsd/WorkerQueueURL': { Ref: expect.stringMatching('^WorkerJobsQueue') },
      'aws:elasticbeanstalk:sqsd/HttpPath': '/jobs',
    });
    withEverything.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 300, RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }) });
    withEverything.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkerJobsQueue'), 'Arn'] } })]) },
    });
    expect(web['aws:elasticbeanstalk:sqsd/WorkerQueueURL']).toBeUndefined();
  });

  test('the instances of each role report health statistics for this application\'s environments only', () => {
    const statements = Object.values(withEverything.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown }[])
      .filter((s) => s.Action === 'elasticbeanstalk:PutInstanceStatistics');
    expect(statements).toHaveLength(2);
    for (const statement of statements) {
      expect(statement.Resource).toEqual([
        { 'Fn::Join': ['', expect.arrayContaining([':application/', { Ref: expect.stringMatching(/^AppApplication/) }])] },
        { 'Fn::Join': ['', expect.arrayContaining([':environment/', { Ref: expect.stringMatching(/^AppApplication/) }, '/*'])] },
      ]);
    }
  });

  test('outputs the environments, the web URL and the worker queues', () => {
    expect(withEverything.toJSON().Outputs).toMatchObject({
      WebEnvironmentName: { Value: { Ref: expect.stringMatching('Web') } },
      WebEnvironmentUrl: { Value: { 'Fn::GetAtt': [expect.stringMatching('Web'), 'EndpointURL'] } },
      WorkerEnvironmentName: { Value: { Ref: expect.stringMatching('Worker') } },
      WorkerQueueUrl: expect.anything(),
      WorkerDlqUrl: expect.anything(),
    });
  });
});

describe('context parameters', () => {
  test('-c beanstalk:deployment-policy=RollingWithAdditionalBatch (load-balanced) and -c beanstalk:platform=... (pinned: no lookup) reach the template', () => {
    const t = webEnvironmentWith({
      'beanstalk:load-balanced': 'true', 'beanstalk:deployment-policy': 'RollingWithAdditionalBatch', 'beanstalk:platform': 'Node.js 24 running on 64bit Amazon Linux 2023/6.12.0',
    });
    expect(optionsOf(t, 'WebServer')['aws:elasticbeanstalk:command/DeploymentPolicy']).toBe('RollingWithAdditionalBatch');
    t.hasResourceProperties('AWS::ElasticBeanstalk::ConfigurationTemplate', {
      PlatformArn: { 'Fn::Join': ['', Match.arrayWith(['::platform/Node.js 24 running on 64bit Amazon Linux 2023/6.12.0'])] },
    });
    t.resourceCountIs('Custom::AWS', 0);
  });

  test('a policy the single instance cannot use is refused with its code, naming the two it can', () => {
    let error: unknown;
    try {
      webEnvironmentWith({ 'beanstalk:deployment-policy': 'Rolling' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConstructValidationError);
    expect((error as ConstructValidationError).problems).toEqual([{
      code: 'BeanstalkApp.DeploymentPolicyNeedsLoadBalancer',
      message: 'deploymentPolicy Rolling needs a load-balanced environment (loadBalanced); a single instance supports AllAtOnce and Immutable',
    }]);
  });

  test('a policy name or platform that does not match the declared pattern is refused before synth', () => {
    expect(() => webEnvironmentWith({ 'beanstalk:deployment-policy': 'BlueGreen' })).toThrow(
      'context beanstalk:deployment-policy must be one of AllAtOnce, Rolling, RollingWithAdditionalBatch, Immutable, TrafficSplitting, got "BlueGreen"',
    );
    expect(() => webEnvironmentWith({ 'beanstalk:platform': '64bit Amazon Linux 2023 v6.11.3 running Node.js 22' })).toThrow(/context beanstalk:platform must be a platform name and version/);
  });
});
