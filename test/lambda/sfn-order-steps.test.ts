import {
  chargePayment,
  InvalidOrderError,
  OutOfStockError,
  PaymentDeclinedError,
  PaymentGatewayError,
  reserveItem,
  validateOrder,
} from '../../lambda/sfn-order-steps';
import { loggedLines } from '../support/logged-lines';

const order = (extra: Record<string, unknown> = {}) => ({
  orderId: 'o-1',
  items: [
    { sku: 'A', quantity: 2, unitPrice: 1.1 },
    { sku: 'B', quantity: 1, unitPrice: 0.2 },
  ],
  ...extra,
});

describe('validateOrder', () => {
  test('computes the total to the cent and counts the items', async () => {
    await expect(validateOrder(order())).resolves.toEqual({ orderId: 'o-1', itemCount: 2, total: 2.4 });
  });

  test('a free item is valid', async () => {
    await expect(validateOrder(order({ items: [{ sku: 'GIFT', quantity: 1, unitPrice: 0 }] }))).resolves.toMatchObject({ total: 0 });
  });

  test('a FREE coupon makes the total 0', async () => {
    await expect(validateOrder(order({ coupon: 'FREE' }))).resolves.toMatchObject({ total: 0 });
  });

  test.each([
    ['not an object', 'hello', 'the order must be a JSON object'],
    ['null', null, 'the order must be a JSON object'],
    ['no orderId', { items: [] }, 'orderId must be 1-64 letters, digits or dashes'],
    ['an orderId with spaces', { orderId: 'a b', items: [] }, 'orderId must be 1-64 letters, digits or dashes'],
    ['no items', { orderId: 'o', items: [] }, 'items must be a non-empty array'],
    ['a zero quantity', { orderId: 'o', items: [{ sku: 'A', quantity: 0, unitPrice: 1 }] }, 'items[0].quantity must be a whole number of at least 1'],
    ['a negative price', { orderId: 'o', items: [{ sku: 'A', quantity: 1, unitPrice: -1 }] }, 'items[0].unitPrice must be a number of at least 0'],
    ['an item without sku', { orderId: 'o', items: [{ quantity: 1, unitPrice: 1 }] }, 'items[0].sku must be a non-empty string'],
    ['an empty sku', { orderId: 'o', items: [{ sku: '', quantity: 1, unitPrice: 1 }] }, 'items[0].sku must be a non-empty string'],
    ['an item that is not an object', { orderId: 'o', items: ['A'] }, 'items[0] must be an object'],
    ['a quantity in a string', { orderId: 'o', items: [{ sku: 'A', quantity: '2', unitPrice: 1 }] }, 'items[0].quantity must be a whole number of at least 1'],
    ['a fractional quantity', { orderId: 'o', items: [{ sku: 'A', quantity: 1.5, unitPrice: 1 }] }, 'items[0].quantity must be a whole number of at least 1'],
    ['a price in a string', { orderId: 'o', items: [{ sku: 'A', quantity: 1, unitPrice: '1' }] }, 'items[0].unitPrice must be a number of at least 0'],
    ['an infinite price', { orderId: 'o', items: [{ sku: 'A', quantity: 1, unitPrice: Infinity }] }, 'items[0].unitPrice must be a number of at least 0'],
    ['an unknown coupon', order({ coupon: 'HALF' }), 'unknown coupon "HALF"'],
    ['an unknown simulation', order({ simulate: { payment: 'explode' } }), 'simulate.payment must be one of fail-twice, fail-always, decline, slow'],
  ])('refuses %s with InvalidOrderError', async (_name, input, message) => {
    const error = await validateOrder(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOrderError);
    expect(error).toMatchObject({ name: 'InvalidOrderError', message });
  });
});

describe('reserveItem', () => {
  test('returns the line total', async () => {
    await expect(reserveItem({ sku: 'A', quantity: 3, unitPrice: 0.1 })).resolves.toEqual({ sku: 'A', quantity: 3, lineTotal: 0.3 });
  });

  test('an OOS- SKU is out of stock; a malformed item is invalid', async () => {
    await expect(reserveItem({ sku: 'OOS-1', quantity: 1, unitPrice: 1 })).rejects.toBeInstanceOf(OutOfStockError);
    await expect(reserveItem({ sku: 'OOS-1', quantity: 1, unitPrice: 1 })).rejects.toMatchObject({ name: 'OutOfStockError', message: 'OOS-1 is out of stock' });
    await expect(reserveItem({ sku: 'A' })).rejects.toMatchObject({ name: 'InvalidOrderError', message: 'item.quantity must be a whole number of at least 1' });
  });
});

