import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MSKEvent, MSKRecord } from 'aws-lambda';

/** The key of the progress-table item holding what the consumer received of a run's messages. */
export const kafkaItemKey = (runId: string) => `kafka#${runId}`;

/** The run id of a message that has one (its value is JSON with `runId`); other messages are not recorded. */
export function runIdOf(record: MSKRecord): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(record.value, 'base64').toString('utf8')) as { runId?: unknown } | null;
    return typeof parsed?.runId === 'string' ? parsed.runId : undefined;
  } catch {
    return undefined;
  }
}

let client: DynamoDBDocumentClient | undefined;
/** Created on first use, so the endpoint and credentials of the environment at that time are used. */
function documentClient(): DynamoDBDocumentClient {
  return (client ??= DynamoDBDocumentClient.from(new DynamoDBClient({})));
}

/**
 * Adds `<partition>:<offset>` of each message to its run's item, a string set: a message delivered again (Kafka
 * consumers are at-least-once) adds nothing, so the set's size is the number of distinct messages received. The event
 * groups records by `<topic>-<partition>`, each group in offset order.
 */
export const handler = async (event: MSKEvent): Promise<void> => {
  const table = process.env.PROGRESS_TABLE_NAME;
  if (!table) throw new Error('PROGRESS_TABLE_NAME is not set');
  const received = new Map<string, Set<string>>();
  for (const records of Object.values(event.records)) {
    for (const record of records) {
      const runId = runIdOf(record);
      if (runId !== undefined) received.set(runId, (received.get(runId) ?? new Set()).add(`${record.partition}:${record.offset}`));
    }
  }
  for (const [runId, offsets] of received) {
    await documentClient().send(
      new UpdateCommand({ TableName: table, Key: { partitionKey: kafkaItemKey(runId) }, UpdateExpression: 'ADD offsets :offsets', ExpressionAttributeValues: { ':offsets': offsets } }),
    );
  }
  console.log(JSON.stringify({ message: 'batch recorded', runs: Object.fromEntries([...received].map(([runId, offsets]) => [runId, offsets.size])) }));
};
