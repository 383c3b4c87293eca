import { DescribeStreamConsumerCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { check, elapsedSeconds, ExerciseContext, requireOutput } from '../../support/exercise';
import { STREAMING_LAB } from '../constants';
import { decode, documentClient, encode, kinesisOf, runKey } from './clients';
import { iteratorOf, putNumbered, readShard, timing } from './reading';

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

export async function lambdaConsumer(context: ExerciseContext): Promise<void> {
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

export async function poisonRecord(context: ExerciseContext): Promise<void> {
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
