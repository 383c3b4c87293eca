import { createHash } from 'node:crypto';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordCommand, Shard, ShardIteratorType, _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { defineTiming, ExerciseContext } from '../../support/exercise';
import { STREAMING_LAB } from '../constants';
import { encode, kinesisOf } from './clients';

/** How long the steps wait for records, the consumer and deliveries, and how often they poll (tests shorten it). */
export const timing = defineTiming(STREAMING_LAB.exerciseTiming);

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

export async function openShards(context: ExerciseContext, streamName: string): Promise<Shard[]> {
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
export async function readShard(context: ExerciseContext, iterator: string | undefined, pages = 20): Promise<KinesisRecord[]> {
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
export async function readUntil(
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

export async function iteratorOf(
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

/** Puts `recordsPerKey` records for each key, numbered from 1, each chained to the previous one of its key. */
export async function putNumbered(context: ExerciseContext, streamName: string, keys: readonly string[]) {
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
