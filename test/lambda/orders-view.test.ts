import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import type { DynamoDBRecord } from 'aws-lambda';
import {
  APPLIED_PREFIX,
  applyRecord,
  handler,
  isTtlDelete,
  MARKER_LIFETIME_SECONDS,
  PoisonRecordError,
  toChange,
  TOTALS_ENTRY,
} from '../../lambda/orders-view';
import { dynamodbStreamsLab } from '../../labs/dynamodb-streams/lab';
import { deployTablesLocally, lambdaRecordOf, LocalDynamoDb, StreamApiRecord, startLocalDynamoDb } from '../support/local-dynamodb';
import { labTemplate } from '../support/lab-template';
import { STREAMS_LAB } from '../../labs/dynamodb-streams/constants';

jest.setTimeout(30_000);

const template = labTemplate(dynamodbStreamsLab);
let ddb: LocalDynamoDb;
let ordersTable: string;
let viewTable: string;
let streamArn: string;

beforeAll(async () => {
  ddb = await startLocalDynamoDb();
  const { outputs } = await deployTablesLocally(template, ddb.client);
  ({ OrdersTableName: ordersTable, ViewTableName: viewTable, OrdersStreamArn: streamArn } = outputs);
  process.env.VIEW_TABLE_NAME = viewTable;
});
afterAll(() => ddb?.stop());

const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

async function putOrder(customerId: string, orderId: string, amount: string | number, type: 'N' | 'S' = 'N') {
  await ddb.client.send(
    new PutItemCommand({
      TableName: ordersTable,
      Item: { customerId: { S: customerId }, sk: { S: `ORDER#${orderId}` }, amountCents: { [type]: String(amount) } as never },
    }),
  );
}

/** The real stream records of one customer, as Lambda would pass them (plus eventSourceARN). */
async function recordsOf(customerId: string): Promise<DynamoDBRecord[]> {
  const all = await ddb.streams.readAll(streamArn);
  return all.filter((r: StreamApiRecord) => r.dynamodb.Keys.customerId?.S === customerId).map((r) => lambdaRecordOf(r, streamArn));
}

async function totalsOf(customerId: string) {
  const { Item } = await ddb.client.send(
    new GetItemCommand({ TableName: viewTable, Key: { customerId: { S: customerId }, entry: { S: TOTALS_ENTRY } }, ConsistentRead: true }),
  );
  if (!Item) return undefined;
  const n = (name: string) => Number(Item[name]?.N ?? 0);
  return { orderCount: n('orderCount'), totalCents: n('totalCents'), cancelledCount: n('cancelledCount'), expiredCount: n('expiredCount') };
}

describe('a cancelled transaction: a replay only when the marker already exists', () => {
  // DynamoDB Local cancels a transaction only for a failed condition; the other reasons (a conflicting transaction,
  // throughput) come from DynamoDB itself, so the client is a double here, answering as DynamoDB documents it.
  const record: DynamoDBRecord = {
    eventID: 'e1',
    eventName: 'INSERT',
    dynamodb: { Keys: { customerId: { S: 'c' }, sk: { S: 'ORDER#o1' } }, NewImage: { amountCents: { N: '100' } }, SequenceNumber: '100' },
  };
  const cancelled = (codes: string[]) =>
    new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });

  test.each([
    [['TransactionConflict', 'None']],
    [['None', 'ThrottlingError']],
    [['None', 'ConditionalCheckFailed']],
    [[]],
  ])('reasons %j: the record fails and Lambda retries it', async (codes) => {
    const dynamodb = mockClient(DynamoDBDocumentClient).on(TransactWriteCommand).rejects(cancelled(codes));
    try {
      await expect(handler({ Records: [record] })).rejects.toBeInstanceOf(TransactionCanceledException);
    } finally {
      dynamodb.restore();
    }
  });

  test('no reasons at all: the record fails and Lambda retries it', async () => {
    const noReasons = new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {} });
    const dynamodb = mockClient(DynamoDBDocumentClient).on(TransactWriteCommand).rejects(noReasons);
    try {
      await expect(handler({ Records: [record] })).rejects.toBe(noReasons);
    } finally {
      dynamodb.restore();
    }
  });

  test('reasons ["ConditionalCheckFailed","None"]: the marker exists, the record was applied before, it is skipped', async () => {
    const dynamodb = mockClient(DynamoDBDocumentClient).on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None']));
    const logged = jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
    try {
      await expect(handler({ Records: [record] })).resolves.toEqual({ batchItemFailures: [] });
      await expect(applyRecord(record)).resolves.toBe(false);
      expect(logged).toHaveBeenCalledWith('replayed record ignored', { eventID: 'e1', orderId: 'o1', kind: 'created' });
    } finally {
      dynamodb.restore();
      logged.mockRestore();
    }
  });
});

