import {
  ConditionalCheckFailedException,
  ConsumedCapacity,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  DynamoDBClientConfig,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  ScanCommand,
  ScanCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { assumedCredentials } from '../support/credentials';
import { check, ExerciseContext, ExerciseStep, lazyClient, requireOutput, runId } from '../support/exercise';
import { itemSizeBytes, provisionedCapacity, readUnits, writeUnits } from './capacity';
import { MODELLING_LAB } from './stack';

// Created on first use, so AWS_ENDPOINT_URL* and credentials set by a caller (or a test) are honoured.
const dynamo = lazyClient((config) => new DynamoDBClient(config), 'DYNAMODB');
let documentClient: DynamoDBDocumentClient | undefined;
const docs = () => (documentClient ??= DynamoDBDocumentClient.from(dynamo()));

/** This run's customers: their ids start with the run's id, so leftovers of earlier runs never confuse a check. */
const CUSTOMERS = ['ada', 'bob', 'cy'].map((name) => `${runId}-${name}`);
const STATUSES = ['PENDING', 'SHIPPED', 'DELIVERED'] as const;
/** Padding so that items weigh about 700 bytes and capacity numbers mean something. */
const NOTE = 'gift wrap, leave at the door. '.repeat(20);

export interface Order {
  customerId: string;
  sk: string;
  orderId: string;
  status: (typeof STATUSES)[number];
  statusDate: string;
  createdAt: string;
  amountCents: number;
  version: number;
  note: string;
}

/** Six orders per customer, January to June, statuses in turn. */
export function seedOrders(customers: readonly string[] = CUSTOMERS): Order[] {
  return customers.flatMap((customerId, c) =>
    [1, 2, 3, 4, 5, 6].map((month, i) => {
      const createdAt = `2025-0${month}-${String(10 + c).padStart(2, '0')}T09:${String(i).padStart(2, '0')}:00Z`;
      const date = createdAt.slice(0, 10);
      const status = STATUSES[(i + c) % 3];
      const orderId = `o${c}${month}`;
      return {
        customerId,
        sk: `ORDER#${date}#${orderId}`,
        orderId,
        status,
        statusDate: `${status}#${createdAt}`,
        createdAt,
        amountCents: 1000 * month + 100 * c,
        version: 1,
        note: NOTE,
      };
    }),
  );
}

let seeded: Order[] | undefined;
/** Writes this run's orders once per process (each step can run alone), in batches of 25. */
async function ensureSeeded({ outputs, log }: ExerciseContext): Promise<Order[]> {
  if (seeded) return seeded;
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = seedOrders();
  for (let i = 0; i < orders.length; i += 25) {
    let requests: Record<string, { PutRequest: { Item: Order } }[]> | undefined = {
      [table]: orders.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
    };
    // BatchWriteItem may leave some items unprocessed (throttling): send those again.
    while (requests && Object.keys(requests).length > 0) {
      const { UnprocessedItems } = await docs().send(new BatchWriteCommand({ RequestItems: requests }));
      requests = UnprocessedItems as typeof requests;
    }
  }
  log(`seeded ${orders.length} orders (${CUSTOMERS.length} customers × 6, ~${itemSizeBytes(orders[0])} bytes each) with BatchWriteItem`);
  return (seeded = orders);
}

const units = (capacity: ConsumedCapacity | ConsumedCapacity[] | undefined): number =>
  (Array.isArray(capacity) ? capacity : capacity ? [capacity] : []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
const describeCapacity = (capacity: ConsumedCapacity | undefined) => {
  if (!capacity) return 'no capacity reported';
  const parts = [`total ${capacity.CapacityUnits}`];
  if (capacity.Table?.CapacityUnits !== undefined) parts.push(`table ${capacity.Table.CapacityUnits}`);
  for (const [name, c] of Object.entries({ ...capacity.LocalSecondaryIndexes, ...capacity.GlobalSecondaryIndexes })) {
    parts.push(`${name} ${c.CapacityUnits}`);
  }
  return parts.join(', ');
};
const isSortedDescending = (values: string[]) => values.every((v, i) => i === 0 || values[i - 1] >= v);

async function getAndBatchGet(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = await ensureSeeded(context);
  const [first] = orders;
  const { Item } = await docs().send(
    new GetCommand({
      TableName: table,
      Key: { customerId: first.customerId, sk: first.sk },
      ProjectionExpression: 'orderId, amountCents, #status',
      ExpressionAttributeNames: { '#status': 'status' },
    }),
  );
  log(`GetItem ${first.customerId} / ${first.sk} with a projection: ${JSON.stringify(Item)}`);
  check(Item?.orderId === first.orderId && Item.note === undefined, 'GetItem did not return the projected attributes only');
  log('"status" is a reserved word: an expression names it through ExpressionAttributeNames (#status)');

  const wanted = [orders[0], orders[7], orders[14]];
  let keys: Record<string, unknown>[] = [...wanted.map((o) => ({ customerId: o.customerId, sk: o.sk })), { customerId: `${runId}-nobody`, sk: 'ORDER#none' }];
  const found: Record<string, unknown>[] = [];
  while (keys.length > 0) {
    const response = await docs().send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ProjectionExpression: 'customerId, orderId' } } }),
    );
    found.push(...(response.Responses?.[table] ?? []));
    keys = response.UnprocessedKeys?.[table]?.Keys ?? [];
  }
  log(`BatchGetItem of 4 keys (one of a missing item) across 2 partitions: ${found.length} items, in no particular order`);
  check(found.length === 3, `BatchGetItem returned ${found.length} items, expected the 3 that exist`);
  check(
    wanted.every((o) => found.some((f) => f.orderId === o.orderId)),
    'BatchGetItem did not return every existing item asked for',
  );
}

