import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { HealthyHosts, SERVER_DEPLOYMENT_LIMITS, ServerDeployment, ServerDeploymentProps } from '../../lib/server-deployment';
import { testApp } from '../support/synth';
import { problemCodesOf, validationErrorOf } from '../support/validation';

/** The cdk-nag rules acknowledged on a construct, as `{ id: reason }`. */
const acknowledgedRules = (construct: { node: Stack['node'] }) =>
  construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data as Record<string, string>);

function setup() {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const instanceRole = new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  const userData = ec2.UserData.forLinux();
  const launchTemplate = new ec2.LaunchTemplate(stack, 'LaunchTemplate', {
    machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
    instanceType: new ec2.InstanceType('t4g.micro'),
    role: instanceRole,
    userData,
  });
  const fleet = new autoscaling.AutoScalingGroup(stack, 'Fleet', { vpc, launchTemplate, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } });
  const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Web', { vpc, port: 80, targets: [fleet] });
  const revisionBucket = new s3.Bucket(stack, 'Revisions');
  const base: ServerDeploymentProps = { autoScalingGroup: fleet, userData, instanceRole, revisionBucket };
  const alarm = (n: number) => new cloudwatch.Alarm(stack, `Alarm${n}`, { metric: new cloudwatch.Metric({ namespace: 'Lab', metricName: 'Errors' }), threshold: 1, evaluationPeriods: 1 });
  return { stack, base, targetGroup, alarm, userData };
}

describe('in place, no load balancer', () => {
  const { stack, base, userData } = setup();
  const deployment = new ServerDeployment(stack, 'Deploy', { ...base, customConfigs: { OneHealthy: HealthyHosts.count(1), Half: HealthyHosts.percentage(50) } });
  const template = Template.fromStack(stack);

  test('one in-place group, one host at a time, rolled back when a deployment fails or is stopped; no blue/green group', () => {
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.OneAtATime',
      AutoScalingGroups: [{ Ref: Match.stringLikeRegexp('^FleetASG') }],
      AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] },
      LoadBalancerInfo: Match.absent(),
      DeploymentStyle: Match.absent(),
      BlueGreenDeploymentConfiguration: Match.absent(),
    });
  });

  test('CodeDeploy assumes a role with the managed AWSCodeDeployRole and nothing else', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'CodeDeploy: reads the Auto Scaling group and target group, registers and deregisters instances',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'codedeploy.amazonaws.com' } })] },
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSCodeDeployRole']] }],
    });
    const policiesOfServiceRole = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes('DeployServiceRole'));
    expect(policiesOfServiceRole).toEqual([]);
  });

  test('custom configurations by host count and by percentage', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', { MinimumHealthyHosts: { Type: 'HOST_COUNT', Value: 1 } });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', { MinimumHealthyHosts: { Type: 'FLEET_PERCENT', Value: 50 } });
    expect(Object.keys(deployment.customConfigs)).toEqual(['OneHealthy', 'Half']);
  });

  test('the instances may read revisions under the prefix and the agent bucket of their Region, nothing else', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^DeployInstanceAccess'),
      Roles: [{ Ref: Match.stringLikeRegexp('^InstanceRole') }],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Revisions'), 'Arn'] }, '/revisions/*']] } },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::aws-codedeploy-', { Ref: 'AWS::Region' }, '/*']] } },
        ],
      },
    });
    expect(stack.resolve(deployment.instanceAccessPolicy.policyName)).toMatch(/^DeployInstanceAccess/);
  });

  test('acknowledges the cdk-nag findings on the managed service role policy and the two read-only wildcards, each with why', () => {
    expect(acknowledgedRules(deployment.serviceRole)).toEqual([
      {
        'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRole]':
          expect.stringMatching(/^AWSCodeDeployRole is the service role policy CodeDeploy documents.*SNS triggers, kept current by AWS/),
      },
    ]);
    const revisionsArn = `<${stack.getLogicalId(base.revisionBucket.node.defaultChild as s3.CfnBucket)}.Arn>`;
    expect(acknowledgedRules(deployment.instanceAccessPolicy)).toEqual([
      { [`Annotation::AwsSolutions-IAM5[Resource::${revisionsArn}/revisions/*]`]: expect.stringMatching(/^Revision keys are chosen at upload time/) },
      { 'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::aws-codedeploy-<AWS::Region>/*]': expect.stringMatching(/^The agent installer fetches/) },
    ]);
  });

  describe('user data', () => {
    // The Region is a token until CloudFormation resolves it.
    const script = userData.render().replace(/\$\{Token\[[^\]]+\]\}/g, 'us-east-1');

    test('installs the agent from the Region\'s bucket and starts it, stopping at the first failing command', () => {
      expect(script).toContain('set -euo pipefail\ndnf install -y ruby wget\ncd /tmp\n');
      expect(script).toContain('wget -q -O install https://aws-codedeploy-us-east-1.s3.us-east-1.amazonaws.com/latest/install');
      expect(script).toContain('./install auto\nsystemctl enable --now codedeploy-agent');
      expect(spawnSync('bash', ['-n', '-c', script]).status).toBe(0);
    });

    /** Runs the user data with dnf, wget, sleep and systemctl as stubs; wget fails its first `failures` calls. */
    function boot(failures: number) {
      const dir = mkdtempSync(path.join(tmpdir(), 'server-deployment-'));
      try {
        const stub = (name: string, body: string) => {
          writeFileSync(path.join(dir, name), `#!/bin/bash\necho "${name} $*" >> "${dir}/calls"\n${body}\n`);
          chmodSync(path.join(dir, name), 0o755);
        };
        stub('dnf', '');
        stub('sleep', '');
        stub('systemctl', '');
        stub('wget', `n=$(grep -c '^wget' "${dir}/calls"); [ "$n" -gt ${failures} ] || exit 4; printf '#!/bin/bash\\necho "install $*" >> "${dir}/calls"\\n' > install`);
        const result = spawnSync('bash', ['-c', script.replace('cd /tmp', `cd "${dir}"`)], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
        const calls = spawnSync('cat', [path.join(dir, 'calls')], { encoding: 'utf8' }).stdout.trim().split('\n').map((c) => c.split(' ')[0] + (c.startsWith('install') ? ' auto' : ''));
        return { status: result.status, calls };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    test('retries the installer download, then installs and starts the agent', () => {
      expect(boot(2)).toEqual({ status: 0, calls: ['dnf', 'wget', 'sleep', 'wget', 'sleep', 'wget', 'install auto', 'systemctl'] });
    });

    test('gives up after 5 failed downloads and fails the boot script without installing anything', () => {
      const { status, calls } = boot(5);
      expect(status).toBe(1);
      expect(calls.filter((c) => c === 'wget')).toHaveLength(5);
      expect(calls).not.toContain('install auto');
      expect(calls).not.toContain('systemctl');
    });
  });
});

