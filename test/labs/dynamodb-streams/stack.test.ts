import { Match } from 'aws-cdk-lib/assertions';
import { dynamodbStreamsLab } from '../../../labs/dynamodb-streams/lab';
import { STREAMS_LAB } from '../../../labs/dynamodb-streams/constants';
import { featureTemplate, labTemplate } from '../../support/lab-template';

const lab = dynamodbStreamsLab;
const template = labTemplate(lab);
const tables = template.findResources('AWS::DynamoDB::GlobalTable');
const logicalId = (prefix: string) => Object.keys(tables).find((id) => id.startsWith(prefix))!;

test('the orders table streams new and old images, expires items on expiresAt, has PITR, bills on demand', () => {
  template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
    KeySchema: [
      { AttributeName: 'customerId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
  });
});

test('the view table is keyed by customer and entry (totals and applied-record markers), with TTL for the markers', () => {
  expect(tables[logicalId('CustomerTotals')].Properties).toMatchObject({
    KeySchema: [
      { AttributeName: 'customerId', KeyType: 'HASH' },
      { AttributeName: 'entry', KeyType: 'RANGE' },
    ],
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
  });
  expect(tables[logicalId('CustomerTotals')].Properties.StreamSpecification).toBeUndefined();
});

test('the stream mapping: TRIM_HORIZON, bisect, 2 retries, 1 hour, partial responses, orders only, failures to a queue', () => {
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    EventSourceArn: { 'Fn::GetAtt': [logicalId('Orders'), 'StreamArn'] },
    StartingPosition: 'TRIM_HORIZON',
    BatchSize: STREAMS_LAB.batchSize,
    BisectBatchOnFunctionError: true,
    MaximumRetryAttempts: 2,
    MaximumRecordAgeInSeconds: 3600,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    FilterCriteria: { Filters: [{ Pattern: '{"dynamodb":{"Keys":{"sk":{"S":[{"prefix":"ORDER#"}]}}}}' }] },
    DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailureQueue'), 'Arn'] } } },
  });
});

test('the function may only put, update and condition-check items of the view table, and read the orders stream', () => {
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
  );
  const onTable = (id: string) => statements.filter((s) => JSON.stringify(s.Resource).includes(id));
  expect(onTable(logicalId('CustomerTotals')).flatMap((s) => s.Action)).toEqual([
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ]);
  expect(onTable(logicalId('Orders')).flatMap((s) => s.Action)).toEqual([
    'dynamodb:DescribeStream',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:ListStreams',
  ]);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ VIEW_TABLE_NAME: { Ref: logicalId('CustomerTotals') } }) },
    Timeout: 10,
  });
});

test('outputs what the exercise uses; no alarm, nothing billed while idle, unless asked', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'OnFailureQueueUrl',
    'OrdersStreamArn',
    'OrdersTableName',
    'ViewTableName',
    'ViewUpdaterFunctionName',
  ]);
  template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
});

test('-c dynamodb-streams:alarms=true adds an iterator-age alarm at 5 minutes, notifying a topic', () => {
  const withAlarms = featureTemplate(lab, 'alarms');
  withAlarms.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'IteratorAge',
    Threshold: 300_000,
    AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
  });
  expect(Object.keys(withAlarms.toJSON().Outputs)).toEqual(expect.arrayContaining(['AlarmTopicArn', 'IteratorAgeAlarmName']));
});