async function queries(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = await ensureSeeded(context);
  const customer = CUSTOMERS[1];

  const newestFirst = await docs().send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'customerId = :c AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':c': customer, ':prefix': 'ORDER#2025-0' },
      ProjectionExpression: 'sk, amountCents',
      ScanIndexForward: false,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  const keys = (newestFirst.Items ?? []).map((i) => String(i.sk));
  log(`table: ${customer}'s orders, ScanIndexForward=false: ${keys.join(', ')} (${describeCapacity(newestFirst.ConsumedCapacity)})`);
  check(keys.length === 6 && isSortedDescending(keys), 'the table query did not return the 6 orders newest first');

  const march = await docs().send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'customerId = :c AND begins_with(sk, :month)',
      ExpressionAttributeValues: { ':c': customer, ':month': 'ORDER#2025-03' },
    }),
  );
  log(`table: begins_with(sk, "ORDER#2025-03") → ${(march.Items ?? []).map((i) => i.orderId).join(', ')}`);
  check(march.Count === 1, `expected 1 order in March, got ${march.Count}`);

  const shipped = await docs().send(
    new QueryCommand({
      TableName: table,
      IndexName: MODELLING_LAB.lsiName,
      KeyConditionExpression: 'customerId = :c AND begins_with(statusDate, :status)',
      ExpressionAttributeValues: { ':c': customer, ':status': 'SHIPPED#' },
      ScanIndexForward: false,
      ConsistentRead: true,
      ReturnConsumedCapacity: 'INDEXES',
    }),
  );
  const shippedKeys = (shipped.Items ?? []).map((i) => String(i.statusDate));
  const expectedShipped = orders.filter((o) => o.customerId === customer && o.status === 'SHIPPED').length;
  log(`LSI ${MODELLING_LAB.lsiName}: ${customer}'s SHIPPED orders, newest first, strongly consistent: ${shippedKeys.join(', ')} (${describeCapacity(shipped.ConsumedCapacity)})`);
  check(
    shippedKeys.length === expectedShipped && shippedKeys.every((k) => k.startsWith('SHIPPED#')) && isSortedDescending(shippedKeys),
    `the LSI query returned ${JSON.stringify(shippedKeys)}, expected ${expectedShipped} SHIPPED orders newest first`,
  );
  check(shipped.Items?.[0]?.note === undefined, 'the LSI returned the note, which it does not project');
  log('the LSI projects orderId and amountCents only: the note is not in the index (a query for it would fetch from the table)');

  const expectedPending = orders.filter((o) => o.status === 'PENDING').length;
  let pending: Record<string, unknown>[] = [];
  let gsiCapacity = 0;
  // A GSI is updated asynchronously: right after the seed it may lag the table for a moment.
  for (let attempt = 0; attempt < 10 && pending.length !== expectedPending; attempt += 1) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
    ({ items: pending, capacity: gsiCapacity } = await pendingOrdersOfRun(table));
  }
  const pendingCustomers = new Set(pending.map((p) => p.customerId));
  const created = pending.map((p) => String(p.createdAt));
  log(`GSI ${MODELLING_LAB.gsiName}: PENDING orders of this run across ${pendingCustomers.size} customers, newest first: ${pending.length} (${gsiCapacity} RCU)`);
  check(
    pending.length === expectedPending && pendingCustomers.size === CUSTOMERS.length && isSortedDescending(created),
    'the GSI query did not return every PENDING order of this run, newest first',
  );
  log('a GSI has its own partition key (status): one query reaches every customer; its reads are eventually consistent only');
}

