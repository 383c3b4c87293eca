import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { applyRecord, handler } from '../../../lambda/orders-view';
import { dynamodbStreamsLab } from '../../../labs/dynamodb-streams/lab';
import { steps, timing } from '../../../labs/dynamodb-streams/exercise';
import { DynamoDbStreamsApi } from '../../../labs/dynamodb-streams/streams-api';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';
import { LocalStreamSource, LocalStreamSourceProps, startLocalStreamSource, streamMappingSettings } from '../../support/local-dynamodb-stream-source';
import { LocalLambdaInvoke, startLocalLambdaInvoke } from '../../support/local-lambda-invoke';
import { deployQueuesLocally, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/lab-template';
import { alter, AnyCommand, Answer, inConcurrentTest, is } from '../../support/altered-answers';
import { concurrentTest } from '../../support/concurrent-test';

// The ttl step waits for DynamoDB Local's TTL sweep, which pauses 10 s after each delete.
jest.setTimeout(90_000);

const lab = dynamodbStreamsLab;
const template = labTemplate(lab);
const settings = streamMappingSettings(template);
const FUNCTION_NAME = 'ViewUpdater';

let ddb: LocalDynamoDb;
let sqs: LocalSqs;
let invoke: LocalLambdaInvoke;
let source: LocalStreamSource;
let outputs: Record<string, string>;
const lines: string[] = [];
const context = (runId?: string, printedTo = lines): ExerciseRunOptions => ({
  outputs,
  runId,
  log: (line) => printedTo.push(line),
  // A view or a failure record that never gets there fails the step with what it saw, well before jest's own timeout
  // would hide it. The failure record's deadline counts from the start of the poison step, so it includes the view's.
  provide: [
    provide(timing, { viewPollSeconds: 0.05, viewDeadlineSeconds: 20, poisonViewDeadlineSeconds: 20, failureRecordDeadlineSeconds: 30, ttlDeleteWaitSeconds: 60 }),
  ],
});

/** A view updater that is not idempotent: every invocation looks like a new stream record to it. */
async function forgetfulUpdater(event: DynamoDBStreamEvent) {
  for (const record of event.Records) await applyRecord({ ...record, eventID: `${record.eventID}-${Math.random()}` } as DynamoDBRecord);
  return { batchItemFailures: [] };
}
let invokeHandler: (event: DynamoDBStreamEvent) => Promise<unknown> = handler;

/**
 * The lab's event source on the stream of `ordersTable`, started once the stream has a record: DynamoDB Local fails
 * the reads of an iterator taken on an empty shard (TrimmedDataAccessException) when another table's write comes
 * before the shard's first record, between two reads, as when two tests write to two tables at once. That record is
 * an item the event filter keeps from the function.
 */
async function startEventSource(ordersTable: string, streamArn: string, onFailure: LocalStreamSourceProps['onFailure']): Promise<LocalStreamSource> {
  await ddb.client.send(new PutItemCommand({ TableName: ordersTable, Item: { customerId: { S: 'event-source' }, sk: { S: 'STARTED' } } }));
  return startLocalStreamSource({ ...settings, streams: ddb.streams, streamArn, handler, onFailure });
}

beforeAll(async () => {
  [sqs, ddb] = await Promise.all([startLocalSqs(), startLocalDynamoDb()]);
  const queues = await deployQueuesLocally(template, sqs.client);
  const tables = await deployTablesLocally(template, ddb.client);
  outputs = { ...queues.outputs, ...tables.outputs, ViewUpdaterFunctionName: FUNCTION_NAME };
  process.env.VIEW_TABLE_NAME = outputs.ViewTableName;
  invoke = await startLocalLambdaInvoke({ [FUNCTION_NAME]: (event) => invokeHandler(event as DynamoDBStreamEvent) });
  source = await startEventSource(outputs.OrdersTableName, outputs.OrdersStreamArn, async (failure) => {
    await sqs.client.send(new SendMessageCommand({ QueueUrl: outputs.OnFailureQueueUrl, MessageBody: JSON.stringify(failure) }));
  });
});
afterAll(async () => {
  await source?.stop();
  await invoke?.stop();
  await Promise.all([ddb?.stop(), sqs?.stop()]);
});
beforeEach(() => (lines.length = 0));

test('the local event source runs with the lab\'s mapping: batches of 10, 2 retries, bisect, partial responses, a filter', () => {
  expect(settings).toEqual({
    batchSize: 10,
    retryAttempts: 2,
    bisectBatchOnError: true,
    reportBatchItemFailures: true,
    filterPatterns: ['{"dynamodb":{"Keys":{"sk":{"S":[{"prefix":"ORDER#"}]}}}}'],
  });
});

/** The engine's answers, except `name` calls of `client` (that `when` picks), whose answer `edit` rewrites. */
const answers = <C extends { send: (...args: never[]) => unknown }>(client: { prototype: C }, name: string, edit: (answer: Answer) => Answer, when: (command: AnyCommand) => boolean = () => true) =>
  alter(client, async (command, send) => (is(command, name) && when(command) ? edit(await send()) : send()));
/** The ttl step's read of the orders without the expiry filter, its items passed through `edit`. */
const unfilteredOrderQuery = (edit: (items: Answer[]) => Answer[]) =>
  answers(DynamoDBDocumentClient, 'Query', (a) => ({ ...a, Items: edit((a.Items ?? []) as Answer[]) }), (c) => c.input.FilterExpression === undefined);
/** The expired order as the ttl step's unfiltered read returns it, whether or not DynamoDB Local has deleted it yet. */
const keepExpiredOrderReadable = () =>
  unfilteredOrderQuery((items) => (items.some((item) => item.sk === 'ORDER#old') ? items : [...items, { sk: 'ORDER#old' }]));
const SHORT = { viewPollSeconds: 0.05, viewDeadlineSeconds: 0.3, poisonViewDeadlineSeconds: 20, failureRecordDeadlineSeconds: 30, ttlDeleteWaitSeconds: 0.3 };
const STILL_READABLE =
  'the expired order is still stored and readable: TTL deletes in the background, best effort, typically within two days of expiry, so reads must filter expired items themselves';
const TTL_DELETED =
  'TTL deleted order "old": the stream carried a REMOVE with userIdentity {type: Service, principalId: dynamodb.amazonaws.com}; the function counted it in expiredCount and kept it in the totals (an archived order is not a cancelled one)';
const matching = (pattern: RegExp) => expect.stringMatching(pattern);
const viewOf = (customerId: string, totals: string) => matching(new RegExp(`^  view for ${customerId} after \\d+\\.\\d s: ${totals.replace(/[{}]/g, '\\$&')}$`));
afterEach(() => jest.restoreAllMocks());

describe('against the lab\'s tables on DynamoDB Local, its queue on fauxqs, the handler behind a local event source', () => {
  /** What the learner reads for each step of run `run-t` (times, sequence numbers and event ids vary); the ttl step's is at the end of the file. */
  const transcripts: Record<string, (string | ReturnType<typeof matching>)[]> = {
    view: [
      '\n== 1/1 view: orders become per-customer totals through the stream',
      'put a profile item (sk=PROFILE) for run-t-view: the event filter keeps it away from the function',
      'put 3 orders (1250 + 899 + 4000 cents); the stream carries each INSERT to the function',
      viewOf('run-t-view', '{"orderCount":3,"totalCents":6149,"cancelledCount":0,"expiredCount":0}'),
      'the view table now answers "how much has this customer ordered" with one GetItem instead of a Query + sum',
    ],
    'change-cancel': [
      '\n== 1/1 change-cancel: MODIFY adds the difference, a delete by a caller cancels',
      viewOf('run-t-change', '{"orderCount":2,"totalCents":1500,"cancelledCount":0,"expiredCount":0}'),
      'changed order a from 1000 to 1500 cents: a MODIFY record with the old and the new image; the view adds +500',
      viewOf('run-t-change', '{"orderCount":2,"totalCents":2000,"cancelledCount":0,"expiredCount":0}'),
      'deleted order b: a REMOVE record without userIdentity, made by a caller, so the order counts as cancelled',
      viewOf('run-t-change', '{"orderCount":1,"totalCents":1500,"cancelledCount":1,"expiredCount":0}'),
    ],
    poison: [
      '\n== 1/1 poison: a poison record is isolated by bisect and described in the on-failure queue',
      'wrote 3 orders in one BatchWriteItem; order "bad" has amountCents "twelve", a string: the function fails on it every time',
      viewOf('run-t-poison', '{"orderCount":2,"totalCents":3000,"cancelledCount":0,"expiredCount":0}'),
      'both good orders are in the view: the records before the bad one were kept, the ones after it were retried without it',
      matching(/^on-failure queue: condition=RetryAttemptsExhausted, invocations=3, batchSize=1, sequence numbers (\d{21})\.\.\1$/),
      'the failure record holds no data, only where to find it; read from the stream: ORDER#bad amountCents={"S":"twelve"}',
      'the record stays in the stream for 24 hours: fix the item, or replay it to the function after a fix (next step)',
    ],
    replay: [
      '\n== 1/1 replay: replaying a stream record to the function changes nothing',
      viewOf('run-t-replay', '{"orderCount":1,"totalCents":2500,"cancelledCount":0,"expiredCount":0}'),
      matching(/^read back the INSERT record the function applied \(eventID [0-9a-f-]{36}, sequence \d{21}\)$/),
      'replay 1: invoked the function with the same record; it answered {"batchItemFailures":[]}',
      'replay 2: invoked the function with the same record; it answered {"batchItemFailures":[]}',
      'view after two replays: {"orderCount":1,"totalCents":2500,"cancelledCount":0,"expiredCount":0}',
      matching(/^nothing counted twice: the marker APPLIED#[0-9a-f-]{36} made the transaction's condition fail, and with it the increment$/),
    ],
  };
  test.each(steps.filter((s) => s.id !== 'ttl').map((s) => [s.id, s] as const))('step %s passes its own checks and prints what it saw', async (id, step) => {
    await runExercise([step], context('run-t'));
    expect(lines).toEqual(transcripts[id]);
  });

  test('step ttl, when TTL deleted the expired order before the read: the view counts it as expired, not cancelled', async () => {
    // After a delete, DynamoDB Local's TTL sweep pauses 10 s: the transcript's run waited for a real delete, the view's
    // answer stands in for the next one.
    unfilteredOrderQuery((items) => items.filter((item) => item.sk !== 'ORDER#old'));
    answers(DynamoDBDocumentClient, 'Get', (a) => ({ ...a, Item: a.Item && { ...(a.Item as object), expiredCount: 1 } }));
    await runExercise(steps.filter((s) => s.id === 'ttl'), context('run-u'));
    expect(lines.slice(3)).toEqual([
      'Query without a filter: ["new"]; with "expiresAt > now": ["new"]',
      'TTL has already deleted the expired order, between the write and the read: it deletes in the background, best effort (DynamoDB typically within two days of expiry, DynamoDB Local within seconds), so until then reads must filter expired items themselves',
      viewOf('run-u-ttl', '{"orderCount":2,"totalCents":1000,"cancelledCount":0,"expiredCount":1}'),
      TTL_DELETED,
    ]);
  });

  test('step ttl, when TTL has not deleted the expired order within the wait: it says what will happen, and passes', async () => {
    keepExpiredOrderReadable();
    const orders: Answer[] = [];
    alter(DynamoDBDocumentClient, async (command, send) => (is(command, 'Put') && orders.push(command.input.Item as Answer), send()));
    const now = Math.floor(Date.now() / 1000);
    answers(DynamoDBDocumentClient, 'Get', (a) => ({ ...a, Item: a.Item && { ...(a.Item as object), expiredCount: 0 } }));
    await runExercise(steps.filter((s) => s.id === 'ttl'), { ...context('run-v'), provide: [provide(timing, { ...SHORT, ttlDeleteWaitSeconds: 0.3 })] });
    expect(lines.slice(3)).toEqual([
      'Query without a filter: ["new","old"]; with "expiresAt > now": ["new"]',
      STILL_READABLE,
      viewOf('run-v-ttl', '{"orderCount":2,"totalCents":1000,"cancelledCount":0,"expiredCount":0}'),
      'TTL has not deleted it within 0.3 s. When it does, the stream carries a REMOVE with userIdentity {type: Service, principalId: dynamodb.amazonaws.com}: the function counts it in expiredCount and keeps it in the totals (an archived order is not a cancelled one).',
    ]);
    // Expired a day before the step, and expiring a year after it (epoch seconds).
    const expired = orders[0]?.expiresAt as number;
    expect(lines[2]).toBe(`put order "old" that expired a day ago (expiresAt=${expired}, epoch seconds) and order "new" expiring in a year`);
    expect(expired).toBeGreaterThanOrEqual(now - 24 * 3600);
    expect(expired).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - 24 * 3600);
    expect(orders).toEqual([
      { customerId: 'run-v-ttl', sk: 'ORDER#old', amountCents: 300, expiresAt: expired },
      { customerId: 'run-v-ttl', sk: 'ORDER#new', amountCents: 700, expiresAt: expired + 366 * 24 * 3600 },
    ]);
  });

  test('the filter kept the profile item away from the function', async () => {
    const profiles = (await ddb.streams.readAll(outputs.OrdersStreamArn)).filter((r) => r.dynamodb.Keys.sk.S === 'PROFILE');
    expect(profiles).toHaveLength(1);
    const invoked = new Set(source.invocations.flatMap((i) => i.sequenceNumbers));
    expect(invoked.size).toBeGreaterThan(10);
    expect(invoked.has(profiles[0].dynamodb.SequenceNumber)).toBe(false);
  });

  test('the poison step: the bad record ended up failing alone, was retried, then discarded; nothing else was', () => {
    expect(source.failures).toHaveLength(1);
    const [failure] = source.failures;
    expect(failure.DDBStreamBatchInfo.batchSize).toBe(1);
    expect(failure.requestContext.approximateInvokeCount).toBe(settings.retryAttempts + 1);
    const bad = failure.DDBStreamBatchInfo.startSequenceNumber;
    const withBad = source.invocations.filter((i) => i.sequenceNumbers.includes(bad));
    expect(withBad.length).toBeGreaterThanOrEqual(settings.retryAttempts + 1);
    expect(withBad[withBad.length - 1]).toEqual({ sequenceNumbers: [bad], outcome: 'error' });
  });

  test('the poison step deleted the failure record it read from the on-failure queue', async () => {
    const { Attributes } = await sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl: outputs.OnFailureQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  test('the replay step invoked the function twice with a record it had applied already', () => {
    expect(invoke.events[FUNCTION_NAME]).toHaveLength(2);
  });
});

test('the replay step fails when the function is not idempotent', async () => {
  invokeHandler = forgetfulUpdater;
  try {
    const step = steps.find((s) => s.id === 'replay')!;
    const failure = await runExercise([step], context()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toMatch(
      /^the replays changed the view from \{"orderCount":1,"totalCents":2500,.*\} to \{"orderCount":3,"totalCents":7500,/,
    );
  } finally {
    invokeHandler = handler;
  }
});

describe('each check of the steps fails when the one fact it checks is changed', () => {
  /** Failure records received from the on-failure queue, passed through `edit`. */
  const failureRecords = (edit: (record: { requestContext: Answer; DDBStreamBatchInfo: Answer }) => object) =>
    answers(SQSClient, 'ReceiveMessage', (answer) => ({
      ...answer,
      Messages: ((answer.Messages ?? []) as { Body?: string }[]).map((m) => ({ ...m, Body: JSON.stringify(edit(JSON.parse(m.Body ?? '{}'))) })),
    }), (command) => command.input.QueueUrl === outputs.OnFailureQueueUrl);
  /**
   * Each failure record received from the on-failure queue, as three messages the poison step must pass over: the
   * record of another stream, the record as an earlier run's (its first record arrived an hour before the step), and a
   * message that is no failure record.
   */
  const notOurs = () =>
    answers(SQSClient, 'ReceiveMessage', (answer) => ({
      ...answer,
      Messages: ((answer.Messages ?? []) as { Body?: string }[]).flatMap((m) => {
        const record = JSON.parse(m.Body ?? '{}') as { DDBStreamBatchInfo: Answer };
        const info = (edit: Answer) => ({ ...m, Body: JSON.stringify({ ...record, DDBStreamBatchInfo: { ...record.DDBStreamBatchInfo, ...edit } }) });
        return [
          info({ streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/other/stream/x' }),
          info({ approximateArrivalOfFirstRecord: new Date(Date.now() - 3_600_000).toISOString() }),
          { ...m, Body: '{"note":"not a failure record"}' },
        ];
      }),
    }), (command) => command.input.QueueUrl === outputs.OnFailureQueueUrl);
  /** The stream record the exercise reads back, passed through `edit`. */
  const streamRecord = (edit: (record: DynamoDBRecord) => DynamoDBRecord) => {
    const recordAt = DynamoDbStreamsApi.prototype.recordAt;
    jest.spyOn(DynamoDbStreamsApi.prototype, 'recordAt').mockImplementation(async function (this: DynamoDbStreamsApi, ...args) {
      const record = await recordAt.apply(this, args);
      return record && !inConcurrentTest() ? edit(record) : record;
    });
  };
  /** A sequence number before the first of the stream (DynamoDB's are 21 to 40 digits). */
  const NO_RECORD = '0'.repeat(21);
  const stepFails = async (id: string, message: string, figures = SHORT) => {
    const failure = await runExercise(steps.filter((s) => s.id === id), { ...context(), provide: [provide(timing, figures)] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toContain(message);
  };

  test.each<[string, string, () => void, string]>([
    ['view', 'a view that never reaches the totals', () => answers(DynamoDBDocumentClient, 'Get', (a) => ({ ...a, Item: a.Item && { ...(a.Item as object), totalCents: 1 } })), 'did not reach {"orderCount":3,"totalCents":6149} within 0.3 s; it is {'],
    ['ttl', 'TTL off', () => answers(DynamoDBClient, 'DescribeTimeToLive', () => ({ TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } })), 'expected TTL ENABLED on expiresAt, found {"TimeToLiveStatus":"DISABLED"}'],
    ['ttl', 'TTL on another attribute', () => answers(DynamoDBClient, 'DescribeTimeToLive', () => ({ TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' } })), 'expected TTL ENABLED on expiresAt, found {"TimeToLiveStatus":"ENABLED","AttributeName":"ttl"}'],
    ['ttl', 'no TTL description', () => answers(DynamoDBClient, 'DescribeTimeToLive', () => ({})), 'expected TTL ENABLED on expiresAt, found undefined'],
    ['ttl', 'a view that never counts the TTL delete it shows', () => {
      unfilteredOrderQuery((items) => items.filter((item) => item.sk !== 'ORDER#old'));
      answers(DynamoDBDocumentClient, 'Get', (a) => ({ ...a, Item: a.Item && { ...(a.Item as object), expiredCount: 0 } }));
    }, 'did not reach {"orderCount":2,"totalCents":1000,"cancelledCount":0,"expiredCount":1} within 0.3 s; it is {"orderCount":'],
    ['ttl', 'a view that never counts both orders', () => {
      keepExpiredOrderReadable();
      answers(DynamoDBDocumentClient, 'Get', (a) => ({ ...a, Item: a.Item && { ...(a.Item as object), orderCount: 1 } }));
    }, 'did not reach {"orderCount":2,"totalCents":1000} within 0.3 s; it is {"orderCount":1,'],
    ['ttl', 'a filter that keeps the expired order', () => answers(DynamoDBDocumentClient, 'Query', (a) => ({ ...a, Items: [...(a.Items as object[]), { sk: 'ORDER#old' }] }), (c) => c.input.FilterExpression !== undefined), 'the filtered query returned ["new","old"], expected only "new"'],
    ['poison', 'failure records of another stream or of an earlier run, and a message that is none', () => notOurs(), 'no failure record of this run reached the on-failure queue within 1 s'],
    ['poison', 'a record of another condition', () => failureRecords((r) => ({ ...r, requestContext: { ...r.requestContext, condition: 'RecordAgeExceeded' } })), 'unexpected condition RecordAgeExceeded'],
    ['poison', 'a failed batch of 3 records', () => failureRecords((r) => ({ ...r, DDBStreamBatchInfo: { ...r.DDBStreamBatchInfo, batchSize: 3 } })), 'the failed batch holds 3 records: bisect did not isolate the bad one'],
    ['poison', 'a record gone from the stream', () => failureRecords((r) => ({ ...r, DDBStreamBatchInfo: { ...r.DDBStreamBatchInfo, startSequenceNumber: NO_RECORD } })), `the stream no longer has record ${NO_RECORD}`],
    ['poison', 'a record of another order', () => streamRecord((r) => ({ ...r, dynamodb: { ...r.dynamodb, Keys: { ...r.dynamodb?.Keys, sk: { S: 'ORDER#good-1' } } } })), 'the failure record points at ORDER#good-1, not at the bad order'],
    ['replay', 'no applied-record marker', () => answers(DynamoDBClient, 'Query', (a) => ({ ...a, Items: [] })), 'expected one applied-record marker for'],
    ['replay', 'a marker without a sequence number', () => answers(DynamoDBClient, 'Query', (a) => ({ ...a, Items: (a.Items as Answer[]).map((i) => ({ ...i, sequenceNumber: undefined })) })), 'the stream no longer has record '],
    ['replay', 'a marker of a record gone from the stream', () => answers(DynamoDBClient, 'Query', (a) => ({ ...a, Items: (a.Items as Answer[]).map((i) => ({ ...i, sequenceNumber: { S: NO_RECORD } })) })), `the stream no longer has record ${NO_RECORD}`],
  ])('%s fails on %s', async (id, _name, breakIt, message) => {
    breakIt();
    await stepFails(id, message, id === 'poison' && message.startsWith('no failure record') ? { ...SHORT, failureRecordDeadlineSeconds: 1 } : SHORT);
  });

  test('poison fails on a view that never shows the good orders', async () => {
    answers(DynamoDBDocumentClient, 'Get', (a) => ({ ...a, Item: a.Item && { ...(a.Item as object), totalCents: 1 } }));
    await stepFails('poison', 'did not reach {"orderCount":2,"totalCents":3000} within 0.3 s; it is {', { ...SHORT, poisonViewDeadlineSeconds: 0.3 });
  });

  test.each<[string, (event: DynamoDBStreamEvent) => Promise<unknown>, string]>([
    ['a function that fails', async () => { throw new Error('boom'); }, 'replay 1: the function failed: {"errorType":"Error","errorMessage":"boom"}'],
    ['a function that answers without batchItemFailures', async () => ({}), 'replay 1: the function reported {}'],
    ['a function that reports the record failed', async (event) => ({ batchItemFailures: [{ itemIdentifier: event.Records[0].dynamodb?.SequenceNumber }] }), 'replay 1: the function reported {"batchItemFailures":[{"itemIdentifier":'],
  ])('replay fails on %s', async (_name, updater, message) => {
    invokeHandler = updater;
    try {
      await stepFails('replay', message);
    } finally {
      invokeHandler = handler;
    }
  });
});

/**
 * The ttl step waits up to ~10 s for DynamoDB Local's TTL sweep: this test runs it beside all the others (declared last,
 * since jest waits for a concurrent test where it is declared), against its own copy of the lab's tables. The sweep
 * reads a table 20 items at a time, 10 s apart: in the file's orders table, the other tests' orders could put this
 * one's expired order on a later page. The function writes to the file's view table, which VIEW_TABLE_NAME names.
 */
concurrentTest('step ttl passes its own checks and prints what it saw', async () => {
  const copy = await deployTablesLocally(template, ddb.client);
  // A failure record of this copy's source stays in its `failures`: none is expected.
  const copySource = await startEventSource(copy.outputs.OrdersTableName, copy.outputs.OrdersStreamArn, async () => undefined);
  const printed: string[] = [];
  // DynamoDB Local deletes the expired order within about 10 s, sometimes before the step reads it back: the test
  // keeps it in that read so the transcript is this one, and shows the other one above.
  keepExpiredOrderReadable();
  try {
    await runExercise(steps.filter((s) => s.id === 'ttl'), { ...context('run-t', printed), outputs: { ...outputs, OrdersTableName: copy.outputs.OrdersTableName } });
  } finally {
    await copySource.stop();
  }
  expect(printed).toEqual([
    '\n== 1/1 ttl: TTL: expired items stay readable until deleted; a TTL delete is not a cancellation',
    'TTL on the orders table: ENABLED on attribute expiresAt',
    matching(/^put order "old" that expired a day ago \(expiresAt=\d{10}, epoch seconds\) and order "new" expiring in a year$/),
    'Query without a filter: ["new","old"]; with "expiresAt > now": ["new"]',
    STILL_READABLE,
    viewOf('run-t-ttl', '{"orderCount":2,"totalCents":1000,"cancelledCount":0,"expiredCount":1}'),
    TTL_DELETED,
  ]);
  expect(copySource.failures).toEqual([]);
});
