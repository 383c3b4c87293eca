import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAB_LOG_RETENTION } from './lab-stack';

export interface LabVpcProps {
  /**
   * `public`: instances and tasks reach AWS APIs through their public addresses and the internet gateway;
   * `isolated`: no route out at all, AWS APIs only through the endpoints the lab adds.
   */
  readonly subnets: 'public' | 'isolated';
  /** How many Availability Zones get a subnet (one each). */
  readonly maxAzs: number;
  readonly gatewayEndpoints?: Record<string, ec2.GatewayVpcEndpointOptions>;
}

/**
 * The VPC of a lab, one shape for every lab that needs one:
 * - no NAT gateway ($32.85 a month each, the largest idle cost of a VPC's usual parts);
 * - one subnet of the given kind per zone;
 * - rejected traffic logged to a log group of the lab's retention: it answers "was it the security group?", and
 *   CloudWatch Logs bills per GB ingested, kilobytes a day while the lab is idle;
 * - the default security group emptied (CDK's custom resource, as cdk.json's feature flag asks), so nothing placed in
 *   it by mistake is reachable (Security Hub control EC2.2).
 */
export function labVpc(scope: Construct, id: string, props: LabVpcProps): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, id, {
    maxAzs: props.maxAzs,
    natGateways: 0,
    subnetConfiguration: [
      { name: props.subnets, subnetType: props.subnets === 'public' ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
    restrictDefaultSecurityGroup: true,
    gatewayEndpoints: props.gatewayEndpoints,
  });
  vpc.addFlowLog('RejectedTraffic', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(vpc, 'RejectedTrafficLogs', { retention: LAB_LOG_RETENTION })),
    trafficType: ec2.FlowLogTrafficType.REJECT,
  });
  return vpc;
}