/** Every PENDING order of this run from the GSI, newest first, following LastEvaluatedKey. */
async function pendingOrdersOfRun(table: string): Promise<{ items: Record<string, unknown>[]; capacity: number }> {
  const items: Record<string, unknown>[] = [];
  let capacity = 0;
  let lastKey: Record<string, unknown> | undefined;
  do {
    const page = await docs().send(
      new QueryCommand({
        TableName: table,
        IndexName: MODELLING_LAB.gsiName,
        KeyConditionExpression: '#status = :pending AND begins_with(createdAt, :year)',
        FilterExpression: 'begins_with(customerId, :run)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':year': '2025-', ':run': runId },
        ScanIndexForward: false,
        ReturnConsumedCapacity: 'INDEXES',
        ExclusiveStartKey: lastKey,
      }),
    );
    items.push(...(page.Items ?? []));
    capacity += units(page.ConsumedCapacity);
    lastKey = page.LastEvaluatedKey;
  } while (lastKey);
  return { items, capacity };
}

async function scanVersusQuery(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  await ensureSeeded(context);
  const customer = CUSTOMERS[2];

  const query = await docs().send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'customerId = :c',
      FilterExpression: '#status = :delivered',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':c': customer, ':delivered': 'DELIVERED' },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  const queryUnits = units(query.ConsumedCapacity);
  log(`Query (key condition on the customer, filter on status, strongly consistent): ${query.Count} items, read ${query.ScannedCount}, ${queryUnits} RCU`);

  const scanned: Record<string, unknown>[] = [];
  let pages = 0;
  let scannedCount = 0;
  let scanUnits = 0;
  let lastKey: Record<string, unknown> | undefined;
  do {
    const input: ScanCommandInput = {
      TableName: table,
      Limit: 10,
      FilterExpression: 'customerId = :c AND #status = :delivered',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':c': customer, ':delivered': 'DELIVERED' },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
      ExclusiveStartKey: lastKey,
    };
    const page = await docs().send(new ScanCommand(input));
    pages += 1;
    scanned.push(...(page.Items ?? []));
    scannedCount += page.ScannedCount ?? 0;
    scanUnits += units(page.ConsumedCapacity);
    lastKey = page.LastEvaluatedKey;
  } while (lastKey);
  log(`Scan (Limit 10 per page, same filter, strongly consistent): ${scanned.length} items, read ${scannedCount} in ${pages} pages, ${scanUnits} RCU`);
  const ids = (items: Record<string, unknown>[] = []) => items.map((i) => String(i.orderId)).sort().join();
  check(ids(scanned) === ids(query.Items), 'the Scan and the Query did not find the same orders');
  check(pages > 1, 'the Scan finished in one page: Limit did not paginate it');
  check(scanUnits > queryUnits, `the Scan consumed ${scanUnits} RCU, not more than the Query's ${queryUnits}`);
  log('a filter is applied after the read: a Scan pays for every item of the table, a Query only for one partition');
}

async function parallelScan(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  await ensureSeeded(context);
  const scanAll = async (segment?: number, totalSegments?: number) => {
    const keys: string[] = [];
    let lastKey: Record<string, unknown> | undefined;
    do {
      const page = await docs().send(
        new ScanCommand({
          TableName: table,
          Segment: segment,
          TotalSegments: totalSegments,
          ProjectionExpression: 'customerId, sk',
          ConsistentRead: true,
          ExclusiveStartKey: lastKey,
        }),
      );
      keys.push(...(page.Items ?? []).map((i) => `${i.customerId}|${i.sk}`));
      lastKey = page.LastEvaluatedKey;
    } while (lastKey);
    return keys;
  };
  const totalSegments = 3;
  const started = Date.now();
  const segments = await Promise.all([0, 1, 2].map((segment) => scanAll(segment, totalSegments)));
  const parallelMs = Date.now() - started;
  const sequential = await scanAll();
  const union = segments.flat();
  log(`parallel Scan, TotalSegments=${totalSegments}: segments of ${segments.map((s) => s.length).join(' + ')} = ${union.length} items in ${parallelMs} ms; one sequential Scan: ${sequential.length}`);
  check(new Set(union).size === union.length, 'two segments returned the same item');
  check(union.length === sequential.length && union.sort().join() === sequential.sort().join(), 'the segments together did not cover the table exactly');
  log('each worker scans a disjoint part of the key space; together they read the table once, faster, and consume capacity faster too');
}

