import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteStreamCommand, KinesisClient, ListShardsCommand, Shard } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, GetCommandOutput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { KinesisStreamRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as transform } from '../../../lambda/firehose-transform';
import { handler as consumer } from '../../../lambda/kinesis-consumer';
import { handler as windowCounter } from '../../../lambda/kinesis-window';
import { streamingLab } from '../../../labs/streaming/lab';
import { STREAMING_LAB } from '../../../labs/streaming/constants';
import { hashKeyOf, shardFor, steps, timing } from '../../../labs/streaming/exercise';
import { parseWindows, windowTiming } from '../../../labs/streaming/exercise/windows';
import { kafkaTiming } from '../../../labs/streaming/exercise/msk-producer';
import { handler as kafkaConsumer, kafkaItemKey } from '../../../lambda/kafka-consumer';
import { KafkaProducerPort, produce, ProduceRequest } from '../../../lambda/kafka-producer';
import { GetEventSourceMappingCommand, InvokeCommand, InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeClusterV2Command, GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import type { MSKEvent } from 'aws-lambda';
import {
  CreateApplicationPresignedUrlCommand,
  DescribeApplicationCommand,
  KinesisAnalyticsV2Client,
  StartApplicationCommand,
  StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { flinkTiming } from '../../../labs/streaming/exercise/flink-notebook';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise, TimingFigures } from '../../../labs/support/exercise';
import { AnyCommand, alter, is } from '../../support/altered-answers';
import { KINESIS_LIMITS } from '../../../lib/kinesis-data-stream';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';
import { deployQueuesLocally, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/lab-template';
import { deployStreamsLocally, kinesisClient, LocalKinesisProxy, startKinesalite, startLocalKinesisProxy } from './local-kinesis';
import {
  firehoseS3Settings,
  kinesisMappingSettings,
  LocalKinesisEventSource,
  LocalTumblingWindow,
  startLocalFirehose,
  startLocalKinesisEventSource,
  startLocalTumblingWindow,
  tumblingWindowSeconds,
} from './local-pipelines';

jest.setTimeout(30_000);
// The handlers log a line per record: what CloudWatch Logs shows, noise here.
beforeAll(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

/** Ends a test's alterations of `client` alone (jest.restoreAllMocks() would end the console's silence too). */
const unalter = (client: { prototype: { send: unknown } }) => (client.prototype.send as jest.SpyInstance).mockRestore();
const lab = streamingLab;
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
// The worker's kinesalite outlives this file (and serves every run of it under Stryker, up to its limit of 100 shards):
// the file deletes the streams it made.
afterAll(async () => {
  await proxy?.stop();
  const client = kinesisClient((await startKinesalite()).endpoint);
  if (outputs) await client.send(new DeleteStreamCommand({ StreamName: outputs.StreamName }));
  client.destroy();
});
beforeEach(() => (lines.length = 0));

// What each step prints, line by line (its title first; printedShape says what varies: the stream's name, sequence
// numbers, times, the date in S3 prefixes, and how the window step's clicks fell into 30 s windows): the lab's lesson
// is in these lines.
const PRINTED: Record<string, string[]> = {
  stream: [
    '\n== 1/1 stream: the stream: mode, shards, retention, encryption at rest',
    'stream streaming-exercise-ID: ACTIVE, PROVISIONED, 2 open shard(s), retention 24 h, encryption KMS (alias/aws/kinesis)',
    'capacity: 2 × (1 MiB/s or 1,000 records/s in, 2 MiB/s out shared by every GetRecords reader) = 2 MiB/s in, 4 MiB/s out; each enhanced fan-out consumer gets its own 4 MiB/s',
  ],
  shards: [
    '\n== 1/1 shards: a partition key goes to the shard whose hash key range holds its MD5',
    'partition key run-t-alice: MD5 hash key 849070078769… → shardId-000000000000 (sequence number SEQ)',
    'partition key run-t-bob: MD5 hash key 208624204213… → shardId-000000000001 (sequence number SEQ)',
    'partition key run-t-carol: MD5 hash key 388275349357… → shardId-000000000000 (sequence number SEQ)',
    'partition key run-t-dave: MD5 hash key 338350629341… → shardId-000000000000 (sequence number SEQ)',
    '2 shard(s): every partition key went to the shard whose hash key range holds the MD5 of the key',
  ],
  ordering: [
    '\n== 1/1 ordering: records of one partition key come back in the order they were written',
    'put 5 records for each of 4 keys, each with SequenceNumberForOrdering = the previous sequence number of its key',
    '  run-t-order-alice: read back in the order 1, 2, 3, 4, 5',
    '  run-t-order-bob: read back in the order 1, 2, 3, 4, 5',
    '  run-t-order-carol: read back in the order 1, 2, 3, 4, 5',
    '  run-t-order-dave: read back in the order 1, 2, 3, 4, 5',
    'within a shard, GetRecords returns records in sequence-number order, so each partition key keeps the order it was written in',
  ],
  iterators: [
    '\n== 1/1 iterators: LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER and TRIM_HORIZON',
    'LATEST, taken before the 3 puts: [1,2,3] (it starts after the newest record when it is taken)',
    'LATEST, taken after them: []',
    'AT_SEQUENCE_NUMBER SEQ: [2,3]',
    'AFTER_SEQUENCE_NUMBER SEQ: [3]',
    'TRIM_HORIZON: 4 records of the shard (everything kept for 24 h), ours among them: [1,2,3]',
  ],
  consumer: [
    '\n== 1/1 consumer: the Lambda consumer applies every record once, in order per partition key',
    'put 5 numbered records for each of 4 keys; the consumer applies record n of a key only after n-1',
    '  run-t-consumer-alice: {"recordCount":5,"lastSeq":5,"outOfOrder":0,"shardId":"shardId-000000000000"}',
    '  run-t-consumer-bob: {"recordCount":5,"lastSeq":5,"outOfOrder":0,"shardId":"shardId-000000000000"}',
    '  run-t-consumer-carol: {"recordCount":5,"lastSeq":5,"outOfOrder":0,"shardId":"shardId-000000000000"}',
    '  run-t-consumer-dave: {"recordCount":5,"lastSeq":5,"outOfOrder":0,"shardId":"shardId-000000000000"}',
    'all applied within N s, in order per key, with ParallelizationFactor 2: Lambda runs up to that many batches of one shard at once, but never two of the same partition key',
  ],
  poison: [
    '\n== 1/1 poison: a poison record is isolated by bisect and described in the on-failure queue',
    'put a good record, a poison one (sequence SEQ) and another good one; the consumer fails on the poison one every time',
    'on-failure queue: condition=RetryAttemptsExhausted, invocations=3, batchSize=1, shard shardId-000000000000',
    'the failure record holds no data, only where to find it; read back from the shard at that sequence number: the poison record',
    'both good records around it were applied: the shard moved on after the poison record was set aside',
  ],
  windows: [
    '\n== 1/1 windows: a tumbling window: clicks counted per shard and 30 s window, totals written when each window closes',
    'put 8 clicks over 4 partition keys; the window counter adds them up per shard and 30 s window and writes each total when the window closes (after its end, when the mapping next polls the shard)',
    'N window total(s) add up to the 8 clicks: the state Lambda carried between invocations held the count, and the final invocation of each window wrote it once',
  ],
  firehose: [
    '\n== 1/1 firehose: Firehose: transformed clicks in S3 under a date prefix, a bad record under the error prefix',
    'put 2 clicks, a heartbeat and a record without a page; Firehose reads them from the stream and calls the transform',
    's3://deliveries/clicks/year=YYYY/month=MM/day=DD/ (gzip, one JSON line per click): [[1,"/home"],[2,"/basket"]]',
    's3://deliveries/errors/processing-failed/year=YYYY/month=MM/day=DD/: the bad record as received (rawData), errorCode Lambda.ProcessingFailedStatus: ProcessingFailed keeps it for a fix and a replay',
  ],
};
const printedShape = (lines: string[]) =>
  lines
    .filter((line) => !line.startsWith('  after '))
    .map((line) =>
      line
        .replace(/streaming-exercise-[a-z0-9]+/, 'streaming-exercise-ID')
        .replace(/\d{20,}/g, 'SEQ')
        .replace(/\d+\.\d s/, 'N s')
        .replace(/year=\d{4}\/month=\d\d\/day=\d\d/g, 'year=YYYY/month=MM/day=DD')
        .replace(/^\d+ window total\(s\)/, 'N window total(s)'),
    );

describe('against the lab\'s stream on kinesalite (2 shards), behind a proxy enforcing a shard\'s write limits', () => {
  test.each(['stream', 'shards', 'ordering', 'iterators'])('step %s passes its own checks', async (id) => {
    await runExercise(step(id), { ...options(), runId: 'run-t' });
    expect(printedShape(lines)).toEqual(PRINTED[id]);
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

  describe('a resharded stream: ListShards lists the closed parent shard too, which takes no more records', () => {
    const MAX_HASH_KEY = (2n ** 128n - 1n).toString();
    const closedParent: Shard = {
      ShardId: 'shardId-000000000099',
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY },
      SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '2' },
    };
    afterEach(() => jest.restoreAllMocks());

    test('the shards step reads every page and routes by the open shards only', async () => {
      // The parent alone on the first page, the stream's own (open) shards on the next.
      const client = kinesisClient(proxy.endpoint);
      const { Shards: ownShards } = await client.send(new ListShardsCommand({ StreamName: outputs.StreamName }));
      client.destroy();
      alter(KinesisClient, async (command, send) => {
        if (!is(command, 'ListShards')) return send();
        return command.input.NextToken === 'page-2' ? { Shards: ownShards } : { Shards: [closedParent], NextToken: 'page-2' };
      });
      await runExercise(step('shards'), { ...options(), runId: 'run-t' });
      expect(printedShape(lines)).toEqual(PRINTED.shards);
    });

    test('a stream whose shards are all closed fails it', async () => {
      alter(KinesisClient, async (command, send) => (is(command, 'ListShards') ? { Shards: [closedParent] } : send()));
      const key = `run-closed-${STREAMING_LAB.orderingKeys[0]}`;
      await expect(runExercise(step('shards'), { ...options(), runId: 'run-closed' })).rejects.toThrow(
        new ExerciseCheckFailed(`no open shard's hash key range holds ${hashKeyOf(key)} (the key of ${key})`),
      );
    });

    test('shardFor: a hash key on either edge of an open shard\'s range is that shard\'s', () => {
      const open = (id: string, from: bigint, to: bigint): Shard => ({
        ShardId: id,
        HashKeyRange: { StartingHashKey: String(from), EndingHashKey: String(to) },
        SequenceNumberRange: { StartingSequenceNumber: '3' },
      });
      const shards = [closedParent, open('low', 0n, 99n), open('high', 100n, 2n ** 128n - 1n)];
      expect([0n, 99n, 100n, 2n ** 128n - 1n].map((key) => shardFor(shards, key)?.ShardId)).toEqual(['low', 'low', 'high', 'high']);
      expect(shardFor([closedParent], 5n)).toBeUndefined();
    });
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
  let windowHandler: typeof windowCounter = windowCounter;
  let windows: LocalTumblingWindow;
  const s3 = mockClient(S3Client);
  const pipelineOptions = (): ExerciseRunOptions => ({
    outputs: pipelineOutputs,
    log: (line) => lines.push(line),
    provide: [
      provide(timing, { ...FAST, progressPollSeconds: 0.05, consumerDeadlineSeconds: 20, failureRecordDeadlineSeconds: 20, deliveryPollSeconds: 0.05, deliveryDeadlineSeconds: 10 }),
      provide(windowTiming, { totalsDeadlineSeconds: 10, totalsPollSeconds: 0.05 }),
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
    windows = startLocalTumblingWindow({
      client: kinesis,
      streamName: streams.StreamName,
      streamArn: streams.StreamArn,
      windowSeconds: tumblingWindowSeconds(template),
      handler: (event) => windowHandler(event),
      closeAfterIdleMs: 300,
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
    await windows?.stop();
    await delivery?.stop();
    if (pipelineOutputs) await kinesis.send(new DeleteStreamCommand({ StreamName: pipelineOutputs.StreamName }));
    kinesis?.destroy();
    await Promise.all([ddb?.stop(), sqs?.stop()]);
  });

  test('parseWindows reads each total\'s shard, window and first sequence number from its key, and its count as a number', () => {
    expect(parseWindows(undefined)).toEqual([]);
    expect(
      parseWindows({
        'shardId-000000000001@2026-12-04T21:00:00.000Z/2026-12-04T21:00:30.000Z#49650': 3,
        'shardId-000000000000@2026-12-04T21:00:30.000Z/2026-12-04T21:01:00.000Z': '2',
        'shardId-000000000002': 1,
      }),
    ).toEqual([
      { shardId: 'shardId-000000000001', start: '2026-12-04T21:00:00.000Z', end: '2026-12-04T21:00:30.000Z', firstSequenceNumber: '49650', count: 3 },
      { shardId: 'shardId-000000000000', start: '2026-12-04T21:00:30.000Z', end: '2026-12-04T21:01:00.000Z', firstSequenceNumber: '', count: 2 },
      { shardId: 'shardId-000000000002', start: '', end: undefined, firstSequenceNumber: '', count: 1 },
    ]);
  });

  test('the local mapping runs with the lab\'s settings: batches of 100, 2 retries, bisect', () => {
    expect(settings).toEqual({ batchSize: STREAMING_LAB.batchSize, retryAttempts: 2, bisectBatchOnError: true });
    expect(tumblingWindowSeconds(template)).toBe(STREAMING_LAB.tumblingWindow.toSeconds());
    expect(firehose).toEqual({ prefix: STREAMING_LAB.deliveryPrefix, errorOutputPrefix: STREAMING_LAB.errorPrefix, compression: 'GZIP' });
  });

  test.each(['consumer', 'poison', 'windows', 'firehose'])('step %s passes its own checks', async (id) => {
    // One run id for the four steps, as in a learner's run: each step must tell its records from the others'.
    await runExercise(step(id), { ...pipelineOptions(), runId: 'run-t' });
    expect(printedShape(lines)).toEqual(PRINTED[id]);
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

  describe('-c streaming:enhancedFanOut=true: the consumer step first reads the fan-out consumer (kinesalite has none: DescribeStreamConsumer answered here)', () => {
    const consumerArn = 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks/consumer/LambdaConsumer:1733300000';
    /** The step's run with the consumer in `status`; `calls` gets the Kinesis calls it makes, by name and consumer. */
    const withConsumer = (status: string, calls: string[], runId?: string) => {
      alter(KinesisClient, async (command, send) => {
        if (!is(command, 'DescribeStreamConsumer')) {
          calls.push(command.constructor.name);
          return send();
        }
        calls.push(`DescribeStreamConsumer ${command.input.ConsumerARN}`);
        return { ConsumerDescription: { ConsumerName: 'LambdaConsumer', ConsumerARN: command.input.ConsumerARN, ConsumerStatus: status } };
      });
      return runExercise(step('consumer'), { ...pipelineOptions(), outputs: { ...pipelineOutputs, FanOutConsumerArn: consumerArn }, ...(runId ? { runId } : {}) });
    };
    afterEach(() => jest.restoreAllMocks());

    test('an ACTIVE consumer: said, then the records applied as through the stream', async () => {
      const calls: string[] = [];
      await withConsumer('ACTIVE', calls, 'run-fan');
      expect(calls[0]).toBe(`DescribeStreamConsumer ${consumerArn}`);
      expect(calls.slice(1)).toContain('PutRecordCommand');
      expect(printedShape(lines).slice(0, 3)).toEqual([
        '\n== 1/1 consumer: the Lambda consumer applies every record once, in order per partition key',
        'enhanced fan-out consumer LambdaConsumer: ACTIVE; the mapping reads through it (SubscribeToShard, pushed)',
        'put 5 numbered records for each of 4 keys; the consumer applies record n of a key only after n-1',
      ]);
    });

    test('a consumer not yet ACTIVE fails the step before it puts a record', async () => {
      const calls: string[] = [];
      await expect(withConsumer('CREATING', calls)).rejects.toThrow(new ExerciseCheckFailed('the enhanced fan-out consumer is CREATING'));
      expect(lines.at(-1)).toBe('enhanced fan-out consumer LambdaConsumer: CREATING; the mapping reads through it (SubscribeToShard, pushed)');
      expect(calls).toEqual([`DescribeStreamConsumer ${consumerArn}`]);
    });
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

  test('the window counter kept the tumbling-window contract: a state in every response, totals written on final invocations', () => {
    expect(windows.contractViolations).toEqual([]);
    expect(windows.invocations.some((i) => i.final && i.records === 0)).toBe(true);
  });

  test('the windows step fails when a window counts each record three times (as a retry that adds a batch again would)', async () => {
    windowHandler = async (event) => windowCounter({ ...event, Records: [...event.Records, ...event.Records, ...event.Records] });
    try {
      // Every total is a multiple of 3, so no sum of them is the 8 put, whichever windows close first.
      await expect(runExercise(step('windows'), pipelineOptions())).rejects.toThrow(/^the windows counted \d+ clicks of this step, not the 8 put: /);
    } finally {
      windowHandler = windowCounter;
    }
  });

  test('the windows step fails when a total names a window longer than the mapping\'s, after reading the totals until they added up', async () => {
    windowHandler = async (event) => {
      const start = Date.parse(event.window.start);
      return windowCounter({ ...event, window: { start: event.window.start, end: new Date(start + 60_000).toISOString() } });
    };
    // The step's reads of the totals: when, what was asked, how many clicks the answer held.
    const reads: { at: number; input: AnyCommand['input']; clicks: number }[] = [];
    alter<GetCommandOutput>(DynamoDBDocumentClient, async (command, send) => {
      const answer = await send();
      if (is(command, 'Get')) reads.push({ at: Date.now(), input: command.input, clicks: parseWindows(answer.Item?.windows).reduce((sum, w) => sum + w.count, 0) });
      return answer;
    });
    try {
      await expect(runExercise(step('windows'), { ...pipelineOptions(), runId: 'run-w60' })).rejects.toThrow(/^window \S+–\S+ of shardId-\d+ lasts 60 s, not the mapping's 30 s$/);
    } finally {
      windowHandler = windowCounter;
      unalter(DynamoDBDocumentClient);
    }
    expect(reads[0].input).toEqual({ TableName: pipelineOutputs.ProgressTableName, Key: { partitionKey: 'window#run-w60-windows' }, ConsistentRead: true });
    // Read every totalsPollSeconds (0.05 s) until the totals held the 8 clicks, then no more.
    expect(reads.map((r) => r.clicks === 8)).toEqual([...reads.slice(1).map(() => false), true]);
    for (let i = 1; i < reads.length; i++) expect(reads[i].at - reads[i - 1].at).toBeGreaterThanOrEqual(45);
    // A line each time more windows are seen: each window of each shard with its clicks.
    const seen = lines.filter((line) => line.startsWith('  after '));
    expect(seen.length).toBeGreaterThan(0);
    const window = 'shardId-\\d+ \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z–\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: \\d+';
    for (const line of seen) expect(line).toMatch(new RegExp(`^  after \\d+\\.\\d s: ${window}(; ${window})*$`));
    const windowCounts = seen.map((line) => line.split('; ').length);
    expect(windowCounts).toEqual([...windowCounts].sort((a, b) => a - b));
    expect(new Set(windowCounts).size).toBe(windowCounts.length);
    expect(seen.at(-1)?.match(/: (\d+)(?=;|$)/g)?.reduce((sum, count) => sum + Number(count.slice(2)), 0)).toBe(8);
  });

  test('the windows step fails when the stream refuses some of its clicks, which it put over the 4 keys with the step\'s own run id', async () => {
    let put: AnyCommand['input'] | undefined;
    alter(KinesisClient, async (command, send) => {
      if (!is(command, 'PutRecords')) return send();
      put = command.input;
      const refused = { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000000' };
      return { FailedRecordCount: 3, Records: (command.input.Records as unknown[]).map((_, i) => (i < 3 ? refused : { ShardId: 'shardId-000000000000', SequenceNumber: String(i) })) };
    });
    try {
      await expect(runExercise(step('windows'), { ...pipelineOptions(), runId: 'run-wr' })).rejects.toThrow(
        new ExerciseCheckFailed('3 of the step\'s 8 clicks were refused: run the step again'),
      );
    } finally {
      unalter(KinesisClient);
    }
    expect(put?.StreamName).toBe(pipelineOutputs.StreamName);
    const records = put?.Records as { PartitionKey: string; Data: Uint8Array }[];
    expect(records.map((r) => [r.PartitionKey, JSON.parse(Buffer.from(r.Data).toString())])).toEqual(
      ['alice', 'bob', 'carol', 'dave', 'alice', 'bob', 'carol', 'dave'].map((name, i) => [
        `run-wr-window-${name}`,
        { key: `run-wr-window-${name}`, page: `/window/${i + 1}`, runId: 'run-wr-windows' },
      ]),
    );
  });

  test('the windows step fails when no window total is ever written (state returned, never acted on)', async () => {
    windowHandler = async (event) => windowCounter({ ...event, isFinalInvokeForWindow: false });
    try {
      const failing = { ...pipelineOptions(), provide: [provide(windowTiming, { totalsDeadlineSeconds: 0.3, totalsPollSeconds: 0.05 })] };
      await expect(runExercise(step('windows'), failing)).rejects.toThrow(
        'no window total for this step\'s clicks within 0.3 s: is the window counter\'s mapping enabled?',
      );
    } finally {
      windowHandler = windowCounter;
    }
  });

  /** What the msk step prints for run-msk, with the double's partitioner (the key's character sum, mod 2). */
  const MSK_PRINTED = [
    '\n== 1/1 msk: MSK Serverless: a topic created, messages produced with IAM authentication, consumed by Lambda (with -c streaming:msk=true)',
    'cluster clicks-kafka-1a2b3c4d: ACTIVE, SERVERLESS, IAM authentication on',
    'bootstrap brokers (SASL/IAM, port 9098): boot-a.kafka-serverless.us-east-1.amazonaws.com:9098,boot-b.kafka-serverless.us-east-1.amazonaws.com:9098',
    'the producer function, in the cluster\'s subnets: topic clicks created with 2 partitions',
    'produced 6 messages: alice → partition 1 offset 0, a-bob → partition 0 offset 0, carol → partition 0 offset 1, -dave → partition 1 offset 1, alice → partition 1 offset 2, a-bob → partition 0 offset 2',
    'the Lambda consumer recorded after N s: ["0:0","0:1","0:2","1:0","1:1","1:2"]',
    'every message reached the consumer through the event source mapping, which polls the topic as consumer group streaming-lab-consumer',
  ];
  describe('the msk step, with a double of the producer function (its own code over a Kafka double) whose messages reach the lab\'s consumer handler', () => {
    const clusterArn = 'arn:aws:kafka:us-east-1:123456789012:cluster/clicks-kafka-1a2b3c4d/8f0e-uuid-2';
    const producerName = 'StreamingLab-KafkaProducer';
    const kafkaApi = mockClient(KafkaClient);
    const lambdaApi = mockClient(LambdaClient);
    const cluster = (iam: boolean) => ({
      ClusterInfo: { ClusterName: 'clicks-kafka-1a2b3c4d', State: 'ACTIVE' as const, ClusterType: 'SERVERLESS' as const, Serverless: { VpcConfigs: [], ClientAuthentication: { Sasl: { Iam: { Enabled: iam } } } } },
    });
    /** What the double saw: the connections, the topics created, the messages sent. */
    const seen = { brokers: [] as string[][], topics: [] as [string, number][], sent: [] as { key: string; value: string }[] };
    /** A stand-in for Kafka's partitioner (the same key, the same partition); a test breaks it. */
    let partitionOf = (key: string, _sent: number) => [...key].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 2;
    const keyed = partitionOf;
    /** What the mapping delivers to the consumer: all by default; a test drops some. */
    let deliver = (records: MSKEvent['records']) => records;
    /** The offset the broker gives the next message of a partition: the next one by default; a test breaks it. */
    let nextOffset = (last: number | undefined) => (last ?? -1) + 1;
    const double = (brokers: readonly string[]): KafkaProducerPort => {
      seen.brokers.push([...brokers]);
      const offsets = new Map<number, number>();
      return {
        createTopic: async (topic, partitions) => {
          seen.topics.push([topic, partitions]);
          return seen.topics.length === 1;
        },
        send: async (topic, message) => {
          seen.sent.push(message);
          const partition = partitionOf(message.key, seen.sent.length);
          const offset = nextOffset(offsets.get(partition));
          offsets.set(partition, offset);
          const value = Buffer.from(message.value).toString('base64');
          const record = { topic, partition, offset, timestamp: Date.now(), timestampType: 'CREATE_TIME' as const, key: Buffer.from(message.key).toString('base64'), value, headers: [] };
          await kafkaConsumer({ eventSource: 'aws:kafka', eventSourceArn: clusterArn, bootstrapServers: brokers.join(','), records: deliver({ [`${topic}-${partition}`]: [record] }) });
          return { partition, offset: String(offset) };
        },
        disconnect: async () => undefined,
      };
    };
    /** A payload as Invoke returns it: JSON bytes (the SDK's type adds helpers the step does not use). */
    const payloadOf = (value: unknown) => Buffer.from(JSON.stringify(value)) as unknown as InvokeCommandOutput['Payload'];
    /** The producer function as Lambda runs it: the request in, the function's own code over the Kafka double. */
    const producedFor = (payload: Uint8Array | undefined) => {
      const request = JSON.parse(Buffer.from(payload ?? []).toString()) as ProduceRequest;
      return produce(double(request.brokers), request);
    };
    const mskOptions = (runId: string): ExerciseRunOptions => ({
      outputs: { ...pipelineOutputs, KafkaClusterArn: clusterArn, KafkaProducerFunctionName: producerName, KafkaMappingId: 'a1b2c3d4-mapping' },
      log: (line) => lines.push(line),
      runId,
      provide: [provide(kafkaTiming, { consumerDeadlineSeconds: 0.3, consumerPollSeconds: 0.05 })],
    });
    beforeEach(() => {
      kafkaApi.reset();
      kafkaApi.on(DescribeClusterV2Command).resolves(cluster(true));
      kafkaApi.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: 'boot-a.kafka-serverless.us-east-1.amazonaws.com:9098,boot-b.kafka-serverless.us-east-1.amazonaws.com:9098' });
      lambdaApi.reset();
      lambdaApi.on(InvokeCommand).callsFake(async (input: { Payload?: Uint8Array }) => ({ StatusCode: 200, Payload: payloadOf(await producedFor(input.Payload)) }));
      lambdaApi.on(GetEventSourceMappingCommand, { UUID: 'a1b2c3d4-mapping' }).resolves({ State: 'Enabled', LastProcessingResult: 'PROBLEM: Cluster failed to authorize Lambda.' });
      deliver = (records) => records;
      partitionOf = keyed;
      nextOffset = (last) => (last ?? -1) + 1;
    });
    afterAll(() => {
      kafkaApi.restore();
      lambdaApi.restore();
    });

    test('passes its own checks: the cluster checked, the producer function invoked, the topic created, 6 messages produced and recorded', async () => {
      seen.topics.length = 0;
      const reads: AnyCommand['input'][] = [];
      alter(DynamoDBDocumentClient, async (command, send) => (is(command, 'Get') && reads.push(command.input), send()));
      try {
        await runExercise(step('msk'), mskOptions('run-msk'));
      } finally {
        unalter(DynamoDBDocumentClient);
      }
      // Everything was recorded by the time the function answered: one read, then no more polling.
      expect(reads).toEqual([{ TableName: pipelineOutputs.ProgressTableName, Key: { partitionKey: kafkaItemKey('run-msk') }, ConsistentRead: true }]);
      expect(lines.map((line) => line.replace(/after \d+\.\d s/, 'after N s'))).toEqual(MSK_PRINTED);
      expect(lambdaApi.commandCalls(GetEventSourceMappingCommand)).toHaveLength(0);
      expect(kafkaApi.commandCalls(DescribeClusterV2Command)[0].args[0].input).toEqual({ ClusterArn: clusterArn });
      const [invoke] = lambdaApi.commandCalls(InvokeCommand);
      expect(invoke.args[0].input.FunctionName).toBe(producerName);
      const brokers = ['boot-a.kafka-serverless.us-east-1.amazonaws.com:9098', 'boot-b.kafka-serverless.us-east-1.amazonaws.com:9098'];
      expect(seen.brokers.at(-1)).toEqual(brokers);
      expect(seen.topics.at(-1)).toEqual(['clicks', 2]);
      expect(seen.sent.slice(-6).map((m) => JSON.parse(m.value).seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(lines.join('\n')).toMatch(/topic clicks (created with 2 partitions|already there)/);
      expect(lines.join('\n')).toMatch(/every message reached the consumer/);
    });

    test('fails with the function\'s error when the producer function fails', async () => {
      const error = { errorType: 'KafkaJSConnectionError', errorMessage: 'Connection timeout' };
      lambdaApi.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payloadOf(error) });
      await expect(runExercise(step('msk'), mskOptions('run-msk-failed'))).rejects.toThrow(
        new ExerciseCheckFailed(`the producer function ${producerName} failed: ${JSON.stringify(error)}`),
      );
    });

    test.each([
      ['fewer messages than were sent', 'run-msk-short', (produced: readonly unknown[]) => produced.slice(0, -1), ['alice', 'bob', 'carol', 'dave', 'alice']],
      ['the messages in another order', 'run-msk-order', (produced: readonly unknown[]) => [...produced].reverse(), ['bob', 'alice', 'dave', 'carol', 'bob', 'alice']],
    ])('fails when the function reports %s', async (_, runId, report, names) => {
      lambdaApi.on(InvokeCommand).callsFake(async (input: { Payload?: Uint8Array }) => {
        const response = await producedFor(input.Payload);
        return { StatusCode: 200, Payload: payloadOf({ ...response, produced: report(response.produced) }) };
      });
      await expect(runExercise(step('msk'), mskOptions(runId))).rejects.toThrow(
        new ExerciseCheckFailed(`the producer function reported ${JSON.stringify(names.map((name) => `${runId}-kafka-${name}`))}, not the 6 messages sent`),
      );
    });

    test('fails when a partition gives a key\'s later message the same offset', async () => {
      nextOffset = (last) => last ?? 7;
      await expect(runExercise(step('msk'), mskOptions('run-msk-same'))).rejects.toThrow(
        /^the messages of key run-msk-same-kafka-alice got offsets 7, 7: a partition appends in the order sent$/,
      );
    });

    test('fails when a partition gives a key\'s later message a lower offset', async () => {
      // The topic is there from an earlier run: the function says so.
      seen.topics.splice(0, seen.topics.length, ['clicks', 2]);
      nextOffset = (last) => (last === undefined ? 10 : last - 1);
      await expect(runExercise(step('msk'), mskOptions('run-msk-offsets'))).rejects.toThrow(
        /^the messages of key run-msk-offsets-kafka-alice got offsets 10, [0-9]: a partition appends in the order sent$/,
      );
      expect(lines).toContain('the producer function, in the cluster\'s subnets: topic clicks already there');
    });

    test('says how to deploy it when the flag is off, and calls nothing', async () => {
      await runExercise(step('msk'), { ...mskOptions('run-msk-off'), outputs: pipelineOutputs });
      expect(lines.at(-1)).toBe('the MSK part is not deployed: npx cdk deploy StreamingLab -c streaming:msk=true ($576.70/month)');
      expect(kafkaApi.calls()).toHaveLength(0);
      expect(lambdaApi.calls()).toHaveLength(0);
    });

    test('fails on a cluster that does not authenticate with IAM', async () => {
      kafkaApi.on(DescribeClusterV2Command).resolves(cluster(false));
      await expect(runExercise(step('msk'), mskOptions('run-msk-noiam'))).rejects.toThrow(new ExerciseCheckFailed('the cluster does not authenticate clients with IAM'));
      expect(lines.at(-1)).toBe('cluster clicks-kafka-1a2b3c4d: ACTIVE, SERVERLESS, IAM authentication off');
    });

    test('fails when the messages of a key are spread over partitions', async () => {
      partitionOf = (_key, sent) => Math.floor(sent / 4) % 2;
      await expect(runExercise(step('msk'), mskOptions('run-msk-spread'))).rejects.toThrow(/^the messages of key run-msk-spread-kafka-alice went to partitions (0, 1|1, 0): a key belongs to one partition$/);
    });

    test('fails on a cluster without SASL/IAM brokers', async () => {
      kafkaApi.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerString: 'b-1:9092' });
      await expect(runExercise(step('msk'), mskOptions('run-msk-brokers'))).rejects.toThrow(new ExerciseCheckFailed('the cluster has no SASL/IAM bootstrap brokers'));
      kafkaApi.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerString: 'b-1:9092', BootstrapBrokerStringSaslIam: '' });
      await expect(runExercise(step('msk'), mskOptions('run-msk-brokers'))).rejects.toThrow(new ExerciseCheckFailed('the cluster has no SASL/IAM bootstrap brokers'));
    });

    test('fails when the consumer misses a message', async () => {
      let delivered = 0;
      deliver = (records) => (++delivered === 3 ? {} : records);
      let reads = 0;
      alter(DynamoDBDocumentClient, async (command, send) => (is(command, 'Get') && reads++, send()));
      try {
        await expect(runExercise(step('msk'), mskOptions('run-msk-lost'))).rejects.toThrow(
          /^the consumer recorded 5 of the 6 messages within 0.3 s; missing \d:\d+; the mapping is Enabled, last processing result: PROBLEM: Cluster failed to authorize Lambda\.$/,
        );
      } finally {
        unalter(DynamoDBDocumentClient);
      }
      // Read every consumerPollSeconds (0.05 s) until the deadline (0.3 s): at most 7 reads.
      expect(reads).toBeGreaterThan(1);
      expect(reads).toBeLessThanOrEqual(7);
    });

    test('fails when the mapping delivers nothing, and says what the mapping last reported', async () => {
      deliver = () => ({});
      await expect(runExercise(step('msk'), mskOptions('run-msk-none'))).rejects.toThrow(
        new ExerciseCheckFailed(
          'the consumer recorded 0 of the 6 messages within 0.3 s; missing 0:0, 0:1, 0:2, 1:0, 1:1, 1:2; the mapping is Enabled, last processing result: PROBLEM: Cluster failed to authorize Lambda.',
        ),
      );
      expect(lines.at(-1)?.replace(/after \d+\.\d s/, 'after N s')).toBe('the Lambda consumer recorded after N s: []');
    });

    test('fails when the consumer recorded a message of this run that the step never produced', async () => {
      let delivered = 0;
      deliver = (records) => {
        if (++delivered > 1) return records;
        const [group, [record]] = Object.entries(records)[0];
        return { [group]: [record, { ...record, offset: 999 }] };
      };
      await expect(runExercise(step('msk'), mskOptions('run-msk-extra'))).rejects.toThrow(/^the consumer recorded offsets this step never produced: \[.*"\d:999".*\]$/);
    });

    test('fails on a cluster that is not ACTIVE, and on one that is not serverless', async () => {
      const { ClusterInfo } = cluster(true);
      kafkaApi.on(DescribeClusterV2Command).resolves({ ClusterInfo: { ...ClusterInfo, State: 'CREATING' } });
      await expect(runExercise(step('msk'), mskOptions('run-msk-creating'))).rejects.toThrow(new ExerciseCheckFailed('the cluster is CREATING, not ACTIVE'));
      kafkaApi.on(DescribeClusterV2Command).resolves({ ClusterInfo: { ...ClusterInfo, ClusterType: 'PROVISIONED' } });
      await expect(runExercise(step('msk'), mskOptions('run-msk-provisioned'))).rejects.toThrow(new ExerciseCheckFailed('the cluster is PROVISIONED, not SERVERLESS'));
      expect(lambdaApi.calls()).toHaveLength(0);
    });
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

/** What the flink step prints, its title first (times of the waits as N). */
const FLINK_PRINTED = [
  '\n== 1/1 flink: Flink Studio: READY (free) as deployed, started, its URL and Flink SQL, stopped again (with -c streaming:flink=true)',
  'notebook clicks-notebook-1a2b3c4d: READY, mode INTERACTIVE, runtime ZEPPELIN-FLINK-3_0',
  'starting it: from now on it bills $0.33 per hour (1 KPU + the Studio\'s 2, $0.11 each) until stopped',
  '  RUNNING after N s',
  'notebook UI (30 minutes): https://zeppelin.example/notebook?token=x',
  "  %flink.ssql CREATE TABLE clicks (key STRING, page STRING, arrival TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL, WATERMARK FOR arrival AS arrival - INTERVAL '5' SECOND) WITH ('connector' = 'kinesis', 'stream' = 'clicks', 'aws.region' = 'eu-west-1', 'scan.stream.initpos' = 'LATEST', 'format' = 'json');",
  "  %flink.ssql(type=update) SELECT key, COUNT(*) AS clicks FROM clicks GROUP BY TUMBLE(arrival, INTERVAL '1' MINUTE), key;",
  'stopping it',
  '  READY after N s',
  'READY again: a stopped notebook keeps its notes and its Glue tables and bills nothing',
];
describe('the flink step, against a double of the Managed Flink API that moves through its states', () => {
  const analytics = mockClient(KinesisAnalyticsV2Client);
  let status = 'READY';
  /** Statuses the double reports after a start and after a stop, one per DescribeApplication call. */
  let afterStart: string[] = [];
  let afterStop: string[] = [];
  const flinkOptions = (): ExerciseRunOptions => ({
    outputs: { StreamName: 'clicks', StreamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks', NotebookName: 'clicks-notebook-1a2b3c4d' },
    log: (line) => lines.push(line),
    provide: [provide(flinkTiming, { transitionDeadlineSeconds: 0.2, statusPollSeconds: 0.01 })],
  });
  beforeEach(() => {
    analytics.reset();
    status = 'READY';
    afterStart = ['STARTING', 'RUNNING'];
    afterStop = ['STOPPING', 'READY'];
    let queue: string[] = [];
    analytics.on(DescribeApplicationCommand).callsFake(() => {
      status = queue.shift() ?? status;
      return { ApplicationDetail: { ApplicationName: 'clicks-notebook-1a2b3c4d', ApplicationMode: 'INTERACTIVE', ApplicationStatus: status, RuntimeEnvironment: 'ZEPPELIN-FLINK-3_0' } };
    });
    analytics.on(StartApplicationCommand).callsFake(() => ((queue = [...afterStart]), {}));
    analytics.on(StopApplicationCommand).callsFake((input: { Force?: boolean }) => {
      // As the API: a stop without Force is refused unless the notebook is RUNNING.
      if (!input.Force && status !== 'RUNNING') {
        throw Object.assign(new Error(`Application is in ${status} status; it can be stopped only when RUNNING unless forced`), { name: 'ResourceInUseException' });
      }
      queue = [...afterStop];
      return {};
    });
    analytics.on(CreateApplicationPresignedUrlCommand).resolves({ AuthorizedUrl: 'https://zeppelin.example/notebook?token=x' });
  });
  beforeAll(() => (process.env.AWS_ENDPOINT_URL_KINESIS_ANALYTICS_V2 = 'http://flink.local:4566'));
  afterAll(() => {
    analytics.restore();
    delete process.env.AWS_ENDPOINT_URL_KINESIS_ANALYTICS_V2;
  });

  test('passes its own checks: READY, started, the URL printed, stopped, READY again', async () => {
    await runExercise(step('flink'), flinkOptions());
    // READY once, STARTING then RUNNING, STOPPING then READY: no status read after the one waited for.
    expect(analytics.commandCalls(DescribeApplicationCommand).map((call) => call.args[0].input)).toEqual(Array(5).fill({ ApplicationName: 'clicks-notebook-1a2b3c4d' }));
    expect(analytics.commandCalls(StartApplicationCommand).map((call) => call.args[0].input)).toEqual([{ ApplicationName: 'clicks-notebook-1a2b3c4d' }]);
    // Every call went to Managed Flink's own endpoint (AWS_ENDPOINT_URL_KINESIS_ANALYTICS_V2).
    const endpoints = await Promise.all(
      analytics.calls().map(async (call) => {
        const { hostname, port } = await (call.thisValue as KinesisAnalyticsV2Client).config.endpoint!();
        return `${hostname}:${port}`;
      }),
    );
    expect(new Set(endpoints)).toEqual(new Set(['flink.local:4566']));
    expect(analytics.commandCalls(CreateApplicationPresignedUrlCommand)[0].args[0].input).toEqual({
      ApplicationName: 'clicks-notebook-1a2b3c4d',
      UrlType: 'ZEPPELIN_UI_URL',
      SessionExpirationDurationInSeconds: 1800,
    });
    expect(lines.map((line) => line.replace(/after \d+\.\d s/, 'after N s'))).toEqual(FLINK_PRINTED);
    const sent = analytics.calls().map((call) => call.args[0].constructor.name);
    expect(sent.filter((name) => name !== 'DescribeApplicationCommand')).toEqual(['StartApplicationCommand', 'CreateApplicationPresignedUrlCommand', 'StopApplicationCommand']);
    expect(analytics.commandCalls(StopApplicationCommand)[0].args[0].input).toEqual({ ApplicationName: 'clicks-notebook-1a2b3c4d', Force: false });
    expect(lines.join('\n')).toContain("'stream' = 'clicks', 'aws.region' = 'eu-west-1'");
    expect(lines.join('\n')).toMatch(/bills \$0\.33 per hour \(1 KPU \+ the Studio's 2, \$0\.11 each\)[\s\S]*notebook UI \(30 minutes\): https:\/\/zeppelin\.example[\s\S]*READY again/);
  });

  test('says how to deploy it when the flag is off, and calls nothing', async () => {
    await runExercise(step('flink'), { ...flinkOptions(), outputs: { StreamName: 'clicks', StreamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks' } });
    expect(lines.at(-1)).toBe('the Flink part is not deployed: npx cdk deploy StreamingLab -c streaming:flink=true ($0 while stopped)');
    expect(analytics.calls()).toHaveLength(0);
  });

  test('fails when no notebook URL is returned, and stops the running notebook', async () => {
    analytics.on(CreateApplicationPresignedUrlCommand).resolves({});
    await expect(runExercise(step('flink'), flinkOptions())).rejects.toThrow(new ExerciseCheckFailed('no notebook URL was returned'));
    expect(analytics.commandCalls(StopApplicationCommand).map((call) => call.args[0].input)).toEqual([{ ApplicationName: 'clicks-notebook-1a2b3c4d', Force: false }]);
  });

  test('refuses an application that is not a Studio notebook', async () => {
    analytics.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationName: 'x', ApplicationMode: 'STREAMING', ApplicationStatus: 'READY', RuntimeEnvironment: 'FLINK-1_20', ApplicationARN: 'arn', ApplicationVersionId: 1 } });
    await expect(runExercise(step('flink'), flinkOptions())).rejects.toThrow(new ExerciseCheckFailed('the application is STREAMING, not an INTERACTIVE (Studio) notebook'));
  });

  test('refuses to start a notebook that is already running, and starts nothing', async () => {
    status = 'RUNNING';
    await expect(runExercise(step('flink'), flinkOptions())).rejects.toThrow(new ExerciseCheckFailed('the notebook is RUNNING, not READY: stop it first (it bills while running)'));
    expect(analytics.commandCalls(StartApplicationCommand)).toHaveLength(0);
  });

  test('stops the notebook even when it never reached RUNNING (forced: a plain stop is refused while STARTING), and fails', async () => {
    afterStart = ['STARTING'];
    await expect(runExercise(step('flink'), flinkOptions())).rejects.toThrow(new ExerciseCheckFailed('the notebook did not reach RUNNING: STARTING'));
    // Polled every statusPollSeconds (0.01 s) until the deadline (0.2 s): at most 20 reads while starting.
    expect(analytics.commandCalls(DescribeApplicationCommand).length).toBeLessThanOrEqual(1 + 20);
    expect(lines.filter((line) => line.startsWith('  STARTING')).map((line) => line.replace(/after \d+\.\d s/, 'after N s'))).toEqual(['  STARTING after N s']);
    expect(analytics.commandCalls(StopApplicationCommand).map((call) => call.args[0].input)).toEqual([{ ApplicationName: 'clicks-notebook-1a2b3c4d', Force: true }]);
  });

  test('the double refuses an unforced stop of a STARTING notebook, as the API does', async () => {
    status = 'STARTING';
    await expect(new KinesisAnalyticsV2Client({ region: 'us-east-1' }).send(new StopApplicationCommand({ ApplicationName: 'clicks-notebook-1a2b3c4d' }))).rejects.toThrow(/STARTING status/);
  });

  test('fails when the notebook does not come back to READY', async () => {
    afterStop = ['STOPPING'];
    await expect(runExercise(step('flink'), flinkOptions())).rejects.toThrow(/^the notebook did not stop: STOPPING; stop it in the console/);
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
