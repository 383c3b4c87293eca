import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { vpcFunctionInterfaces } from '../../../labs/support/vpc-function-interfaces';
import { testApp } from '../../support/synth';

const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Interfaces', { env: { account: '111122223333', region: 'eu-west-1' } });
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-a', 'subnet-b'] });
const group = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Group', 'sg-1');
const { statements, acknowledge } = vpcFunctionInterfaces(stack, { vpc, subnets: vpc.privateSubnets, securityGroups: [group] });
const policy = new iam.Policy(stack, 'Policy', { statements });
acknowledge(policy);

const arn = (resource: string) => `arn:${stack.partition}:ec2:eu-west-1:111122223333:${resource}`;
const inVpc = { ArnEqualsIfExists: { 'ec2:Vpc': arn('vpc/vpc-1') } };

test('describing interfaces and subnets on any resource; creating interfaces only with our subnets and group, in the VPC', () => {
  expect(statements.map((statement) => stack.resolve(statement.toStatementJson()))).toEqual([
    { Effect: 'Allow', Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: 'ec2:CreateNetworkInterface',
      Resource: [arn('network-interface/*'), arn('subnet/subnet-a'), arn('subnet/subnet-b'), arn('security-group/sg-1')],
      Condition: inVpc,
    },
    {
      Effect: 'Allow',
      Action: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      Resource: arn('network-interface/*'),
      Condition: inVpc,
    },
  ]);
});

test('acknowledges cdk-nag\'s two IAM5 findings on the policy, each with why', () => {
  const acknowledged = policy.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
  expect(acknowledged).toEqual([
    {
      'Annotation::AwsSolutions-IAM5[Resource::*]':
        'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets have no resource ARN; Lambda calls them to manage the function\'s VPC interfaces.',
    },
    {
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]':
        'Lambda creates the function\'s network interfaces, whose ids do not exist at deploy time; the ec2:Vpc condition keeps them in the lab\'s VPC.',
    },
  ]);
});
