import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  PutRecordsRequestEntry,
  Shard,
  ShardIteratorType,
  _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { check, defineTiming, elapsedSeconds, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import { SEARCH_LAB, STREAMING_LAB } from './constants';
import { decode, documentClient, encode, kinesisOf, runKey } from './clients';
import { regionOfArn, SearchApi } from './search-api';
import { flinkNotebook } from './flink-notebook';
import { mskTopic } from './msk-producer';
import { windowedTotals } from './windows';

export const timing = defineTiming(STREAMING_LAB.exerciseTiming);
export const searchTiming = defineTiming(SEARCH_LAB.exerciseTiming);

/** The 128-bit hash key Kinesis maps a partition key to: MD5 of its UTF-8 bytes, read as an unsigned integer. */
export const hashKeyOf = (partitionKey: string) => BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);

/** The open shard whose hash key range holds `hashKey`. */
export function shardFor(shards: readonly Shard[], hashKey: bigint): Shard | undefined {
  return shards.find(
    (shard) =>
      shard.SequenceNumberRange?.EndingSequenceNumber === undefined &&
      BigInt(shard.HashKeyRange?.StartingHashKey ?? -1) <= hashKey &&
      hashKey <= BigInt(shard.HashKeyRange?.EndingHashKey ?? -1),
  );
}

async function openShards(context: ExerciseContext, streamName: string): Promise<Shard[]> {
  const kinesis = await kinesisOf(context);
  const shards: Shard[] = [];
  let NextToken: string | undefined;
  do {
    const page = await kinesis.send(new ListShardsCommand(NextToken ? { NextToken } : { StreamName: streamName }));
    shards.push(...(page.Shards ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return shards.filter((shard) => shard.SequenceNumberRange?.EndingSequenceNumber === undefined);
}

/** Reads a shard from `iterator` until a GetRecords call returns nothing more (MillisBehindLatest 0), at most `pages` calls. */
async function readShard(context: ExerciseContext, iterator: string | undefined, pages = 20): Promise<KinesisRecord[]> {
  const kinesis = await kinesisOf(context);
  const { getRecordsPauseMs } = await context.use(timing);
  const records: KinesisRecord[] = [];
  let next = iterator;
  for (let page = 0; next && page < pages; page++) {
    if (page > 0) await new Promise((resolve) => setTimeout(resolve, getRecordsPauseMs));
    const { Records = [], NextShardIterator, MillisBehindLatest } = await kinesis.send(new GetRecordsCommand({ ShardIterator: next }));
    records.push(...Records);
    if (Records.length === 0 && MillisBehindLatest === 0) break;
    next = NextShardIterator;
  }
  return records;
}

/**
 * Reads the shard from a fresh `iterator()` until `enough` holds for what was read, at most `readAttempts` times:
 * a record is readable within about a second of its put, not always at once. Returns the last read.
 */
async function readUntil(
  context: ExerciseContext,
  iterator: () => Promise<string | undefined>,
  enough: (records: KinesisRecord[]) => boolean,
  pages?: number,
): Promise<KinesisRecord[]> {
  const { readAttempts, getRecordsPauseMs } = await context.use(timing);
  let records: KinesisRecord[] = [];
  for (let attempt = 0; attempt < readAttempts; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, getRecordsPauseMs));
    records = await readShard(context, await iterator(), pages);
    if (enough(records)) break;
  }
  return records;
}

async function iteratorOf(
  context: ExerciseContext,
  streamName: string,
  shardId: string,
  type: ShardIteratorType,
  sequenceNumber?: string,
): Promise<string | undefined> {
  const { ShardIterator } = await (await kinesisOf(context)).send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: type, StartingSequenceNumber: sequenceNumber }),
  );
  return ShardIterator;
}

