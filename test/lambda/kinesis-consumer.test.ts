import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { KinesisStreamRecord } from 'aws-lambda';
import { applyRecord, handler, parseRecord, PoisonRecordError } from '../../lambda/kinesis-consumer';
import { streamingLab } from '../../labs/streaming/lab';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../support/local-dynamodb';
import { labTemplate } from '../support/lab-template';

jest.setTimeout(30_000);
// The handlers log a line per record: what CloudWatch Logs shows, noise here.
beforeAll(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

const template = labTemplate(streamingLab);
let ddb: LocalDynamoDb;
let table: string;
let sequence = 49_546_986_683_135_544_286_507_457_936_321_625_675_700_192_471_156_785_154n;

beforeAll(async () => {
  ddb = await startLocalDynamoDb();
  table = (await deployTablesLocally(template, ddb.client)).outputs.ProgressTableName;
  process.env.PROGRESS_TABLE_NAME = table;
});
afterAll(() => ddb?.stop());

/** A record of a Kinesis event as Lambda delivers it. */
function record(data: object | string, partitionKey = 'k'): KinesisStreamRecord {
  const sequenceNumber = String((sequence += 1n));
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64'),
      approximateArrivalTimestamp: 1_764_756_930.123,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000001:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/clicks',
  };
}
const progress = async (key: string) =>
  (await DynamoDBDocumentClient.from(ddb.client).send(new GetCommand({ TableName: table, Key: { partitionKey: key }, ConsistentRead: true }))).Item;

test('applies the records of a key in order, once each: a redelivery is a duplicate, a gap is out of order', async () => {
  const first = record({ key: 'order-a', seq: 1 });
  expect(await applyRecord(first)).toBe('applied');
  expect(await applyRecord(record({ key: 'order-a', seq: 2 }))).toBe('applied');
  expect(await applyRecord(first)).toBe('duplicate');
  expect(await applyRecord(record({ key: 'order-a', seq: 2 }))).toBe('duplicate');
  expect(await applyRecord(record({ key: 'order-a', seq: 4 }))).toBe('out-of-order');
  expect(await progress('order-a')).toMatchObject({ lastSeq: 2, recordCount: 2, outOfOrder: 1, shardId: 'shardId-000000000001' });
});

test('a record that skipped ahead on a key never seen is out of order', async () => {
  expect(await applyRecord(record({ key: 'order-new', seq: 2 }))).toBe('out-of-order');
  expect(await progress('order-new')).toEqual({ partitionKey: 'order-new', outOfOrder: 1 });
});

test('a failed condition is checked with a strongly consistent read; any other failed write is thrown', async () => {
  const dynamodb = mockClient(DynamoDBDocumentClient);
  try {
    dynamodb.on(UpdateCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    dynamodb.on(GetCommand).resolves({ Item: { partitionKey: 'k', lastSeq: 5 } });
    expect(await applyRecord(record({ key: 'k', seq: 5 }))).toBe('duplicate');
    expect(dynamodb.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: table, Key: { partitionKey: 'k' }, ConsistentRead: true });
    dynamodb.on(UpdateCommand).rejects(new Error('Rate of requests exceeds the allowed throughput'));
    await expect(applyRecord(record({ key: 'k', seq: 6 }))).rejects.toThrow('Rate of requests exceeds the allowed throughput');
    // Only the failed condition was looked into.
    expect(dynamodb.commandCalls(GetCommand)).toHaveLength(1);
  } finally {
    dynamodb.restore();
  }
});

test('without PROGRESS_TABLE_NAME a numbered record fails', async () => {
  delete process.env.PROGRESS_TABLE_NAME;
  try {
    await expect(applyRecord(record({ key: 'k', seq: 1 }))).rejects.toThrow(new Error('PROGRESS_TABLE_NAME is not set'));
  } finally {
    process.env.PROGRESS_TABLE_NAME = table;
  }
});

test('a failure after good records is a partial batch response naming the failed record; the records after it wait', async () => {
  const good = record({ key: 'partial-a', seq: 1 });
  const poison = record({ key: 'partial-b', seq: 1, poison: true });
  const response = await handler({ Records: [good, poison, record({ key: 'partial-c', seq: 1 })] });
  expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: poison.kinesis.sequenceNumber }] });
  expect(await progress('partial-a')).toMatchObject({ lastSeq: 1 });
  expect(await progress('partial-c')).toBeUndefined();
  // One log line per record: what it did, or why it failed.
  expect(console.log).toHaveBeenLastCalledWith(JSON.stringify({ message: 'record applied', partitionKey: 'k', sequenceNumber: good.kinesis.sequenceNumber }));
  expect(console.error).toHaveBeenLastCalledWith(
    JSON.stringify({
      message: 'record failed',
      sequenceNumber: poison.kinesis.sequenceNumber,
      error: `Kinesis record ${poison.kinesis.sequenceNumber} (partition key k) cannot be applied: marked poison by the producer`,
    }),
  );
});

test('a failure of the first record throws, so that Lambda bisects the batch', async () => {
  const batch = { Records: [record('not json'), record({ key: 'bisect-a', seq: 1 })] };
  await expect(handler(batch)).rejects.toThrow(PoisonRecordError);
  expect(await progress('bisect-a')).toBeUndefined();
  // The half Lambda retries without the bad record succeeds.
  expect(await handler({ Records: batch.Records.slice(1) })).toEqual({ batchItemFailures: [] });
});

test('parseRecord refuses what it cannot apply, saying why', () => {
  expect(() => parseRecord(record('{'))).toThrow(/data is not JSON/);
  expect(() => parseRecord(record({ key: 'k', seq: 0 }))).toThrow(/seq must be a whole number from 1$/);
  expect(() => parseRecord(record({ seq: 1 }))).toThrow(/a record needs key \(string\)$/);
  expect(() => parseRecord(record('null'))).toThrow(expect.objectContaining({ name: 'PoisonRecordError', message: expect.stringMatching(/a record needs key \(string\)$/) }));
  expect(() => parseRecord(record({ key: 'k', seq: 1, poison: true }))).toThrow(/marked poison by the producer$/);
  expect(parseRecord(record({ key: 'k', seq: 3 }))).toEqual({ key: 'k', seq: 3 });
});

test('a record without seq is read and left alone: nothing is written for it', async () => {
  expect(await applyRecord(record({ key: 'unnumbered', page: '/burst' }))).toBe('not numbered');
  expect(await progress('unnumbered')).toBeUndefined();
});
