import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { applyRecord, handler } from '../../../lambda/orders-view';
import { dynamodbStreamsLab } from '../../../labs/dynamodb-streams/lab';
import { DynamodbStreamsLabStack } from '../../../labs/dynamodb-streams/stack';
import { withStack } from '../../../labs/support/app';
import { steps, timing } from '../../../labs/dynamodb-streams/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';
import { LocalStreamSource, startLocalStreamSource, streamMappingSettings } from '../../support/local-dynamodb-stream-source';
import { LocalLambdaInvoke, startLocalLambdaInvoke } from '../../support/local-lambda-invoke';
import { deployQueuesLocally, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/synth';

jest.setTimeout(60_000);

const lab = withStack(dynamodbStreamsLab, DynamodbStreamsLabStack);
const template = labTemplate(lab);
const settings = streamMappingSettings(template);
const FUNCTION_NAME = 'ViewUpdater';

let ddb: LocalDynamoDb;
let sqs: LocalSqs;
let invoke: LocalLambdaInvoke;
let source: LocalStreamSource;
let outputs: Record<string, string>;
const lines: string[] = [];
const context = (): ExerciseRunOptions => ({
  outputs,
  log: (line) => lines.push(line),
  // A view or a failure record that never gets there fails the step with what it saw, well before jest's own timeout
  // would hide it. The failure record's deadline counts from the start of the poison step, so it includes the view's.
  provide: [
    provide(timing, { viewPollSeconds: 0.05, viewDeadlineSeconds: 20, poisonViewDeadlineSeconds: 20, failureRecordDeadlineSeconds: 30 }),
  ],
});

/** A view updater that is not idempotent: every invocation looks like a new stream record to it. */
async function forgetfulUpdater(event: DynamoDBStreamEvent) {
  for (const record of event.Records) await applyRecord({ ...record, eventID: `${record.eventID}-${Math.random()}` } as DynamoDBRecord);
  return { batchItemFailures: [] };
}
let invokeHandler: (event: DynamoDBStreamEvent) => Promise<unknown> = handler;

beforeAll(async () => {
  [sqs, ddb] = await Promise.all([startLocalSqs(), startLocalDynamoDb()]);
  const queues = await deployQueuesLocally(template, sqs.client);
  const tables = await deployTablesLocally(template, ddb.client);
  outputs = { ...queues.outputs, ...tables.outputs, ViewUpdaterFunctionName: FUNCTION_NAME };
  process.env.VIEW_TABLE_NAME = outputs.ViewTableName;
  invoke = await startLocalLambdaInvoke({ [FUNCTION_NAME]: (event) => invokeHandler(event as DynamoDBStreamEvent) });
  source = startLocalStreamSource({
    ...settings,
    streams: ddb.streams,
    streamArn: outputs.OrdersStreamArn,
    handler,
    onFailure: async (failure) => {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: outputs.OnFailureQueueUrl, MessageBody: JSON.stringify(failure) }));
    },
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

describe('against the lab\'s tables on DynamoDB Local, its queue on fauxqs, the handler behind a local event source', () => {
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (_id, step) => {
    await runExercise([step], context());
    expect(lines.length).toBeGreaterThan(2);
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
