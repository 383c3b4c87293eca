import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { defineFixture, ExerciseContext, requireOutput } from '../../support/exercise';
import { itemSizeBytes } from '../capacity';

/** The run's DynamoDB clients: the low-level one (Describe* calls) and the document client built on it (items as plain objects). */
export const dynamoOf = (context: ExerciseContext): DynamoDBClient => context.client(DynamoDBClient, 'DYNAMODB');
export const documentClient = defineFixture('DynamoDB document client', (context) => DynamoDBDocumentClient.from(dynamoOf(context)));

const STATUSES = ['PENDING', 'SHIPPED', 'DELIVERED'] as const;
/** Padding so that items weigh about 700 bytes and capacity numbers mean something. */
const NOTE = 'gift wrap, leave at the door. '.repeat(20);

/** The run's customers: their ids start with the run's id, so leftovers of earlier runs never confuse a check. */
export const customersOf = (runId: string): string[] => ['ada', 'bob', 'cy'].map((name) => `${runId}-${name}`);

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
export function seedOrders(customers: readonly string[]): Order[] {
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

/** Sends BatchWriteItem requests of up to 25 items; BatchWriteItem may leave some unprocessed (throttling): sends those again. */
async function batchWrite(docs: DynamoDBDocumentClient, table: string, requests: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending: Record<string, Record<string, unknown>[]> | undefined = { [table]: requests.slice(i, i + 25) };
    while (pending && Object.keys(pending).length > 0) {
      const { UnprocessedItems } = await docs.send(new BatchWriteCommand({ RequestItems: pending as never }));
      pending = UnprocessedItems as typeof pending;
    }
  }
}

/**
 * The run's orders in the Orders table (three customers × six orders), written once per run by the first step that
 * needs them (each step can run alone), and deleted when the run ends if the cleanup step did not already.
 */
export const seededOrders = defineFixture(
  'orders seeded',
  async (context): Promise<Order[]> => {
    const table = requireOutput(context.outputs, 'OrdersTableName');
    const customers = customersOf(context.runId);
    const orders = seedOrders(customers);
    await batchWrite(await context.use(documentClient), table, orders.map((Item) => ({ PutRequest: { Item } })));
    context.log(`seeded ${orders.length} orders (${customers.length} customers × 6, ~${itemSizeBytes(orders[0])} bytes each) with BatchWriteItem`);
    return orders;
  },
  async (_orders, context) => {
    const deleted = await deleteRunOrders(context);
    if (deleted > 0) context.log(`(end of run: deleted this run's ${deleted} orders)`);
  },
);

/** Deletes every order of the run's customers (a query per customer, then BatchWriteItem); returns how many. */
export async function deleteRunOrders(context: ExerciseContext): Promise<number> {
  const table = requireOutput(context.outputs, 'OrdersTableName');
  const docs = await context.use(documentClient);
  const keys: Record<string, unknown>[] = [];
  for (const customerId of customersOf(context.runId)) {
    const { Items = [] } = await docs.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'customerId = :c', ExpressionAttributeValues: { ':c': customerId }, ProjectionExpression: 'customerId, sk' }),
    );
    keys.push(...Items);
  }
  await batchWrite(docs, table, keys.map((Key) => ({ DeleteRequest: { Key } })));
  return keys.length;
}
