import { chargePayment, reserveItem, validateOrder } from '../../../lambda/sfn-order-steps';
import { stepfunctionsErrorsLab } from '../../../labs/stepfunctions-errors/lab';
import { ERRORS_LAB } from '../../../labs/stepfunctions-errors/constants';
import { withCdkDurations } from '../../../labs/support/cdk-duration';
import { retryDelays } from '../../../lib/resilient-workflow';
import { eventsOf, inputOf, LocalRunOptions, runLocally } from '../../support/local-stepfunctions';
import { AslDefinition, placeholderArn, stateMachineDefinition } from '../../../labs/support/state-machine-definition';
import { labTemplate } from '../../support/lab-template';

// The retry test waits the real backoff (1 s + 2 s), as configured in the definition.
jest.setTimeout(20_000);

const template = labTemplate(stepfunctionsErrorsLab);
const machineId = (output: string) => (template.toJSON().Outputs[output].Value as { Ref: string }).Ref;
const standard = stateMachineDefinition(template, machineId('OrderWorkflowArn'));
const express = stateMachineDefinition(template, machineId('ExpressOrderWorkflowArn'));
const shipping = stateMachineDefinition(template, machineId('ShippingWorkflowArn'));
const functionId = (prefix: string) =>
  Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => id.startsWith(prefix))!;

/** What the local stand-ins of DynamoDB and SQS saw, per test. */
let table: Map<string, Record<string, unknown>>;
let messages: Record<string, unknown>[];
beforeEach(() => {
  table = new Map();
  messages = [];
});

class ConditionalCheckFailed extends Error {
  constructor() {
    super('The conditional request failed');
    this.name = 'DynamoDB.ConditionalCheckFailedException';
  }
}

/** Local stand-ins, checking the requests as DynamoDB and SQS would; the nested workflow runs on the engine too. */
function options(extra: LocalRunOptions = {}): LocalRunOptions {
  const putItem = (request: { Item: Record<string, { S?: string; N?: string }>; ConditionExpression?: string }) => {
    const key = request.Item.orderId.S!;
    if (request.ConditionExpression === 'attribute_not_exists(orderId)' && table.has(key)) throw new ConditionalCheckFailed();
    table.set(key, request.Item);
    return {};
  };
  const sendMessage = (request: { QueueUrl: string; MessageBody: Record<string, unknown> }) => {
    messages.push(request.MessageBody);
    return { MessageId: `m-${messages.length}` };
  };
  return {
    lambdas: {
      [placeholderArn(template, functionId('ValidateOrderFunction'))]: validateOrder,
      [placeholderArn(template, functionId('ReserveItemFunction'))]: reserveItem,
      [placeholderArn(template, functionId('ChargePaymentFunction'))]: chargePayment,
    },
    tasks: {
      SaveOrder: putItem,
      NotifyShipping: sendMessage,
      RecordFailure: sendMessage,
      ShipOrder: async (request: { StateMachineArn: string; Input: Record<string, unknown> }) => {
        const child = await runLocally(shipping, request.Input);
        if (child.status !== 'SUCCEEDED') throw Object.assign(new Error('child failed'), { name: 'States.TaskFailed' });
        return { ExecutionArn: `${request.StateMachineArn}:child`, Output: child.output, Status: 'SUCCEEDED' };
      },
    },
    ...extra,
  };
}

const order = (orderId: string, extra: Record<string, unknown> = {}) => ({
  orderId,
  items: [
    { sku: 'BOOK-1', quantity: 2, unitPrice: 10 },
    { sku: 'PEN-2', quantity: 1, unitPrice: 5.5 },
  ],
  ...extra,
});

const run = (definition: AslDefinition, input: unknown, extra?: LocalRunOptions) => runLocally(definition, input, options(extra));