async function theStream(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const { StreamDescriptionSummary: summary } = await (await kinesisOf(context)).send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  check(summary !== undefined, `DescribeStreamSummary returned nothing for ${streamName}`);
  const mode = summary.StreamModeDetails?.StreamMode ?? 'PROVISIONED';
  log(
    `stream ${summary.StreamName}: ${summary.StreamStatus}, ${mode}, ${summary.OpenShardCount} open shard(s), ` +
      `retention ${summary.RetentionPeriodHours} h, encryption ${summary.EncryptionType} (${summary.KeyId})`,
  );
  check(summary.StreamStatus === 'ACTIVE', `the stream is ${summary.StreamStatus}, not ACTIVE`);
  check(summary.EncryptionType === 'KMS', `the stream is not encrypted at rest (EncryptionType ${summary.EncryptionType})`);
  check(
    summary.RetentionPeriodHours === STREAMING_LAB.retention.toHours(),
    `retention is ${summary.RetentionPeriodHours} h, expected ${STREAMING_LAB.retention.toHours()} h`,
  );
  const shards = summary.OpenShardCount ?? 0;
  check(shards >= 1, 'the stream has no open shard');
  log(
    `capacity: ${shards} × (1 MiB/s or 1,000 records/s in, 2 MiB/s out shared by every GetRecords reader) = ` +
      `${shards} MiB/s in, ${shards * 2} MiB/s out; each enhanced fan-out consumer gets its own ${shards * 2} MiB/s`,
  );
}

async function shardAssignment(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const shards = await openShards(context, streamName);
  for (const name of STREAMING_LAB.orderingKeys) {
    const partitionKey = runKey(context, name);
    const { ShardId, SequenceNumber } = await (await kinesisOf(context)).send(
      new PutRecordCommand({ StreamName: streamName, PartitionKey: partitionKey, Data: encode({ key: partitionKey, page: '/probe' }) }),
    );
    const hashKey = hashKeyOf(partitionKey);
    const expected = shardFor(shards, hashKey);
    log(`partition key ${partitionKey}: MD5 hash key ${hashKey.toString().slice(0, 12)}… → ${ShardId} (sequence number ${SequenceNumber})`);
    check(expected !== undefined, `no open shard's hash key range holds ${hashKey} (the key of ${partitionKey})`);
    check(ShardId === expected.ShardId, `Kinesis put ${partitionKey} in ${ShardId}, but its hash key is in the range of ${expected.ShardId}`);
  }
  log(`${shards.length} shard(s): every partition key went to the shard whose hash key range holds the MD5 of the key`);
}

/** Puts `recordsPerKey` records for each key, numbered from 1, each chained to the previous one of its key. */
async function putNumbered(context: ExerciseContext, streamName: string, keys: readonly string[]) {
  const sent = new Map<string, string[]>();
  for (let seq = 1; seq <= STREAMING_LAB.recordsPerKey; seq++) {
    for (const key of keys) {
      const previous = sent.get(key)?.at(-1);
      const { SequenceNumber = '' } = await (await kinesisOf(context)).send(
        new PutRecordCommand({
          StreamName: streamName,
          PartitionKey: key,
          Data: encode({ key, seq, page: `/Products/${seq}`, runId: context.runId }),
          SequenceNumberForOrdering: previous,
        }),
      );
      sent.set(key, [...(sent.get(key) ?? []), SequenceNumber]);
    }
  }
  return sent;
}

async function ordering(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const keys = STREAMING_LAB.orderingKeys.map((name) => runKey(context, `order-${name}`));
  const sent = await putNumbered(context, streamName, keys);
  for (const [key, numbers] of sent) {
    const increasing = numbers.every((n, i) => i === 0 || BigInt(n) > BigInt(numbers[i - 1]));
    check(increasing, `the sequence numbers of ${key} do not increase: ${numbers.join(', ')}`);
  }
  log(`put ${STREAMING_LAB.recordsPerKey} records for each of ${keys.length} keys, each with SequenceNumberForOrdering = the previous sequence number of its key`);

  const shards = await openShards(context, streamName);
  const seen = new Map<string, number[]>();
  for (const shard of shards) {
    const onShard = keys.filter((key) => shardFor([shard], hashKeyOf(key)));
    if (onShard.length === 0) continue;
    // Read from this step's oldest record on the shard: the first record of one of its keys.
    const first = onShard.map((key) => BigInt(sent.get(key)?.[0] ?? '0')).reduce((a, b) => (a < b ? a : b)).toString();
    const complete = (records: KinesisRecord[]) =>
      onShard.every((key) => records.filter((r) => r.PartitionKey === key).length >= STREAMING_LAB.recordsPerKey);
    const records = await readUntil(context, () => iteratorOf(context, streamName, shard.ShardId ?? '', 'AT_SEQUENCE_NUMBER', first), complete);
    for (const record of records) {
      const { key, seq } = decode(record);
      if (typeof key === 'string' && keys.includes(key)) seen.set(key, [...(seen.get(key) ?? []), Number(seq)]);
    }
  }
  const expected = Array.from({ length: STREAMING_LAB.recordsPerKey }, (_, i) => i + 1).join(',');
  for (const key of keys) {
    log(`  ${key}: read back in the order ${seen.get(key)?.join(', ')}`);
    check(seen.get(key)?.join(',') === expected, `the records of ${key} came back as [${seen.get(key)?.join(', ')}], not [${expected}]`);
  }
  log('within a shard, GetRecords returns records in sequence-number order, so each partition key keeps the order it was written in');
}

