import { DaxDocument } from '@amazon-dax-sdk/lib-dax';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocument,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/** What the tour calls, on DAX (DaxDocument) and on DynamoDB itself (DynamoDBDocument): both have this shape. */
export interface DocumentApi {
  get(input: GetCommandInput): Promise<GetCommandOutput>;
  put(input: PutCommandInput): Promise<PutCommandOutput>;
  query(input: QueryCommandInput): Promise<QueryCommandOutput>;
}

/** What the tour saw: the item's `version` each read returned, and how long reads took, in milliseconds. */
export interface DaxObservations {
  readonly itemMissMs: number;
  readonly itemHitMs: number;
  readonly queryMissMs: number;
  readonly queryHitMs: number;
  /** An eventually consistent GetItem through DAX after version 2 was written to DynamoDB directly. */
  readonly itemAfterDirectWrite: number;
  /** A strongly consistent GetItem through DAX at the same moment: DAX passes it to DynamoDB. */
  readonly consistentAfterDirectWrite: number;
  /** A GetItem through DAX after version 3 was written through DAX (write-through to the item cache). */
  readonly itemAfterDaxWrite: number;
  /** The same Query as before through DAX after that write: the query cache is not updated by writes. */
  readonly queryAfterDaxWrite: number;
}

const versionOf = (item: Record<string, unknown> | undefined) => Number(item?.version);

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: Math.round((performance.now() - started) * 1000) / 1000 };
}

/**
 * Reads and writes one product through DAX and directly, in an order that shows the two caches of DAX: the item cache
 * (GetItem; write-through for writes made through DAX, blind to writes made directly) and the query cache (Query
 * results, kept until their TTL whatever is written), and that a strongly consistent read is not cached.
 */
export async function daxTour(dax: DocumentApi, direct: DocumentApi, tableName: string, id: string): Promise<DaxObservations> {
  const key = { id };
  const query: QueryCommandInput = { TableName: tableName, KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': id } };
  await direct.put({ TableName: tableName, Item: { id, name: 'DAX demo', priceCents: 100, version: 1 } });
  // The client's first call discovers the cluster's nodes and opens its TLS connections: made on another key, so that
  // the miss timed next is the item cache's alone, not the client's start-up.
  await dax.get({ TableName: tableName, Key: { id: `${id}-warm-up` } });
  const itemMiss = await timed(() => dax.get({ TableName: tableName, Key: key }));
  const itemHit = await timed(() => dax.get({ TableName: tableName, Key: key }));
  const queryMiss = await timed(() => dax.query(query));
  const queryHit = await timed(() => dax.query(query));
  await direct.put({ TableName: tableName, Item: { id, name: 'DAX demo', priceCents: 200, version: 2 } });
  const itemAfterDirectWrite = versionOf((await dax.get({ TableName: tableName, Key: key })).Item);
  const consistentAfterDirectWrite = versionOf((await dax.get({ TableName: tableName, Key: key, ConsistentRead: true })).Item);
  await dax.put({ TableName: tableName, Item: { id, name: 'DAX demo', priceCents: 300, version: 3 } });
  const itemAfterDaxWrite = versionOf((await dax.get({ TableName: tableName, Key: key })).Item);
  const queryAfterDaxWrite = versionOf((await dax.query(query)).Items?.[0]);
  return {
    itemMissMs: itemMiss.ms,
    itemHitMs: itemHit.ms,
    queryMissMs: queryMiss.ms,
    queryHitMs: queryHit.ms,
    itemAfterDirectWrite,
    consistentAfterDirectWrite,
    itemAfterDaxWrite,
    queryAfterDaxWrite,
  };
}

let clients: { dax: DocumentApi; direct: DocumentApi } | undefined;

/**
 * Runs the DAX tour on product `id` from inside the VPC, where the cluster is. The DAX client is the DAX SDK for
 * JavaScript v3 (@amazon-dax-sdk/lib-dax): it bundles to about 390 KB minified, over the library's 100 KB handler
 * budget, and no lighter client exists; this function is the lab's one exception.
 */
export async function handler(request: { readonly id: string }): Promise<DaxObservations> {
  const tableName = process.env.TABLE_NAME ?? '';
  clients ??= {
    dax: new DaxDocument({ endpoint: process.env.DAX_ENDPOINT, region: process.env.AWS_REGION }),
    direct: DynamoDBDocument.from(new DynamoDBClient({})),
  };
  return daxTour(clients.dax, clients.direct, tableName, request.id);
}
