import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { aggregate, handler, windowItemKey } from '../../lambda/kinesis-window';

// The handler logs each closed window: what CloudWatch Logs shows, noise here.
beforeAll(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

const dynamodb = mockClient(DynamoDBDocumentClient);
beforeEach(() => {
  dynamodb.reset();
  dynamodb.on(UpdateCommand).resolves({});
  process.env.PROGRESS_TABLE_NAME = 'progress';
});
afterAll(() => dynamodb.restore());

/** A record as in the Lambda developer guide's tumbling-window example event ("Hello, this is a test." when no data is given). */
function record(data?: object, sequenceNumber = '49590338271490256608559692538361571095921575989136588898'): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: '1',
      sequenceNumber,
      data: data ? Buffer.from(JSON.stringify(data)).toString('base64') : 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
      approximateArrivalTimestamp: 1607497475.0,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000006:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-kinesis-role',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream',
  };
}

const FIRST = '49590338271490256608559692538361571095921575989136588898';
const CONTINUATION = '49590338271490256608559692538361571095921575989136589999';

/** The developer guide's example: window 07:04–07:06, a state carried in, shardId and eventSourceARN at the top. */
function event(overrides: Partial<KinesisStreamTumblingWindowEvent> & { Records: KinesisStreamRecord[] }): KinesisStreamTumblingWindowEvent {
  return {
    window: { start: '2020-12-09T07:04:00Z', end: '2020-12-09T07:06:00Z' },
    state: { firstSequenceNumber: FIRST, counts: { '1': 282, '2': 715 } },
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
    ...{ shardId: 'shardId-000000000006', eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream' },
    ...overrides,
  };
}

const WINDOW = 'shardId-000000000006@2020-12-09T07:04:00Z/2020-12-09T07:06:00Z';
const writtenTotals = () =>
  dynamodb
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.UpdateExpression === 'SET windows.#window = :count')
    .map((input) => ({ item: input.Key?.partitionKey, window: input.ExpressionAttributeNames?.['#window'], count: input.ExpressionAttributeValues?.[':count'] }));

test('the documented example event: the state carried in comes back, a record without a run id is not counted', async () => {
  const response = await handler(event({ Records: [record()] }));
  expect(response).toEqual({ state: { firstSequenceNumber: FIRST, counts: { '1': 282, '2': 715 } }, batchItemFailures: [] });
  expect(dynamodb.calls()).toHaveLength(0);
});

test('an aggregation invocation adds each run\'s clicks to the state and writes nothing', async () => {
  const response = await handler(
    event({ state: { firstSequenceNumber: FIRST, counts: { 'run-a': 2 } }, Records: [record({ runId: 'run-a' }, CONTINUATION), record({ runId: 'run-b' }), record({ runId: 'run-a' })] }),
  );
  expect(response).toEqual({ state: { firstSequenceNumber: FIRST, counts: { 'run-a': 4, 'run-b': 1 } }, batchItemFailures: [] });
  expect(dynamodb.calls()).toHaveLength(0);
});

test('the first invocation of a window gets no state: counting starts from nothing, named by its first record', () => {
  expect(aggregate({}, [record({ runId: 'run-a' }, CONTINUATION), record({ runId: 7 }), record()])).toEqual({ firstSequenceNumber: CONTINUATION, counts: { 'run-a': 1 } });
  expect(aggregate({}, [])).toEqual({ firstSequenceNumber: undefined, counts: {} });
});

test('without a shardId in the event, the key names the shard of the records\' event ids, or an unknown shard', async () => {
  const withoutShard = (records: KinesisStreamRecord[]) => {
    const final: Partial<KinesisStreamTumblingWindowEvent & { shardId: string }> = event({ isFinalInvokeForWindow: true, state: { firstSequenceNumber: FIRST, counts: { 'run-a': 1 } }, Records: records });
    delete final.shardId;
    return final as KinesisStreamTumblingWindowEvent;
  };
  await handler(withoutShard([record({ runId: 'run-a' }, CONTINUATION)]));
  await handler(withoutShard([]));
  expect(writtenTotals().map((total) => total.window)).toEqual([
    `shardId-000000000006@2020-12-09T07:04:00Z/2020-12-09T07:06:00Z#${FIRST}`,
    `unknown-shard@2020-12-09T07:04:00Z/2020-12-09T07:06:00Z#${FIRST}`,
  ]);
});