async function iteratorTypes(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const key = runKey(context, 'iterators');
  const [shard] = await openShards(context, streamName).then((shards) => shards.filter((s) => shardFor([s], hashKeyOf(key))));
  check(shard?.ShardId !== undefined, `no open shard for ${key}`);
  const shardId = shard.ShardId;

  // Taken before the puts; an iterator can be read again for 5 minutes.
  const latest = await iteratorOf(context, streamName, shardId, 'LATEST');
  const numbers: string[] = [];
  for (const seq of [1, 2, 3]) {
    const put = await (await kinesisOf(context)).send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: encode({ key, seq, page: `/iterators/${seq}` }) }));
    numbers.push(put.SequenceNumber ?? '');
  }
  const ours = (records: KinesisRecord[]) => records.filter((r) => r.PartitionKey === key).map((r) => Number(decode(r).seq));
  const atLeast = (count: number) => (records: KinesisRecord[]) => ours(records).length >= count;
  const read = (type: ShardIteratorType, count: number, sequenceNumber?: string, pages?: number) =>
    readUntil(context, () => iteratorOf(context, streamName, shardId, type, sequenceNumber), atLeast(count), pages);

  const fromLatest = ours(await readUntil(context, async () => latest, atLeast(3)));
  log(`LATEST, taken before the 3 puts: ${JSON.stringify(fromLatest)} (it starts after the newest record when it is taken)`);
  check(fromLatest.join() === '1,2,3', `a LATEST iterator taken before the puts returned ${JSON.stringify(fromLatest)}, not [1,2,3]`);
  const lateLatest = ours(await readShard(context, await iteratorOf(context, streamName, shardId, 'LATEST'), 2));
  log(`LATEST, taken after them: ${JSON.stringify(lateLatest)}`);
  check(lateLatest.length === 0, `a LATEST iterator taken after the puts returned ${JSON.stringify(lateLatest)}`);

  const at = ours(await read('AT_SEQUENCE_NUMBER', 2, numbers[1]));
  log(`AT_SEQUENCE_NUMBER ${numbers[1]}: ${JSON.stringify(at)}`);
  check(at.join() === '2,3', `AT_SEQUENCE_NUMBER of record 2 returned ${JSON.stringify(at)}, not [2,3]`);
  const after = ours(await read('AFTER_SEQUENCE_NUMBER', 1, numbers[1]));
  log(`AFTER_SEQUENCE_NUMBER ${numbers[1]}: ${JSON.stringify(after)}`);
  check(after.join() === '3', `AFTER_SEQUENCE_NUMBER of record 2 returned ${JSON.stringify(after)}, not [3]`);

  const horizon = await read('TRIM_HORIZON', 3, undefined, 200);
  const fromHorizon = ours(horizon);
  log(`TRIM_HORIZON: ${horizon.length} records of the shard (everything kept for ${STREAMING_LAB.retention.toHours()} h), ours among them: ${JSON.stringify(fromHorizon)}`);
  check(fromHorizon.join() === '1,2,3', `TRIM_HORIZON returned ${JSON.stringify(fromHorizon)} of this step's records, not [1,2,3]`);
  check(
    BigInt(horizon[0]?.SequenceNumber ?? numbers[0]) <= BigInt(numbers[0]),
    'TRIM_HORIZON did not start at the oldest record kept: its first record is newer than this step\'s first',
  );
}