describe('the STANDARD order workflow, run locally with the real handlers', () => {
  test('happy path: every state type in order, the Map results collected, the order saved, notified and shipped', async () => {
    const result = await run(standard, order('o-1'));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.statesEntered.slice(0, 8)).toEqual([
      'ApplyDefaults',
      'ValidateOrder',
      'ReserveItems',
      'ReserveItem',
      'ReserveItem',
      'CheckTotal',
      'ChargePayment',
      'Fulfil',
    ]);
    // Parallel branches run concurrently: their states may enter in either order.
    expect(result.statesEntered.slice(8, 10).sort()).toEqual(['NotifyShipping', 'SaveOrder']);
    expect(result.statesEntered.slice(10)).toEqual(['ShipOrder', 'OrderCompleted']);
    expect(result.output).toEqual({
      ...order('o-1'),
      defaults: { currency: 'EUR', channel: 'stepfunctions-lab' },
      validation: { total: 25.5, itemCount: 2 },
      reservations: [
        { sku: 'BOOK-1', quantity: 2, lineTotal: 20 },
        { sku: 'PEN-2', quantity: 1, lineTotal: 5.5 },
      ],
      payment: { chargeId: 'ch-o-1-1', amount: 25.5, attempts: 1 },
      shipment: { trackingId: 'TRK-o-1', carrier: 'LAB-POST' },
    });
    expect(table.get('o-1')).toMatchObject({ orderId: { S: 'o-1' }, status: { S: 'ACCEPTED' }, total: { N: '25.5' } });
    expect(messages).toEqual([{ type: 'OrderAccepted', orderId: 'o-1', total: 25.5 }]);
  });

  test('a payment failing twice is retried by the PaymentGatewayError retrier after 1 s then 2 s, then succeeds', async () => {
    const result = await run(standard, order('o-2', { simulate: { payment: 'fail-twice' } }));
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { payment: unknown }).payment).toEqual({ chargeId: 'ch-o-2-3', amount: 25.5, attempts: 3 });

    const retried = eventsOf(result, 'ChargePayment', 'StateRetried');
    expect(retried.map((e) => [e.retry.retrier.ErrorEquals, e.retry.attempt])).toEqual([
      [['PaymentGatewayError'], 1],
      [['PaymentGatewayError'], 2],
    ]);
    const failed = eventsOf(result, 'ChargePayment', 'StateFailed');
    expect(failed.map((e) => e.Error)).toEqual(['PaymentGatewayError', 'PaymentGatewayError']);
    // The engine sleeps between the failure and the retry: the configured backoff, 1 s × 2^n capped at 3 s.
    const waits = failed.map((f, i) => (retried[i].timestamp - f.timestamp) / 1000);
    const expected = retryDelays(withCdkDurations(ERRORS_LAB.chargeRetry[2])).slice(0, 2);
    expect(expected).toEqual([1, 2]);
    waits.forEach((wait, i) => expect(Math.abs(wait - expected[i])).toBeLessThan(0.3));
  });

  test('a payment always failing exhausts its 3 retries, then the catcher keeps the original input beside the error', async () => {
    const input = order('o-3', { simulate: { payment: 'fail-always' } });
    // The waits (1, 2, 3 s) are checked above; here the engine skips them.
    const result = await run(standard, input, { retryIntervalOverrides: { ChargePayment: [-1, -1, 0, -1, -1] } });
    expect(result.status).toBe('FAILED');
    expect(result.error?.Error).toBe('PaymentGatewayError');
    expect(eventsOf(result, 'ChargePayment', 'StateRetried')).toHaveLength(3);
    const caught = eventsOf(result, 'ChargePayment', 'StateCaught');
    expect(caught.map((e) => e.catch.catcher)).toEqual([{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'RecordFailure' }]);

    const failureInput = inputOf(result, 'RecordFailure') as Record<string, unknown> & { error: { Error: string; Cause: string } };
    expect(failureInput).toMatchObject({ ...input, validation: { total: 25.5, itemCount: 2 } });
    expect(failureInput.error.Error).toBe('PaymentGatewayError');
    expect(JSON.parse(failureInput.error.Cause)).toMatchObject({
      errorType: 'PaymentGatewayError',
      errorMessage: 'payment gateway unavailable (attempt 4)',
    });
    expect(result.statesEntered.slice(-2)).toEqual(['RecordFailure', 'OrderFailed']);
    expect(messages).toEqual([
      expect.objectContaining({ type: 'OrderFailed', orderId: 'o-3', error: failureInput.error }),
    ]);
  });

  test('a declined card is never retried (MaxAttempts 0 matches before States.ALL) and goes to the failure path', async () => {
    const result = await run(standard, order('o-4', { simulate: { payment: 'decline' } }));
    expect(result.status).toBe('FAILED');
    expect(result.error?.Error).toBe('PaymentDeclinedError');
    expect(eventsOf(result, 'ChargePayment', 'StateRetried')).toHaveLength(0);
    expect(eventsOf(result, 'ChargePayment', 'StateCaught')[0].catch.catcher.ErrorEquals).toEqual(['States.TaskFailed']);
  });

  test('a payment answering after the task timeout fails with States.Timeout, is not retried, and is caught', async () => {
    process.env.SLOW_PAYMENT_SECONDS = '1.5';
    try {
      const result = await run(standard, order('o-5', { simulate: { payment: 'slow' } }), {
        taskTimeoutSeconds: { ChargePayment: 1 },
      });
      expect(result.status).toBe('FAILED');
      expect(result.error?.Error).toBe('States.Timeout');
      expect(eventsOf(result, 'ChargePayment', 'StateRetried')).toHaveLength(0);
      expect(eventsOf(result, 'ChargePayment', 'StateCaught')[0].catch.catcher.ErrorEquals).toEqual(['States.Timeout']);
      expect(result.statesEntered.slice(-3)).toEqual(['PaymentTimedOut', 'RecordFailure', 'OrderFailed']);
      expect(inputOf(result, 'RecordFailure')).toMatchObject({ orderId: 'o-5', payment: { reconcile: true } });
    } finally {
      delete process.env.SLOW_PAYMENT_SECONDS;
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
  });

  test.each([
    ['a FREE coupon', { coupon: 'FREE' }, 'FreeOrder', ['ReviewHold', 'ChargePayment']],
    ['a total of 1,000 or more', { items: [{ sku: 'TV-1', quantity: 1, unitPrice: 1200 }] }, 'ReviewHold', ['FreeOrder']],
    ['an ordinary total', {}, 'ChargePayment', ['FreeOrder', 'ReviewHold']],
  ])('Choice: %s takes its branch', async (_name, extra, expected, notEntered) => {
    const result = await run(standard, order(`o-choice-${expected}`, extra));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.statesEntered).toContain(expected);
    for (const state of notEntered) expect(result.statesEntered).not.toContain(state);
    if (expected === 'ReviewHold') {
      expect(result.statesEntered.indexOf('ReviewHold')).toBe(result.statesEntered.indexOf('ChargePayment') - 1);
    }
  });

  test('Map: one iteration per item, results in item order; an item out of stock fails the Map, caught by States.ALL', async () => {
    const items = [1, 2, 3].map((n) => ({ sku: `SKU-${n}`, quantity: n, unitPrice: 2 }));
    const ok = await run(standard, { orderId: 'o-map', items });
    expect((ok.output as { reservations: unknown }).reservations).toEqual(
      items.map((i) => ({ sku: i.sku, quantity: i.quantity, lineTotal: i.quantity * 2 })),
    );
    expect(ok.events.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(3);

    const oos = await run(standard, { orderId: 'o-oos', items: [...items, { sku: 'OOS-9', quantity: 1, unitPrice: 1 }] });
    expect(oos.status).toBe('FAILED');
    expect(oos.error?.Error).toBe('OutOfStockError');
    expect(eventsOf(oos, 'ReserveItems', 'StateCaught')[0].catch.catcher.ErrorEquals).toEqual(['States.ALL']);
    expect(oos.statesEntered).not.toContain('ChargePayment');
  });

  test('an invalid order is rejected at once: no retry, no payment, the Fail state reports the handler\'s error', async () => {
    const result = await run(standard, { orderId: 'o-bad', items: [] });
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({ Error: 'InvalidOrderError', Cause: expect.stringContaining('items must be a non-empty array') });
    expect(eventsOf(result, 'ValidateOrder', 'StateRetried')).toHaveLength(0);
    expect(result.statesEntered).toEqual(['ApplyDefaults', 'ValidateOrder', 'OrderRejected']);
  });

  test('a duplicate orderId fails SaveOrder\'s condition: the Parallel state fails and States.ALL catches it', async () => {
    expect((await run(standard, order('o-dup'))).status).toBe('SUCCEEDED');
    const second = await run(standard, order('o-dup'));
    expect(second.status).toBe('FAILED');
    expect(second.error?.Error).toBe('DynamoDB.ConditionalCheckFailedException');
    expect(eventsOf(second, 'Fulfil', 'StateCaught')[0].catch.catcher).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.error',
      Next: 'RecordFailure',
    });
    expect(second.statesEntered).not.toContain('ShipOrder');
  });
});

describe('the EXPRESS variant and the nested workflow', () => {
  test('EXPRESS runs the same policy without the nested .sync workflow', async () => {
    expect(Object.keys(express.States)).not.toContain('ShipOrder');
    const result = await run(express, order('e-1', { simulate: { payment: 'fail-twice' } }), {
      retryIntervalOverrides: { ChargePayment: 0 },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.statesEntered.at(-1)).toBe('OrderCompleted');
    expect((result.output as { payment: { attempts: number } }).payment.attempts).toBe(3);
  });

  test('the shipping workflow waits, then builds the label with States.Format', async () => {
    const result = await runLocally(shipping, { orderId: 'o-9' });
    expect(result.statesEntered).toEqual(['PackingTime', 'CreateLabel', 'Shipped']);
    expect(result.output).toEqual({ orderId: 'o-9', carrier: 'LAB-POST', trackingId: 'TRK-o-9' });
  });
});
