import type { Context } from 'aws-lambda';
import { handler, OrderError, OrderEvent, placeOrder } from '../../lambda/api-orders';

const order = (extra: Partial<OrderEvent> = {}): OrderEvent => ({
  item: 'tea',
  quantity: 3,
  customer: 'ada@example.com',
  requestId: 'req-1',
  stage: 'dev',
  sourceIp: '203.0.113.7',
  ...extra,
});

test('prices an order and returns every field the response template may pick from', () => {
  expect(placeOrder(order(), new Date(0), () => 'id-1')).toEqual({
    orderId: 'id-1',
    item: 'tea',
    quantity: 3,
    unitPriceCents: 300,
    totalCents: 900,
    customer: 'ada@example.com',
    stage: 'dev',
    receivedAt: '1970-01-01T00:00:00.000Z',
  });
});

test('the handler returns the order (a non-proxy backend returns data, not an HTTP response)', async () => {
  const result = await handler(order({ item: 'cake', quantity: 1 }), {} as Context);
  expect(result).toMatchObject({ item: 'cake', totalCents: 450 });
  expect(result.orderId).toMatch(/^[0-9a-f-]{36}$/);
});

test.each([
  [order({ item: 'unobtainium' }), 'OutOfStock: unobtainium is sold out'],
  [order({ item: 'caviar' }), 'UnknownItem: we do not sell caviar'],
  [order({ quantity: 0 }), 'BadRequest: item must be a string and quantity a whole number of at least 1'],
  [order({ quantity: 1.5 }), 'BadRequest: item must be a string and quantity a whole number of at least 1'],
  [{ quantity: 1 } as OrderEvent, 'BadRequest: item must be a string and quantity a whole number of at least 1'],
])('errors start with the word the selection patterns match: %j', async (event, message) => {
  await expect(handler(event, {} as Context)).rejects.toThrow(message);
  expect(() => placeOrder(event)).toThrow(OrderError);
});