async function consistency(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = await ensureSeeded(context);
  const key = { customerId: orders[0].customerId, sk: orders[0].sk };
  const strong = await docs().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }));
  const eventual = await docs().send(new GetCommand({ TableName: table, Key: key, ReturnConsumedCapacity: 'TOTAL' }));
  const [s, e] = [units(strong.ConsumedCapacity), units(eventual.ConsumedCapacity)];
  log(`GetItem of a ${itemSizeBytes(orders[0])}-byte item: strongly consistent ${s} RCU, eventually consistent (the default) ${e} RCU`);
  check(s === 1 && e === 0.5, `expected 1 and 0.5 RCU, got ${s} and ${e}`);

  const onGsi = await docs()
    .send(
      new QueryCommand({
        TableName: table,
        IndexName: MODELLING_LAB.gsiName,
        KeyConditionExpression: '#status = :s',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':s': 'PENDING' },
        ConsistentRead: true,
        Limit: 1,
      }),
    )
    .then(() => undefined, (error: Error) => error);
  log(`ConsistentRead on the GSI: ${onGsi ? `${onGsi.name}: ${onGsi.message}` : 'accepted'}`);
  check(onGsi?.name === 'ValidationException', 'a strongly consistent read of a GSI was not refused');
  log('a GSI is updated asynchronously from the table: only the table and its LSIs offer strongly consistent reads');
}

async function transaction(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const productsTable = requireOutput(outputs, 'ProductsTableName');
  const productId = `${runId}-widget`;
  const customerId = CUSTOMERS[0];
  await docs().send(new PutCommand({ TableName: productsTable, Item: { productId, stock: 5, priceCents: 1999 } }));
  log(`product ${productId}: stock 5`);

  const placeOrder = (orderId: string, quantity: number, token?: string) =>
    new TransactWriteCommand({
      ClientRequestToken: token,
      ReturnConsumedCapacity: 'TOTAL',
      TransactItems: [
        {
          Put: {
            TableName: ordersTable,
            Item: { customerId, sk: `ORDER#2025-07-01#${orderId}`, orderId, status: 'PENDING', quantity, productId },
            ConditionExpression: 'attribute_not_exists(sk)',
          },
        },
        {
          Update: {
            TableName: productsTable,
            Key: { productId },
            UpdateExpression: 'SET stock = stock - :q',
            ConditionExpression: 'stock >= :q',
            ExpressionAttributeValues: { ':q': quantity },
          },
        },
      ],
    });
  const stock = async () =>
    Number((await docs().send(new GetCommand({ TableName: productsTable, Key: { productId }, ConsistentRead: true }))).Item?.stock);
  const orderExists = async (orderId: string) =>
    (await docs().send(new GetCommand({ TableName: ordersTable, Key: { customerId, sk: `ORDER#2025-07-01#${orderId}` }, ConsistentRead: true })))
      .Item !== undefined;

  const token = `${runId}-order-t1`;
  const placed = await docs().send(placeOrder('t1', 2, token));
  log(`TransactWriteItems: put order t1 (2 widgets) + decrement stock if stock >= 2 → committed, ${units(placed.ConsumedCapacity)} WCU for 2 small items (twice a plain write)`);
  check((await stock()) === 3 && (await orderExists('t1')), 'the first transaction did not both write the order and decrement the stock');
  await docs().send(placeOrder('t1', 2, token));
  log('the same transaction again with the same ClientRequestToken (within 10 minutes): accepted, applied once');
  check((await stock()) === 3, 'retrying with the same ClientRequestToken decremented the stock twice');

  const refused = await docs().send(placeOrder('t2', 10)).then(() => undefined, (error: unknown) => error);
  check(refused instanceof TransactionCanceledException, `ordering 10 of 3 was not cancelled: ${String(refused)}`);
  const reasons = (refused.CancellationReasons ?? []).map((r) => r.Code);
  log(`put order t2 (10 widgets) + decrement if stock >= 10 → TransactionCanceledException, reasons per item: ${JSON.stringify(reasons)}`);
  check(JSON.stringify(reasons) === '["None","ConditionalCheckFailed"]', `unexpected cancellation reasons ${JSON.stringify(reasons)}`);
  check(!(await orderExists('t2')) && (await stock()) === 3, 'a cancelled transaction left a change behind');
  log('all or nothing: the order put, which had nothing wrong with it, was not written either');
}

