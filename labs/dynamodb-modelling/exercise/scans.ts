import { GetCommand, QueryCommand, ScanCommand, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { check, ExerciseContext, ExerciseStep, requireOutput } from '../../support/exercise';
import { itemSizeBytes } from '../capacity';
import { MODELLING_LAB } from '../constants';
import { customersOf, documentClient, seededOrders } from './orders';
import { units } from './report';

async function scanVersusQuery(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const docs = await context.use(documentClient);
  const customers = customersOf(context.runId);
  const table = requireOutput(outputs, 'OrdersTableName');
  await context.use(seededOrders);
  const customer = customers[2];

  const query = await docs.send(
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
    const page = await docs.send(new ScanCommand(input));
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
  const docs = await context.use(documentClient);
  const table = requireOutput(outputs, 'OrdersTableName');
  await context.use(seededOrders);
  const scanAll = async (segment?: number, totalSegments?: number) => {
    const keys: string[] = [];
    let lastKey: Record<string, unknown> | undefined;
    do {
      const page = await docs.send(
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
  const docs = await context.use(documentClient);
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = await context.use(seededOrders);
  const key = { customerId: orders[0].customerId, sk: orders[0].sk };
  const strong = await docs.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }));
  const eventual = await docs.send(new GetCommand({ TableName: table, Key: key, ReturnConsumedCapacity: 'TOTAL' }));
  const [s, e] = [units(strong.ConsumedCapacity), units(eventual.ConsumedCapacity)];
  log(`GetItem of a ${itemSizeBytes(orders[0])}-byte item: strongly consistent ${s} RCU, eventually consistent (the default) ${e} RCU`);
  check(s === 1 && e === 0.5, `expected 1 and 0.5 RCU, got ${s} and ${e}`);

  const onGsi = await docs
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

export const scanVersusQueryStep: ExerciseStep = { id: 'scan-vs-query', title: 'Scan with Limit pages and a filter against a Query, with consumed capacity', run: scanVersusQuery };
export const parallelScanStep: ExerciseStep = { id: 'parallel-scan', title: 'parallel Scan with Segment / TotalSegments', run: parallelScan };
export const consistencyStep: ExerciseStep = { id: 'consistency', title: 'strongly vs eventually consistent reads, and none on a GSI', run: consistency };
