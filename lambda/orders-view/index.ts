import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

const logger = new Logger({ serviceName: 'orders-view' });

/** Sort key prefix of order items in the orders table; other items (profiles) are not orders. */
export const ORDER_PREFIX = 'ORDER#';
/** Sort key of the per-customer totals item in the view table. */
export const TOTALS_ENTRY = 'TOTALS';
/** Sort key prefix of the "stream event applied" markers that make replays harmless. */
export const APPLIED_PREFIX = 'APPLIED#';
/**
 * How long a marker is kept. A stream record lives 24 hours, so Lambda cannot redeliver it later than that;
 * 48 hours leaves room for TTL's lazy deletion never to matter.
 */
export const MARKER_LIFETIME_SECONDS = 48 * 3600;

/** What a stream record means for the customer's totals. */
export type OrderChangeKind = 'created' | 'changed' | 'cancelled' | 'expired';

export interface OrderChange {
  readonly kind: OrderChangeKind;
  readonly customerId: string;
  readonly orderId: string;
  /** Added to the customer's orderCount. */
  readonly orderCount: number;
  /** Added to the customer's totalCents. */
  readonly totalCents: number;
}

/** A record that can never succeed (bad data): retrying will not help; Lambda's bisect isolates it. */
export class PoisonRecordError extends Error {
  constructor(record: DynamoDBRecord, reason: string) {
    super(`stream record ${record.eventID} (sequence ${record.dynamodb?.SequenceNumber}) cannot be applied: ${reason}`);
    this.name = 'PoisonRecordError';
  }
}

/** TTL deletions are REMOVE records made by the DynamoDB service itself, not by a caller. */
export function isTtlDelete(record: DynamoDBRecord): boolean {
  const identity = record.userIdentity as { type?: string; principalId?: string } | undefined;
  return record.eventName === 'REMOVE' && identity?.type === 'Service' && identity.principalId === 'dynamodb.amazonaws.com';
}

type Image = Record<string, AttributeValue> | undefined;

function amountOf(record: DynamoDBRecord, image: Image, which: string): number {
  const amount = image?.amountCents?.N;
  if (amount === undefined || !/^-?\d+$/.test(amount)) {
    throw new PoisonRecordError(record, `${which} image has no whole-number amountCents (${JSON.stringify(image?.amountCents)})`);
  }
  return Number(amount);
}

/**
 * What a stream record of the orders table does to the view, or undefined for items that are not orders.
 * - INSERT: one more order, its amount added.
 * - MODIFY: the difference between the new and the old amount.
 * - REMOVE by a caller (a cancellation): one order fewer, its amount subtracted.
 * - REMOVE by TTL (an old order archived): totals unchanged; only `expiredCount` grows.
 */
export function toChange(record: DynamoDBRecord): OrderChange | undefined {
  const keys = record.dynamodb?.Keys;
  const customerId = keys?.customerId?.S;
  const sortKey = keys?.sk?.S;
  if (!customerId || !sortKey?.startsWith(ORDER_PREFIX)) return undefined;
  const orderId = sortKey.slice(ORDER_PREFIX.length);
  const { NewImage, OldImage } = record.dynamodb ?? {};
  switch (record.eventName) {
    case 'INSERT':
      return { kind: 'created', customerId, orderId, orderCount: 1, totalCents: amountOf(record, NewImage, 'new') };
    case 'MODIFY': {
      const delta = amountOf(record, NewImage, 'new') - amountOf(record, OldImage, 'old');
      return { kind: 'changed', customerId, orderId, orderCount: 0, totalCents: delta };
    }
    case 'REMOVE':
      if (isTtlDelete(record)) return { kind: 'expired', customerId, orderId, orderCount: 0, totalCents: 0 };
      return { kind: 'cancelled', customerId, orderId, orderCount: -1, totalCents: -amountOf(record, OldImage, 'old') };
    default:
      throw new PoisonRecordError(record, `unknown eventName ${record.eventName}`);
  }
}

let client: DynamoDBDocumentClient | undefined;
/** Created on first use, so the endpoint and credentials of the environment at that time are used. */
function documentClient(): DynamoDBDocumentClient {
  return (client ??= DynamoDBDocumentClient.from(new DynamoDBClient({})));
}

function viewTableName(): string {
  const name = process.env.VIEW_TABLE_NAME;
  if (!name) throw new Error('VIEW_TABLE_NAME is not set');
  return name;
}

/**
 * Applies one record exactly once: a marker item keyed by the record's eventID and the increment of the totals
 * commit in one transaction, and the marker's condition (attribute_not_exists) fails the whole transaction when the
 * record was applied before. Returns false for such a replay.
 */
export async function applyRecord(record: DynamoDBRecord, now = new Date()): Promise<boolean> {
  const change = toChange(record);
  if (!change) return false;
  if (!record.eventID) throw new PoisonRecordError(record, 'no eventID');
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const table = viewTableName();
  try {
    await documentClient().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: {
                customerId: change.customerId,
                entry: `${APPLIED_PREFIX}${record.eventID}`,
                orderId: change.orderId,
                kind: change.kind,
                sequenceNumber: record.dynamodb?.SequenceNumber,
                expiresAt: nowSeconds + MARKER_LIFETIME_SECONDS,
              },
              ConditionExpression: 'attribute_not_exists(entry)',
            },
          },
          {
            Update: {
              TableName: table,
              Key: { customerId: change.customerId, entry: TOTALS_ENTRY },
              UpdateExpression:
                'ADD orderCount :count, totalCents :cents, cancelledCount :cancelled, expiredCount :expired ' +
                'SET updatedAt = :now',
              ExpressionAttributeValues: {
                ':count': change.orderCount,
                ':cents': change.totalCents,
                ':cancelled': change.kind === 'cancelled' ? 1 : 0,
                ':expired': change.kind === 'expired' ? 1 : 0,
                ':now': now.toISOString(),
              },
            },
          },
        ],
      }),
    );
  } catch (error) {
    const replay =
      error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
    if (!replay) throw error;
    logger.info('replayed record ignored', { eventID: record.eventID, orderId: change.orderId, kind: change.kind });
    return false;
  }
  logger.info('record applied', { eventID: record.eventID, ...change });
  return true;
}

/**
 * Applies the batch's records in stream order and stops at the first failure:
 * - a later record fails: its sequence number is reported (`batchItemFailures`); Lambda keeps the records before
 *   it and retries from it;
 * - the first record fails: nothing of the batch succeeded, so the function throws, and Lambda's bisect-on-error
 *   splits the batch in two until the bad record is alone, retries it, then sends its description to the
 *   on-failure queue.
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  for (const [index, record] of event.Records.entries()) {
    try {
      await applyRecord(record);
    } catch (error) {
      const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
      logger.error('record failed', { sequenceNumber, index, batchSize: event.Records.length, error: error as Error });
      if (index === 0) throw error;
      return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
    }
  }
  return { batchItemFailures: [] };
}