async function optimisticLocking(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = await ensureSeeded(context);
  const key = { customerId: orders[3].customerId, sk: orders[3].sk };
  const read = async () => (await docs().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item as Order;
  const save = (amountCents: number, expectedVersion: number) =>
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: 'SET amountCents = :amount, version = version + :one',
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':amount': amountCents, ':one': 1, ':expected': expectedVersion },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });

  const alice = await read();
  const bob = await read();
  log(`two writers read the order at version ${alice.version} (amount ${alice.amountCents})`);
  await docs().send(save(alice.amountCents + 500, alice.version));
  log(`writer A saves amount +500 with "version = ${alice.version}": accepted, version is now ${alice.version + 1}`);
  const conflict = await docs().send(save(bob.amountCents - 200, bob.version)).then(() => undefined, (error: unknown) => error);
  check(conflict instanceof ConditionalCheckFailedException, `writer B's stale update was not refused: ${String(conflict)}`);
  log(`writer B saves with the version it read (${bob.version}): ConditionalCheckFailedException; the error carries the current item (version ${conflict.Item?.version?.N})`);
  const fresh = await read();
  await docs().send(save(fresh.amountCents - 200, fresh.version));
  const final = await read();
  log(`writer B re-reads (version ${fresh.version}), reapplies -200 and saves: version ${final.version}, amount ${final.amountCents}`);
  check(final.version === alice.version + 2 && final.amountCents === alice.amountCents + 300, 'the two updates did not both apply, in turn');
  log('no lock is held: a conditional write detects the conflict, and the loser retries on fresh data');
}

async function capacityUnits(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'ProductsTableName');
  log('item size → WCU per write | RCU strong | RCU eventual | transactional write / read');
  for (const bytes of [500, 1024, 1025, 4096, 4097, 7_500, 400 * 1024]) {
    log(
      `  ${String(bytes).padStart(6)} B → ${writeUnits(bytes)} | ${readUnits(bytes)} | ${readUnits(bytes, 'eventual')} | ` +
        `${writeUnits(bytes, { transactional: true })} / ${readUnits(bytes, 'transactional')}`,
    );
  }
  const exam = provisionedCapacity({ itemBytes: 6 * 1024, readsPerSecond: 10, writesPerSecond: 5, consistency: 'eventual' });
  log(`exam question: 10 eventually consistent reads/s and 5 writes/s of 6 KB items → ${exam.readCapacityUnits} RCU, ${exam.writeCapacityUnits} WCU`);
  check(exam.readCapacityUnits === 10 && exam.writeCapacityUnits === 30, 'the calculator got the exam question wrong');

  for (const target of [1024, 1025, 4097, 9000]) {
    const base = { productId: `${runId}-size-${target}`, stock: 1, pad: '' };
    const item = { ...base, pad: 'x'.repeat(target - itemSizeBytes(base)) };
    const size = itemSizeBytes(item);
    const put = await docs().send(new PutCommand({ TableName: table, Item: item, ReturnConsumedCapacity: 'TOTAL' }));
    const strong = await docs().send(new GetCommand({ TableName: table, Key: { productId: item.productId }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }));
    const eventual = await docs().send(new GetCommand({ TableName: table, Key: { productId: item.productId }, ReturnConsumedCapacity: 'TOTAL' }));
    const measured = [units(put.ConsumedCapacity), units(strong.ConsumedCapacity), units(eventual.ConsumedCapacity)];
    const predicted = [writeUnits(size), readUnits(size), readUnits(size, 'eventual')];
    log(`  a ${size}-byte item: DynamoDB reported ${measured.join(' / ')} (WCU / RCU strong / RCU eventual), calculator ${predicted.join(' / ')}`);
    check(measured.join() === predicted.join(), `for ${size} bytes DynamoDB reported ${measured.join(' / ')}, the calculator said ${predicted.join(' / ')}`);
  }
  log('attribute names count towards the size: short names are cheaper on every read and write');
}

