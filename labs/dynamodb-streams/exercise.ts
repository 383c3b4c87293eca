import {
  BatchWriteItemCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand as DocQueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { check, elapsedSeconds, ExerciseContext, ExerciseStep, defineFixture, defineTiming, requireOutput } from '../support/exercise';
import { nextWaitSeconds } from '../support/sqs-messages';
import { STREAMS_LAB } from './constants';
import { DynamoDbStreamsApi } from './streams-api';

/** The run's clients (see serviceEndpoint for the endpoint); the document and streams clients are built on the DynamoDB one. */
const dynamoOf = (context: ExerciseContext) => context.client(DynamoDBClient, 'DYNAMODB');
const sqsOf = (context: ExerciseContext) => context.client(SQSClient, 'SQS');
const lambdaOf = (context: ExerciseContext) => context.client(LambdaClient, 'LAMBDA');
const documentClient = defineFixture('DynamoDB document client', (context) => DynamoDBDocumentClient.from(dynamoOf(context)));
const streamsClient = defineFixture('DynamoDB Streams API', (context) => new DynamoDbStreamsApi(dynamoOf(context).config));
const docsOf = (context: ExerciseContext) => context.use(documentClient);
export const timing = defineTiming(STREAMS_LAB.exerciseTiming);

/** A customer of this run for one step, so leftovers of earlier runs never confuse a check. */
const customer = (context: ExerciseContext, step: string) => `${context.runId}-${step}`;
const orderKey = (customerId: string, orderId: string) => ({ customerId, sk: `${STREAMS_LAB.orderPrefix}${orderId}` });

interface Totals {
  orderCount: number;
  totalCents: number;
  cancelledCount: number;
  expiredCount: number;
}

async function totalsOf(context: ExerciseContext, viewTable: string, customerId: string): Promise<Totals | undefined> {
  const { Item } = await (await docsOf(context)).send(new GetCommand({ TableName: viewTable, Key: { customerId, entry: 'TOTALS' }, ConsistentRead: true }));
  if (!Item) return undefined;
  return {
    orderCount: Number(Item.orderCount ?? 0),
    totalCents: Number(Item.totalCents ?? 0),
    cancelledCount: Number(Item.cancelledCount ?? 0),
    expiredCount: Number(Item.expiredCount ?? 0),
  };
}

/** The figures of `timing` a step may wait for the view with. */
type ViewDeadline = 'viewDeadlineSeconds' | 'poisonViewDeadlineSeconds';

/**
 * Polls the view until the customer's totals include `expected` and prints them, for at most `timeoutSeconds`; the
 * last totals seen when they never do.
 */
async function pollTotals(
  context: ExerciseContext,
  customerId: string,
  expected: Partial<Totals>,
  timeoutSeconds: number,
): Promise<{ reached: boolean; totals?: Totals }> {
  const { outputs, log } = context;
  const viewTable = requireOutput(outputs, 'ViewTableName');
  const { viewPollSeconds } = await context.use(timing);
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  for (;;) {
    const totals = await totalsOf(context, viewTable, customerId);
    if (totals && Object.entries(expected).every(([key, value]) => totals[key as keyof Totals] === value)) {
      log(`  view for ${customerId} after ${elapsedSeconds(started)} s: ${JSON.stringify(totals)}`);
      return { reached: true, totals };
    }
    // The last read is made at the deadline, not one poll interval after it.
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { reached: false, totals };
    await new Promise((resolve) => setTimeout(resolve, Math.min(viewPollSeconds * 1000, remaining)));
  }
}

/** Polls the view until the customer's totals include `expected`, or fails the check after the `deadline` figure. */
async function waitForTotals(
  context: ExerciseContext,
  customerId: string,
  expected: Partial<Totals>,
  deadline: ViewDeadline = 'viewDeadlineSeconds',
): Promise<Totals> {
  const timeoutSeconds = (await context.use(timing))[deadline];
  const { reached, totals } = await pollTotals(context, customerId, expected, timeoutSeconds);
  check(reached, `the view of ${customerId} did not reach ${JSON.stringify(expected)} within ${timeoutSeconds} s; it is ${JSON.stringify(totals)}`);
  return totals as Totals;
}

async function putOrder(context: ExerciseContext, ordersTable: string, customerId: string, orderId: string, amountCents: number, extra: object = {}) {
  await (await docsOf(context)).send(new PutCommand({ TableName: ordersTable, Item: { ...orderKey(customerId, orderId), amountCents, ...extra } }));
}

async function materializedView(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const customerId = customer(context, 'view');
  await (await docsOf(context)).send(new PutCommand({ TableName: ordersTable, Item: { customerId, sk: 'PROFILE', name: 'Ada' } }));
  log(`put a profile item (sk=PROFILE) for ${customerId}: the event filter keeps it away from the function`);
  const amounts = { a: 1250, b: 899, c: 4000 };
  for (const [orderId, amountCents] of Object.entries(amounts)) await putOrder(context, ordersTable, customerId, orderId, amountCents);
  log(`put 3 orders (${Object.values(amounts).join(' + ')} cents); the stream carries each INSERT to the function`);
  await waitForTotals(context, customerId, { orderCount: 3, totalCents: 6149 });
  log('the view table now answers "how much has this customer ordered" with one GetItem instead of a Query + sum');
}

async function changeAndCancel(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const customerId = customer(context, 'change');
  await putOrder(context, ordersTable, customerId, 'a', 1000);
  await putOrder(context, ordersTable, customerId, 'b', 500);
  await waitForTotals(context, customerId, { orderCount: 2, totalCents: 1500 });
  await (await docsOf(context)).send(
    new UpdateCommand({
      TableName: ordersTable,
      Key: orderKey(customerId, 'a'),
      UpdateExpression: 'SET amountCents = :amount',
      ExpressionAttributeValues: { ':amount': 1500 },
    }),
  );
  log('changed order a from 1000 to 1500 cents: a MODIFY record with the old and the new image; the view adds +500');
  await waitForTotals(context, customerId, { orderCount: 2, totalCents: 2000 });
  await (await docsOf(context)).send(new DeleteCommand({ TableName: ordersTable, Key: orderKey(customerId, 'b') }));
  log('deleted order b: a REMOVE record without userIdentity, made by a caller, so the order counts as cancelled');
  await waitForTotals(context, customerId, { orderCount: 1, totalCents: 1500, cancelledCount: 1, expiredCount: 0 });
}

async function timeToLive(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const { TimeToLiveDescription: ttl } = await dynamoOf(context).send(new DescribeTimeToLiveCommand({ TableName: ordersTable }));
  log(`TTL on the orders table: ${ttl?.TimeToLiveStatus} on attribute ${ttl?.AttributeName}`);
  check(
    ttl?.TimeToLiveStatus === 'ENABLED' && ttl.AttributeName === STREAMS_LAB.ttlAttribute,
    `expected TTL ENABLED on ${STREAMS_LAB.ttlAttribute}, found ${JSON.stringify(ttl)}`,
  );

  const customerId = customer(context, 'ttl');
  const now = Math.floor(Date.now() / 1000);
  await putOrder(context, ordersTable, customerId, 'old', 300, { [STREAMS_LAB.ttlAttribute]: now - 24 * 3600 });
  await putOrder(context, ordersTable, customerId, 'new', 700, { [STREAMS_LAB.ttlAttribute]: now + 365 * 24 * 3600 });
  log(`put order "old" that expired a day ago (${STREAMS_LAB.ttlAttribute}=${now - 24 * 3600}, epoch seconds) and order "new" expiring in a year`);

  const all = await (await docsOf(context)).send(
    new DocQueryCommand({ TableName: ordersTable, KeyConditionExpression: 'customerId = :c', ExpressionAttributeValues: { ':c': customerId } }),
  );
  const live = await (await docsOf(context)).send(
    new DocQueryCommand({
      TableName: ordersTable,
      KeyConditionExpression: 'customerId = :c',
      FilterExpression: 'attribute_not_exists(#ttl) OR #ttl > :now',
      ExpressionAttributeNames: { '#ttl': STREAMS_LAB.ttlAttribute },
      ExpressionAttributeValues: { ':c': customerId, ':now': now },
    }),
  );
  const ids = (items: Record<string, unknown>[] = []) => items.map((i) => String(i.sk).replace(STREAMS_LAB.orderPrefix, '')).sort();
  log(`Query without a filter: ${JSON.stringify(ids(all.Items))}; with "${STREAMS_LAB.ttlAttribute} > now": ${JSON.stringify(ids(live.Items))}`);
  check(ids(live.Items).join() === 'new', `the filtered query returned ${JSON.stringify(ids(live.Items))}, expected only "new"`);

  // A TTL delete keeps the order in the totals: only expiredCount grows.
  const deleted = { orderCount: 2, totalCents: 1000, cancelledCount: 0, expiredCount: 1 };
  if (ids(all.Items).includes('old')) {
    log(
      'the expired order is still stored and readable: TTL deletes in the background, best effort, typically within two days ' +
        'of expiry, so reads must filter expired items themselves',
    );
    const { ttlDeleteWaitSeconds } = await context.use(timing);
    if (!(await pollTotals(context, customerId, deleted, ttlDeleteWaitSeconds)).reached) {
      await waitForTotals(context, customerId, { orderCount: 2, totalCents: 1000 });
      log(
        `TTL has not deleted it within ${ttlDeleteWaitSeconds} s. When it does, the stream carries a REMOVE with userIdentity ` +
          '{type: Service, principalId: dynamodb.amazonaws.com}: the function counts it in expiredCount and keeps it in the ' +
          'totals (an archived order is not a cancelled one).',
      );
      return;
    }
  } else {
    log(
      'TTL has already deleted the expired order, between the write and the read: it deletes in the background, best effort ' +
        '(DynamoDB typically within two days of expiry, DynamoDB Local within seconds), so until then reads must filter ' +
        'expired items themselves',
    );
    await waitForTotals(context, customerId, deleted);
  }
  log(
    'TTL deleted order "old": the stream carried a REMOVE with userIdentity {type: Service, principalId: dynamodb.amazonaws.com}; ' +
      'the function counted it in expiredCount and kept it in the totals (an archived order is not a cancelled one)',
  );
}

interface FailureRecord {
  requestContext: { condition: string; approximateInvokeCount: number };
  DDBStreamBatchInfo: { streamArn: string; shardId: string; startSequenceNumber: string; endSequenceNumber: string; batchSize: number; approximateArrivalOfFirstRecord: string };
}

async function poisonRecord(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const streamArn = requireOutput(outputs, 'OrdersStreamArn');
  const queueUrl = requireOutput(outputs, 'OnFailureQueueUrl');
  const customerId = customer(context, 'poison');
  const item = (orderId: string, amount: { N: string } | { S: string }) => ({
    PutRequest: { Item: { customerId: { S: customerId }, sk: { S: `${STREAMS_LAB.orderPrefix}${orderId}` }, amountCents: amount } },
  });
  const started = Date.now();
  await dynamoOf(context).send(
    new BatchWriteItemCommand({
      RequestItems: { [ordersTable]: [item('good-1', { N: '1000' }), item('bad', { S: 'twelve' }), item('good-2', { N: '2000' })] },
    }),
  );
  log('wrote 3 orders in one BatchWriteItem; order "bad" has amountCents "twelve", a string: the function fails on it every time');
  await waitForTotals(context, customerId, { orderCount: 2, totalCents: 3000 }, 'poisonViewDeadlineSeconds');
  log('both good orders are in the view: the records before the bad one were kept, the ones after it were retried without it');

  const { failureRecordDeadlineSeconds: timeoutSeconds } = await context.use(timing);
  let failure: FailureRecord | undefined;
  const deadline = started + timeoutSeconds * 1000;
  while (!failure && Date.now() < deadline) {
    // Long polls that end by the deadline: a record that never comes fails the check on time.
    const { Messages = [] } = await sqsOf(context).send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: nextWaitSeconds(deadline) }),
    );
    for (const message of Messages as Message[]) {
      const body = JSON.parse(message.Body ?? '{}') as FailureRecord;
      const info = body.DDBStreamBatchInfo;
      const ours = info?.streamArn === streamArn && Date.parse(info.approximateArrivalOfFirstRecord) >= started - 60_000;
      if (!ours) continue;
      failure = body;
      await sqsOf(context).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  check(failure !== undefined, `no failure record of this run reached the on-failure queue within ${timeoutSeconds} s`);
  const info = failure.DDBStreamBatchInfo;
  log(
    `on-failure queue: condition=${failure.requestContext.condition}, invocations=${failure.requestContext.approximateInvokeCount}, ` +
      `batchSize=${info.batchSize}, sequence numbers ${info.startSequenceNumber}..${info.endSequenceNumber}`,
  );
  check(failure.requestContext.condition === 'RetryAttemptsExhausted', `unexpected condition ${failure.requestContext.condition}`);
  check(info.batchSize === 1, `the failed batch holds ${info.batchSize} records: bisect did not isolate the bad one`);

  const record = await (await context.use(streamsClient)).recordAt(streamArn, info.startSequenceNumber);
  check(record !== undefined, `the stream no longer has record ${info.startSequenceNumber}`);
  const orderId = record.dynamodb?.Keys?.sk?.S;
  log(`the failure record holds no data, only where to find it; read from the stream: ${orderId} amountCents=${JSON.stringify(record.dynamodb?.NewImage?.amountCents)}`);
  check(orderId === `${STREAMS_LAB.orderPrefix}bad`, `the failure record points at ${orderId}, not at the bad order`);
  log('the record stays in the stream for 24 hours: fix the item, or replay it to the function after a fix (next step)');
}

