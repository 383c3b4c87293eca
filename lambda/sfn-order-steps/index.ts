import { Logger } from '@aws-lambda-powertools/logger';

const logger = new Logger({ serviceName: 'sfn-order-steps' });

/** What the lab's order workflows take as input. */
export interface OrderInput {
  orderId: string;
  items: OrderItem[];
  /** `FREE` makes the order total 0, which the workflow's Choice state sends past the payment. */
  coupon?: string;
  /** Makes the payment step misbehave on demand, to watch the retry and catch policy at work. */
  simulate?: { payment?: PaymentSimulation };
}

export interface OrderItem {
  sku: string;
  quantity: number;
  unitPrice: number;
}

/**
 * - `fail-twice`: a gateway error on the first two attempts, then success (the retrier's job);
 * - `fail-always`: a gateway error on every attempt (retries exhausted, then the catcher's job);
 * - `decline`: a declined card, a business error that is never retried;
 * - `slow`: answers after the task's timeout (States.Timeout).
 */
export type PaymentSimulation = 'fail-twice' | 'fail-always' | 'decline' | 'slow';
const SIMULATIONS: readonly PaymentSimulation[] = ['fail-twice', 'fail-always', 'decline', 'slow'];

/** Input that can never succeed: the workflow does not retry it. */
export class InvalidOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOrderError';
  }
}

/** A transient failure of the payment provider: worth retrying with backoff. */
export class PaymentGatewayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentGatewayError';
  }
}

/** The card was declined: retrying changes nothing. */
export class PaymentDeclinedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}

/** An item is not in stock. */
export class OutOfStockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfStockError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkItem(item: unknown, where: string): OrderItem {
  if (!isObject(item)) throw new InvalidOrderError(`${where} must be an object`);
  const { sku, quantity, unitPrice } = item;
  if (typeof sku !== 'string' || sku.length === 0) throw new InvalidOrderError(`${where}.sku must be a non-empty string`);
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
    throw new InvalidOrderError(`${where}.quantity must be a whole number of at least 1`);
  }
  if (typeof unitPrice !== 'number' || !Number.isFinite(unitPrice) || unitPrice < 0) {
    throw new InvalidOrderError(`${where}.unitPrice must be a number of at least 0`);
  }
  return { sku, quantity, unitPrice };
}

const cents = (amount: number) => Math.round(amount * 100) / 100;

/** Checks the order and computes its total; throws InvalidOrderError for input that can never succeed. */
export async function validateOrder(event: unknown): Promise<{ orderId: string; itemCount: number; total: number }> {
  if (!isObject(event)) throw new InvalidOrderError('the order must be a JSON object');
  const { orderId, items, coupon, simulate } = event;
  if (typeof orderId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(orderId)) {
    throw new InvalidOrderError('orderId must be 1-64 letters, digits or dashes');
  }
  if (!Array.isArray(items) || items.length === 0) throw new InvalidOrderError('items must be a non-empty array');
  const checked = items.map((item, index) => checkItem(item, `items[${index}]`));
  if (coupon !== undefined && coupon !== 'FREE') throw new InvalidOrderError(`unknown coupon ${JSON.stringify(coupon)}`);
  const payment = isObject(simulate) ? simulate.payment : undefined;
  if (payment !== undefined && !SIMULATIONS.includes(payment as PaymentSimulation)) {
    throw new InvalidOrderError(`simulate.payment must be one of ${SIMULATIONS.join(', ')}`);
  }
  const total = coupon === 'FREE' ? 0 : cents(checked.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0));
  logger.info('order valid', { orderId, total });
  return { orderId, itemCount: checked.length, total };
}

/** Reserves one item (a Map iteration); SKUs starting with OOS- are out of stock. */
export async function reserveItem(event: unknown): Promise<{ sku: string; quantity: number; lineTotal: number }> {
  const item = checkItem(event, 'item');
  if (item.sku.startsWith('OOS-')) throw new OutOfStockError(`${item.sku} is out of stock`);
  return { sku: item.sku, quantity: item.quantity, lineTotal: cents(item.quantity * item.unitPrice) };
}

export interface ChargeEvent {
  order: OrderInput & { validation?: { total?: number } };
  /** `$$.State.RetryCount`: 0 on the first attempt, n on the n-th retry. */
  attempt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the `slow` simulation takes, in seconds: longer than the workflow's 3-second task timeout. */
export const SLOW_PAYMENT_SECONDS = 5;

/** Charges the order total, misbehaving as `order.simulate.payment` asks. */
export async function chargePayment(event: ChargeEvent): Promise<{ chargeId: string; amount: number; attempts: number }> {
  const { order, attempt } = event ?? ({} as ChargeEvent);
  if (!isObject(order) || typeof order.orderId !== 'string') throw new InvalidOrderError('order.orderId is missing');
  const amount = order.validation?.total;
  if (typeof amount !== 'number') throw new InvalidOrderError('order.validation.total is missing: validate the order first');
  const attemptNumber = Number.isInteger(attempt) ? attempt : 0;
  const simulation = order.simulate?.payment;
  logger.info('charging', { orderId: order.orderId, amount, attempt: attemptNumber, simulation });
  switch (simulation) {
    case 'fail-twice':
      if (attemptNumber < 2) throw new PaymentGatewayError(`payment gateway unavailable (attempt ${attemptNumber + 1})`);
      break;
    case 'fail-always':
      throw new PaymentGatewayError(`payment gateway unavailable (attempt ${attemptNumber + 1})`);
    case 'decline':
      throw new PaymentDeclinedError(`card declined for order ${order.orderId}`);
    case 'slow':
      await sleep(Number(process.env.SLOW_PAYMENT_SECONDS ?? SLOW_PAYMENT_SECONDS) * 1000);
      break;
    default:
      break;
  }
  return { chargeId: `ch-${order.orderId}-${attemptNumber + 1}`, amount, attempts: attemptNumber + 1 };
}