describe('chargePayment', () => {
  const validated = (simulate?: string) => ({ ...order(simulate ? { simulate: { payment: simulate } } : {}), validation: { total: 2.4 } });

  test('charges the validated total and reports the attempt number', async () => {
    await expect(chargePayment({ order: validated(), attempt: 0 })).resolves.toEqual({ chargeId: 'ch-o-1-1', amount: 2.4, attempts: 1 });
  });

  test('fail-twice: a gateway error on attempts 0 and 1, success on attempt 2', async () => {
    await expect(chargePayment({ order: validated('fail-twice'), attempt: 0 })).rejects.toBeInstanceOf(PaymentGatewayError);
    await expect(chargePayment({ order: validated('fail-twice'), attempt: 1 })).rejects.toThrow('payment gateway unavailable (attempt 2)');
    await expect(chargePayment({ order: validated('fail-twice'), attempt: 2 })).resolves.toMatchObject({ attempts: 3 });
  });

  test('fail-always and decline fail on every attempt, with different error names', async () => {
    await expect(chargePayment({ order: validated('fail-always'), attempt: 7 })).rejects.toMatchObject({
      name: 'PaymentGatewayError',
      message: 'payment gateway unavailable (attempt 8)',
    });
    await expect(chargePayment({ order: validated('decline'), attempt: 0 })).rejects.toBeInstanceOf(PaymentDeclinedError);
    await expect(chargePayment({ order: validated('decline'), attempt: 0 })).rejects.toMatchObject({ name: 'PaymentDeclinedError', message: 'card declined for order o-1' });
  });

  test('slow answers after SLOW_PAYMENT_SECONDS', async () => {
    process.env.SLOW_PAYMENT_SECONDS = '0.2';
    try {
      const started = Date.now();
      await chargePayment({ order: validated('slow'), attempt: 0 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      delete process.env.SLOW_PAYMENT_SECONDS;
    }
  });

  test('refuses an order that was not validated, or no order at all', async () => {
    await expect(chargePayment({ order: order() as never, attempt: 0 })).rejects.toThrow('order.validation.total is missing: validate the order first');
    await expect(chargePayment(undefined as never)).rejects.toThrow('order.orderId is missing');
    await expect(chargePayment({ order: { validation: { total: 1 } } as never, attempt: 0 })).rejects.toThrow('order.orderId is missing');
  });
});

test('logs each valid order with its total, and each charge with its attempt and simulation; slow takes its time', async () => {
  let lines: Record<string, unknown>[];
  try {
    ({ lines } = await loggedLines(async () => {
      const steps = await import('../../lambda/sfn-order-steps');
      await steps.validateOrder(order());
      await steps.chargePayment({ order: { ...order({ simulate: { payment: 'fail-twice' } }), validation: { total: 2.4 } } as never, attempt: 2 });
      for (const payment of ['fail-twice', 'fail-always', 'decline', 'slow']) await steps.validateOrder(order({ simulate: { payment } }));
      jest.useFakeTimers();
      const slow = steps.chargePayment({ order: { ...order({ simulate: { payment: 'slow' } }), validation: { total: 2.4 } } as never, attempt: 0 });
      let answered = false;
      void slow.then(() => (answered = true));
      await jest.advanceTimersByTimeAsync(steps.SLOW_PAYMENT_SECONDS * 1000 - 1);
      expect(answered).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(answered).toBe(true);
    }));
  } finally {
    jest.useRealTimers();
  }
  expect(lines.slice(0, 2)).toEqual([
    expect.objectContaining({ message: 'order valid', service: 'sfn-order-steps', orderId: 'o-1', total: 2.4 }),
    expect.objectContaining({ message: 'charging', service: 'sfn-order-steps', orderId: 'o-1', amount: 2.4, attempt: 2, simulation: 'fail-twice' }),
  ]);
  // Every simulation the workflow offers is one the module, as loaded, accepts.
  expect(lines.slice(2, 6).map((line) => line.message)).toEqual(['order valid', 'order valid', 'order valid', 'order valid']);
});
