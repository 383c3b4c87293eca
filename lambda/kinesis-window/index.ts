import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord, KinesisStreamStateResponse, KinesisStreamTumblingWindowEvent } from 'aws-lambda';

/**
 * What Lambda carries between the invocations of one shard's window: the sequence number of the first record this
 * part of the window saw, and the clicks counted so far per run id of the producer (a record's `runId`).
 */
export type WindowState = {
  readonly firstSequenceNumber?: string;
  readonly counts: Readonly<Record<string, number>>;
};

/** The key of the progress-table item holding the per-window totals of a run. */
export const windowItemKey = (runId: string) => `window#${runId}`;

/** The run id of a record that has one; records without it (or not JSON) are clicks of no run and are not counted. */
export function runIdOf(record: KinesisStreamRecord): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as { runId?: unknown } | null;
    return typeof parsed?.runId === 'string' ? parsed.runId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The state after `records`: each record with a run id adds one to its run's count, and the first record of the part
 * names it. Pure: `state` is not changed. Lambda hands the first invocation of a window no state (`{}`).
 */
export function aggregate(state: Partial<WindowState>, records: readonly KinesisStreamRecord[]): WindowState {
  const counts = { ...state.counts };
  for (const record of records) {
    const runId = runIdOf(record);
    if (runId !== undefined) counts[runId] = (counts[runId] ?? 0) + 1;
  }
  return { firstSequenceNumber: state.firstSequenceNumber ?? records[0]?.kinesis.sequenceNumber, counts };
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
 * Writes a run's total of one part of a window of one shard as `windows["<shard>@<start>/<end>#<first sequence>"] =
 * count` in the run's item: a put of a value, not an increment, so a retried final invocation writes the same total
 * under the same key instead of adding it twice, while a window Lambda ended early and continued with a fresh state
 * writes its second part under the key of that part's first record instead of overwriting the first part. The map is
 * created first when the item has none (one update cannot set a map and a path inside it).
 */
async function writeTotal(runId: string, windowKey: string, count: number): Promise<void> {
  const table = progressTableName();
  const Key = { partitionKey: windowItemKey(runId) };
  await documentClient().send(
    new UpdateCommand({ TableName: table, Key, UpdateExpression: 'SET windows = if_not_exists(windows, :empty)', ExpressionAttributeValues: { ':empty': {} } }),
  );
  await documentClient().send(
    new UpdateCommand({
      TableName: table,
      Key,
      UpdateExpression: 'SET windows.#window = :count',
      ExpressionAttributeNames: { '#window': windowKey },
      ExpressionAttributeValues: { ':count': count },
    }),
  );
}

/**
 * A tumbling-window aggregator (the mapping's TumblingWindowInSeconds): Lambda hands back the `state` returned by
 * the previous invocation of the same shard and window; this adds the batch's clicks to it and returns it. On the
 * final invocation of a window (`isFinalInvokeForWindow`, after the window's end) it writes each run's total to the
 * progress table and starts the next window empty. A window whose state reached 1 MB ends early
 * (`isWindowTerminatedEarly`) and continues with a fresh state: each part writes its own totals. Counting never fails
 * on a record's content, so no record is reported in `batchItemFailures`; a failed write throws, and Lambda retries
 * the final invocation with the same state.
 */
export const handler = async (event: KinesisStreamTumblingWindowEvent): Promise<KinesisStreamStateResponse> => {
  const state = aggregate((event.state ?? {}) as Partial<WindowState>, event.Records);
  const shardId = (event as { shardId?: string }).shardId ?? event.Records[0]?.eventID.split(':')[0] ?? 'unknown-shard';
  if (event.isWindowTerminatedEarly) {
    console.warn(JSON.stringify({ message: 'window terminated early: its state reached 1 MB', shardId, window: event.window }));
  }
  if (!event.isFinalInvokeForWindow) return { state, batchItemFailures: [] };
  const windowKey = `${shardId}@${event.window.start}/${event.window.end}#${state.firstSequenceNumber}`;
  for (const [runId, count] of Object.entries(state.counts)) await writeTotal(runId, windowKey, count);
  console.log(JSON.stringify({ message: 'window closed', windowKey, totals: state.counts }));
  return { state: {}, batchItemFailures: [] };
};