describe('what a stream record means for the view (no engine needed)', () => {
  const record = (eventName: DynamoDBRecord['eventName'], images: object, extra: object = {}): DynamoDBRecord => ({
    eventID: 'e1',
    eventName,
    dynamodb: { Keys: { customerId: { S: 'c' }, sk: { S: 'ORDER#o1' } }, SequenceNumber: '100', ...images },
    ...extra,
  });
  const amount = (cents: number) => ({ amountCents: { N: String(cents) } });

  test.each([
    ['INSERT', { NewImage: amount(500) }, {}, { kind: 'created', orderCount: 1, totalCents: 500 }],
    ['MODIFY', { NewImage: amount(700), OldImage: amount(500) }, {}, { kind: 'changed', orderCount: 0, totalCents: 200 }],
    ['REMOVE', { OldImage: amount(700) }, {}, { kind: 'cancelled', orderCount: -1, totalCents: -700 }],
    ['REMOVE', { OldImage: amount(700) }, { userIdentity: TTL_IDENTITY }, { kind: 'expired', orderCount: 0, totalCents: 0 }],
  ] as const)('%s %j %j → %j', (eventName, images, extra, expected) => {
    expect(toChange(record(eventName, images, extra))).toEqual({ customerId: 'c', orderId: 'o1', ...expected });
  });

  test('only REMOVE records by the DynamoDB service principal are TTL deletions', () => {
    expect(isTtlDelete(record('REMOVE', {}, { userIdentity: TTL_IDENTITY }))).toBe(true);
    expect(isTtlDelete(record('REMOVE', {}))).toBe(false);
    expect(isTtlDelete(record('REMOVE', {}, { userIdentity: { type: 'Service', principalId: 'other.amazonaws.com' } }))).toBe(false);
    expect(isTtlDelete(record('MODIFY', {}, { userIdentity: TTL_IDENTITY }))).toBe(false);
  });

  test('items that are not orders (a profile) mean nothing to the view', () => {
    const profile = record('INSERT', {});
    profile.dynamodb!.Keys = { customerId: { S: 'c' }, sk: { S: 'PROFILE' } };
    expect(toChange(profile)).toBeUndefined();
  });

  test('an amount that is not a whole number makes the record poison, naming it and the image', () => {
    expect(() => toChange(record('INSERT', { NewImage: { amountCents: { S: 'twelve' } } }))).toThrow(
      new PoisonRecordError(record('INSERT', {}), 'new image has no whole-number amountCents ({"S":"twelve"})'),
    );
    expect(() => toChange(record('INSERT', { NewImage: { amountCents: { N: '12.5' } } }))).toThrow(
      'stream record e1 (sequence 100) cannot be applied: new image has no whole-number amountCents ({"N":"12.5"})',
    );
    expect(() => toChange(record('MODIFY', { NewImage: amount(1) }))).toThrow(/: old image has no whole-number amountCents \(undefined\)$/);
    expect(() => toChange(record('MODIFY', { OldImage: amount(1) }))).toThrow(/: new image has no whole-number amountCents \(undefined\)$/);
    expect(() => toChange(record('REMOVE', {}))).toThrow(/: old image has no whole-number amountCents \(undefined\)$/);
  });

  test('a poison record is a PoisonRecordError by name (the errorType Lambda reports), even without stream data', () => {
    const error = new PoisonRecordError({ eventID: 'e9' }, 'no keys');
    expect(error.name).toBe('PoisonRecordError');
    expect(error.message).toBe('stream record e9 (sequence undefined) cannot be applied: no keys');
  });

  test('an event name the stream does not send is poison, named', () => {
    expect(() => toChange(record('RENAME' as never, {}))).toThrow('stream record e1 (sequence 100) cannot be applied: unknown eventName RENAME');
  });

  test('a record without a sort key is not an order', () => {
    const keyless = record('INSERT', { NewImage: amount(1) });
    keyless.dynamodb!.Keys = { customerId: { S: 'c' } };
    expect(toChange(keyless)).toBeUndefined();
  });
});