test('the revisions of a bucket whose ARN cdk-nag cannot name are left for its user to acknowledge', () => {
  const { stack, base } = setup();
  const deployment = new ServerDeployment(stack, 'Deploy', { ...base, revisionBucket: s3.Bucket.fromBucketName(stack, 'Imported', 'revisions-bucket') });
  expect(acknowledgedRules(deployment.instanceAccessPolicy).map((rule) => Object.keys(rule))).toEqual([
    ['Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::aws-codedeploy-<AWS::Region>/*]'],
  ]);
});

describe('an imported Auto Scaling group without user data', () => {
  test('is deployed to, and no agent commands are added anywhere', () => {
    const { stack, base } = setup();
    const imported = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Imported', 'existing-fleet');
    new ServerDeployment(stack, 'Deploy', { ...base, autoScalingGroup: imported, userData: undefined });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { AutoScalingGroups: ['existing-fleet'] });
    expect(JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'))).not.toContain('codedeploy-agent');
  });
});

describe('behind a target group, with alarms', () => {
  const { stack, base, targetGroup, alarm } = setup();
  new ServerDeployment(stack, 'Deploy', { ...base, targetGroup, rollbackAlarms: [alarm(1)] });
  const template = Template.fromStack(stack);

  test('the one in-place group blocks and allows traffic through the target group and rolls back on the alarm', () => {
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      LoadBalancerInfo: { TargetGroupInfoList: [{ Name: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Web'), 'TargetGroupName'] } }] },
      AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: Match.stringLikeRegexp('^Alarm1') } }] },
      AutoRollbackConfiguration: { Enabled: true, Events: Match.arrayWith(['DEPLOYMENT_STOP_ON_ALARM']) },
      BlueGreenDeploymentConfiguration: Match.absent(),
    });
  });
});

