import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

const logger = new Logger({ serviceName: 'api-orders' });

/**
 * The backend of a non-proxy (AWS) integration: it never sees the HTTP request. API Gateway's request mapping
 * template builds this event from the validated body and the request context, and its response mapping templates
 * shape what the client gets, choosing the status code by matching `errorMessage` against selection patterns.
 * That is why each error message starts with a fixed word (`BadRequest:`, `UnknownItem:`, `OutOfStock:`).
 */
export interface OrderEvent {
  item: string;
  quantity: number;
  customer: string;
  requestId: string;
  stage: string;
  sourceIp: string;
}

export interface Order {
  orderId: string;
  item: string;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  customer: string;
  stage: string;
  receivedAt: string;
}

/** Prices in cents; `unobtainium` is listed but never in stock, to show an error mapped to 409. */
export const PRICES_CENTS: Record<string, number> = { coffee: 350, tea: 300, cake: 450, unobtainium: 99_900 };
const OUT_OF_STOCK = new Set(['unobtainium']);

export class OrderError extends Error {
  constructor(kind: 'BadRequest' | 'UnknownItem' | 'OutOfStock', detail: string) {
    super(`${kind}: ${detail}`);
    this.name = kind;
  }
}

export function placeOrder(event: OrderEvent, now = new Date(), newId: () => string = randomUUID): Order {
  // The API's model already validated the body; this guards against other callers of the function.
  if (typeof event?.item !== 'string' || !Number.isInteger(event.quantity) || event.quantity < 1) {
    throw new OrderError('BadRequest', 'item must be a string and quantity a whole number of at least 1');
  }
  const unitPriceCents = PRICES_CENTS[event.item];
  if (unitPriceCents === undefined) throw new OrderError('UnknownItem', `we do not sell ${event.item}`);
  if (OUT_OF_STOCK.has(event.item)) throw new OrderError('OutOfStock', `${event.item} is sold out`);
  return {
    orderId: newId(),
    item: event.item,
    quantity: event.quantity,
    unitPriceCents,
    totalCents: unitPriceCents * event.quantity,
    customer: event.customer,
    stage: event.stage,
    receivedAt: now.toISOString(),
  };
}

export async function handler(event: OrderEvent, context: Context): Promise<Order> {
  logger.addContext(context);
  const order = placeOrder(event);
  logger.info('order placed', { orderId: order.orderId, item: order.item, quantity: order.quantity, requestId: event.requestId });
  return order;
}