describe('applying a record, before any write (no engine needed)', () => {
  const order: DynamoDBRecord = {
    eventID: 'e1',
    eventName: 'INSERT',
    dynamodb: { Keys: { customerId: { S: 'c' }, sk: { S: 'ORDER#o1' } }, NewImage: { amountCents: { N: '100' } }, SequenceNumber: '100' },
  };
  const profile: DynamoDBRecord = { ...order, dynamodb: { ...order.dynamodb, Keys: { customerId: { S: 'c' }, sk: { S: 'PROFILE' } } } };
  const poison = (sequenceNumber?: string): DynamoDBRecord => ({
    ...order,
    eventID: 'e2',
    dynamodb: { ...order.dynamodb, NewImage: { amountCents: { S: 'twelve' } }, SequenceNumber: sequenceNumber },
  });
  let dynamodb: ReturnType<typeof mockClient>;
  beforeEach(() => {
    dynamodb = mockClient(DynamoDBDocumentClient);
  });
  afterEach(() => {
    dynamodb.restore();
    jest.restoreAllMocks();
  });

  test('a record that is not an order is skipped without a write', async () => {
    await expect(applyRecord(profile)).resolves.toBe(false);
    expect(dynamodb.calls()).toHaveLength(0);
  });

  test('an order record without an eventID is poison: its marker could not be keyed', async () => {
    const withoutId = { ...order, eventID: undefined };
    await expect(applyRecord(withoutId)).rejects.toThrow(new PoisonRecordError(withoutId, 'no eventID'));
    expect(dynamodb.calls()).toHaveLength(0);
  });

  test('without VIEW_TABLE_NAME the record fails, naming the setting, and nothing is written', async () => {
    const viewTableName = process.env.VIEW_TABLE_NAME;
    delete process.env.VIEW_TABLE_NAME;
    try {
      await expect(applyRecord(order)).rejects.toThrow('VIEW_TABLE_NAME is not set');
    } finally {
      process.env.VIEW_TABLE_NAME = viewTableName;
    }
    expect(dynamodb.calls()).toHaveLength(0);
  });

  test('a failure after the first record reports its sequence number and logs where it stopped', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await expect(handler({ Records: [profile, poison('200'), order] })).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: '200' }] });
    expect(logged).toHaveBeenCalledWith('record failed', { sequenceNumber: '200', index: 1, batchSize: 3, error: expect.any(PoisonRecordError) });
    expect(dynamodb.calls()).toHaveLength(0);
  });

  test('a failed record without a sequence number is reported as "", which Lambda takes as the whole batch failing', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await expect(handler({ Records: [profile, poison()] })).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
  });
});