describe('invalid props', () => {
  const codes = (props: Partial<ServerDeploymentProps>) => {
    const { stack, base } = setup();
    return problemCodesOf(() => new ServerDeployment(stack, 'Deploy', { ...base, ...props }));
  };
  const { max } = SERVER_DEPLOYMENT_LIMITS.minHealthyPercent;

  test.each<[string, HealthyHosts, string[]]>([
    ['0 %', HealthyHosts.percentage(0), []],
    [`${max} %`, HealthyHosts.percentage(max), []],
    [`${max + 1} %`, HealthyHosts.percentage(max + 1), ['ServerDeployment.MinimumHealthyPercentRange']],
    ['-1 %', HealthyHosts.percentage(-1), ['ServerDeployment.MinimumHealthyPercentRange']],
    ['50.5 %', HealthyHosts.percentage(50.5), ['ServerDeployment.MinimumHealthyPercentRange']],
    ['0 hosts', HealthyHosts.count(0), []],
    ['-1 hosts', HealthyHosts.count(-1), ['ServerDeployment.MinimumHealthyCountRange']],
    ['1.5 hosts', HealthyHosts.count(1.5), ['ServerDeployment.MinimumHealthyCountRange']],
  ])('minimum healthy hosts of %s', (_name, hosts, expected) => {
    expect(codes({ customConfigs: { Custom: hosts } })).toEqual(expected);
  });

  test('at most 10 rollback alarms', () => {
    const { stack, base, alarm } = setup();
    const alarms = Array.from({ length: SERVER_DEPLOYMENT_LIMITS.maxRollbackAlarms + 1 }, (_, i) => alarm(i));
    expect(problemCodesOf(() => new ServerDeployment(stack, 'Ten', { ...base, rollbackAlarms: alarms.slice(1) }))).toEqual([]);
    expect(problemCodesOf(() => new ServerDeployment(stack, 'Eleven', { ...base, rollbackAlarms: alarms }))).toEqual(['ServerDeployment.TooManyRollbackAlarms']);
  });

  const prefixes = { ...setup(), cases: 0 };
  test.each<[string, string, string[]]>([
    ['revisions/', 'revisions/', []],
    ['a/', 'a/', []],
    ['empty', '', ['ServerDeployment.RevisionPrefixInvalid']],
    ['/ alone', '/', ['ServerDeployment.RevisionPrefixInvalid']],
    ['without a trailing /', 'revisions', ['ServerDeployment.RevisionPrefixInvalid']],
  ])('a revision prefix %s', (_name, revisionPrefix, expected) => {
    // One stack for all cases: each gets its own construct id.
    prefixes.cases += 1;
    expect(problemCodesOf(() => new ServerDeployment(prefixes.stack, `Prefix${prefixes.cases}`, { ...prefixes.base, revisionPrefix }))).toEqual(expected);
  });

  test('a negative host count and too many alarms, by message', () => {
    const { stack, base, alarm } = setup();
    const alarms = Array.from({ length: SERVER_DEPLOYMENT_LIMITS.maxRollbackAlarms + 1 }, (_, i) => alarm(i));
    expect(validationErrorOf(() => new ServerDeployment(stack, 'Deploy', { ...base, customConfigs: { Few: HealthyHosts.count(-1) }, rollbackAlarms: alarms })).problems).toEqual([
      { code: 'ServerDeployment.MinimumHealthyCountRange', message: 'customConfigs.Few: a minimum healthy host count must be a whole number of at least 0, got -1' },
      { code: 'ServerDeployment.TooManyRollbackAlarms', message: 'a deployment group watches at most 10 alarms, got 11' },
    ]);
  });

  test('every problem at once, with what to change: a percentage above 100, an empty revision prefix', () => {
    const { stack, base } = setup();
    const error = validationErrorOf(() => new ServerDeployment(stack, 'Deploy', {
      ...base,
      customConfigs: { TooMany: HealthyHosts.percentage(101) },
      revisionPrefix: '',
    }));
    expect(error.problems.map((p) => `${p.code}: ${p.message}`)).toEqual([
      'ServerDeployment.MinimumHealthyPercentRange: customConfigs.TooMany: a minimum healthy percentage must be a whole number from 0 to 100, got 101',
      'ServerDeployment.RevisionPrefixInvalid: revisionPrefix must be a key prefix ending in \'/\' (e.g. \'revisions/\'), got ""',
    ]);
  });
});
