import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchGetCommandOutput, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AppSyncResolverEvent } from 'aws-lambda';

/**
 * The direct Lambda resolver of `Note.author`, with batching: AppSync sends the `Note.author` fields of one request
 * (up to the resolver's maxBatchSize) in one invocation, as a list of events, and expects a list of results in the
 * same order. One BatchGetItem for the distinct authors replaces one GetItem per note (the N+1 problem).
 */

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export interface NoteSource {
  readonly authorId: string;
}

export interface Author {
  readonly id: string;
  readonly name: string;
}

/** BatchGetItem takes at most 100 keys per call. */
export const MAX_KEYS_PER_BATCH_GET = 100;
/** How many times unprocessed keys (throttling) are asked for again before the rest resolve to null. */
export const UNPROCESSED_RETRIES = 3;
/** The pause before the first retry of unprocessed keys, doubled before each further one (20, 40, 80 ms). */
export const RETRY_BASE_DELAY_MS = 20;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function authorsById(tableName: string, ids: readonly string[]): Promise<Map<string, Author>> {
  const found = new Map<string, Author>();
  for (let start = 0; start < ids.length; start += MAX_KEYS_PER_BATCH_GET) {
    let keys: Record<string, unknown>[] | undefined = ids.slice(start, start + MAX_KEYS_PER_BATCH_GET).map((id) => ({ id }));
    for (let attempt = 0; keys && keys.length > 0 && attempt <= UNPROCESSED_RETRIES; attempt += 1) {
      // Unprocessed keys mean the table is throttling: asking again at once would likely be throttled again.
      if (attempt > 0) await pause(RETRY_BASE_DELAY_MS * 2 ** (attempt - 1));
      const response: BatchGetCommandOutput = await documents.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }));
      for (const item of response.Responses?.[tableName] ?? []) found.set(String(item.id), { id: String(item.id), name: String(item.name) });
      keys = response.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return found;
}

export async function handler(events: AppSyncResolverEvent<Record<string, never>, NoteSource>[]): Promise<(Author | null)[]> {
  const tableName = process.env.AUTHORS_TABLE_NAME ?? '';
  const ids = [...new Set(events.map((event) => event.source.authorId))];
  const authors = await authorsById(tableName, ids);
  return events.map((event) => authors.get(event.source.authorId) ?? null);
}
