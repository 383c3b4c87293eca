import { DescribeStreamSummaryCommand, PutRecordCommand, ShardIteratorType, _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { check, ExerciseContext, requireOutput } from '../../support/exercise';
import { STREAMING_LAB } from '../constants';
import { decode, encode, kinesisOf, runKey } from './clients';
import { hashKeyOf, iteratorOf, openShards, putNumbered, readShard, readUntil, shardFor } from './reading';

export async function theStream(context: ExerciseContext): Promise<void> {
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

export async function shardAssignment(context: ExerciseContext): Promise<void> {
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

export async function ordering(context: ExerciseContext): Promise<void> {
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

export async function iteratorTypes(context: ExerciseContext): Promise<void> {
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
