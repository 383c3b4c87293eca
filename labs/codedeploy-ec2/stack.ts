import { Duration, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { HealthyHosts, ServerDeployment } from '../../lib/server-deployment';
import { withCdkDurations } from '../support/cdk-duration';
import { labBucket } from '../support/lab-bucket';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { labVpc } from '../support/lab-vpc';
import { CODEDEPLOY_EC2_LAB as LAB_SPEC } from './constants';
import type { codedeployEc2Lab } from './lab';

/** The shared constants (./constants.ts) with CDK durations. */
const LAB = withCdkDurations(LAB_SPEC);

/**
 * CodeDeploy on EC2: an application with an in-place deployment group (and, with instances, a blue/green one) for an
 * Auto Scaling group of Amazon Linux 2023 arm64 instances that require IMDSv2, a revision bucket, a custom deployment
 * configuration, and automatic rollback. Without `-c codedeploy-ec2:instances=true` the group has no instances.
 */
export class CodedeployEc2LabStack extends LabStack<typeof codedeployEc2Lab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const withInstances = this.feature('instances');

    const revisions = labBucket(this, 'Revisions', {
      expiration: LAB.revisionExpiration,
      withoutAccessLogs: 'Revisions are uploaded by the learner\'s own exercise runs and read by the lab\'s instances only.',
    });

    // Public subnets only: the instances reach CodeDeploy and S3 through the internet gateway, without a NAT gateway.
    const vpc = labVpc(this, 'Vpc', { subnets: 'public', maxAzs: 2 });
    const instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc,
      description: 'Sample app instances: HTTP from the load balancer only; outbound HTTPS to CodeDeploy, S3 and dnf mirrors',
      allowAllOutbound: false,
    });
    // Every endpoint the instances call (CodeDeploy, S3, the agent installer, the Amazon Linux repositories) is HTTPS
    // on public addresses; IMDS and the VPC's DNS resolver are not subject to security groups.
    instanceSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS endpoints and dnf mirrors');

    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'CodeDeploy lab instances: read revisions and the CodeDeploy agent installer',
    });
    const userData = ec2.UserData.forLinux();
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      instanceType: new ec2.InstanceType(LAB.instanceType),
      role: instanceRole,
      securityGroup: instanceSecurityGroup,
      userData,
      // IMDSv1 off: a request must first PUT for a session token, which an SSRF-style GET through the app cannot do.
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(LAB.rootVolumeGb, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true }) }],
    });
    const capacity = withInstances ? LAB.instances : 0;
    const fleet = new autoscaling.AutoScalingGroup(this, 'Fleet', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate,
      minCapacity: capacity,
      maxCapacity: capacity,
    });
    Validations.of(fleet).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'The stack fixes the group\'s size (minimum = maximum) and no policy scales it; the exercise prints every ' +
        'deployment\'s instances, and notifications would need a topic nobody reads.',
    });

    let targetGroup: elbv2.ApplicationTargetGroup | undefined;
    let rollbackAlarms: cloudwatch.Alarm[] = [];
    const outputs: Record<string, string> = {};
    if (withInstances) {
      const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', { vpc, internetFacing: true, dropInvalidHeaderFields: true });
      Validations.of(loadBalancer).acknowledge({
        id: 'AwsSolutions-ELB2',
        reason:
          'Access logs need a bucket policy naming the ELB log-delivery account of the Region, and CDK refuses logAccessLogs ' +
          'in a Region-agnostic stack like this one ("Region is required"); the VPC flow logs record rejected traffic instead.',
      });
      Validations.of(loadBalancer).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: 'A public demo endpoint the learner opens from a browser whose address the stack cannot know; the instances accept HTTP from the load balancer only.',
      });
      targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
        vpc,
        port: LAB.appPort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targets: [fleet],
        // CodeDeploy's BlockTraffic waits for the deregistration delay: 300 s by default, 10 s here.
        deregistrationDelay: Duration.seconds(10),
        healthCheck: { path: LAB.healthPath, interval: Duration.seconds(10), healthyThresholdCount: 2 },
      });
      loadBalancer.addListener('Http', { port: LAB.appPort, open: true, defaultTargetGroups: [targetGroup] });
      instanceSecurityGroup.connections.allowFrom(loadBalancer, ec2.Port.tcp(LAB.appPort), 'HTTP from the load balancer');

      const errors = new cloudwatch.Alarm(this, 'Target5xxAlarm', {
        alarmDescription: 'The sample app answered 5XX through the load balancer: stops the deployment and rolls it back',
        metric: targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: Duration.minutes(1), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      rollbackAlarms = [errors];
      outputs.LoadBalancerUrl = `http://${loadBalancer.loadBalancerDnsName}/`;
      outputs.TargetGroupName = targetGroup.targetGroupName;
      outputs.RollbackAlarmName = errors.alarmName;
    }

    const deployment = new ServerDeployment(this, 'Deployment', {
      autoScalingGroup: fleet,
      userData,
      instanceRole,
      revisionBucket: revisions,
      revisionPrefix: LAB.revisionPrefix,
      // 75 % of 2 instances rounds up to 2: nothing may go out of service, so a deployment fails at once.
      customConfigs: { OneHealthyHost: HealthyHosts.count(1), ThreeQuartersHealthy: HealthyHosts.percentage(LAB.unmeetablePercent) },
      targetGroup,
      rollbackAlarms,
    });
    if (withInstances) {
      this.allowCopyingTheGroup(deployment.serviceRole, instanceRole, launchTemplate, instanceSecurityGroup, vpc.publicSubnets);
      outputs.ServiceRoleArn = deployment.serviceRole.roleArn;
    }

    this.addOutputs({
      ApplicationName: deployment.application.applicationName,
      InPlaceGroupName: deployment.inPlaceGroup.deploymentGroupName,
      CustomConfigName: deployment.customConfigs.OneHealthyHost.deploymentConfigName,
      UnmeetableConfigName: deployment.customConfigs.ThreeQuartersHealthy.deploymentConfigName,
      RevisionBucketName: revisions.bucketName,
      AutoScalingGroupName: fleet.autoScalingGroupName,
      ...outputs,
    });
  }

  /**
   * The exercise's blue/green group copies the Auto Scaling group: CodeDeploy runs the copy's instances from the
   * launch template, tags them, and passes the instances' role (CodeDeploy user guide, "Create a service role for
   * CodeDeploy", launch templates): AWSCodeDeployRole has none of it. The instances, volumes and network interfaces
   * do not exist yet; the template, its security group and the subnets are named, the image by its owner-less ARN.
   */
  private allowCopyingTheGroup(
    serviceRole: iam.IRole, instanceRole: iam.IRole, launchTemplate: ec2.LaunchTemplate, securityGroup: ec2.ISecurityGroup, subnets: readonly ec2.ISubnet[],
  ): void {
    const ec2Arn = (resource: string) => this.formatArn({ service: 'ec2', resource, resourceName: '*' });
    const created = ['instance', 'volume', 'network-interface'].map(ec2Arn);
    const policy = new iam.Policy(this, 'CopyAutoScalingGroup', {
      statements: [
        new iam.PolicyStatement({
          actions: ['ec2:RunInstances'],
          resources: [
            ...created,
            this.formatArn({ service: 'ec2', resource: 'launch-template', resourceName: launchTemplate.launchTemplateId }),
            this.formatArn({ service: 'ec2', resource: 'security-group', resourceName: securityGroup.securityGroupId }),
            ...subnets.map((subnet) => this.formatArn({ service: 'ec2', resource: 'subnet', resourceName: subnet.subnetId })),
            // Public images have no account in their ARN.
            this.formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' }),
          ],
        }),
        new iam.PolicyStatement({
          actions: ['ec2:CreateTags'],
          resources: created,
          conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
        }),
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [instanceRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        }),
      ],
    });
    policy.attachToRole(serviceRole);
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]',
      reason: 'The copy\'s instances are launched, and tagged at launch only (ec2:CreateAction), by CodeDeploy: their ids do not exist before.',
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*]',
      reason: 'The root volumes of the copy\'s instances are created with them, tagged at launch only: no id to name before.',
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
      reason: 'The network interfaces of the copy\'s instances are created with them, tagged at launch only: no id to name before.',
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::image/*]',
      reason: 'The launch template reads the latest Amazon Linux 2023 image from SSM at deploy time: its id changes with each release.',
    });
  }
}
