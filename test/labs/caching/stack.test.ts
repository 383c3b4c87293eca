import { Match } from 'aws-cdk-lib/assertions';
import { cachingLab } from '../../../labs/caching/lab';
import { CACHING_LAB } from '../../../labs/caching/constants';
import { labTemplate } from '../../support/lab-template';

const lab = cachingLab;
const template = labTemplate(lab);
const allFeatures = labTemplate(lab, { allFeatures: true });

const logicalId = (t: typeof template, type: string, prefix: string) => {
  const ids = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
};

test('features off: a table and a function outside any VPC, nothing billed while idle', () => {
  for (const type of ['AWS::EC2::VPC', 'AWS::ElastiCache::ReplicationGroup', 'AWS::ElastiCache::CacheCluster', 'AWS::DAX::Cluster', 'AWS::EC2::NatGateway']) {
    template.resourceCountIs(type, 0);
  }
  template.hasResourceProperties('AWS::Lambda::Function', {
    VpcConfig: Match.absent(),
    Environment: { Variables: Match.objectLike({ CACHE_TTL_SECONDS: String(CACHING_LAB.cacheTtlSeconds), VALKEY_HOST: Match.absent() }) },
  });
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(['ProductsFunctionName', 'ProductsTableName']);
});

/** Every statement of the template's IAM policies that names one of `actions`. */
const statementsWith = (t: typeof template, actions: string[]) =>
  Object.values(t.findResources('AWS::IAM::Policy'))
    .flatMap((policy) => (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties.PolicyDocument.Statement)
    .filter((statement) => [statement.Action].flat().some((action) => actions.includes(action)));

test('the function may get and put items of the products table only', () => {
  const table = logicalId(template, 'AWS::DynamoDB::GlobalTable', 'Products');
  expect(statementsWith(template, ['dynamodb:GetItem', 'dynamodb:PutItem'])).toEqual([
    { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: { 'Fn::GetAtt': [table, 'Arn'] } },
  ]);
});

describe('all features on', () => {
  test('one isolated VPC: no NAT gateway, no internet gateway, DynamoDB through a gateway endpoint', () => {
    allFeatures.resourceCountIs('AWS::EC2::VPC', 1);
    allFeatures.resourceCountIs('AWS::EC2::NatGateway', 0);
    allFeatures.resourceCountIs('AWS::EC2::InternetGateway', 0);
    allFeatures.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.dynamodb'])]) }),
    });
  });

  test('Valkey: one cache.t4g.micro, TLS required, encrypted at rest, IAM-authenticated user, off the default port', () => {
    allFeatures.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      CacheNodeType: 'cache.t4g.micro',
      NumCacheClusters: 1,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      Port: 6380,
      UserGroupIds: [Match.anyValue()],
      SnapshotRetentionLimit: 1,
    });
    allFeatures.hasResourceProperties('AWS::ElastiCache::User', { Engine: 'valkey', AuthenticationMode: { Type: 'iam' }, AccessString: 'on ~* +@all -@dangerous' });
    allFeatures.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'default', AccessString: 'off -@all' });
  });

  test('Memcached: one cache.t4g.micro with TLS, off the default port', () => {
    allFeatures.hasResourceProperties('AWS::ElastiCache::CacheCluster', {
      Engine: 'memcached',
      CacheNodeType: 'cache.t4g.micro',
      NumCacheNodes: 1,
      TransitEncryptionEnabled: true,
      Port: 11212,
    });
  });

  test('each cache lets in the products function only, on its port', () => {
    const functionGroup = logicalId(allFeatures, 'AWS::EC2::SecurityGroup', 'ProductsFunctionSecurityGroup');
    for (const port of [6380, 11212]) {
      allFeatures.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        FromPort: port,
        ToPort: port,
        SourceSecurityGroupId: { 'Fn::GetAtt': [functionGroup, 'GroupId'] },
      });
    }
    const ingress = Object.values(allFeatures.findResources('AWS::EC2::SecurityGroupIngress')) as { Properties: { CidrIp?: string } }[];
    expect(ingress.filter((rule) => rule.Properties.CidrIp !== undefined)).toEqual([]);
  });

  test('the function runs in the isolated subnets, may connect to the Valkey cache as its IAM user, and knows both caches', () => {
    const fn = logicalId(allFeatures, 'AWS::Lambda::Function', 'ProductsFunction');
    const { Properties } = allFeatures.toJSON().Resources[fn];
    expect(Properties.VpcConfig.SubnetIds).toHaveLength(2);
    expect(Object.keys(Properties.Environment.Variables)).toEqual(
      expect.arrayContaining(['VALKEY_HOST', 'VALKEY_PORT', 'VALKEY_USER', 'VALKEY_CACHE_NAME', 'MEMCACHED_HOST', 'MEMCACHED_PORT']),
    );
    allFeatures.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'elasticache:Connect', Resource: [Match.anyValue(), Match.anyValue()] })]) },
    });
  });

  /** Statements with their action and resource lists sorted: CDK orders them its own way. */
  const unordered = (statements: Record<string, unknown>[]) =>
    statements.map((statement) => {
      const sort = (value: unknown) => (Array.isArray(value) ? [...value].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))) : value);
      return { ...statement, Action: sort(statement.Action), Resource: sort(statement.Resource) };
    });

  test('network interfaces: created in the isolated subnets with the function\'s own security groups, in the lab\'s VPC', () => {
    const vpc = logicalId(allFeatures, 'AWS::EC2::VPC', 'Vpc');
    const subnets = Object.keys(allFeatures.findResources('AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(2);
    const arn = (resource: string, name: unknown) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}/`, name]],
    });
    const interfaces = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':network-interface/*']],
    };
    const inVpc = { ArnEqualsIfExists: { 'ec2:Vpc': arn('vpc', { Ref: vpc }) } };
    const statementsFor = (groupPrefix: string) => [
      { Effect: 'Allow', Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: 'ec2:CreateNetworkInterface',
        Resource: [
          interfaces,
          ...subnets.map((subnet) => arn('subnet', { Ref: subnet })),
          arn('security-group', { 'Fn::GetAtt': [logicalId(allFeatures, 'AWS::EC2::SecurityGroup', groupPrefix), 'GroupId'] }),
        ],
        Condition: inVpc,
      },
      { Effect: 'Allow', Action: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'], Resource: interfaces, Condition: inVpc },
    ];
    for (const [policy, group] of [
      ['ProductsFunctionNetworkInterfaces', 'ProductsFunctionSecurityGroup'],
      ['DaxProbeFunctionNetworkInterfaces', 'DaxClientSecurityGroup'],
    ]) {
      const { Properties } = allFeatures.toJSON().Resources[logicalId(allFeatures, 'AWS::IAM::Policy', policy)];
      expect(unordered(Properties.PolicyDocument.Statement)).toEqual(unordered(statementsFor(group)));
    }
  });

  test('DAX: one dax.t3.small node, TLS and encryption at rest, reached by the probe function only', () => {
    allFeatures.hasResourceProperties('AWS::DAX::Cluster', {
      NodeType: 'dax.t3.small',
      ReplicationFactor: 1,
      ClusterEndpointEncryptionType: 'TLS',
      SSESpecification: { SSEEnabled: true },
    });
    const clients = logicalId(allFeatures, 'AWS::EC2::SecurityGroup', 'DaxClientSecurityGroup');
    allFeatures.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: CACHING_LAB.daxTlsPort,
      SourceSecurityGroupId: { 'Fn::GetAtt': [clients, 'GroupId'] },
    });
    allFeatures.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['dax:GetItem', 'dax:PutItem', 'dax:Query'] })]) },
    });
    expect(Object.keys(allFeatures.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['ValkeyEndpoint', 'MemcachedEndpoint', 'DaxClusterEndpoint', 'DaxProbeFunctionName']),
    );
  });
});
