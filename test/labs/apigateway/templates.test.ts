import { OrderError, OrderEvent, placeOrder } from '../../../lambda/api-orders';
import {
  BAD_REQUEST_BODY_TEMPLATE,
  HEALTH_REQUEST_TEMPLATE,
  HEALTH_RESPONSE_TEMPLATE,
  ORDER_ERROR_PATTERNS,
  ORDER_ERROR_TEMPLATE,
  ORDER_REQUEST_TEMPLATE,
  ORDER_RESPONSE_TEMPLATE,
} from '../../../labs/apigateway/templates';
import { renderJson } from '../../support/vtl';

const context = {
  requestId: 'req-123',
  stage: 'prod',
  requestTime: '22/Nov/2026:06:00:00 +0000',
  identity: { sourceIp: '203.0.113.7' },
  authorizer: { claims: { email: 'ada@example.com', sub: 'sub-1' } },
};

/** What API Gateway does with a Lambda error: the integration response whose selection pattern matches errorMessage. */
function statusFor(errorMessage: string | undefined): string {
  if (errorMessage === undefined) return '200';
  const patterns: [string, string][] = [
    ['400', ORDER_ERROR_PATTERNS.badRequest],
    ['409', ORDER_ERROR_PATTERNS.conflict],
    ['500', ORDER_ERROR_PATTERNS.other],
  ];
  // API Gateway matches the whole errorMessage (Java's String.matches), hence the anchors.
  const matching = patterns.filter(([, pattern]) => new RegExp(`^(?:${pattern})$`).test(errorMessage));
  expect(matching).toHaveLength(1);
  return matching[0][0];
}

describe('POST /orders request template (method request → integration request)', () => {
  test('passes item and quantity with their JSON types and adds the caller and request context', () => {
    const event = renderJson(ORDER_REQUEST_TEMPLATE, { body: JSON.stringify({ item: 'coffee', quantity: 2 }), context });
    expect(event).toEqual({
      item: 'coffee',
      quantity: 2,
      customer: 'ada@example.com',
      requestId: 'req-123',
      stage: 'prod',
      sourceIp: '203.0.113.7',
    });
  });

  test('keeps the JSON valid whatever the body and claims contain', () => {
    const event = renderJson(ORDER_REQUEST_TEMPLATE, {
      body: JSON.stringify({ item: 'tea "earl grey"\n', quantity: 1 }),
      context: { ...context, authorizer: { claims: { email: `o'brien"x@example.com` } } },
    });
    expect(event.item).toBe('tea "earl grey"\n');
    expect(event.customer).toBe(`o'brien"x@example.com`);
  });
});

describe('backend → integration response → method response', () => {
  const backend = (body: object) =>
    placeOrder(renderJson(ORDER_REQUEST_TEMPLATE, { body: JSON.stringify(body), context }) as unknown as OrderEvent, new Date(0), () => 'order-1');

  test('a placed order is reshaped for the client: a link added, internal fields dropped', () => {
    const order = backend({ item: 'coffee', quantity: 2 });
    expect(order).toMatchObject({ unitPriceCents: 350, stage: 'prod', receivedAt: '1970-01-01T00:00:00.000Z' });
    expect(statusFor(undefined)).toBe('200');
    expect(renderJson(ORDER_RESPONSE_TEMPLATE, { body: JSON.stringify(order) })).toEqual({
      orderId: 'order-1',
      item: 'coffee',
      quantity: 2,
      totalCents: 700,
      customer: 'ada@example.com',
      links: { self: '/orders/order-1' },
    });
  });

  test.each([
    [{ item: 'unobtainium', quantity: 1 }, '409', 'OutOfStock: unobtainium is sold out'],
    [{ item: 'caviar', quantity: 1 }, '400', 'UnknownItem: we do not sell caviar'],
  ])('a backend error %j becomes %s with its message', (body, status, message) => {
    let error: OrderError | undefined;
    try {
      backend(body);
    } catch (e) {
      error = e as OrderError;
    }
    expect(error?.message).toBe(message);
    expect(statusFor(error?.message)).toBe(status);
    // Lambda's error payload, as API Gateway hands it to the response template.
    const payload = JSON.stringify({ errorType: error?.name, errorMessage: error?.message });
    expect(renderJson(ORDER_ERROR_TEMPLATE, { body: payload })).toEqual({ message });
  });

  test('an unexpected error is a 500, not a 200 carrying the error JSON', () => {
    expect(statusFor('Cannot read properties of undefined')).toBe('500');
    expect(statusFor('Task timed out after 10.00 seconds')).toBe('500');
    expect(statusFor('multi\nline')).toBe('500');
  });
});

test('the shim escapes like API Gateway: escapeJavaScript alone would break JSON on an apostrophe', () => {
  expect(() => renderJson('{ "raw": "$util.escapeJavaScript($context.name)" }', { context: { name: "o'brien" } })).toThrow(
    'the template rendered invalid JSON',
  );
});

test('the mock integration selects 200 and answers from the request context', () => {
  expect(renderJson(HEALTH_REQUEST_TEMPLATE)).toEqual({ statusCode: 200 });
  expect(renderJson(HEALTH_RESPONSE_TEMPLATE, { context })).toEqual({
    status: 'ok',
    stage: 'prod',
    requestId: 'req-123',
    requestTime: '22/Nov/2026:06:00:00 +0000',
  });
});

test('the BAD_REQUEST_BODY gateway response says what the model refused, as valid JSON even with quotes', () => {
  const validationErrorString = `[object has missing required properties (["quantity"]), instance's type isn't allowed]`;
  expect(renderJson(BAD_REQUEST_BODY_TEMPLATE, { context: { error: { validationErrorString } } })).toEqual({ message: validationErrorString });
});
