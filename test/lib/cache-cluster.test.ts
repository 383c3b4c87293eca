import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CacheCluster, CacheEngine } from '../../lib/cache-cluster';
import { testApp } from '../support/synth';
import { problemMessagesOf } from '../support/validation';

/** The properties of each resource of `type` in the template. */
const propertiesOf = (template: Template, type: string) => Object.values(template.findResources(type)).map((resource) => resource.Properties as unknown);
const ref = (prefix: string) => ({ Ref: expect.stringMatching(new RegExp(`^${prefix}`)) });
/** The cdk-nag rules acknowledged on the cache's replication group, as `{ id: reason }`. */
const acknowledgedOnReplicationGroup = (cache: CacheCluster) =>
  cache.node.findChild('ReplicationGroup').node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data as Record<string, string>);
const securityGroupId = { 'Fn::GetAtt': [expect.stringMatching(/^CacheSecurityGroup/), 'GroupId'] };

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
  // The last group of the stack id's GUID: arn:...:stack/<name>/<guid>, split on "/" then on "-".
  expect(JSON.stringify(stack.resolve(cache.userId))).toContain('{"Fn::Select":[4,{"Fn::Split":["-",{"Fn::Select":[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]}]}]}');
  expect(acknowledgedOnReplicationGroup(cache)).toEqual([
    { 'Annotation::AwsSolutions-AEC6': expect.stringMatching(/^Clients authenticate with IAM through the user group/) },
    { 'Annotation::AwsSolutions-AEC4': expect.stringMatching(/^replicas: 0 was chosen.*Multi-AZ needs a replica to fail over to\.$/) },
  ]);
});

test('valkey with replicas turns on Multi-AZ with automatic failover', () => {
  const { stack, vpc } = stackWithVpc();
  const cache = new CacheCluster(stack, 'Cache', { engine: CacheEngine.valkey({ replicas: 2, userId: 'orders-app' }), vpc });
  expect(acknowledgedOnReplicationGroup(cache).map((rule) => Object.keys(rule))).toEqual([['Annotation::AwsSolutions-AEC6']]);
  Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumCacheClusters: 3, AutomaticFailoverEnabled: true, MultiAZEnabled: true });
  Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::User', { UserId: 'orders-app', UserName: 'orders-app' });
});

test('valkey, resource by resource: an IAM user, a default user that can do nothing, their group, the replication group', () => {
  const { stack, vpc } = stackWithVpc();
  new CacheCluster(stack, 'Cache', { engine: CacheEngine.valkey({ replicas: 2, userId: 'orders-app' }), vpc });
  const template = Template.fromStack(stack);
  expect(propertiesOf(template, 'AWS::ElastiCache::User')).toEqual([
    { AccessString: 'on ~* +@all -@dangerous', AuthenticationMode: { Type: 'iam' }, Engine: 'valkey', UserId: 'orders-app', UserName: 'orders-app' },
    { AccessString: 'off -@all', Engine: 'valkey', NoPasswordRequired: true, UserId: 'orders-app-off', UserName: 'default' },
  ]);
  expect(propertiesOf(template, 'AWS::ElastiCache::UserGroup')).toEqual([{ Engine: 'valkey', UserGroupId: 'orders-app-group', UserIds: ['orders-app', 'orders-app-off'] }]);
  expect(propertiesOf(template, 'AWS::ElastiCache::ReplicationGroup')).toEqual([
    {
      AtRestEncryptionEnabled: true,
      AutomaticFailoverEnabled: true,
      CacheNodeType: 'cache.t4g.micro',
      CacheSubnetGroupName: ref('CacheSubnets'),
      Engine: 'valkey',
      EngineVersion: '8.0',
      MultiAZEnabled: true,
      NumCacheClusters: 3,
      Port: 6380,
      ReplicationGroupDescription: 'Test/Cache: Valkey, TLS, IAM authentication',
      SecurityGroupIds: [securityGroupId],
      SnapshotRetentionLimit: 1,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      UserGroupIds: [ref('CacheUserGroup')],
    },
  ]);
  // The group names its users by id, not by reference, and the replication group its user group: dependencies order them.
  const [userGroup] = Object.values(template.findResources('AWS::ElastiCache::UserGroup'));
  expect(userGroup.DependsOn).toEqual([expect.stringMatching(/^CacheDisabledDefaultUser/), expect.stringMatching(/^CacheUser(?!Group)/)]);
  const [replicationGroup] = Object.values(template.findResources('AWS::ElastiCache::ReplicationGroup'));
  expect(replicationGroup.DependsOn).toEqual([expect.stringMatching(/^CacheUserGroup/)]);
  expect(propertiesOf(template, 'AWS::ElastiCache::SubnetGroup')).toEqual([{ Description: 'Subnets of Test/Cache', SubnetIds: [ref('VpcsSubnet1'), ref('VpcsSubnet2')] }]);
  template.hasResourceProperties('AWS::EC2::SecurityGroup', {
    GroupDescription: 'Test/Cache: valkey on port 6380, from the clients granted only',
    SecurityGroupEgress: [{ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 }],
  });
});

