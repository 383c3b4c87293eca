import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/**
 * What the consumer tracks: records whose producer numbers them per partition key 1, 2, 3 ... (`seq`). Records
 * without `seq` (clicks nobody numbered) are read and left alone.
 */
export interface KeyedRecord {
  readonly key: string;
  readonly seq: number;
  /** Set by the exercise's poison step: the consumer fails on such a record every time. */
  readonly poison?: boolean;
}

/** How one record was applied to the progress table. */
export type Outcome = 'applied' | 'duplicate' | 'out-of-order' | 'not numbered';

/** A record that can never succeed (bad data): retrying will not help; Lambda's bisect isolates it. */
export class PoisonRecordError extends Error {
  constructor(record: KinesisStreamRecord, reason: string) {
    super(`Kinesis record ${record.kinesis.sequenceNumber} (partition key ${record.kinesis.partitionKey}) cannot be applied: ${reason}`);
    this.name = 'PoisonRecordError';
  }
}

/** The numbered record, undefined for a record without `seq`; throws PoisonRecordError for one that can never be applied. */
export function parseRecord(record: KinesisStreamRecord): KeyedRecord | undefined {
  let parsed: Partial<KeyedRecord> | null;
  try {
    parsed = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as Partial<KeyedRecord> | null;
  } catch {
    throw new PoisonRecordError(record, 'data is not JSON');
  }
  if (typeof parsed?.key !== 'string') throw new PoisonRecordError(record, 'a record needs key (string)');
  if (parsed.poison) throw new PoisonRecordError(record, 'marked poison by the producer');
  if (parsed.seq === undefined) return undefined;
  if (!Number.isInteger(parsed.seq) || parsed.seq < 1) throw new PoisonRecordError(record, 'seq must be a whole number from 1');
  return parsed as KeyedRecord;
}

let client: DynamoDBDocumentClient | undefined;
/** Created on first use, so the endpoint and credentials of the environment at that time are used. */
function documentClient(): DynamoDBDocumentClient {
  return (client ??= DynamoDBDocumentClient.from(new DynamoDBClient({})));
}

function progressTableName(): string {
  const name = process.env.PROGRESS_TABLE_NAME;
  if (!name) throw new Error('PROGRESS_TABLE_NAME is not set');
  return name;
}

/**
 * Records the record in its key's progress item, only if it is the next one of its key (`seq` = last seq + 1): the
 * condition makes a redelivered record (at-least-once) a no-op, and counts a record that skipped ahead as out of order,
 * which Kinesis never does within a partition key.
 */
export async function applyRecord(record: KinesisStreamRecord): Promise<Outcome> {
  const numbered = parseRecord(record);
  if (!numbered) return 'not numbered';
  const { key, seq } = numbered;
  const table = progressTableName();
  const shardId = record.eventID.split(':')[0];
  try {
    await documentClient().send(
      new UpdateCommand({
        TableName: table,
        Key: { partitionKey: key },
        UpdateExpression: 'SET lastSeq = :seq, lastSequenceNumber = :sn, shardId = :shard ADD recordCount :one',
        ConditionExpression: seq === 1 ? 'attribute_not_exists(lastSeq)' : 'lastSeq = :previous',
        ExpressionAttributeValues: {
          ':seq': seq,
          ':sn': record.kinesis.sequenceNumber,
          ':shard': shardId,
          ':one': 1,
          ...(seq === 1 ? {} : { ':previous': seq - 1 }),
        },
      }),
    );
    return 'applied';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const { Item } = await documentClient().send(new GetCommand({ TableName: table, Key: { partitionKey: key }, ConsistentRead: true }));
  if (Number(Item?.lastSeq ?? 0) >= seq) return 'duplicate';
  await documentClient().send(
    new UpdateCommand({ TableName: table, Key: { partitionKey: key }, UpdateExpression: 'ADD outOfOrder :one', ExpressionAttributeValues: { ':one': 1 } }),
  );
  return 'out-of-order';
}

/**
 * Applies the batch in order and stops at the first record that fails. When records before it were applied, it
 * reports that record's sequence number: Lambda keeps the ones before and retries from it. When the first record
 * fails, nothing was applied, so it throws: Lambda's BisectBatchOnFunctionError halves the batch until the bad record
 * is alone, then retries it and sends its description to the on-failure destination.
 */
export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  for (const [index, record] of event.Records.entries()) {
    try {
      const outcome = await applyRecord(record);
      console.log(JSON.stringify({ message: `record ${outcome}`, partitionKey: record.kinesis.partitionKey, sequenceNumber: record.kinesis.sequenceNumber }));
    } catch (error) {
      console.error(JSON.stringify({ message: 'record failed', sequenceNumber: record.kinesis.sequenceNumber, error: (error as Error).message }));
      if (index === 0) throw error;
      return { batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] };
    }
  }
  return { batchItemFailures: [] };
};
