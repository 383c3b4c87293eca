import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { AppSyncResolverEvent } from 'aws-lambda';
import { handler, MAX_KEYS_PER_BATCH_GET, NoteSource, RETRY_BASE_DELAY_MS } from '../../lambda/graphql-authors';
import { graphqlLab } from '../../labs/graphql/lab';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../support/local-dynamodb';
import { labTemplate } from '../support/lab-template';

jest.setTimeout(60_000);

const template = labTemplate(graphqlLab);
let ddb: LocalDynamoDb;

beforeAll(async () => {
  ddb = await startLocalDynamoDb();
  const { outputs } = await deployTablesLocally(template, ddb.client);
  process.env.AUTHORS_TABLE_NAME = outputs.AuthorsTableName;
  for (const [id, name] of [['a1', 'Ada'], ['a2', 'Grace']]) {
    await ddb.client.send(new PutItemCommand({ TableName: outputs.AuthorsTableName, Item: { id: { S: id }, name: { S: name } } }));
  }
});
afterAll(() => ddb?.stop());

/** The Note.author fields of one request, as AppSync's BatchInvoke sends them: one event per note, in order. */
const batch = (authorIds: string[]) =>
  authorIds.map((authorId, n) => ({ source: { authorId, id: `n${n}` }, arguments: {}, info: { fieldName: 'author', parentTypeName: 'Note' } })) as unknown as AppSyncResolverEvent<
    Record<string, never>,
    NoteSource
  >[];

test('a batch resolves every Note.author in order, repeated authors too, and an unknown author to null', async () => {
  await expect(handler(batch(['a2', 'a1', 'missing', 'a2']))).resolves.toEqual([
    { id: 'a2', name: 'Grace' },
    { id: 'a1', name: 'Ada' },
    null,
    { id: 'a2', name: 'Grace' },
  ]);
});

test('one BatchGetItem per 100 distinct authors, not one read per note; unprocessed keys are asked for again after a pause', async () => {
  const mock = mockClient(DynamoDBDocumentClient);
  const table = process.env.AUTHORS_TABLE_NAME!;
  const ids = Array.from({ length: 150 }, (_, n) => `x${n}`);
  mock.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { id: string }[] }> }) => {
    const keys = input.RequestItems[table].Keys;
    // The first call leaves its last key unprocessed, as DynamoDB does under throttling.
    const unprocessed = mock.commandCalls(BatchGetCommand).length === 1 ? keys.slice(-1) : [];
    const served = keys.slice(0, keys.length - unprocessed.length);
    return {
      Responses: { [table]: served.map((k) => ({ id: k.id, name: `name of ${k.id}` })) },
      UnprocessedKeys: unprocessed.length ? { [table]: { Keys: unprocessed } } : {},
    };
  });
  try {
    const started = Date.now();
    const results = await handler(batch([...ids, ...ids]));
    // One retry: it waited the first backoff step before asking again.
    expect(Date.now() - started).toBeGreaterThanOrEqual(RETRY_BASE_DELAY_MS);
    expect(results).toHaveLength(300);
    expect(results.filter((author, n) => author?.name !== `name of ${ids[n % 150]}`)).toEqual([]);
    const calls = mock.commandCalls(BatchGetCommand).map((call) => call.args[0].input.RequestItems![table].Keys!.length);
    expect(calls).toEqual([MAX_KEYS_PER_BATCH_GET, 1, 50]);
  } finally {
    mock.restore();
  }
});

test('keys still unprocessed after 3 retries, 20, 40 then 80 ms apart, resolve to null', async () => {
  const mock = mockClient(DynamoDBDocumentClient);
  const table = process.env.AUTHORS_TABLE_NAME!;
  // DynamoDB keeps throttling a2: it is left unprocessed on every call.
  mock.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { id: string }[] }> }) => {
    const keys = input.RequestItems[table].Keys;
    return {
      Responses: { [table]: keys.filter((k) => k.id === 'a1').map((k) => ({ id: k.id, name: 'Ada' })) },
      UnprocessedKeys: { [table]: { Keys: keys.filter((k) => k.id === 'a2') } },
    };
  });
  const timers = jest.spyOn(global, 'setTimeout');
  try {
    await expect(handler(batch(['a1', 'a2']))).resolves.toEqual([{ id: 'a1', name: 'Ada' }, null]);
    expect(mock.commandCalls(BatchGetCommand).map((call) => call.args[0].input.RequestItems![table].Keys)).toEqual([
      [{ id: 'a1' }, { id: 'a2' }],
      [{ id: 'a2' }],
      [{ id: 'a2' }],
      [{ id: 'a2' }],
    ]);
    expect(timers.mock.calls.map(([, ms]) => ms)).toEqual([RETRY_BASE_DELAY_MS, 2 * RETRY_BASE_DELAY_MS, 4 * RETRY_BASE_DELAY_MS]);
  } finally {
    timers.mockRestore();
    mock.restore();
  }
});
