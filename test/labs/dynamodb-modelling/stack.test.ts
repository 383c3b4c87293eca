import { Match, Template } from 'aws-cdk-lib/assertions';
import { dynamodbModellingLab } from '../../../labs/dynamodb-modelling/lab';
import { withStack } from '../../../labs/support/app';
import { DynamodbModellingLabStack } from '../../../labs/dynamodb-modelling/stack';
import { MODELLING_LAB } from '../../../labs/dynamodb-modelling/constants';
import { ALL_FEATURES_CONTEXT } from '../../../labs/support/lab-stack';
import { Caller, evaluatePolicy, LOCAL_ACCOUNT, PolicyDocument } from '../../support/local-iam';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

const lab = withStack(dynamodbModellingLab, DynamodbModellingLabStack);
const template = labTemplate(lab);
const withFeatures = (context: Record<string, unknown>) =>
  Template.fromStack(new lab.stack(testApp(context, { builtinCloudFormationValidation: false }), { lab }));
const allFeatures = withFeatures({ [ALL_FEATURES_CONTEXT]: true });
const idOf = (t: Template, type: string, prefix: string) => Object.keys(t.findResources(type)).find((id) => id.startsWith(prefix))!;
const ordersId = idOf(template, 'AWS::DynamoDB::GlobalTable', 'Orders');
const orders = template.findResources('AWS::DynamoDB::GlobalTable')[ordersId].Properties;

describe('the Orders table', () => {
  test('has a composite key, bills on demand, keeps PITR, expires items on expiresAt, uses an AWS owned key', () => {
    expect(orders.KeySchema).toEqual([
      { AttributeName: 'customerId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(orders.BillingMode).toBe('PAY_PER_REQUEST');
    expect(orders.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(orders.Replicas).toEqual([
      expect.objectContaining({
        Region: { Ref: 'AWS::Region' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TableClass: 'STANDARD',
      }),
    ]);
    expect(orders.SSESpecification).toEqual({ SSEEnabled: false });
    expect(orders.StreamSpecification).toBeUndefined();
  });

  test('has an LSI on the same partition key with another sort key, projecting two attributes', () => {
    expect(orders.LocalSecondaryIndexes).toEqual([
      {
        IndexName: MODELLING_LAB.lsiName,
        KeySchema: [
          { AttributeName: 'customerId', KeyType: 'HASH' },
          { AttributeName: 'statusDate', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['orderId', 'amountCents'] },
      },
    ]);
  });

  test('has a GSI with its own partition and sort keys, projecting three attributes', () => {
    expect(orders.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: MODELLING_LAB.gsiName,
        KeySchema: [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['customerId', 'orderId', 'amountCents'] },
      },
    ]);
  });
});

describe('the Products table', () => {
  test('is provisioned at 1 RCU / 1 WCU, encrypted with the AWS managed key, with PITR', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'productId', KeyType: 'HASH' }],
      ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      SSESpecification: { SSEEnabled: true, SSEType: Match.absent(), KMSMasterKeyId: Match.absent() },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('auto scales reads and writes between 1 and 10 units, tracking 70 % utilization', () => {
    const products = idOf(template, 'AWS::DynamoDB::Table', 'Products');
    for (const dimension of ['Read', 'Write']) {
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        ScalableDimension: `dynamodb:table:${dimension}CapacityUnits`,
        MinCapacity: 1,
        MaxCapacity: 10,
        ResourceId: { 'Fn::Join': ['', ['table/', { Ref: products }]] },
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 70,
          PredefinedMetricSpecification: { PredefinedMetricType: `DynamoDB${dimension}CapacityUtilization` },
        },
      });
    }
  });
});

