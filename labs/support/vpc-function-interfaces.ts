import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * What Lambda does as a function's role to give it network interfaces in a VPC: the actions of
 * AWSLambdaVPCAccessExecutionRole, without the managed policy. Interfaces are created in the given subnets with the
 * given security groups, both named by ARN, and only in this VPC; the interfaces themselves are named by a wildcard,
 * as their ids exist only once Lambda creates them. `acknowledge` gives the policy holding the statements cdk-nag's
 * two acknowledgements, with their reasons.
 */
export function vpcFunctionInterfaces(
  scope: Construct,
  { vpc, subnets, securityGroups }: { vpc: ec2.IVpc; subnets: readonly ec2.ISubnet[]; securityGroups: readonly ec2.ISecurityGroup[] },
): { statements: iam.PolicyStatement[]; acknowledge: (policy: iam.Policy) => void } {
  const arn = (resource: string, resourceName: string) => Stack.of(scope).formatArn({ service: 'ec2', resource, resourceName });
  const inVpc = { ArnEqualsIfExists: { 'ec2:Vpc': arn('vpc', vpc.vpcId) } };
  const interfaces = arn('network-interface', '*');
  return {
    statements: [
      new iam.PolicyStatement({ actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], resources: ['*'] }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          interfaces,
          ...subnets.map((subnet) => arn('subnet', subnet.subnetId)),
          ...securityGroups.map((group) => arn('security-group', group.securityGroupId)),
        ],
        conditions: inVpc,
      }),
      new iam.PolicyStatement({
        actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: [interfaces],
        conditions: inVpc,
      }),
    ],
    acknowledge: (policy) => {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets have no resource ARN; Lambda calls them to manage the function\'s VPC interfaces.',
      });
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
        reason: 'Lambda creates the function\'s network interfaces, whose ids do not exist at deploy time; the ec2:Vpc condition keeps them in the lab\'s VPC.',
      });
    },
  };
}