/** What the producer saw: records refused on the first attempt, retries it took, records still refused at the end. */
export interface BurstOutcome {
  readonly throttledFirst: number;
  readonly attempts: number;
  readonly refused: number;
}

/**
 * Writes `entries` in PutRecords calls of 500, all at once, then retries only the refused entries with exponential
 * backoff and full jitter (wait a random time up to base × 2^attempt): PutRecords is not all-or-nothing, each entry
 * has its own ErrorCode.
 */
export async function putWithBackoff(
  context: ExerciseContext,
  streamName: string,
  entries: PutRecordsRequestEntry[],
  random: () => number = Math.random,
): Promise<BurstOutcome> {
  const { retryBaseMs, maxRetries } = await context.use(timing);
  const kinesis = await kinesisOf(context);
  let pending = entries;
  let throttledFirst = 0;
  let attempt = 0;
  for (; pending.length > 0 && attempt <= maxRetries; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, random() * retryBaseMs * 2 ** attempt));
    const chunks = Array.from({ length: Math.ceil(pending.length / 500) }, (_, i) => pending.slice(i * 500, i * 500 + 500));
    const results = await Promise.all(chunks.map((Records) => kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records }))));
    const refused = chunks.flatMap((chunk, c) => chunk.filter((_, i) => results[c].Records?.[i]?.ErrorCode !== undefined));
    const throttled = results.flatMap((r) => r.Records ?? []).filter((r) => r.ErrorCode === 'ProvisionedThroughputExceededException').length;
    if (attempt === 0) throttledFirst = throttled;
    context.log(`  attempt ${attempt + 1}: ${pending.length - refused.length} written, ${throttled} ProvisionedThroughputExceededException`);
    pending = refused;
  }
  return { throttledFirst, attempts: attempt, refused: pending.length };
}

async function throttling(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const key = runKey(context, 'burst');
  const padding = 'x'.repeat(STREAMING_LAB.burstRecordBytes - 64);
  // Not numbered (no seq): the consumer reads them and leaves them alone, whatever order the retries put them in.
  const entries = Array.from({ length: STREAMING_LAB.burstRecords }, (_, i) => ({ PartitionKey: key, Data: encode({ key, n: i, page: '/burst', padding }) }));
  log(`writing ${entries.length} records of ~${STREAMING_LAB.burstRecordBytes} bytes with one partition key (so one shard) at once: more than 1,000 records or 1 MiB in a second`);
  const started = Date.now();
  const outcome = await putWithBackoff(context, streamName, entries);
  log(`after ${outcome.attempts} attempt(s) in ${elapsedSeconds(started)} s: ${outcome.throttledFirst} refused at first, ${outcome.refused} refused in the end`);
  check(outcome.throttledFirst > 0, 'no record was refused: a shard took more than 1,000 records in one second, which it should not');
  check(outcome.refused === 0, `${outcome.refused} records were still refused after the retries`);
  log('the refused entries were retried alone, after a growing random wait: the same records now sit in the shard, each once');
}

interface Progress {
  recordCount: number;
  lastSeq: number;
  outOfOrder: number;
  shardId?: string;
}

async function progressOf(context: ExerciseContext, table: string, key: string): Promise<Progress | undefined> {
  const { Item } = await (await context.use(documentClient)).send(new GetCommand({ TableName: table, Key: { partitionKey: key }, ConsistentRead: true }));
  if (!Item) return undefined;
  return { recordCount: Number(Item.recordCount ?? 0), lastSeq: Number(Item.lastSeq ?? 0), outOfOrder: Number(Item.outOfOrder ?? 0), shardId: Item.shardId as string };
}

