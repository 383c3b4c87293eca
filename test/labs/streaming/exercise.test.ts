import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { KinesisStreamRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as transform } from '../../../lambda/firehose-transform';
import { handler as consumer } from '../../../lambda/kinesis-consumer';
import { streamingLab } from '../../../labs/streaming/lab';
import { StreamingLabStack } from '../../../labs/streaming/stack';
import { STREAMING_LAB } from '../../../labs/streaming/constants';
import { steps, timing } from '../../../labs/streaming/exercise';
import { withStack } from '../../../labs/support/app';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise, TimingFigures } from '../../../labs/support/exercise';
import { KINESIS_LIMITS } from '../../../lib/kinesis-data-stream';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';
import { deployQueuesLocally, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/synth';
import { deployStreamsLocally, kinesisClient, LocalKinesisProxy, startKinesalite, startLocalKinesisProxy } from './local-kinesis';
import { firehoseS3Settings, kinesisMappingSettings, LocalKinesisEventSource, startLocalFirehose, startLocalKinesisEventSource } from './local-pipelines';

jest.setTimeout(30_000);
// The handlers log a line per record: what CloudWatch Logs shows, noise here.
beforeAll(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

const lab = withStack(streamingLab, StreamingLabStack);
const template = labTemplate(lab);
const FAST: TimingFigures<typeof STREAMING_LAB.exerciseTiming> = { ...STREAMING_LAB.exerciseTiming, retryBaseMs: 20, getRecordsPauseMs: 0 };
const budget = { records: KINESIS_LIMITS.writeRecordsPerShardPerSecond, bytes: KINESIS_LIMITS.writeBytesPerShardPerSecond };

let proxy: LocalKinesisProxy;
let outputs: Record<string, string>;
const lines: string[] = [];
const options = (overrides: Partial<typeof FAST> = {}): ExerciseRunOptions => ({
  outputs,
  log: (line) => lines.push(line),
  provide: [provide(timing, { ...FAST, ...overrides })],
});
const step = (id: string) => steps.filter((s) => s.id === id);

beforeAll(async () => {
  const kinesalite = await startKinesalite();
  // Two shards, as deployed with -c streaming:shardCount=2, so partition keys have a choice of shard.
  outputs = await deployStreamsLocally(template, kinesalite.endpoint, { shardCount: 2, prefix: 'streaming-exercise' });
  proxy = await startLocalKinesisProxy(kinesalite.endpoint, { budget, encryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' } });
  Object.assign(process.env, { AWS_ENDPOINT_URL_KINESIS: proxy.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
});
afterAll(() => proxy?.stop());
beforeEach(() => (lines.length = 0));

describe('against the lab\'s stream on kinesalite (2 shards), behind a proxy enforcing a shard\'s write limits', () => {
  test.each(['stream', 'shards', 'ordering', 'iterators'])('step %s passes its own checks', async (id) => {
    await runExercise(step(id), options());
    expect(lines.length).toBeGreaterThan(1);
  });

  test('the shards step saw both shards used by the 4 partition keys', async () => {
    // Keys are named after the run: this run id's 4 keys hash into both halves of the key space (1, 0, 1, 0).
    await runExercise(step('shards'), { ...options(), runId: 'run-spread' });
    const shards = new Set(lines.flatMap((line) => line.match(/→ (shardId-\d+)/)?.[1] ?? []));
    expect(shards.size).toBe(2);
  });

  test('step throttling passes its own checks: refused by the shard at first, everything written after retrying', async () => {
    const before = proxy.throttled;
    await runExercise(step('throttling'), options());
    expect(proxy.throttled - before).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/refused at first, 0 refused in the end/);
  });
});

describe('the checks fail when the stream misbehaves', () => {
  test('a stream without encryption at rest fails the stream step', async () => {
    const kinesalite = await startKinesalite();
    const plain = await startLocalKinesisProxy(kinesalite.endpoint, { budget });
    process.env.AWS_ENDPOINT_URL_KINESIS = plain.endpoint;
    try {
      await expect(runExercise(step('stream'), options())).rejects.toThrow(new ExerciseCheckFailed('the stream is not encrypted at rest (EncryptionType NONE)'));
    } finally {
      process.env.AWS_ENDPOINT_URL_KINESIS = proxy.endpoint;
      await plain.stop();
    }
  });

  test('a shard that never throttles fails the throttling step', async () => {
    const kinesalite = await startKinesalite();
    const unlimited = await startLocalKinesisProxy(kinesalite.endpoint, { budget: { records: Infinity, bytes: Infinity } });
    process.env.AWS_ENDPOINT_URL_KINESIS = unlimited.endpoint;
    try {
      await expect(runExercise(step('throttling'), options())).rejects.toThrow(/no record was refused/);
    } finally {
      process.env.AWS_ENDPOINT_URL_KINESIS = proxy.endpoint;
      await unlimited.stop();
    }
  });

  test.each([
    ['shards', { misrouteShards: true }, /^Kinesis put .* in shardId-\d+, but its hash key is in the range of shardId-\d+$/],
    ['ordering', { reverseReads: true }, /^the records of .* came back as \[5, 4, 3, 2, 1\], not \[1,2,3,4,5\]$/],
    ['iterators', { reverseReads: true }, /^a LATEST iterator taken before the puts returned \[3,2,1\], not \[1,2,3\]$/],
  ])('a stream that breaks what step %s relies on fails it', async (id, broken, message) => {
    const kinesalite = await startKinesalite();
    const broke = await startLocalKinesisProxy(kinesalite.endpoint, { budget, ...broken });
    process.env.AWS_ENDPOINT_URL_KINESIS = broke.endpoint;
    try {
      const failure = await runExercise(step(id), options()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toMatch(message);
    } finally {
      process.env.AWS_ENDPOINT_URL_KINESIS = proxy.endpoint;
      await broke.stop();
    }
  });

  test('a producer that gives up too early leaves records refused', async () => {
    await expect(runExercise(step('throttling'), options({ maxRetries: 0 }))).rejects.toThrow(/records were still refused after the retries/);
  });
});

describe('the consumer, poison and firehose steps: the lab\'s handlers behind local stand-ins of Lambda\'s mapping and Firehose', () => {
  const settings = kinesisMappingSettings(template);
  const firehose = firehoseS3Settings(template);
  const kinesisAt = (endpoint: string) => kinesisClient(endpoint);
  let ddb: LocalDynamoDb;
  let sqs: LocalSqs;
  let kinesis: KinesisClient;
  let source: LocalKinesisEventSource;
  let delivery: ReturnType<typeof startLocalFirehose>;
  let pipelineOutputs: Record<string, string>;
  let consumerHandler: typeof consumer = consumer;
  let transformHandler: typeof transform = transform;
  const s3 = mockClient(S3Client);
  const pipelineOptions = (): ExerciseRunOptions => ({
    outputs: pipelineOutputs,
    log: (line) => lines.push(line),
    provide: [
      provide(timing, { ...FAST, progressPollSeconds: 0.05, consumerDeadlineSeconds: 20, failureRecordDeadlineSeconds: 20, deliveryPollSeconds: 0.05, deliveryDeadlineSeconds: 10 }),
    ],
  });

  beforeAll(async () => {
    const kinesalite = await startKinesalite();
    [ddb, sqs] = await Promise.all([startLocalDynamoDb(), startLocalSqs()]);
    process.env.AWS_ENDPOINT_URL_KINESIS = proxy.endpoint;
    kinesis = kinesisAt(kinesalite.endpoint);
    const streams = await deployStreamsLocally(template, kinesalite.endpoint, { prefix: 'streaming-pipelines' });
    const tables = await deployTablesLocally(template, ddb.client);
    const queues = await deployQueuesLocally(template, sqs.client);
    pipelineOutputs = { ...streams, ...tables.outputs, ...queues.outputs, DeliveryBucketName: 'deliveries' };
    process.env.PROGRESS_TABLE_NAME = pipelineOutputs.ProgressTableName;
    source = startLocalKinesisEventSource({
      ...settings,
      client: kinesis,
      streamName: streams.StreamName,
      streamArn: streams.StreamArn,
      handler: (event) => consumerHandler(event),
      onFailure: async (failure) => {
        await sqs.client.send(new SendMessageCommand({ QueueUrl: pipelineOutputs.OnFailureQueueUrl, MessageBody: JSON.stringify(failure) }));
      },
      // Records the poison step writes one after the other arrive in one batch, as on AWS with a batching window.
      idleMs: 300,
    });
    delivery = startLocalFirehose({ ...firehose, client: kinesis, streamName: streams.StreamName, streamArn: streams.StreamArn, transform: (event) => transformHandler(event) });
    s3.on(ListObjectsV2Command).callsFake(({ Bucket, Prefix }: { Bucket: string; Prefix: string }) => ({
      Contents: Bucket === 'deliveries' ? delivery.objects.filter((o) => o.key.startsWith(Prefix)).map((o) => ({ Key: o.key })) : [],
    }));
    s3.on(GetObjectCommand).callsFake(({ Key }: { Key: string }) => {
      const object = delivery.objects.find((o) => o.key === Key);
      return { Body: { transformToByteArray: async () => new Uint8Array(object?.body ?? []) } };
    });
  });
  afterAll(async () => {
    s3.restore();
    await source?.stop();
    await delivery?.stop();
    kinesis?.destroy();
    await Promise.all([ddb?.stop(), sqs?.stop()]);
  });

  test('the local mapping runs with the lab\'s settings: batches of 100, 2 retries, bisect', () => {
    expect(settings).toEqual({ batchSize: STREAMING_LAB.batchSize, retryAttempts: 2, bisectBatchOnError: true });
    expect(firehose).toEqual({ prefix: STREAMING_LAB.deliveryPrefix, errorOutputPrefix: STREAMING_LAB.errorPrefix, compression: 'GZIP' });
  });

  test.each(['consumer', 'poison', 'firehose'])('step %s passes its own checks', async (id) => {
    await runExercise(step(id), pipelineOptions());
    expect(lines.length).toBeGreaterThan(2);
  });

  test('the poison record failed alone after its retries; the transform kept the record contract', () => {
    const failure = source.failures.find((f) => f.KinesisBatchInfo.batchSize === 1);
    expect(failure?.requestContext.approximateInvokeCount).toBe(settings.retryAttempts + 1);
    const bad = failure?.KinesisBatchInfo.startSequenceNumber ?? '';
    expect(source.invocations.filter((i) => i.sequenceNumbers.includes(bad)).at(-1)).toEqual({ sequenceNumbers: [bad], outcome: 'error' });
    expect(delivery.contractViolations).toEqual([]);
  });

  test('the consumer step fails when a record is applied twice', async () => {
    // The extra count lands before the real update, so the step sees it by the time the key is complete.
    consumerHandler = async (event) => {
      for (const record of event.Records) await applyAgain(record);
      return consumer(event);
    };
    try {
      await expect(runExercise(step('consumer'), pipelineOptions())).rejects.toThrow(/a record was applied twice/);
    } finally {
      consumerHandler = consumer;
    }
  });

  test('the poison step fails when the poison record never reaches the on-failure queue', async () => {
    consumerHandler = async (event) => consumer({ Records: event.Records.filter((r) => !Buffer.from(r.kinesis.data, 'base64').toString().includes('"poison":true')) });
    try {
      const failing = { ...pipelineOptions(), provide: [provide(timing, { ...FAST, failureRecordDeadlineSeconds: 1 })] };
      await expect(runExercise(step('poison'), failing)).rejects.toThrow(/^no failure record for sequence \d+ reached the on-failure queue within 1 s$/);
    } finally {
      consumerHandler = consumer;
    }
  });

  test('the firehose step fails when heartbeats are delivered', async () => {
    transformHandler = async (event) => {
      const result = await transform(event);
      return { records: result.records.map((r) => (r.result === 'Dropped' ? { ...r, result: 'Ok' as const } : r)) };
    };
    try {
      await expect(runExercise(step('firehose'), pipelineOptions())).rejects.toThrow(/the heartbeat reached S3/);
    } finally {
      transformHandler = transform;
    }
  });
});

/** A consumer bug: applies a record's count again, as a handler without the progress condition would on a redelivery. */
async function applyAgain(record: KinesisStreamRecord): Promise<void> {
  const { key } = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString()) as { key: string };
  await ddbDocument().send(
    new UpdateCommand({ TableName: process.env.PROGRESS_TABLE_NAME, Key: { partitionKey: key }, UpdateExpression: 'ADD recordCount :one', ExpressionAttributeValues: { ':one': 1 } }),
  );
}
const ddbDocument = () => DynamoDBDocumentClient.from(new DynamoDBClient({}));