test('without PROGRESS_TABLE_NAME the final invocation fails, writing nothing', async () => {
  delete process.env.PROGRESS_TABLE_NAME;
  await expect(handler(event({ isFinalInvokeForWindow: true, Records: [] }))).rejects.toThrow(new Error('PROGRESS_TABLE_NAME is not set'));
  expect(dynamodb.calls()).toHaveLength(0);
});

test('the final invocation writes each run\'s total for its shard, window and first record, as a value, and starts the next window empty', async () => {
  jest.mocked(console.warn).mockClear();
  const response = await handler(event({ isFinalInvokeForWindow: true, state: { firstSequenceNumber: FIRST, counts: { 'run-a': 5 } }, Records: [] }));
  expect(response).toEqual({ state: {}, batchItemFailures: [] });
  // One line per closed window; a window that ended on time warns of nothing.
  expect(console.log).toHaveBeenLastCalledWith(JSON.stringify({ message: 'window closed', windowKey: `${WINDOW}#${FIRST}`, totals: { 'run-a': 5 } }));
  expect(console.warn).not.toHaveBeenCalled();
  const updates = dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
  expect(updates).toEqual([
    { TableName: 'progress', Key: { partitionKey: windowItemKey('run-a') }, UpdateExpression: 'SET windows = if_not_exists(windows, :empty)', ExpressionAttributeValues: { ':empty': {} } },
    {
      TableName: 'progress',
      Key: { partitionKey: 'window#run-a' },
      UpdateExpression: 'SET windows.#window = :count',
      ExpressionAttributeNames: { '#window': `${WINDOW}#${FIRST}` },
      ExpressionAttributeValues: { ':count': 5 },
    },
  ]);
});

test('a retried final invocation writes the same total under the same key, so nothing is counted twice', async () => {
  const final = event({ isFinalInvokeForWindow: true, state: { firstSequenceNumber: FIRST, counts: { 'run-a': 5 } }, Records: [] });
  await handler(final);
  await handler(final);
  const [first, retry] = writtenTotals();
  expect(retry).toEqual(first);
});

test('a failed write on the final invocation throws, so Lambda retries it with the same state', async () => {
  dynamodb.on(UpdateCommand).rejects(new Error('throttled'));
  await expect(handler(event({ isFinalInvokeForWindow: true, state: { firstSequenceNumber: FIRST, counts: { 'run-a': 5 } }, Records: [] }))).rejects.toThrow('throttled');
});

test('a window terminated early and continued with a fresh state: both parts keep their totals under keys of their own', async () => {
  // Part one: its state reached 1 MB; Lambda ends the window early with a final invocation.
  const first = await handler(event({ state: {}, Records: [record({ runId: 'run-a' }, FIRST), record({ runId: 'run-a' })] }));
  await handler(event({ isFinalInvokeForWindow: true, isWindowTerminatedEarly: true, state: first.state, Records: [] }));
  expect(console.warn).toHaveBeenCalledWith(expect.stringContaining('window terminated early'));
  // Part two: the same window continues with a fresh state, then closes at its end.
  const second = await handler(event({ state: {}, Records: [record({ runId: 'run-a' }, CONTINUATION)] }));
  await handler(event({ isFinalInvokeForWindow: true, state: second.state, Records: [] }));
  expect(writtenTotals()).toEqual([
    { item: 'window#run-a', window: `${WINDOW}#${FIRST}`, count: 2 },
    { item: 'window#run-a', window: `${WINDOW}#${CONTINUATION}`, count: 1 },
  ]);
});
