import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { labVpc } from '../support/lab-vpc';

export interface CfnInitInstanceProps {
  /** How long CloudFormation waits for the instance's cfn-signal before it fails the instance and rolls back. */
  readonly signalTimeout: Duration;
  /** The file cfn-init writes, which the exercise's README step reads back over the instance's console output. */
  readonly configuredFile: string;
}

/**
 * An EC2 instance configured by cfn-init. The instance's `AWS::CloudFormation::Init` metadata (files, then commands)
 * is what cfn-init applies; the user data runs cfn-init, then cfn-signal with its exit code, and the instance's
 * `CreationPolicy` makes CloudFormation wait for that signal: the stack completes only if the configuration succeeded.
 * A VPC of its own with one public subnet, no NAT gateway and a security group with no ingress: cfn-init and
 * cfn-signal only call out (to the CloudFormation API and the package repositories), through a public IPv4 address.
 */
export class CfnInitInstance extends Construct {
  public readonly instance: ec2.Instance;

  constructor(scope: Construct, id: string, props: CfnInitInstanceProps) {
    super(scope, id);
    const vpc = labVpc(this, 'Vpc', { subnets: 'public', maxAzs: 1 });
    const securityGroup = new ec2.SecurityGroup(this, 'OutboundOnly', {
      vpc,
      description: 'iac lab: cfn-init instance, no inbound traffic',
      allowAllOutbound: true,
    });

    this.instance = new ec2.Instance(this, 'Instance', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      associatePublicIpAddress: true,
      securityGroup,
      instanceType: new ec2.InstanceType('t4g.nano'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      httpTokens: ec2.HttpTokens.REQUIRED,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(8, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true }) }],
      init: ec2.CloudFormationInit.fromConfigSets({
        configSets: { default: ['files', 'commands'] },
        configs: {
          files: new ec2.InitConfig([
            ec2.InitFile.fromString(props.configuredFile, 'configured by cfn-init from the AWS::CloudFormation::Init metadata of IacLab\n'),
          ]),
          commands: new ec2.InitConfig([
            // Printed to the console output, which `aws ec2 get-console-output` shows without logging in.
            ec2.InitCommand.shellCommand(`echo "iac-lab: $(cat ${props.configuredFile})" > /dev/console`),
          ]),
        },
      }),
      initOptions: { configSets: ['default'], timeout: props.signalTimeout },
    });
    Validations.of(this.instance).acknowledge(
      { id: 'AwsSolutions-EC28', reason: 'Basic (5-minute) monitoring is enough for a lab instance; detailed monitoring bills $0.30 per metric per month.' },
      { id: 'AwsSolutions-EC29', reason: 'A disposable lab instance: cdk destroy must delete it, so no termination protection and no Auto Scaling group.' },
    );
  }
}