test('memcached: nodes across AZs when more than one, TLS, no user', () => {
  const { stack, vpc } = stackWithVpc();
  new CacheCluster(stack, 'Cache', { engine: CacheEngine.memcached({ nodes: 2 }), vpc });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::ElastiCache::CacheCluster', { NumCacheNodes: 2, AZMode: 'cross-az', TransitEncryptionEnabled: true, Port: 11212 });
  expect(propertiesOf(template, 'AWS::ElastiCache::CacheCluster')).toEqual([
    {
      AZMode: 'cross-az',
      CacheNodeType: 'cache.t4g.micro',
      CacheSubnetGroupName: ref('CacheSubnets'),
      Engine: 'memcached',
      EngineVersion: '1.6.22',
      NumCacheNodes: 2,
      Port: 11212,
      TransitEncryptionEnabled: true,
      VpcSecurityGroupIds: [securityGroupId],
    },
  ]);
  template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: 'Test/Cache: memcached on port 11212, from the clients granted only' });
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
  expect(JSON.stringify(statement.Resource)).toMatch(/^\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":elasticache:"/);
  template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 7000, Description: 'valkey (TLS)' });
  expect(stack.resolve(cache.endpoint)).toEqual({
    host: { 'Fn::GetAtt': [replicationGroup, 'PrimaryEndPoint.Address'] },
    port: { 'Fn::GetAtt': [replicationGroup, 'PrimaryEndPoint.Port'] },
  });
});

test('grantConnect to memcached opens the port only: memcached has no IAM authentication', () => {
  const { stack, vpc } = stackWithVpc();
  const cache = new CacheCluster(stack, 'Cache', { engine: CacheEngine.memcached(), vpc });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  cache.grantConnect({ connections: new ec2.Connections({ securityGroups: [new ec2.SecurityGroup(stack, 'Client', { vpc, allowAllOutbound: false })] }), grantPrincipal: role });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 11212, Description: 'memcached (TLS)' });
  template.resourceCountIs('AWS::IAM::Policy', 0);
  const cluster = Object.keys(template.findResources('AWS::ElastiCache::CacheCluster'))[0];
  expect(stack.resolve(cache.endpoint)).toEqual({
    host: { 'Fn::GetAtt': [cluster, 'ConfigurationEndpoint.Address'] },
    port: { 'Fn::GetAtt': [cluster, 'ConfigurationEndpoint.Port'] },
  });
  template.hasResourceProperties('AWS::ElastiCache::CacheCluster', { NumCacheNodes: 1, AZMode: 'single-az' });
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

test('counts and the port must be whole numbers', () => {
  const { stack, vpc } = stackWithVpc();
  expect(problemMessagesOf(() => new CacheCluster(stack, 'Valkey', { engine: CacheEngine.valkey({ replicas: 1.5, snapshotRetentionDays: 2.5 }), vpc, port: 6379.5 }))).toEqual([
    'CacheCluster.PortRange: port 6379.5 is outside 1024–65535',
    'CacheCluster.ReplicasRange: replicas 1.5 is outside 0–5',
    'CacheCluster.SnapshotRetentionRange: snapshotRetentionDays 2.5 is outside 0–35',
  ]);
  expect(problemMessagesOf(() => new CacheCluster(stack, 'Memcached', { engine: CacheEngine.memcached({ nodes: 1.5 }), vpc }))).toEqual(['CacheCluster.MemcachedNodesRange: nodes 1.5 is outside 1–60']);
});

test('memcached: a version without encryption in transit is refused, by code', () => {
  const { stack, vpc } = stackWithVpc();
  // Not digits and dots: refused even where the numbers read from it would pass (1.7.0-beta, " 1.7.0").
  for (const version of ['1.6.6', '1.5.16', 'latest', 'v1.6.22', '1.7.0-beta', ' 1.7.0']) {
    expect(() => new CacheCluster(stack, `Memcached${version}`, { engine: CacheEngine.memcached({ version }), vpc })).toThrow(
      `[CacheCluster.MemcachedVersionTls] Memcached version ${version} has no encryption in transit: 1.6.12 or later is needed`,
    );
  }
  for (const version of ['1.6.12', '1.6.22', '1.7', '10.0']) new CacheCluster(stack, `Memcached${version}`, { engine: CacheEngine.memcached({ version }), vpc });
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
  expect(() => new CacheCluster(stack, 'Cache', { engine: CacheEngine.memcached(), vpc })).toThrow(
    "[CacheCluster.NoSubnets] the VPC has no subnets of the selection (by default: isolated subnets) to put the cache in: There are no 'Isolated' subnet groups in this VPC. Available types: Public",
  );
  expect(problemMessagesOf(() => new CacheCluster(stack, 'Empty', { engine: CacheEngine.memcached(), vpc, vpcSubnets: { subnets: [] } }))).toEqual([
    'CacheCluster.NoSubnets: the VPC has no subnets of the selection (by default: isolated subnets) to put the cache in',
  ]);
});
