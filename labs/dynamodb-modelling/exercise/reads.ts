import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { check, defineTiming, ExerciseContext, ExerciseStep, requireOutput } from '../../support/exercise';
import { MODELLING_LAB } from '../constants';
import { customersOf, documentClient, seededOrders } from './orders';
import { describeCapacity, isSortedDescending, units } from './report';

export const timing = defineTiming(MODELLING_LAB.exerciseTiming);

async function getAndBatchGet(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const docs = await context.use(documentClient);
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = await context.use(seededOrders);
  const [first] = orders;
  const { Item } = await docs.send(
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
  let keys: Record<string, unknown>[] = [...wanted.map((o) => ({ customerId: o.customerId, sk: o.sk })), { customerId: `${context.runId}-nobody`, sk: 'ORDER#none' }];
  const found: Record<string, unknown>[] = [];
  while (keys.length > 0) {
    const response = await docs.send(
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
  const docs = await context.use(documentClient);
  const customers = customersOf(context.runId);
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = await context.use(seededOrders);
  const customer = customers[1];

  const newestFirst = await docs.send(
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

  const march = await docs.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'customerId = :c AND begins_with(sk, :month)',
      ExpressionAttributeValues: { ':c': customer, ':month': 'ORDER#2025-03' },
    }),
  );
  log(`table: begins_with(sk, "ORDER#2025-03") → ${(march.Items ?? []).map((i) => i.orderId).join(', ')}`);
  check(march.Count === 1, `expected 1 order in March, got ${march.Count}`);

  const shipped = await docs.send(
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
  const { gsiReadAttempts, gsiRetryPauseSeconds } = await context.use(timing);
  // A GSI is updated asynchronously: right after the seed it may lag the table for a moment.
  for (let attempt = 0; attempt < gsiReadAttempts && pending.length !== expectedPending; attempt += 1) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, gsiRetryPauseSeconds * 1000));
    ({ items: pending, capacity: gsiCapacity } = await pendingOrdersOfRun(docs, table, context.runId));
  }
  const pendingCustomers = new Set(pending.map((p) => p.customerId));
  const created = pending.map((p) => String(p.createdAt));
  log(`GSI ${MODELLING_LAB.gsiName}: PENDING orders of this run across ${pendingCustomers.size} customers, newest first: ${pending.length} (${gsiCapacity} RCU)`);
  check(
    pending.length === expectedPending && pendingCustomers.size === customers.length && isSortedDescending(created),
    'the GSI query did not return every PENDING order of this run, newest first',
  );
  log('a GSI has its own partition key (status): one query reaches every customer; its reads are eventually consistent only');
}

/** Every PENDING order of this run from the GSI, newest first, following LastEvaluatedKey. */
async function pendingOrdersOfRun(docs: DynamoDBDocumentClient, table: string, runId: string): Promise<{ items: Record<string, unknown>[]; capacity: number }> {
  const items: Record<string, unknown>[] = [];
  let capacity = 0;
  let lastKey: Record<string, unknown> | undefined;
  do {
    const page = await docs.send(
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

export const getStep: ExerciseStep = { id: 'get', title: 'GetItem with a projection, BatchGetItem across partitions', run: getAndBatchGet };
export const queryStep: ExerciseStep = { id: 'query', title: 'Query the table, the LSI and the GSI: sort order, begins_with, projections', run: queries };