async function lambdaConsumer(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const table = requireOutput(outputs, 'ProgressTableName');
  if (outputs.FanOutConsumerArn) {
    const { ConsumerDescription } = await (await kinesisOf(context)).send(new DescribeStreamConsumerCommand({ ConsumerARN: outputs.FanOutConsumerArn }));
    log(`enhanced fan-out consumer ${ConsumerDescription?.ConsumerName}: ${ConsumerDescription?.ConsumerStatus}; the mapping reads through it (SubscribeToShard, pushed)`);
    check(ConsumerDescription?.ConsumerStatus === 'ACTIVE', `the enhanced fan-out consumer is ${ConsumerDescription?.ConsumerStatus}`);
  }
  const keys = STREAMING_LAB.orderingKeys.map((name) => runKey(context, `consumer-${name}`));
  const started = Date.now();
  await putNumbered(context, streamName, keys);
  log(`put ${STREAMING_LAB.recordsPerKey} numbered records for each of ${keys.length} keys; the consumer applies record n of a key only after n-1`);

  const { progressPollSeconds, consumerDeadlineSeconds } = await context.use(timing);
  const done = (p?: Progress) => p?.lastSeq === STREAMING_LAB.recordsPerKey;
  let progress: (Progress | undefined)[] = [];
  while (Date.now() - started < consumerDeadlineSeconds * 1000) {
    progress = await Promise.all(keys.map((key) => progressOf(context, table, key)));
    if (progress.every(done)) break;
    await new Promise((resolve) => setTimeout(resolve, progressPollSeconds * 1000));
  }
  check(progress.every(done), `the consumer did not apply every record within ${consumerDeadlineSeconds} s: ${JSON.stringify(progress)}`);
  for (const [i, key] of keys.entries()) log(`  ${key}: ${JSON.stringify(progress[i])}`);
  check(progress.every((p) => p?.outOfOrder === 0), `records of a key reached the consumer out of order: ${JSON.stringify(progress)}`);
  check(progress.every((p) => p?.recordCount === STREAMING_LAB.recordsPerKey), `a record was applied twice: ${JSON.stringify(progress)}`);
  log(
    `all applied within ${elapsedSeconds(started)} s, in order per key, with ParallelizationFactor ${STREAMING_LAB.parallelizationFactor}: ` +
      'Lambda runs up to that many batches of one shard at once, but never two of the same partition key',
  );
}

interface FailureRecord {
  requestContext: { condition: string; approximateInvokeCount: number };
  KinesisBatchInfo: { shardId: string; startSequenceNumber: string; endSequenceNumber: string; batchSize: number; streamArn: string };
}

async function poisonRecord(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const streamArn = requireOutput(outputs, 'StreamArn');
  const queueUrl = requireOutput(outputs, 'OnFailureQueueUrl');
  const table = requireOutput(outputs, 'ProgressTableName');
  const [good, bad, after] = ['poison-before', 'poison', 'poison-after'].map((name) => runKey(context, name));
  const kinesis = await kinesisOf(context);
  const put = (key: string, data: object) => kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: encode(data) }));
  await put(good, { key: good, seq: 1, page: '/before' });
  const { SequenceNumber: poisonSequence } = await put(bad, { key: bad, seq: 1, page: '/poison', poison: true });
  await put(after, { key: after, seq: 1, page: '/after' });
  log(`put a good record, a poison one (sequence ${poisonSequence}) and another good one; the consumer fails on the poison one every time`);

  const { failureRecordDeadlineSeconds: deadline } = await context.use(timing);
  const started = Date.now();
  const sqs = context.client(SQSClient, 'SQS');
  let failure: FailureRecord | undefined;
  while (!failure && Date.now() - started < deadline * 1000) {
    const WaitTimeSeconds = Math.max(0, Math.min(10, Math.floor(deadline - (Date.now() - started) / 1000)));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds }));
    for (const message of Messages) {
      const body = JSON.parse(message.Body ?? '{}') as FailureRecord;
      if (body.KinesisBatchInfo?.streamArn !== streamArn || body.KinesisBatchInfo.startSequenceNumber !== poisonSequence) continue;
      failure = body;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  check(failure !== undefined, `no failure record for sequence ${poisonSequence} reached the on-failure queue within ${deadline} s`);
  const info = failure.KinesisBatchInfo;
  log(`on-failure queue: condition=${failure.requestContext.condition}, invocations=${failure.requestContext.approximateInvokeCount}, batchSize=${info.batchSize}, shard ${info.shardId}`);
  check(info.batchSize === 1, `the failed batch holds ${info.batchSize} records: bisect did not isolate the poison one`);

  const [record] = await readShard(context, await iteratorOf(context, streamName, info.shardId, 'AT_SEQUENCE_NUMBER', info.startSequenceNumber), 1);
  check(record !== undefined && decode(record).poison === true, `the record at ${info.startSequenceNumber} is not the poison one: ${record && JSON.stringify(decode(record))}`);
  log('the failure record holds no data, only where to find it; read back from the shard at that sequence number: the poison record');
  // The record after the poison one is applied once the shard moves on, which may be just after the failure record.
  const { progressPollSeconds, consumerDeadlineSeconds } = await context.use(timing);
  const waitedFrom = Date.now();
  let [before, next] = [undefined, undefined] as (Progress | undefined)[];
  while (Date.now() - waitedFrom < consumerDeadlineSeconds * 1000) {
    [before, next] = await Promise.all([progressOf(context, table, good), progressOf(context, table, after)]);
    if (before?.lastSeq === 1 && next?.lastSeq === 1) break;
    await new Promise((resolve) => setTimeout(resolve, progressPollSeconds * 1000));
  }
  check(before?.lastSeq === 1 && next?.lastSeq === 1, `the good records around it were not both applied: ${JSON.stringify({ before, next })}`);
  log('both good records around it were applied: the shard moved on after the poison record was set aside');
}

