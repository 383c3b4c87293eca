import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { check, ExerciseContext, ExerciseStep, requireOutput } from '../../support/exercise';
import { customersOf, documentClient, Order, seededOrders } from './orders';
import { units } from './report';

async function transaction(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const docs = await context.use(documentClient);
  const customers = customersOf(context.runId);
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const productsTable = requireOutput(outputs, 'ProductsTableName');
  const productId = `${context.runId}-widget`;
  const customerId = customers[0];
  await docs.send(new PutCommand({ TableName: productsTable, Item: { productId, stock: 5, priceCents: 1999 } }));
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
    Number((await docs.send(new GetCommand({ TableName: productsTable, Key: { productId }, ConsistentRead: true }))).Item?.stock);
  const orderExists = async (orderId: string) =>
    (await docs.send(new GetCommand({ TableName: ordersTable, Key: { customerId, sk: `ORDER#2025-07-01#${orderId}` }, ConsistentRead: true })))
      .Item !== undefined;

  const token = `${context.runId}-order-t1`;
  const placed = await docs.send(placeOrder('t1', 2, token));
  log(`TransactWriteItems: put order t1 (2 widgets) + decrement stock if stock >= 2 → committed, ${units(placed.ConsumedCapacity)} WCU for 2 small items (twice a plain write)`);
  check((await stock()) === 3 && (await orderExists('t1')), 'the first transaction did not both write the order and decrement the stock');
  await docs.send(placeOrder('t1', 2, token));
  log('the same transaction again with the same ClientRequestToken (within 10 minutes): accepted, applied once');
  check((await stock()) === 3, 'retrying with the same ClientRequestToken decremented the stock twice');

  const refused = await docs.send(placeOrder('t2', 10)).then(() => undefined, (error: unknown) => error);
  check(refused instanceof TransactionCanceledException, `ordering 10 of 3 was not cancelled: ${String(refused)}`);
  const reasons = (refused.CancellationReasons ?? []).map((r) => r.Code);
  log(`put order t2 (10 widgets) + decrement if stock >= 10 → TransactionCanceledException, reasons per item: ${JSON.stringify(reasons)}`);
  check(JSON.stringify(reasons) === '["None","ConditionalCheckFailed"]', `unexpected cancellation reasons ${JSON.stringify(reasons)}`);
  check(!(await orderExists('t2')) && (await stock()) === 3, 'a cancelled transaction left a change behind');
  log('all or nothing: the order put, which had nothing wrong with it, was not written either');
}

async function optimisticLocking(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const docs = await context.use(documentClient);
  const table = requireOutput(outputs, 'OrdersTableName');
  const orders = await context.use(seededOrders);
  const key = { customerId: orders[3].customerId, sk: orders[3].sk };
  const read = async () => (await docs.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item as Order;
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
  await docs.send(save(alice.amountCents + 500, alice.version));
  log(`writer A saves amount +500 with "version = ${alice.version}": accepted, version is now ${alice.version + 1}`);
  const conflict = await docs.send(save(bob.amountCents - 200, bob.version)).then(() => undefined, (error: unknown) => error);
  check(conflict instanceof ConditionalCheckFailedException, `writer B's stale update was not refused: ${String(conflict)}`);
  log(`writer B saves with the version it read (${bob.version}): ConditionalCheckFailedException; the error carries the current item (version ${conflict.Item?.version?.N})`);
  const fresh = await read();
  await docs.send(save(fresh.amountCents - 200, fresh.version));
  const final = await read();
  log(`writer B re-reads (version ${fresh.version}), reapplies -200 and saves: version ${final.version}, amount ${final.amountCents}`);
  check(final.version === alice.version + 2 && final.amountCents === alice.amountCents + 300, 'the two updates did not both apply, in turn');
  log('no lock is held: a conditional write detects the conflict, and the loser retries on fresh data');
}

export const transactionStep: ExerciseStep = { id: 'transaction', title: 'TransactWriteItems: all or nothing, idempotent with a ClientRequestToken', run: transaction };
export const optimisticLockingStep: ExerciseStep = { id: 'optimistic-locking', title: 'optimistic locking with a version attribute', run: optimisticLocking };