/** A throttling error as DynamoDB returns it, so that the SDK's retry strategy treats it as one. */
function throttled(): Error {
  return Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded (simulated by the exercise)'), {
    name: 'ProvisionedThroughputExceededException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
}

/** A document client whose first `failures` attempts are answered with a throttling error before reaching DynamoDB. */
function throttledClient(config: DynamoDBClientConfig, failures: number): { client: DynamoDBDocumentClient; attempts: () => number } {
  const raw = new DynamoDBClient(config);
  let attempts = 0;
  raw.middlewareStack.add(
    (next) => async (args) => {
      attempts += 1;
      if (attempts <= failures) throw throttled();
      return next(args);
    },
    { step: 'deserialize', name: 'simulatedThrottling' },
  );
  return { client: DynamoDBDocumentClient.from(raw), attempts: () => attempts };
}

async function retries(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'ProductsTableName');
  const item = { productId: `${runId}-retry`, stock: 1 };
  log('the SDK retries throttling (ProvisionedThroughputExceededException, ThrottlingException) and 5xx errors with');
  log('exponential backoff and jitter: retryMode "standard" (default, 3 attempts) or "adaptive" (also slows the client down)');

  const patient = throttledClient({ maxAttempts: 5, retryMode: 'standard' }, 2);
  const started = Date.now();
  const result = await patient.client.send(new PutCommand({ TableName: table, Item: item }));
  log(
    `maxAttempts 5, the first 2 attempts throttled: succeeded on attempt ${result.$metadata.attempts} after ` +
      `${result.$metadata.totalRetryDelay} ms of backoff (${Date.now() - started} ms in all)`,
  );
  check(result.$metadata.attempts === 3 && patient.attempts() === 3, `expected success on attempt 3, got ${result.$metadata.attempts}`);
  check((result.$metadata.totalRetryDelay ?? 0) > 0, 'the SDK retried without backing off');

  const impatient = throttledClient({ maxAttempts: 1 }, 1);
  const failure = await impatient.client.send(new PutCommand({ TableName: table, Item: item })).then(() => undefined, (error: Error) => error);
  log(`maxAttempts 1 (no retries): ${failure?.name} reaches the caller after ${impatient.attempts()} attempt`);
  check(failure?.name === 'ProvisionedThroughputExceededException', 'without retries the throttling error did not reach the caller');
  log('a provisioned table also has burst capacity (up to 300 s of unused capacity) and auto scaling reacts in minutes:');
  log('retries with backoff absorb short throttling; sustained throttling needs more capacity (or on-demand)');
}

async function leadingKeys(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  const roleArn = requireOutput(outputs, 'TenantRoleArn');
  const orders = await ensureSeeded(context);
  const [me, other] = [CUSTOMERS[0], CUSTOMERS[1]];
  const credentials = await assumedCredentials(roleArn, `${runId}-tenant`, { Tags: [{ Key: MODELLING_LAB.tenantTag, Value: me }] });
  log(`assumed the tenant role with session tag ${MODELLING_LAB.tenantTag}=${me}`);
  const tenant = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL, credentials }),
  );
  const attempt = async (name: string, call: () => Promise<unknown>): Promise<'allowed' | 'denied'> => {
    const outcome = await call().then(
      () => 'allowed' as const,
      (error: Error) => {
        if (error.name !== 'AccessDeniedException') throw error;
        return 'denied' as const;
      },
    );
    log(`  ${name}: ${outcome}`);
    return outcome;
  };

  const mine = orders.find((o) => o.customerId === me)!;
  const theirs = orders.find((o) => o.customerId === other)!;
  const ownQuery: QueryCommandInput = {
    TableName: table,
    KeyConditionExpression: 'customerId = :c',
    ExpressionAttributeValues: { ':c': me },
  };
  const ownGet = await attempt(`GetItem of my order (${me})`, () =>
    tenant.send(new GetCommand({ TableName: table, Key: { customerId: me, sk: mine.sk } })),
  );
  const ownList = await attempt('Query of my partition', () => tenant.send(new QueryCommand(ownQuery)));
  const otherGet = await attempt(`GetItem of ${other}'s order`, () =>
    tenant.send(new GetCommand({ TableName: table, Key: { customerId: other, sk: theirs.sk } })),
  );
  const otherQuery = await attempt(`Query of ${other}'s partition`, () =>
    tenant.send(new QueryCommand({ ...ownQuery, ExpressionAttributeValues: { ':c': other } })),
  );
  const scan = await attempt('Scan of the table', () => tenant.send(new ScanCommand({ TableName: table, Limit: 1 })));
  check(ownGet === 'allowed' && ownList === 'allowed', 'the tenant could not read its own partition');
  check(otherGet === 'denied' && otherQuery === 'denied', 'the tenant could read another customer\'s partition');
  check(scan === 'denied', 'the tenant could Scan the table (a Scan has no partition key to check)');
  log('dynamodb:LeadingKeys holds the partition keys a request touches; the role allows them only when they equal the caller\'s tag');
}