/** The objects of the delivery bucket under `prefix`, as text. */
async function deliveredObjects(context: ExerciseContext, bucket: string, prefix: string): Promise<{ key: string; text: string }[]> {
  const s3 = context.client(S3Client, 'S3');
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return Promise.all(
    Contents.map(async ({ Key = '' }) => {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const bytes = Buffer.from((await Body?.transformToByteArray()) ?? []);
      // Deliveries are gzip (the stream's CompressionFormat); read what is not gzip as it is rather than fail on it.
      const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
      return { key: Key, text: (gzip ? gunzipSync(bytes) : bytes).toString('utf8') };
    }),
  );
}

/** The S3 key prefix Firehose gives a record that arrived at `date`, from the lab's prefix with `!{timestamp:...}`. */
export function datedPrefix(template: string, date: Date): string {
  const parts: Record<string, string> = {
    yyyy: String(date.getUTCFullYear()),
    MM: String(date.getUTCMonth() + 1).padStart(2, '0'),
    dd: String(date.getUTCDate()).padStart(2, '0'),
  };
  return template.replace(/!\{timestamp:(\w+)\}/g, (_, format: string) => parts[format]).replace('!{firehose:error-output-type}', 'processing-failed');
}

async function firehoseToS3(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const bucket = requireOutput(outputs, 'DeliveryBucketName');
  const key = runKey(context, 'firehose');
  const kinesis = await kinesisOf(context);
  const put = (data: Buffer) => kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: data }));
  const started = new Date();
  await put(encode({ key, seq: 1, page: '/Home', runId: context.runId }));
  await put(encode({ key, seq: 2, page: '/Basket', runId: context.runId }));
  await put(encode({ key, seq: 3, page: '/Home', type: 'heartbeat', runId: context.runId }));
  // Valid for the Lambda consumer (it needs key and seq), not for the transform (a click needs a page).
  const bad = JSON.stringify({ key, seq: 4, runId: context.runId });
  await put(Buffer.from(bad));
  log('put 2 clicks, a heartbeat and a record without a page; Firehose reads them from the stream and calls the transform');

  const { deliveryDeadlineSeconds, deliveryPollSeconds } = await context.use(timing);
  const clicksPrefix = datedPrefix(STREAMING_LAB.deliveryPrefix, started);
  const errorsPrefix = datedPrefix(STREAMING_LAB.errorPrefix, started);
  let lines: Record<string, unknown>[] = [];
  let failed: Record<string, unknown>[] = [];
  while (Date.now() - started.getTime() < deliveryDeadlineSeconds * 1000) {
    const delivered = await deliveredObjects(context, bucket, clicksPrefix);
    // This step's partition key, not the run: Firehose delivers every click of the stream, the consumer step's too.
    lines = delivered.flatMap(({ text }) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)).filter((l) => l.key === key);
    const errors = await deliveredObjects(context, bucket, errorsPrefix);
    failed = errors
      .flatMap(({ text }) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>))
      .filter((e) => Buffer.from(String(e.rawData ?? ''), 'base64').toString('utf8') === bad);
    if (lines.length >= 2 && failed.length >= 1) break;
    await new Promise((resolve) => setTimeout(resolve, deliveryPollSeconds * 1000));
  }
  log(`s3://${bucket}/${clicksPrefix} (gzip, one JSON line per click): ${JSON.stringify(lines.map((l) => [l.seq, l.page]))}`);
  check(lines.every((l) => l.type !== 'heartbeat'), 'the heartbeat reached S3: the transform should have dropped it');
  check(lines.length === 2, `expected the 2 clicks of ${key} under ${clicksPrefix} within ${deliveryDeadlineSeconds} s, found ${lines.length}`);
  check(lines.some((l) => l.page === '/basket') && lines.every((l) => typeof l.arrivedAt === 'string'), `the clicks were not transformed: ${JSON.stringify(lines)}`);
  check(failed.length === 1, `the record without a page is not under ${errorsPrefix}`);
  log(`s3://${bucket}/${errorsPrefix}: the bad record as received (rawData), errorCode ${failed[0].errorCode}: ProcessingFailed keeps it for a fix and a replay`);
}

