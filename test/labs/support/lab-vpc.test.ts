import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LAB_LOG_RETENTION } from '../../../labs/support/lab-stack';
import { labVpc } from '../../../labs/support/lab-vpc';
import { testApp } from '../../support/synth';

const templateOf = (build: (stack: Stack) => void) => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Vpcs', { env: { account: '111122223333', region: 'eu-west-1' } });
  build(stack);
  return Template.fromStack(stack);
};

const publicVpc = templateOf((stack) => labVpc(stack, 'Web', { subnets: 'public', maxAzs: 2 }));
const isolatedVpc = templateOf((stack) =>
  labVpc(stack, 'Data', { subnets: 'isolated', maxAzs: 3, gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } } }),
);

test('public: one public subnet per zone routed to the internet gateway, and no NAT gateway', () => {
  publicVpc.resourceCountIs('AWS::EC2::Subnet', 2);
  publicVpc.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true });
  publicVpc.resourceCountIs('AWS::EC2::InternetGateway', 1);
  publicVpc.hasResourceProperties('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', GatewayId: Match.anyValue() });
  publicVpc.resourceCountIs('AWS::EC2::NatGateway', 0);
});

test('isolated: one subnet per zone with no route out, and the gateway endpoints asked for', () => {
  isolatedVpc.resourceCountIs('AWS::EC2::Subnet', 3);
  isolatedVpc.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  isolatedVpc.resourceCountIs('AWS::EC2::InternetGateway', 0);
  isolatedVpc.resourceCountIs('AWS::EC2::Route', 0);
  isolatedVpc.resourceCountIs('AWS::EC2::NatGateway', 0);
  isolatedVpc.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.dynamodb'])]) }) });
});

test.each([
  ['public', publicVpc, 'Web'],
  ['isolated', isolatedVpc, 'Data'],
])('%s: rejected traffic goes to a log group of the lab retention, and the default security group is emptied', (_kind, template, id) => {
  const [vpcId] = Object.keys(template.findResources('AWS::EC2::VPC'));
  const [groupId] = Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: LAB_LOG_RETENTION } }));
  expect(groupId).toMatch(new RegExp(`^${id}RejectedTraffic`));
  template.hasResourceProperties('AWS::EC2::FlowLog', {
    ResourceId: { Ref: vpcId },
    ResourceType: 'VPC',
    TrafficType: 'REJECT',
    LogDestinationType: 'cloud-watch-logs',
    LogGroupName: { Ref: groupId },
  });
  template.hasResourceProperties('Custom::VpcRestrictDefaultSG', { DefaultSecurityGroupId: { 'Fn::GetAtt': [vpcId, 'DefaultSecurityGroup'] } });
});