describe('the tenant role', () => {
  const roleId = idOf(template, 'AWS::IAM::Role', 'TenantRole');
  const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
  const statements = policy.Properties.PolicyDocument.Statement as Record<string, unknown>[];

  test('allows item and query actions on the table and its LSI only where every leading key equals the caller\'s tag', () => {
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: [
          { 'Fn::GetAtt': [ordersId, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ordersId, 'Arn'] }, `/index/${MODELLING_LAB.lsiName}`]] },
        ],
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['${aws:PrincipalTag/customerId}'] } },
      },
    ]);
  });

  test('evaluated: my key allowed, another key or a mix denied, a Scan (no leading key) not granted at all', () => {
    const tableArn = 'arn:aws:dynamodb:us-east-1:123456789012:table/Orders';
    const resolved = JSON.parse(
      JSON.stringify({ Statement: statements })
        .replace(/\{"Fn::GetAtt":\["[^"]+","Arn"\]\}/g, `"${tableArn}"`)
        .replace(/\{"Fn::Join":\["",\["([^"]+)","([^"]+)"\]\]\}/g, '"$1$2"')
        .replace('${aws:PrincipalTag/customerId}', 'ada'),
    ) as PolicyDocument;
    const caller: Caller = { arn: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/TenantRole/s`, account: LOCAL_ACCOUNT, identityPolicies: [resolved] };
    const decide = (action: string, leadingKeys?: string[], resource = tableArn) =>
      evaluatePolicy(resolved, caller, { action, resource, keys: leadingKeys ? { 'dynamodb:LeadingKeys': leadingKeys } : {} }).decision;
    expect(decide('dynamodb:GetItem', ['ada'])).toBe('Allow');
    expect(decide('dynamodb:Query', ['ada'], `${tableArn}/index/${MODELLING_LAB.lsiName}`)).toBe('Allow');
    expect(decide('dynamodb:GetItem', ['bob'])).toBe('ImplicitDeny');
    expect(decide('dynamodb:BatchGetItem', ['ada', 'bob'])).toBe('ImplicitDeny');
    expect(decide('dynamodb:Query', ['ada'], `${tableArn}/index/${MODELLING_LAB.gsiName}`)).toBe('ImplicitDeny');
    expect(decide('dynamodb:Scan')).toBe('ImplicitDeny');
  });

  test('can be assumed from the account, with only a non-empty customerId session tag', () => {
    const role = template.findResources('AWS::IAM::Role')[roleId].Properties;
    expect(role.MaxSessionDuration).toBe(3600);
    const [assume] = role.AssumeRolePolicyDocument.Statement;
    expect(assume.Condition).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: 'sts:AssumeRole', Effect: 'Allow' }),
      expect.objectContaining({
        Action: 'sts:TagSession',
        Condition: {
          StringLike: { 'aws:RequestTag/customerId': '?*' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['customerId'] },
        },
      }),
    ]);
  });
});

test('features off: nothing but the two tables and the role; no key, no VPC, no replica rule', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(['OrdersTableName', 'ProductsTableName', 'TenantRoleArn']);
  for (const type of ['AWS::KMS::Key', 'AWS::EC2::VPC', 'AWS::DAX::Cluster', 'AWS::EC2::NatGateway']) template.resourceCountIs(type, 0);
  expect(template.toJSON().Rules?.ReplicaInAnotherRegion).toBeUndefined();
});

describe('-c dynamodb-modelling:replica=true', () => {
  const replica = withFeatures({ 'dynamodb-modelling:replica': true });
  const table = Object.values(replica.findResources('AWS::DynamoDB::GlobalTable'))[0].Properties;

  test('adds a replica in us-west-2 with the primary\'s settings, and the stream replication needs', () => {
    expect(table.Replicas).toHaveLength(2);
    expect(table.Replicas[1]).toEqual({ ...table.Replicas[0], Region: 'us-west-2' });
    expect(table.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(replica.toJSON().Outputs.OrdersReplicaRegion.Value).toBe('us-west-2');
  });

  test('refuses, before creating anything, a deployment to the replica\'s own Region', () => {
    expect(replica.toJSON().Rules.ReplicaInAnotherRegion.Assertions).toEqual([
      {
        Assert: { 'Fn::Not': [{ 'Fn::Equals': ['us-west-2', { Ref: 'AWS::Region' }] }] },
        AssertDescription:
          'The Orders replica is in us-west-2: deploy the stack to another Region, or choose another with ' +
          '-c dynamodb-modelling:replicaRegion=<region>',
      },
    ]);
  });

  test('-c dynamodb-modelling:replicaRegion=eu-west-1 moves the replica; a bad or lone value is refused', () => {
    const moved = withFeatures({ 'dynamodb-modelling:replica': true, 'dynamodb-modelling:replicaRegion': 'eu-west-1' });
    const [resource] = Object.values(moved.findResources('AWS::DynamoDB::GlobalTable'));
    expect(resource.Properties.Replicas[1].Region).toBe('eu-west-1');
    expect(() => withFeatures({ 'dynamodb-modelling:replica': true, 'dynamodb-modelling:replicaRegion': 'Europe' })).toThrow(
      'context dynamodb-modelling:replicaRegion must be a Region name such as eu-west-1, got "Europe"',
    );
    expect(() => withFeatures({ 'dynamodb-modelling:replicaRegion': 'eu-west-1' })).toThrow(
      'dynamodb-modelling:replicaRegion applies only with -c dynamodb-modelling:replica=true',
    );
  });
});

test('-c dynamodb-modelling:cmk=true encrypts the Products table with a rotating customer managed key', () => {
  const cmk = withFeatures({ 'dynamodb-modelling:cmk': true });
  const key = idOf(cmk, 'AWS::KMS::Key', 'ProductsKey');
  cmk.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, PendingWindowInDays: 7 });
  cmk.hasResourceProperties('AWS::DynamoDB::Table', {
    SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } },
  });
});

test('all features on: outputs the key and the replica Region for the exercise; DAX lives in the caching lab', () => {
  expect(Object.keys(allFeatures.toJSON().Outputs)).toEqual(expect.arrayContaining(['ProductsKeyArn', 'OrdersReplicaRegion']));
  allFeatures.resourceCountIs('AWS::DAX::Cluster', 0);
});

