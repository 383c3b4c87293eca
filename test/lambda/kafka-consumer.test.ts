import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MSKEvent, MSKRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, kafkaItemKey } from '../../lambda/kafka-consumer';

// The handler logs each batch: what CloudWatch Logs shows, noise here.
beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

const dynamodb = mockClient(DynamoDBDocumentClient);
beforeEach(() => {
  dynamodb.reset();
  dynamodb.on(UpdateCommand).resolves({});
  process.env.PROGRESS_TABLE_NAME = 'progress';
});
afterAll(() => dynamodb.restore());

/** A record as in the Lambda developer guide's MSK example event ("Hello, this is a test." when no value is given). */
function record(partition: number, offset: number, value?: object): MSKRecord {
  return {
    topic: 'mytopic',
    partition,
    offset,
    timestamp: 1595035749700,
    timestampType: 'CREATE_TIME',
    key: 'abcDEFghiJKLmnoPQRstuVWXyz1234==',
    value: value ? Buffer.from(JSON.stringify(value)).toString('base64') : 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
    headers: [{ headerKey: [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101] }],
  };
}
const event = (records: MSKEvent['records']): MSKEvent => ({
  eventSource: 'aws:kafka',
  eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2',
  bootstrapServers: 'b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092',
  records,
});

test('the documented example event: a message without a run id is not recorded', async () => {
  await handler(event({ 'mytopic-0': [record(0, 15)] }));
  expect(dynamodb.calls()).toHaveLength(0);
});

test('records partition:offset of each message per run, across partitions, in one update per run', async () => {
  await handler(event({ 'mytopic-0': [record(0, 15, { runId: 'run-a' }), record(0, 16, { runId: 'run-b' })], 'mytopic-1': [record(1, 3, { runId: 'run-a' })] }));
  const updates = dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
  expect(updates).toEqual([
    { TableName: 'progress', Key: { partitionKey: kafkaItemKey('run-a') }, UpdateExpression: 'ADD offsets :offsets', ExpressionAttributeValues: { ':offsets': new Set(['0:15', '1:3']) } },
    { TableName: 'progress', Key: { partitionKey: 'kafka#run-b' }, UpdateExpression: 'ADD offsets :offsets', ExpressionAttributeValues: { ':offsets': new Set(['0:16']) } },
  ]);
  // One line per batch in CloudWatch Logs: how many distinct messages of each run it recorded.
  expect(console.log).toHaveBeenLastCalledWith(JSON.stringify({ message: 'batch recorded', runs: { 'run-a': 2, 'run-b': 1 } }));
});

test('a message whose runId is not a string is not recorded', async () => {
  await handler(event({ 'mytopic-0': [record(0, 15, { runId: 42 })] }));
  expect(dynamodb.calls()).toHaveLength(0);
});

test('without PROGRESS_TABLE_NAME it fails before writing anything', async () => {
  delete process.env.PROGRESS_TABLE_NAME;
  await expect(handler(event({ 'mytopic-0': [record(0, 15, { runId: 'run-a' })] }))).rejects.toThrow(new Error('PROGRESS_TABLE_NAME is not set'));
  expect(dynamodb.calls()).toHaveLength(0);
});

test('a failed write fails the invocation, so Lambda delivers the batch again', async () => {
  dynamodb.on(UpdateCommand).rejects(new Error('throttled'));
  await expect(handler(event({ 'mytopic-0': [record(0, 15, { runId: 'run-a' })] }))).rejects.toThrow('throttled');
});