async function tableSettings(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const productsTable = requireOutput(outputs, 'ProductsTableName');
  const { Table: orders } = await dynamo().send(new DescribeTableCommand({ TableName: ordersTable }));
  const keySchema = (orders?.KeySchema ?? []).map((k) => `${k.AttributeName} (${k.KeyType})`).join(', ');
  const lsis = (orders?.LocalSecondaryIndexes ?? []).map((i) => `${i.IndexName}: ${i.KeySchema?.map((k) => k.AttributeName).join(' + ')}, ${i.Projection?.ProjectionType}`);
  const gsis = (orders?.GlobalSecondaryIndexes ?? []).map((i) => `${i.IndexName}: ${i.KeySchema?.map((k) => k.AttributeName).join(' + ')}, ${i.Projection?.ProjectionType}`);
  log(`Orders: key ${keySchema}; billing ${orders?.BillingModeSummary?.BillingMode}; LSI ${lsis.join('; ')}; GSI ${gsis.join('; ')}`);
  check(keySchema === 'customerId (HASH), sk (RANGE)', `unexpected key schema ${keySchema}`);
  check(orders?.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST', 'the Orders table is not on demand');
  check(lsis.length === 1 && lsis[0].startsWith(`${MODELLING_LAB.lsiName}: customerId + statusDate`), 'the LSI is missing or keyed differently');
  check(gsis.length === 1 && gsis[0].startsWith(`${MODELLING_LAB.gsiName}: status + createdAt`), 'the GSI is missing or keyed differently');
  const { TimeToLiveDescription: ttl } = await dynamo().send(new DescribeTimeToLiveCommand({ TableName: ordersTable }));
  log(`Orders TTL: ${ttl?.TimeToLiveStatus} on ${ttl?.AttributeName}`);
  check(ttl?.TimeToLiveStatus === 'ENABLED' && ttl.AttributeName === MODELLING_LAB.ttlAttribute, 'TTL is not enabled on expiresAt');
  const { Table: products } = await dynamo().send(new DescribeTableCommand({ TableName: productsTable }));
  const throughput = products?.ProvisionedThroughput;
  log(`Products: provisioned ${throughput?.ReadCapacityUnits} RCU / ${throughput?.WriteCapacityUnits} WCU now (auto scaling ${MODELLING_LAB.autoScaling.minCapacity}–${MODELLING_LAB.autoScaling.maxCapacity} at ${MODELLING_LAB.autoScaling.targetUtilizationPercent} %)`);
  check((throughput?.ReadCapacityUnits ?? 0) >= 1 && (throughput?.WriteCapacityUnits ?? 0) >= 1, 'the Products table has no provisioned capacity');
}

async function protection(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const productsTable = requireOutput(outputs, 'ProductsTableName');
  for (const table of [ordersTable, productsTable]) {
    const { ContinuousBackupsDescription: backups } = await dynamo().send(new DescribeContinuousBackupsCommand({ TableName: table }));
    const pitr = backups?.PointInTimeRecoveryDescription;
    log(`${table}: PITR ${pitr?.PointInTimeRecoveryStatus}, restorable from ${pitr?.EarliestRestorableDateTime?.toISOString()} (${pitr?.RecoveryPeriodInDays ?? 35} days)`);
    check(pitr?.PointInTimeRecoveryStatus === 'ENABLED', `PITR is not enabled on ${table}`);
  }
  const { Table: orders } = await dynamo().send(new DescribeTableCommand({ TableName: ordersTable }));
  const { Table: products } = await dynamo().send(new DescribeTableCommand({ TableName: productsTable }));
  log(`Orders encryption: ${orders?.SSEDescription ? JSON.stringify(orders.SSEDescription) : 'no SSEDescription = an AWS owned key (free, not in your account)'}`);
  check(orders?.SSEDescription === undefined, 'the Orders table is not encrypted with an AWS owned key');
  const sse = products?.SSEDescription;
  const expectedKey = outputs.ProductsKeyArn;
  log(`Products encryption: ${sse?.SSEType} with ${sse?.KMSMasterKeyArn} (${expectedKey ? 'customer managed key' : 'the AWS managed key aws/dynamodb'})`);
  check(sse?.Status === 'ENABLED' && sse.SSEType === 'KMS', 'the Products table is not encrypted with a KMS key');
  if (expectedKey) check(sse.KMSMasterKeyArn === expectedKey, `the Products table uses ${sse.KMSMasterKeyArn}, not the lab's key`);
  const replicaRegion = outputs.OrdersReplicaRegion;
  if (replicaRegion) {
    const regions = (orders?.Replicas ?? []).map((r) => `${r.RegionName} (${r.ReplicaStatus})`);
    log(`Orders replicas: ${regions.join(', ')}`);
    check(regions.some((r) => r.startsWith(replicaRegion)), `no replica of Orders in ${replicaRegion}`);
  }
  if (outputs.DaxClusterEndpoint) {
    log(`DAX cluster endpoint: ${outputs.DaxClusterEndpoint}; only clients inside its VPC (security group DaxClientSecurityGroup) reach it`);
    check(/^daxs:\/\/[^/]+(:9111)?$/.test(outputs.DaxClusterEndpoint), `the DAX endpoint ${outputs.DaxClusterEndpoint} is not a TLS (daxs://) one`);
  }
}

async function cleanup(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  const keys: Record<string, unknown>[] = [];
  for (const customerId of CUSTOMERS) {
    const { Items = [] } = await docs().send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'customerId = :c', ExpressionAttributeValues: { ':c': customerId }, ProjectionExpression: 'customerId, sk' }),
    );
    keys.push(...Items);
  }
  for (let i = 0; i < keys.length; i += 25) {
    let requests: Record<string, { DeleteRequest: { Key: Record<string, unknown> } }[]> | undefined = {
      [table]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
    };
    while (requests && Object.keys(requests).length > 0) {
      requests = (await docs().send(new BatchWriteCommand({ RequestItems: requests }))).UnprocessedItems as typeof requests;
    }
  }
  const left = await Promise.all(
    CUSTOMERS.map(async (customerId) =>
      (await docs().send(new QueryCommand({ TableName: table, KeyConditionExpression: 'customerId = :c', ExpressionAttributeValues: { ':c': customerId }, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0,
    ),
  );
  log(`deleted this run's ${keys.length} orders with BatchWriteItem; the products stay (a few KB)`);
  check(left.every((n) => n === 0), 'some orders of this run are still there');
  seeded = undefined;
}

export const steps: readonly ExerciseStep[] = [
  { id: 'get', title: 'GetItem with a projection, BatchGetItem across partitions', run: getAndBatchGet },
  { id: 'query', title: 'Query the table, the LSI and the GSI: sort order, begins_with, projections', run: queries },
  { id: 'scan-vs-query', title: 'Scan with Limit pages and a filter against a Query, with consumed capacity', run: scanVersusQuery },
  { id: 'parallel-scan', title: 'parallel Scan with Segment / TotalSegments', run: parallelScan },
  { id: 'consistency', title: 'strongly vs eventually consistent reads, and none on a GSI', run: consistency },
  { id: 'transaction', title: 'TransactWriteItems: all or nothing, idempotent with a ClientRequestToken', run: transaction },
  { id: 'optimistic-locking', title: 'optimistic locking with a version attribute', run: optimisticLocking },
  { id: 'capacity', title: 'RCU/WCU calculator, checked against what DynamoDB reports', run: capacityUnits },
  { id: 'retries', title: 'SDK retry configuration and what a throttled request does', run: retries },
  { id: 'leading-keys', title: 'fine-grained access: only my partition (dynamodb:LeadingKeys)', run: leadingKeys },
  { id: 'table-settings', title: 'keys, indexes, billing modes and TTL as deployed', run: tableSettings },
  { id: 'protection', title: 'PITR, encryption choices, and the optional replica and DAX cluster', run: protection },
  { id: 'cleanup', title: 'delete this run\'s orders', run: cleanup },
];