interface SearchHits {
  hits?: { total?: { value?: number }; hits?: { _source: Record<string, unknown> }[] };
}
const sourcesOf = (body: unknown) => ((body as SearchHits).hits?.hits ?? []).map((hit) => hit._source);

/**
 * Indexed by Firehose, searched in OpenSearch: the step refuses an anonymous request, then, as the domain's master
 * role, maps the Firehose role to an OpenSearch role that may write the clicks index (fine-grained access control
 * knows IAM roles only through such mappings), puts clicks on the stream and searches them, then by a part of a word.
 */
async function openSearch(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.SearchEndpoint) {
    log('the OpenSearch part is not deployed: npx cdk deploy StreamingLab -c streaming:opensearch=true ($27.50/month)');
    return;
  }
  const endpoint = requireOutput(outputs, 'SearchEndpoint');
  const region = regionOfArn(requireOutput(outputs, 'SearchDomainArn'));
  const adminRoleArn = requireOutput(outputs, 'SearchAdminRoleArn');
  const firehoseRoleArn = requireOutput(outputs, 'SearchFirehoseRoleArn');
  const streamName = requireOutput(outputs, 'StreamName');
  const index = SEARCH_LAB.indexName;

  const anonymous = await new SearchApi(endpoint, region).request('POST', `/${index}/_search`, { query: { match_all: {} } });
  log(`an unsigned search: HTTP ${anonymous.status}`);
  check(anonymous.status === 403, `an unsigned request got HTTP ${anonymous.status}, not 403: the domain answers anonymous callers`);

  const { Credentials } = await context
    .client(STSClient, 'STS')
    .send(new AssumeRoleCommand({ RoleArn: adminRoleArn, RoleSessionName: `streaming-${context.runId}` }));
  check(Credentials?.AccessKeyId !== undefined && Credentials.SecretAccessKey !== undefined, `AssumeRole of ${adminRoleArn} returned no credentials`);
  const admin = new SearchApi(endpoint, region, {
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: Credentials.SecretAccessKey,
    sessionToken: Credentials.SessionToken,
  });
  // What the Firehose documentation asks for a domain with fine-grained access control: bulk writes, its checks of the
  // cluster, and creating and writing the index; nothing on other indexes.
  const role = await admin.request('PUT', `/_plugins/_security/api/roles/${SEARCH_LAB.writerRole}`, {
    cluster_permissions: ['cluster_composite_ops', 'cluster_monitor'],
    index_permissions: [{ index_patterns: [`${index}*`], allowed_actions: ['create_index', 'manage', 'crud'] }],
  });
  const mapping = await admin.request('PUT', `/_plugins/_security/api/rolesmapping/${SEARCH_LAB.writerRole}`, { backend_roles: [firehoseRoleArn] });
  log(`as the master role: role ${SEARCH_LAB.writerRole} (write ${index}*) HTTP ${role.status}, mapped to the Firehose role HTTP ${mapping.status}`);
  check(role.status < 300 && mapping.status < 300, `the security API refused the mapping: ${JSON.stringify([role.body, mapping.body])}`);

  const key = runKey(context, 'search');
  const pages = ['/Basket', '/Basket/Checkout', '/Home'];
  const kinesis = await kinesisOf(context);
  for (const [i, page] of pages.entries()) {
    await kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: encode({ key, seq: i + 1, page, runId: context.runId }) }));
  }
  await kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: encode({ key, page: '/Home', type: 'heartbeat', runId: context.runId }) }));
  log(`put ${pages.length} clicks and a heartbeat; the second Firehose stream transforms them and indexes them in ${index}`);

  // This step's partition key, not the run: the second stream indexes every click of the stream, earlier steps' too.
  const ours = { term: { 'key.keyword': key } };
  const { indexDeadlineSeconds, indexPollSeconds } = await context.use(searchTiming);
  const started = Date.now();
  let indexed: Record<string, unknown>[] = [];
  while (Date.now() - started < indexDeadlineSeconds * 1000) {
    const found = await admin.request('POST', `/${index}/_search`, { size: 20, query: ours });
    indexed = found.status === 200 ? sourcesOf(found.body) : [];
    if (indexed.length >= pages.length) break;
    await new Promise((resolve) => setTimeout(resolve, indexPollSeconds * 1000));
  }
  log(`indexed after ${elapsedSeconds(started)} s: ${JSON.stringify(indexed.map((doc) => doc.page))}`);
  check(indexed.every((doc) => doc.type !== 'heartbeat'), 'the heartbeat was indexed: the transform should have dropped it');
  check(indexed.length === pages.length, `expected the ${pages.length} clicks of ${key} in ${index} within ${indexDeadlineSeconds} s, found ${indexed.length}`);

  // Anywhere in the page: a B-tree index of a database serves LIKE 'x%' at best, never LIKE '%x%'.
  const pattern = `*${SEARCH_LAB.pageFragment}*`;
  const partial = await admin.request('POST', `/${index}/_search`, {
    size: 20,
    query: { bool: { filter: [ours], must: [{ wildcard: { 'page.keyword': { value: pattern } } }] } },
  });
  const matched = sourcesOf(partial.body).map((doc) => String(doc.page)).sort();
  log(`wildcard ${pattern} on page.keyword: ${JSON.stringify(matched)}`);
  const expected = pages.map((page) => page.toLowerCase()).filter((page) => page.includes(SEARCH_LAB.pageFragment)).sort();
  check(JSON.stringify(matched) === JSON.stringify(expected), `the partial match returned ${JSON.stringify(matched)}, not ${JSON.stringify(expected)}`);
  log('a part of a word found the clicks that hold it, and only them: what a search engine beside the database is for');
}

