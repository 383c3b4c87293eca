import type { Context } from 'aws-lambda';
import { handler, OrderError, OrderEvent, placeOrder } from '../../lambda/api-orders';
import { loggedLines } from '../support/logged-lines';

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

// Lambda reports a thrown error as errorMessage and errorType (the error's name) to the integration.
test.each([
  [order({ item: 'unobtainium' }), 'OutOfStock', 'OutOfStock: unobtainium is sold out'],
  [order({ item: 'caviar' }), 'UnknownItem', 'UnknownItem: we do not sell caviar'],
  [order({ quantity: 0 }), 'BadRequest', 'BadRequest: item must be a string and quantity a whole number of at least 1'],
  [order({ quantity: 1.5 }), 'BadRequest', 'BadRequest: item must be a string and quantity a whole number of at least 1'],
  [{ quantity: 1 } as OrderEvent, 'BadRequest', 'BadRequest: item must be a string and quantity a whole number of at least 1'],
  [null as unknown as OrderEvent, 'BadRequest', 'BadRequest: item must be a string and quantity a whole number of at least 1'],
])('errors start with the word the selection patterns match: %j', async (event, name, message) => {
  await expect(handler(event, {} as Context)).rejects.toThrow(message);
  expect(() => placeOrder(event)).toThrow(OrderError);
  expect(() => placeOrder(event)).toThrow(expect.objectContaining({ name }));
});

test('logs each order placed with the request id API Gateway passed in', async () => {
  let placed: { orderId: string } | undefined;
  const { lines } = await loggedLines(async () => {
    const orders = await import('../../lambda/api-orders');
    placed = await orders.handler(order(), { functionName: 'orders', awsRequestId: 'lambda-req' } as Context);
    // A refused order logs nothing: its error goes back to API Gateway.
    await expect(orders.handler(order({ item: 'unobtainium' }), {} as Context)).rejects.toThrow('OutOfStock: unobtainium is sold out');
  });
  expect(lines).toEqual([
    expect.objectContaining({ message: 'order placed', service: 'api-orders', function_request_id: 'lambda-req', orderId: placed?.orderId, item: 'tea', quantity: 3, requestId: 'req-1' }),
  ]);
});
