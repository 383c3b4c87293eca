import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { HealthyHosts, ServerDeployment } from '../../../lib/server-deployment';

/** An Auto Scaling group behind an ALB, deployed in place one host at a time, with the agent installed by user data. */
export function build(stack: Stack): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const role = new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  const userData = ec2.UserData.forLinux();
  const launchTemplate = new ec2.LaunchTemplate(stack, 'LaunchTemplate', {
    machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
    instanceType: new ec2.InstanceType('t4g.micro'),
    role,
    securityGroup: new ec2.SecurityGroup(stack, 'Instances', { vpc }),
    userData,
    requireImdsv2: true,
  });
  const fleet = new autoscaling.AutoScalingGroup(stack, 'Fleet', { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, launchTemplate, minCapacity: 2, maxCapacity: 2 });
  const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Web', { vpc, port: 80, targets: [fleet], deregistrationDelay: Duration.seconds(30) });
  new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true }).addListener('Http', { port: 80, defaultTargetGroups: [targetGroup] });
  const revisions = new s3.Bucket(stack, 'Revisions', { enforceSSL: true, removalPolicy: RemovalPolicy.RETAIN });

  new ServerDeployment(stack, 'Deploy', {
    autoScalingGroup: fleet,
    userData,
    instanceRole: role,
    revisionBucket: revisions,
    customConfigs: { ThreeQuarters: HealthyHosts.percentage(75) },
    targetGroup,
  });
}