export const steps: readonly ExerciseStep[] = [
  { id: 'stream', title: 'the stream: mode, shards, retention, encryption at rest', run: theStream },
  { id: 'shards', title: 'a partition key goes to the shard whose hash key range holds its MD5', run: shardAssignment },
  { id: 'ordering', title: 'records of one partition key come back in the order they were written', run: ordering },
  { id: 'iterators', title: 'LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER and TRIM_HORIZON', run: iteratorTypes },
  { id: 'throttling', title: 'writing faster than a shard takes: ProvisionedThroughputExceededException, retries with backoff', run: throttling },
  { id: 'consumer', title: 'the Lambda consumer applies every record once, in order per partition key', run: lambdaConsumer },
  { id: 'poison', title: 'a poison record is isolated by bisect and described in the on-failure queue', run: poisonRecord },
  { id: 'windows', title: 'a tumbling window: clicks counted per shard and 30 s window, totals written when each window closes', run: windowedTotals },
  { id: 'firehose', title: 'Firehose: transformed clicks in S3 under a date prefix, a bad record under the error prefix', run: firehoseToS3 },
  { id: 'msk', title: 'MSK Serverless: a topic created, messages produced with IAM authentication, consumed by Lambda (with -c streaming:msk=true)', run: mskTopic },
  { id: 'flink', title: 'Flink Studio: READY (free) as deployed, started, its URL and Flink SQL, stopped again (with -c streaming:flink=true)', run: flinkNotebook },
  { id: 'opensearch', title: 'OpenSearch: no anonymous access, the Firehose role mapped, clicks indexed, a partial match (with -c streaming:opensearch=true)', run: openSearch },
];