describe('against real stream records from DynamoDB Local', () => {
  test('builds the totals from inserts, a change, a cancellation and a TTL deletion, which keeps the totals', async () => {
    const customer = 'view-1';
    await putOrder(customer, 'a', 1000);
    await putOrder(customer, 'b', 250);
    await putOrder(customer, 'c', 4000);
    await ddb.client.send(
      new UpdateItemCommand({
        TableName: ordersTable,
        Key: { customerId: { S: customer }, sk: { S: 'ORDER#b' } },
        UpdateExpression: 'SET amountCents = :a',
        ExpressionAttributeValues: { ':a': { N: '300' } },
      }),
    );
    await ddb.client.send(new DeleteItemCommand({ TableName: ordersTable, Key: { customerId: { S: customer }, sk: { S: 'ORDER#c' } } }));
    await ddb.client.send(new DeleteItemCommand({ TableName: ordersTable, Key: { customerId: { S: customer }, sk: { S: 'ORDER#a' } } }));

    const records = await recordsOf(customer);
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT', 'MODIFY', 'REMOVE', 'REMOVE']);
    // The last REMOVE is made a TTL deletion the way DynamoDB marks one (DynamoDB Local's own: the next test).
    records[5].userIdentity = TTL_IDENTITY;

    await expect(handler({ Records: records })).resolves.toEqual({ batchItemFailures: [] });
    // a (1000, expired: still counted) + b (300) ; c cancelled
    expect(await totalsOf(customer)).toEqual({ orderCount: 2, totalCents: 1300, cancelledCount: 1, expiredCount: 1 });
  });

  test("an order DynamoDB Local's TTL deletes arrives as a TTL deletion: counted as expired, not cancelled", async () => {
    const customer = 'ttl-1';
    const expiredAt = Math.floor(Date.now() / 1000) - 24 * 3600;
    await ddb.client.send(
      new PutItemCommand({
        TableName: ordersTable,
        Item: { customerId: { S: customer }, sk: { S: 'ORDER#old' }, amountCents: { N: '300' }, [STREAMS_LAB.ttlAttribute]: { N: String(expiredAt) } },
      }),
    );
    // DynamoDB Local sweeps expired items every few seconds (AWS: typically within two days).
    const key = { customerId: { S: customer }, sk: { S: 'ORDER#old' } };
    for (let waited = 0; (await ddb.client.send(new GetItemCommand({ TableName: ordersTable, Key: key }))).Item; waited += 250) {
      if (waited > 20_000) throw new Error('DynamoDB Local did not delete the expired order within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const records = await recordsOf(customer);
    expect(records.map((r) => [r.eventName, r.userIdentity])).toEqual([['INSERT', undefined], ['REMOVE', TTL_IDENTITY]]);
    await handler({ Records: records });
    expect(await totalsOf(customer)).toEqual({ orderCount: 1, totalCents: 300, cancelledCount: 0, expiredCount: 1 });
  });

  test('a replayed batch changes nothing: each record is applied once, its marker expires after 48 h', async () => {
    const customer = 'replay-1';
    await putOrder(customer, 'a', 700);
    await putOrder(customer, 'b', 300);
    const records = await recordsOf(customer);

    await handler({ Records: records });
    const once = await totalsOf(customer);
    await expect(handler({ Records: records })).resolves.toEqual({ batchItemFailures: [] });
    await handler({ Records: [records[1], records[0]] });
    expect(await totalsOf(customer)).toEqual(once);
    expect(once).toMatchObject({ orderCount: 2, totalCents: 1000 });

    const { Items = [] } = await ddb.client.send(
      new QueryCommand({
        TableName: viewTable,
        KeyConditionExpression: 'customerId = :c AND begins_with(entry, :p)',
        ExpressionAttributeValues: { ':c': { S: customer }, ':p': { S: APPLIED_PREFIX } },
      }),
    );
    expect(Items.map((i) => i.entry.S).sort()).toEqual(records.map((r) => `${APPLIED_PREFIX}${r.eventID}`).sort());
    const lifetime = Number(Items[0].expiresAt.N) - Math.floor(Date.now() / 1000);
    expect(lifetime).toBeGreaterThan(MARKER_LIFETIME_SECONDS - 60);
    expect(lifetime).toBeLessThanOrEqual(MARKER_LIFETIME_SECONDS);
  });

  test('a poison record in the middle: the records before it are applied, it is reported, the rest wait', async () => {
    const customer = 'poison-1';
    await putOrder(customer, 'a', 100);
    await putOrder(customer, 'bad', 'twelve', 'S');
    await putOrder(customer, 'c', 200);
    const records = await recordsOf(customer);

    await expect(handler({ Records: records })).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: records[1].dynamodb!.SequenceNumber }],
    });
    expect(await totalsOf(customer)).toMatchObject({ orderCount: 1, totalCents: 100 });

    // Lambda retries from the reported record: now it is first, so the function throws to make Lambda bisect.
    await expect(handler({ Records: records.slice(1) })).rejects.toThrow(PoisonRecordError);
    await expect(handler({ Records: records.slice(2) })).resolves.toEqual({ batchItemFailures: [] });
    expect(await totalsOf(customer)).toMatchObject({ orderCount: 2, totalCents: 300 });
  });
});
