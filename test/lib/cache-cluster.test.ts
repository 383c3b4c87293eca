import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CacheCluster, CacheEngine } from '../../lib/cache-cluster';
import { testApp } from '../support/synth';

function stackWithVpc(subnetType = ec2.SubnetType.PRIVATE_ISOLATED) {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 's', subnetType, cidrMask: 24 }] });
  return { stack, vpc };
}

test('valkey by default: one micro node, TLS required, encrypted at rest, an IAM user whose id is unique per stack', () => {
  const { stack, vpc } = stackWithVpc();
  const cache = new CacheCluster(stack, 'Cache', { engine: CacheEngine.valkey(), vpc });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
    CacheNodeType: 'cache.t4g.micro',
    NumCacheClusters: 1,
    AutomaticFailoverEnabled: false,
    MultiAZEnabled: false,
    TransitEncryptionMode: 'required',
    AtRestEncryptionEnabled: true,
  });
  expect(JSON.stringify(stack.resolve(cache.userId))).toMatch(/^\{"Fn::Join":\["",\["u",.*AWS::StackId.*"-[0-9a-f]{8}"\]\]\}$/);
  template.resourceCountIs('AWS::ElastiCache::User', 2);
});

test('valkey with replicas turns on Multi-AZ with automatic failover', () => {
  const { stack, vpc } = stackWithVpc();
  new CacheCluster(stack, 'Cache', { engine: CacheEngine.valkey({ replicas: 2, userId: 'orders-app' }), vpc });
  Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumCacheClusters: 3, AutomaticFailoverEnabled: true, MultiAZEnabled: true });
  Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::User', { UserId: 'orders-app', UserName: 'orders-app' });
});

test('memcached: nodes across AZs when more than one, TLS, no user', () => {
  const { stack, vpc } = stackWithVpc();
  new CacheCluster(stack, 'Cache', { engine: CacheEngine.memcached({ nodes: 2 }), vpc });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::ElastiCache::CacheCluster', { NumCacheNodes: 2, AZMode: 'cross-az', TransitEncryptionEnabled: true, Port: 11212 });
  template.resourceCountIs('AWS::ElastiCache::User', 0);
});

test('grantConnect opens the port to the client and, for valkey, allows elasticache:Connect', () => {
  const { stack, vpc } = stackWithVpc();
  const cache = new CacheCluster(stack, 'Cache', { engine: CacheEngine.valkey(), vpc, port: 7000 });
  const client = new ec2.SecurityGroup(stack, 'Client', { vpc, allowAllOutbound: false });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  cache.grantConnect({ connections: new ec2.Connections({ securityGroups: [client] }), grantPrincipal: role });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 7000, ToPort: 7000 });
  const replicationGroup = Object.keys(template.findResources('AWS::ElastiCache::ReplicationGroup'))[0];
  const [policy] = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: { Action: string; Resource: unknown[] }[] } } }[];
  const [statement] = policy.Properties.PolicyDocument.Statement;
  expect(statement.Action).toBe('elasticache:Connect');
  expect(JSON.stringify(statement.Resource[0])).toContain(`:replicationgroup:",{"Ref":"${replicationGroup}"}`);
  expect(JSON.stringify(statement.Resource[1])).toContain(':user:');
});

test('bad props: every problem listed at once, coded', () => {
  const { stack, vpc } = stackWithVpc();
  expect(() => new CacheCluster(stack, 'Cache', { engine: CacheEngine.valkey({ replicas: 6, snapshotRetentionDays: 40, userId: 'Orders_App' }), vpc, nodeType: 't4g.micro', port: 80 })).toThrow(
    expect.objectContaining({
      message: expect.stringMatching(
        /\[CacheCluster\.NodeTypeFormat\] nodeType t4g\.micro[\s\S]*\[CacheCluster\.PortRange\] port 80[\s\S]*\[CacheCluster\.ReplicasRange\] replicas 6[\s\S]*\[CacheCluster\.SnapshotRetentionRange\][\s\S]*\[CacheCluster\.UserIdFormat\] userId Orders_App/,
      ),
    }),
  );
  expect(() => new CacheCluster(stack, 'Memcached', { engine: CacheEngine.memcached({ nodes: 0 }), vpc })).toThrow(/\[CacheCluster\.MemcachedNodesRange\] nodes 0 is outside 1–60/);
});

test('memcached: a version without encryption in transit is refused, by code', () => {
  const { stack, vpc } = stackWithVpc();
  for (const version of ['1.6.6', '1.5.16', 'latest']) {
    expect(() => new CacheCluster(stack, `Memcached${version}`, { engine: CacheEngine.memcached({ version }), vpc })).toThrow(
      `[CacheCluster.MemcachedVersionTls] Memcached version ${version} has no encryption in transit: 1.6.12 or later is needed`,
    );
  }
  for (const version of ['1.6.12', '1.6.22', '1.7']) new CacheCluster(stack, `Memcached${version}`, { engine: CacheEngine.memcached({ version }), vpc });
});

test('a user id longer than 40 characters is accepted (no maximum is documented); upper case is not', () => {
  const { stack, vpc } = stackWithVpc();
  const long = `app-${'x'.repeat(60)}`;
  new CacheCluster(stack, 'Long', { engine: CacheEngine.valkey({ userId: long }), vpc });
  Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::User', { UserId: long });
  expect(() => new CacheCluster(stack, 'Upper', { engine: CacheEngine.valkey({ userId: 'App' }), vpc })).toThrow(/\[CacheCluster\.UserIdFormat\] userId App/);
});

test('a VPC without isolated subnets is refused unless other subnets are selected', () => {
  const { stack, vpc } = stackWithVpc(ec2.SubnetType.PUBLIC);
  expect(() => new CacheCluster(stack, 'Cache', { engine: CacheEngine.memcached(), vpc })).toThrow(/\[CacheCluster\.NoSubnets\]/);
});
