import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CacheCluster, CacheEngine } from '../../../lib/cache-cluster';

/** A Valkey cache in an isolated VPC, reachable by one client security group and role. */
export function build(stack: Stack): void {
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
  const cache = new CacheCluster(stack, 'Cache', { engine: CacheEngine.valkey(), vpc });
  const clients = new ec2.SecurityGroup(stack, 'Clients', { vpc, allowAllOutbound: false });
  const role = new iam.Role(stack, 'ClientRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  cache.grantConnect({ connections: new ec2.Connections({ securityGroups: [clients] }), grantPrincipal: role });
}
