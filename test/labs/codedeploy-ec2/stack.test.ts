import { Match } from 'aws-cdk-lib/assertions';
import { codedeployEc2Lab } from '../../../labs/codedeploy-ec2/lab';
import { CodedeployEc2LabStack } from '../../../labs/codedeploy-ec2/stack';
import { withStack } from '../../../labs/support/app';
import { labTemplate } from '../../support/lab-template';

const lab = withStack(codedeployEc2Lab, CodedeployEc2LabStack);
const idle = labTemplate(lab);
const withInstances = labTemplate(lab, { allFeatures: true });

describe('by default ($0 idle)', () => {
  test('an Auto Scaling group at capacity 0 in public subnets, no NAT gateway, no load balancer', () => {
    idle.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', MaxSize: '0' });
    idle.resourceCountIs('AWS::EC2::NatGateway', 0);
    idle.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    idle.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('the launch template: Amazon Linux 2023 arm64, t4g.micro, IMDSv2 required with one hop, an encrypted gp3 root volume', () => {
    idle.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        ImageId: { Ref: Match.stringLikeRegexp('al2023amikernel61arm64') },
        InstanceType: 't4g.micro',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 8, VolumeType: 'gp3' } }],
      }),
    });
  });

  test('one in-place group without traffic control; custom configurations keeping one host, and 75 %, healthy', () => {
    idle.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
    idle.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.OneAtATime', LoadBalancerInfo: Match.absent() });
    idle.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', { MinimumHealthyHosts: { Type: 'HOST_COUNT', Value: 1 } });
    idle.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', { MinimumHealthyHosts: { Type: 'FLEET_PERCENT', Value: 75 } });
  });

  test('the instances may send HTTPS out, and nothing else', () => {
    const egress = idle.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('^Sample app instances') } });
    expect(Object.values(egress).map((g) => g.Properties.SecurityGroupEgress)).toEqual([
      [{ CidrIp: '0.0.0.0/0', Description: 'HTTPS to AWS endpoints and dnf mirrors', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 }],
    ]);
  });

  test('outputs what the exercise reads, and no instance output', () => {
    expect(Object.keys(idle.toJSON().Outputs).sort()).toEqual(['ApplicationName', 'AutoScalingGroupName', 'CustomConfigName', 'InPlaceGroupName', 'RevisionBucketName', 'UnmeetableConfigName']);
  });

  test('the CodeDeploy service role has only AWSCodeDeployRole: no permission to copy the group without instances', () => {
    idle.resourcePropertiesCountIs('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'ec2:RunInstances' })]) } }, 0);
  });
});

describe('-c codedeploy-ec2:instances=true', () => {
  test('2 instances registered with the target group of an internet-facing ALB, which alone reaches them on port 80', () => {
    withInstances.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '2', MaxSize: '2', TargetGroupARNs: [{ Ref: Match.stringLikeRegexp('^TargetGroup') }] });
    withInstances.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    withInstances.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/version.txt',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }]),
    });
    withInstances.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InstanceSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoadBalancerSecurityGroup'), 'GroupId'] },
      FromPort: 80,
      ToPort: 80,
    });
  });

  test('one in-place group, no blue/green group (CloudFormation creates those for Lambda only), rolling back on the 5XX alarm', () => {
    withInstances.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
    withInstances.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      LoadBalancerInfo: { TargetGroupInfoList: [{ Name: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TargetGroup'), 'TargetGroupName'] } }] },
      AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: Match.stringLikeRegexp('^Target5xxAlarm') } }] },
      AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] },
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      BlueGreenDeploymentConfiguration: Match.absent(),
    });
    withInstances.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'HTTPCode_Target_5XX_Count', Threshold: 1, TreatMissingData: 'notBreaching' });
  });

  test('the exercise\'s blue/green group may copy the Auto Scaling group: launch from the template into the stack\'s subnets, tag at launch, pass the instance role to EC2', () => {
    const arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}/*`]] });
    const created = ['instance', 'volume', 'network-interface'].map(arn);
    const named = (resource: string, ref: object) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}/`, ref]] });
    const policies = Object.values(withInstances.findResources('AWS::IAM::Policy')).filter((p) => /^DeploymentServiceRole/.test(p.Properties.Roles[0].Ref));
    expect(policies).toHaveLength(1);
    const [runInstances, createTags, passRole] = policies[0].Properties.PolicyDocument.Statement;
    // The statement's resources in any order (CDK sorts them), each exactly once.
    expect(runInstances.Action).toBe('ec2:RunInstances');
    expect(runInstances.Resource).toHaveLength(8);
    expect(runInstances.Resource).toEqual(expect.arrayContaining([
      ...created,
      named('launch-template', { Ref: expect.stringMatching(/^LaunchTemplate/) }),
      named('security-group', { 'Fn::GetAtt': [expect.stringMatching(/^InstanceSecurityGroup/), 'GroupId'] }),
      named('subnet', { Ref: expect.stringMatching(/^VpcpublicSubnet1/) }),
      named('subnet', { Ref: expect.stringMatching(/^VpcpublicSubnet2/) }),
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, '::image/*']] },
    ]));
    expect(createTags).toEqual({ Effect: 'Allow', Action: 'ec2:CreateTags', Resource: expect.arrayContaining(created), Condition: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } } });
    expect(createTags.Resource).toHaveLength(3);
    expect(passRole).toEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^InstanceRole/), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  });

  test('outputs what the blue-green and alarm-rollback steps need', () => {
    const outputs = withInstances.toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual([
      'ApplicationName', 'AutoScalingGroupName', 'CustomConfigName', 'InPlaceGroupName', 'LoadBalancerUrl', 'RevisionBucketName',
      'RollbackAlarmName', 'ServiceRoleArn', 'TargetGroupName', 'UnmeetableConfigName',
    ]);
    expect(outputs.ServiceRoleArn.Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DeploymentServiceRole/), 'Arn'] });
  });
});