async function replay(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const viewTable = requireOutput(outputs, 'ViewTableName');
  const streamArn = requireOutput(outputs, 'OrdersStreamArn');
  const functionName = requireOutput(outputs, 'ViewUpdaterFunctionName');
  const customerId = customer(context, 'replay');
  await putOrder(context, ordersTable, customerId, 'a', 2500);
  const before = await waitForTotals(context, customerId, { orderCount: 1, totalCents: 2500 });

  const { Items = [] } = await dynamoOf(context).send(
    new QueryCommand({
      TableName: viewTable,
      KeyConditionExpression: 'customerId = :c AND begins_with(entry, :applied)',
      ExpressionAttributeValues: { ':c': { S: customerId }, ':applied': { S: 'APPLIED#' } },
    }),
  );
  check(Items.length === 1, `expected one applied-record marker for ${customerId}, found ${Items.length}`);
  const sequenceNumber = Items[0].sequenceNumber?.S ?? '';
  const record = await (await context.use(streamsClient)).recordAt(streamArn, sequenceNumber);
  check(record !== undefined, `the stream no longer has record ${sequenceNumber}`);
  log(`read back the INSERT record the function applied (eventID ${record.eventID}, sequence ${sequenceNumber})`);

  for (const attempt of [1, 2]) {
    const response = await lambdaOf(context).send(
      new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify({ Records: [record] })) }),
    );
    const payload = JSON.parse(Buffer.from(response.Payload ?? []).toString() || '{}') as { batchItemFailures?: unknown[] };
    check(!response.FunctionError, `replay ${attempt}: the function failed: ${JSON.stringify(payload)}`);
    check(payload.batchItemFailures?.length === 0, `replay ${attempt}: the function reported ${JSON.stringify(payload)}`);
    log(`replay ${attempt}: invoked the function with the same record; it answered ${JSON.stringify(payload)}`);
  }
  const after = await totalsOf(context, viewTable, customerId);
  log(`view after two replays: ${JSON.stringify(after)}`);
  check(JSON.stringify(after) === JSON.stringify(before), `the replays changed the view from ${JSON.stringify(before)} to ${JSON.stringify(after)}`);
  log(`nothing counted twice: the marker APPLIED#${record.eventID} made the transaction's condition fail, and with it the increment`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'view', title: 'orders become per-customer totals through the stream', run: materializedView },
  { id: 'change-cancel', title: 'MODIFY adds the difference, a delete by a caller cancels', run: changeAndCancel },
  { id: 'ttl', title: 'TTL: expired items stay readable until deleted; a TTL delete is not a cancellation', run: timeToLive },
  { id: 'poison', title: 'a poison record is isolated by bisect and described in the on-failure queue', run: poisonRecord },
  { id: 'replay', title: 'replaying a stream record to the function changes nothing', run: replay },
];
