import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';

const logger = new Logger({ serviceName: 'sns-subscriber' });

/** The order event this subscriber understands; `fail: true` makes it throw, for the lab. */
export interface OrderEvent {
  orderId: string;
  total: number;
  fail?: boolean;
}

/** What the function returns: Lambda's on-success destination receives it as `responsePayload`. */
export interface SubscriberResult {
  processed: string[];
}

/** The function failed on purpose or on bad input; Lambda's async retries and on-failure destination take over. */
export class OrderRejected extends Error {
  constructor(messageId: string, reason: string) {
    super(`SNS message ${messageId} rejected: ${reason}`);
    this.name = 'OrderRejected';
  }
}

export function parseOrder(record: SNSEventRecord): OrderEvent {
  const { MessageId, Message } = record.Sns;
  let body: unknown;
  try {
    body = JSON.parse(Message);
  } catch {
    throw new OrderRejected(MessageId, 'the message is not JSON');
  }
  const order = body as Partial<OrderEvent>;
  if (typeof order?.orderId !== 'string' || typeof order.total !== 'number') {
    throw new OrderRejected(MessageId, 'the message needs a string orderId and a numeric total');
  }
  if (order.fail === true) throw new OrderRejected(MessageId, `order ${order.orderId} asked to fail ("fail": true)`);
  return order as OrderEvent;
}

/**
 * SNS invokes this function asynchronously, one message per invocation. A thrown error does not reach SNS (its
 * delivery already succeeded): Lambda retries the event, then sends it to the function's on-failure destination.
 */
export async function handler(event: SNSEvent, context: Context): Promise<SubscriberResult> {
  logger.addContext(context);
  const orders = event.Records.map(parseOrder);
  for (const [index, order] of orders.entries()) {
    const attributes = event.Records[index].Sns.MessageAttributes ?? {};
    logger.info('order received from SNS', {
      orderId: order.orderId,
      total: order.total,
      eventType: attributes.eventType?.Value,
      topicArn: event.Records[index].Sns.TopicArn,
    });
  }
  return { processed: orders.map((o) => o.orderId) };
}
