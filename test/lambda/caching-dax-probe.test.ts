import type { GetCommandInput, GetCommandOutput, PutCommandInput, QueryCommandInput, QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { daxTour, DocumentApi } from '../../lambda/caching-dax-probe';

// The tour against DAX itself is tested in test/labs/caching/exercise.test.ts (a DAX double over DynamoDB Local); these
// tests pin what it sends, in which order, and what it makes of answers without an item.

afterEach(() => jest.restoreAllMocks());

const TABLE = 'products';
const ID = 'p-1';

type Call = { readonly client: 'dax' | 'direct'; readonly operation: 'get' | 'put' | 'query'; readonly input: unknown };

/** A table with no cache, logging every call of both clients in one list; `answers` replaces what its reads return. */
function recordingClients(answers: { get?: Partial<GetCommandOutput>; query?: Partial<QueryCommandOutput> } = {}) {
  const calls: Call[] = [];
  const items = new Map<string, Record<string, unknown>>();
  const client = (name: Call['client']): DocumentApi => ({
    async get(input: GetCommandInput) {
      calls.push({ client: name, operation: 'get', input });
      const item = items.get(String(input.Key?.id));
      return { $metadata: {}, ...(item ? { Item: item } : {}), ...answers.get };
    },
    async put(input: PutCommandInput) {
      calls.push({ client: name, operation: 'put', input });
      items.set(String(input.Item?.id), input.Item as Record<string, unknown>);
      return { $metadata: {} };
    },
    async query(input: QueryCommandInput) {
      calls.push({ client: name, operation: 'query', input });
      const item = items.get(String(input.ExpressionAttributeValues?.[':id']));
      return { $metadata: {}, Items: item ? [item] : [], ...answers.query };
    },
  });
  return { calls, dax: client('dax'), direct: client('direct') };
}

test('writes version 1 directly, warms the client up on another key, then times a miss and a hit of each cache before the writes', async () => {
  const { calls, dax, direct } = recordingClients();
  await daxTour(dax, direct, TABLE, ID);
  const key = { TableName: TABLE, Key: { id: ID } };
  const query = { TableName: TABLE, KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': ID } };
  const product = (priceCents: number, version: number) => ({ TableName: TABLE, Item: { id: ID, name: 'DAX demo', priceCents, version } });
  expect(calls).toEqual([
    { client: 'direct', operation: 'put', input: product(100, 1) },
    { client: 'dax', operation: 'get', input: { TableName: TABLE, Key: { id: `${ID}-warm-up` } } },
    { client: 'dax', operation: 'get', input: key },
    { client: 'dax', operation: 'get', input: key },
    { client: 'dax', operation: 'query', input: query },
    { client: 'dax', operation: 'query', input: query },
    { client: 'direct', operation: 'put', input: product(200, 2) },
    { client: 'dax', operation: 'get', input: key },
    { client: 'dax', operation: 'get', input: { ...key, ConsistentRead: true } },
    { client: 'dax', operation: 'put', input: product(300, 3) },
    { client: 'dax', operation: 'get', input: key },
    { client: 'dax', operation: 'query', input: query },
  ]);
});

test('reports each version read, from a table without a cache the latest one', async () => {
  const { dax, direct } = recordingClients();
  const seen = await daxTour(dax, direct, TABLE, ID);
  expect(seen).toMatchObject({ itemAfterDirectWrite: 2, consistentAfterDirectWrite: 2, itemAfterDaxWrite: 3, queryAfterDaxWrite: 3 });
});

test('a read that finds no item is reported as no version (NaN), for the exercise to name, not thrown', async () => {
  const { dax, direct } = recordingClients({ get: { Item: undefined }, query: { Items: undefined } });
  const seen = await daxTour(dax, direct, TABLE, ID);
  expect(seen).toMatchObject({ itemAfterDirectWrite: NaN, consistentAfterDirectWrite: NaN, itemAfterDaxWrite: NaN, queryAfterDaxWrite: NaN });
});

test('times each read alone, in milliseconds to the microsecond', async () => {
  const { dax, direct } = recordingClients();
  // A clock that each DAX read moves on by its own duration: the warm-up's, then the four timed reads'.
  let now = 1_000;
  jest.spyOn(performance, 'now').mockImplementation(() => now);
  const durations = [50, 1.23456, 0.4, 2.0004, 0.5];
  const advancing = <A extends unknown[], R>(read: (...args: A) => Promise<R>) => async (...args: A) => {
    now += durations.shift() ?? 0;
    return read(...args);
  };
  const timedDax: DocumentApi = { get: advancing(dax.get), put: dax.put, query: advancing(dax.query) };
  const seen = await daxTour(timedDax, direct, TABLE, ID);
  expect(seen).toMatchObject({ itemMissMs: 1.235, itemHitMs: 0.4, queryMissMs: 2, queryHitMs: 0.5 });
});
