import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

const logger = new Logger({ serviceName: 'sqs-consumer' });

/** The message body this consumer understands; `poison: true` makes it fail on every receive, for the lab. */
export interface OrderMessage {
  orderId: string;
  quantity: number;
  poison?: boolean;
}

export class PoisonMessageError extends Error {
  constructor(messageId: string, reason: string) {
    super(`message ${messageId} cannot be processed: ${reason}`);
    this.name = 'PoisonMessageError';
  }
}

export function parseOrder(record: SQSRecord): OrderMessage {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new PoisonMessageError(record.messageId, 'body is not JSON');
  }
  const order = body as Partial<OrderMessage>;
  if (typeof order?.orderId !== 'string' || typeof order.quantity !== 'number') {
    throw new PoisonMessageError(record.messageId, 'body needs a string orderId and a numeric quantity');
  }
  if (order.poison === true) throw new PoisonMessageError(record.messageId, 'marked poison');
  return order as OrderMessage;
}

async function processRecord(record: SQSRecord): Promise<void> {
  const order = parseOrder(record);
  logger.info('order processed', {
    orderId: order.orderId,
    quantity: order.quantity,
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
  });
}

const standardProcessor = new BatchProcessor(EventType.SQS);
// FIFO: stop at the first failure so later messages of the group are not processed out of order.
const fifoProcessor = new SqsFifoPartialProcessorAsync();

/**
 * Reports only the failed records back to Lambda, which returns just those to the queue. A batch that fails
 * whole is reported the same way rather than thrown, so the function's Errors metric counts crashes only.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const fifo = event.Records[0]?.eventSourceARN.endsWith('.fifo') ?? false;
  return processPartialResponse(event, processRecord, fifo ? fifoProcessor : standardProcessor, {
    context,
    throwOnFullBatchFailure: false,
  });
}
