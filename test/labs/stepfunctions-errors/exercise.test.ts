import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { steps, timing } from '../../../labs/stepfunctions-errors/exercise';
import { ERRORS_LAB } from '../../../labs/stepfunctions-errors/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';

// No local engine serves EventBridge and the Step Functions API, so the `event` step runs against SDK doubles.
const eventBridge = mockClient(EventBridgeClient);
const dynamodb = mockClient(DynamoDBClient);
const eventStep = steps.find((s) => s.id === 'event')!;
const lines: string[] = [];
const context: ExerciseRunOptions = {
  outputs: { OrdersTableName: 'orders' },
  log: (l) => lines.push(l),
  provide: [provide(timing, { pollMs: 5, timeoutMs: 200, eventDeadlineSeconds: 0.05 })],
};

beforeEach(() => {
  eventBridge.reset();
  dynamodb.reset();
  lines.length = 0;
});

test('puts an OrderPlaced event and waits until the workflow the rule started has stored the order', async () => {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  dynamodb.on(GetItemCommand).resolvesOnce({}).resolvesOnce({}).resolves({ Item: { status: { S: 'ACCEPTED' } } });

  await runExercise([eventStep], { ...context, runId: 'run-t' });

  const [put] = eventBridge.commandCalls(PutEventsCommand);
  const entry = put.args[0].input.Entries![0];
  expect(entry).toMatchObject({ Source: ERRORS_LAB.eventSource, DetailType: ERRORS_LAB.eventDetailType });
  const orderId = JSON.parse(entry.Detail!).orderId;
  expect(dynamodb.commandCalls(GetItemCommand).map((c) => c.args[0].input.Key)).toEqual(Array(3).fill({ orderId: { S: orderId } }));
  expect(lines).toEqual([
    '\n== 1/1 event: an OrderPlaced event on the default bus starts the workflow through the EventBridge rule',
    'put an OrderPlaced event (e-1) on the default bus for event-run-t',
    'the rule started the workflow with the event\'s detail as input: event-run-t stored as ACCEPTED',
  ]);
});

test('fails when EventBridge refuses the event', async () => {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDenied' }] });
  await expect(runExercise([eventStep], context)).rejects.toThrow(new ExerciseCheckFailed('PutEvents refused the event: [{"ErrorCode":"AccessDenied"}]'));
});

test('fails when no execution stores the order in time (rule disabled or not matching)', async () => {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
  dynamodb.on(GetItemCommand).resolves({});
  await expect(runExercise([eventStep], context)).rejects.toThrow(/no execution stored event-run-\w+ within 0.2 s: is the rule enabled\?/);
});

/**
 * The other steps against a Step Functions double: each StartExecution (or StartSyncExecution) gets the execution
 * that `scenario` describes for its input, as DescribeExecution and GetExecutionHistory would report it. The
 * scenarios below are what the lab's workflow does (workflow.test.ts runs the definition itself); each negative test
 * changes one fact of one of them.
 */
describe('the workflow steps, against doubles of Step Functions, DynamoDB and SQS', () => {
  const sfn = mockClient(SFNClient);
  const sqs = mockClient(SQSClient);
  afterAll(() => {
    sfn.restore();
    sqs.restore();
  });
  const outputs = { OrdersTableName: 'orders', OrderWorkflowArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:Orders', ExpressOrderWorkflowArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:ExpressOrders', OrderEventsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/111111111111/events' };
  type Order = { orderId: string; items: unknown[]; simulate?: { payment?: string } };
  interface Execution {
    status: string;
    error?: string;
    output?: object;
    /** States entered, in order, with the input of those whose input a check reads. */
    entered: (string | [string, object])[];
    /** ChargePayment's task events: [type, seconds after the start, error]. */
    charges?: [string, number, string?][];
  }
  /** A history as GetExecutionHistory returns it: StateEntered events, and each task event pointing back at its state's. */
  function historyOf({ entered, charges = [] }: Execution): HistoryEvent[] {
    const start = Date.parse('2025-01-01T00:00:00Z');
    const events: HistoryEvent[] = [];
    for (const state of entered) {
      const [name, input] = typeof state === 'string' ? [state, {}] : state;
      const id = events.length + 1;
      events.push({ id, type: 'TaskStateEntered', timestamp: new Date(start), stateEnteredEventDetails: { name, input: JSON.stringify(input) } });
      if (name !== 'ChargePayment') continue;
      for (const [type, seconds, error] of charges) {
        events.push({ id: events.length + 1, previousEventId: id, type: type as HistoryEvent['type'], timestamp: new Date(start + seconds * 1000), taskFailedEventDetails: error ? { error, resource: 'arn:aws:lambda:us-east-1:111111111111:function:ChargePayment', resourceType: 'lambda' } : undefined });
      }
    }
    return events;
  }
  const twoItems = [{}, {}];
  /** What the lab's workflow does with an order, by what it simulates, and for a second order of the same id. */
  const asDeployed = (order: Order, nth: number): Execution => {
    switch (order.simulate?.payment) {
      case 'fail-twice':
        return { status: 'SUCCEEDED', output: { payment: { attempts: 3 } }, entered: ['ChargePayment'], charges: [['TaskScheduled', 0], ['TaskFailed', 0.1, 'PaymentGatewayError'], ['TaskScheduled', 1.1], ['TaskFailed', 1.2, 'PaymentGatewayError'], ['TaskScheduled', 3.2]] };
      case 'fail-always':
        return {
          status: 'FAILED',
          error: 'PaymentGatewayError',
          entered: ['ChargePayment', ['RecordFailure', { ...order, error: { Error: 'PaymentGatewayError' } }]],
          charges: [0, 1, 3, 7].flatMap((t): [string, number, string?][] => [['TaskScheduled', t], ['TaskFailed', t + 0.1, 'PaymentGatewayError']]),
        };
      case 'slow':
        return { status: 'FAILED', error: 'States.Timeout', entered: ['ChargePayment', 'PaymentTimedOut'], charges: [['TaskScheduled', 0], ['TaskTimedOut', 3]] };
      default:
        return nth > 1
          ? { status: 'FAILED', error: 'DynamoDB.ConditionalCheckFailedException', entered: ['ApplyDefaults', 'ReserveItems', 'CheckTotal', 'Fulfil', 'SaveOrder'] }
          : {
              status: 'SUCCEEDED',
              output: { payment: { attempts: 1 }, reservations: twoItems, shipment: { trackingId: `TRK-${order.orderId}` } },
              entered: ['ApplyDefaults', 'ReserveItems', 'CheckTotal', 'ChargePayment', 'Fulfil', 'SaveOrder', 'NotifyShipping', 'ShipOrder'],
              charges: [['TaskScheduled', 0]],
            };
    }
  };
  type Change = (execution: Execution, order: Order) => Execution;
  /** Answers every call as the deployed lab would, with `change` applied to each execution; `queue` answers ReceiveMessage. */
  function deployed(change: Change = (e) => e, queue: (orders: Order[]) => object[] = (orders) => orders.map((o) => ({ orderId: o.orderId, type: o.simulate ? 'OrderFailed' : 'OrderAccepted' }))) {
    sfn.reset();
    sqs.reset();
    dynamodb.on(GetItemCommand).resolves({ Item: { status: { S: 'ACCEPTED' }, total: { N: '25.5' } } });
    const executions = new Map<string, Execution>();
    const orders: Order[] = [];
    sfn.on(StartExecutionCommand).callsFake((input: { name: string; input: string }) => {
      const order = JSON.parse(input.input) as Order;
      orders.push(order);
      const executionArn = `arn:aws:states:us-east-1:111111111111:execution:Orders:${input.name}`;
      executions.set(executionArn, change(asDeployed(order, orders.filter((o) => o.orderId === order.orderId).length), order));
      return { executionArn };
    });
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
      const { status, error, output } = executions.get(executionArn)!;
      return { executionArn, status, error, output: output && JSON.stringify(output) };
    });
    sfn.on(GetExecutionHistoryCommand).callsFake(({ executionArn }: { executionArn: string }) => ({ events: historyOf(executions.get(executionArn)!) }));
    sfn.on(StartSyncExecutionCommand).callsFake((input: { input: string }) => {
      const order = JSON.parse(input.input) as Order;
      const { status, output } = change(asDeployed(order, 1), order);
      return { status, output: output && JSON.stringify(output), billingDetails: { billedDurationInMilliseconds: 100, billedMemoryUsedInMB: 64 } };
    });
    sqs.on(ReceiveMessageCommand).callsFake(() => ({ Messages: queue(orders).map((body, i) => ({ MessageId: `m-${i}`, ReceiptHandle: `r-${i}`, Body: JSON.stringify(body) })) }));
    sqs.on(DeleteMessageCommand).resolves({});
  }
  const run = (id: string) => runExercise(steps.filter((s) => s.id === id), { ...context, outputs, runId: 'run-t' });
  const fails = async (id: string, message: string) => {
    const failure = await run(id).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toContain(message);
  };
  const workflowSteps = ['happy', 'retry', 'catch', 'timeout', 'duplicate', 'express'];

  /** What the learner reads for each step of run `run-t` against the lab's behaviour (printedShape: EXPRESS durations). */
  const transcripts: Record<string, string[]> = {
    happy: [
      '\n== 1/1 happy: an order through every state type: Map, Choice, Parallel (DynamoDB + SQS), nested .sync workflow',
      'started arn:aws:states:us-east-1:111111111111:execution:Orders:happy-run-t-1',
      'status SUCCEEDED; history (GetExecutionHistory):',
      '     0.0s  TaskStateEntered             ApplyDefaults',
      '     0.0s  TaskStateEntered             ReserveItems',
      '     0.0s  TaskStateEntered             CheckTotal',
      '     0.0s  TaskStateEntered             ChargePayment',
      '     0.0s  TaskScheduled                ChargePayment',
      '     0.0s  TaskStateEntered             Fulfil',
      '     0.0s  TaskStateEntered             SaveOrder',
      '     0.0s  TaskStateEntered             NotifyShipping',
      '     0.0s  TaskStateEntered             ShipOrder',
      'output: payment {"attempts":1}, shipment {"trackingId":"TRK-happy-run-t"}',
      'SaveOrder (DynamoDB PutItem, no Lambda) stored happy-run-t with status ACCEPTED, total 25.5',
      'NotifyShipping (SQS SendMessage) queued {"orderId":"happy-run-t","type":"OrderAccepted"}',
    ],
    retry: [
      '\n== 1/1 retry: a payment failing twice: the PaymentGatewayError retrier waits 1 s, then 2 s',
      'started arn:aws:states:us-east-1:111111111111:execution:Orders:retry-run-t-1',
      'status SUCCEEDED; history (GetExecutionHistory):',
      '     0.0s  TaskStateEntered             ChargePayment',
      '     0.0s  TaskScheduled                ChargePayment',
      '     0.1s  TaskFailed                   ChargePayment  error=PaymentGatewayError',
      '     1.1s  TaskScheduled                ChargePayment',
      '     1.2s  TaskFailed                   ChargePayment  error=PaymentGatewayError',
      '     3.2s  TaskScheduled                ChargePayment',
      'ChargePayment failed twice with PaymentGatewayError; retried after 1.0 s, 2.0 s (interval 1 s × backoff 2)',
    ],
    catch: [
      '\n== 1/1 catch: a payment always failing: retries exhausted, the catcher keeps the input beside the error',
      'started arn:aws:states:us-east-1:111111111111:execution:Orders:catch-run-t-1',
      'status FAILED (PaymentGatewayError); history (GetExecutionHistory):',
      '     0.0s  TaskStateEntered             ChargePayment',
      '     0.0s  TaskScheduled                ChargePayment',
      '     0.1s  TaskFailed                   ChargePayment  error=PaymentGatewayError',
      '     1.0s  TaskScheduled                ChargePayment',
      '     1.1s  TaskFailed                   ChargePayment  error=PaymentGatewayError',
      '     3.0s  TaskScheduled                ChargePayment',
      '     3.1s  TaskFailed                   ChargePayment  error=PaymentGatewayError',
      '     7.0s  TaskScheduled                ChargePayment',
      '     7.1s  TaskFailed                   ChargePayment  error=PaymentGatewayError',
      '     0.0s  TaskStateEntered             RecordFailure',
      'retries exhausted after 4 attempts (waits 0.9, 1.9, 3.9 s); the catcher',
      'put the error at $.error beside the original order: {"orderId":"catch-run-t","error":{"Error":"PaymentGatewayError"}}',
    ],
    timeout: [
      '\n== 1/1 timeout: a payment slower than TimeoutSeconds: States.Timeout, not retried, caught',
      'started arn:aws:states:us-east-1:111111111111:execution:Orders:timeout-run-t-1',
      'status FAILED (States.Timeout); history (GetExecutionHistory):',
      '     0.0s  TaskStateEntered             ChargePayment',
      '     0.0s  TaskScheduled                ChargePayment',
      '     3.0s  TaskTimedOut                 ChargePayment',
      '     0.0s  TaskStateEntered             PaymentTimedOut',
      'ChargePayment timed out after 3 s (TaskTimedOut), was not retried (MaxAttempts 0 for States.Timeout), and',
      'the States.Timeout catcher recorded that the charge must be reconciled',
    ],
    duplicate: [
      '\n== 1/1 duplicate: the same orderId twice: a DynamoDB condition fails the Parallel state, States.ALL catches it',
      'started arn:aws:states:us-east-1:111111111111:execution:Orders:duplicate-run-t-1',
      'status SUCCEEDED; history (GetExecutionHistory):',
      '     0.0s  TaskStateEntered             ApplyDefaults',
      '     0.0s  TaskStateEntered             ReserveItems',
      '     0.0s  TaskStateEntered             CheckTotal',
      '     0.0s  TaskStateEntered             ChargePayment',
      '     0.0s  TaskScheduled                ChargePayment',
      '     0.0s  TaskStateEntered             Fulfil',
      '     0.0s  TaskStateEntered             SaveOrder',
      '     0.0s  TaskStateEntered             NotifyShipping',
      '     0.0s  TaskStateEntered             ShipOrder',
      'started arn:aws:states:us-east-1:111111111111:execution:Orders:duplicate-run-t-2',
      'status FAILED (DynamoDB.ConditionalCheckFailedException); history (GetExecutionHistory):',
      '     0.0s  TaskStateEntered             ApplyDefaults',
      '     0.0s  TaskStateEntered             ReserveItems',
      '     0.0s  TaskStateEntered             CheckTotal',
      '     0.0s  TaskStateEntered             Fulfil',
      '     0.0s  TaskStateEntered             SaveOrder',
      'SaveOrder\'s condition attribute_not_exists(orderId) failed the Parallel state; States.ALL caught it',
    ],
    express: [
      '\n== 1/1 express: the EXPRESS variant started synchronously (StartSyncExecution)',
      'StartSyncExecution (express): SUCCEEDED in N s, billed 100 ms × 64 MB',
      'StartSyncExecution (express-retry): SUCCEEDED in N s, billed 100 ms × 64 MB',
      'the answer came back in the StartSyncExecution response: no DescribeExecution, and no history API for',
      'EXPRESS: its events are in the log group (ExpressOrderWorkflowLogGroup)',
    ],
  };
  const printedShape = (line: string) => line.replace(/SUCCEEDED in \d+\.\d s/, 'SUCCEEDED in N s');

  // One run id for the steps, in order, as in a learner's run (each against the doubles as deployed).
  test.each(workflowSteps)('step %s passes its own checks against the lab\'s behaviour and prints what it saw', async (id) => {
    deployed();
    await run(id);
    expect(lines.map(printedShape)).toEqual(transcripts[id]);
  });

  const items = [
    { sku: 'BOOK-1', quantity: 2, unitPrice: 10 },
    { sku: 'PEN-2', quantity: 1, unitPrice: 5.5 },
  ];
  test('happy starts the order by name, reads its whole history with the states\' data, and looks the order up by id', async () => {
    deployed();
    await run('happy');
    const arn = 'arn:aws:states:us-east-1:111111111111:execution:Orders:happy-run-t-1';
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: outputs.OrderWorkflowArn, name: 'happy-run-t-1', input: JSON.stringify({ orderId: 'happy-run-t', items }) },
    ]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: arn, maxResults: 1000, includeExecutionData: true, nextToken: undefined }]);
    expect(dynamodb.commandCalls(GetItemCommand).map((c) => c.args[0].input)).toEqual([{ TableName: 'orders', Key: { orderId: { S: 'happy-run-t' } } }]);
  });

  test('each client goes to the endpoint configured for its service', async () => {
    const endpoints = { AWS_ENDPOINT_URL_SFN: 'http://sfn.test', AWS_ENDPOINT_URL_DYNAMODB: 'http://dynamodb.test' };
    Object.assign(process.env, endpoints);
    try {
      deployed();
      await run('happy');
    } finally {
      for (const name of Object.keys(endpoints)) delete process.env[name];
    }
    const hostOf = async (call: { thisValue: unknown }) => (await (call.thisValue as SFNClient).config.endpoint!()).hostname;
    expect(await hostOf(sfn.commandCalls(StartExecutionCommand)[0])).toBe('sfn.test');
    expect(await hostOf(dynamodb.commandCalls(GetItemCommand)[0])).toBe('dynamodb.test');
  });

  test('retry reads every page of the history', async () => {
    deployed();
    const pages = new Map<string, HistoryEvent[]>();
    sfn.on(GetExecutionHistoryCommand).callsFake(({ executionArn, nextToken }: { executionArn: string; nextToken?: string }) => {
      if (nextToken) return { events: pages.get(nextToken) };
      const events = historyOf(asDeployed({ orderId: 'retry', items: [], simulate: { payment: 'fail-twice' } }, 1));
      pages.set(executionArn, events.slice(3));
      return { events: events.slice(0, 3), nextToken: executionArn };
    });
    await run('retry');
    expect(lines.at(-1)).toBe('ChargePayment failed twice with PaymentGatewayError; retried after 1.0 s, 2.0 s (interval 1 s × backoff 2)');
  });

  test('retry accepts waits of exactly 0.9 s and 1.9 s', async () => {
    deployed(when('fail-twice', charges(() => [['TaskScheduled', 0], ['TaskFailed', 0.1, 'PaymentGatewayError'], ['TaskScheduled', 1], ['TaskFailed', 1.1, 'PaymentGatewayError'], ['TaskScheduled', 3]])));
    await run('retry');
    expect(lines.at(-1)).toBe('ChargePayment failed twice with PaymentGatewayError; retried after 0.9 s, 1.9 s (interval 1 s × backoff 2)');
  });

  test('happy prints an order stored without a total as such', async () => {
    deployed();
    dynamodb.on(GetItemCommand).resolves({ Item: { status: { S: 'ACCEPTED' } } });
    await run('happy');
    expect(lines).toContain('SaveOrder (DynamoDB PutItem, no Lambda) stored happy-run-t with status ACCEPTED, total undefined');
  });

  const when = (payment: string | undefined, edit: (e: Execution, order: Order) => Partial<Execution>): Change => (e, order) => (order.simulate?.payment === payment ? { ...e, ...edit(e, order) } : e);
  const output = (e: Execution, changes: object) => ({ output: { ...e.output, ...changes } });
  const charges = (edit: (c: [string, number, string?][]) => [string, number, string?][]) => (e: Execution) => ({ charges: edit(e.charges ?? []) });
  test.each<[string, string, Change, string]>([
    ['happy', 'an order that fails', when(undefined, () => ({ status: 'FAILED', error: 'States.TaskFailed' })), 'the happy order ended FAILED (States.TaskFailed: undefined)'],
    ['happy', 'a payment charged twice', when(undefined, (e) => output(e, { payment: { attempts: 2 } })), 'expected one payment attempt, got {"attempts":2}'],
    ['happy', 'a Map state that reserves one item', when(undefined, (e) => output(e, { reservations: [{}] })), 'expected 2 reservations from the Map state, got [{}]'],
    ['happy', 'a nested workflow that ships another order', when(undefined, (e) => output(e, { shipment: { trackingId: 'TRK-other' } })), 'the nested workflow returned {"trackingId":"TRK-other"}'],
    ['happy', 'an execution without output', when(undefined, () => ({ output: undefined })), 'expected one payment attempt, got undefined'],
    ['happy', 'an output without the payment', when(undefined, (e) => output(e, { payment: undefined })), 'expected one payment attempt, got undefined'],
    ['happy', 'an output without the reservations', when(undefined, (e) => output(e, { reservations: undefined })), 'expected 2 reservations from the Map state, got undefined'],
    ['happy', 'an output without the shipment', when(undefined, (e) => output(e, { shipment: undefined })), 'the nested workflow returned undefined'],
    ['happy', 'a state skipped', when(undefined, (e) => ({ entered: e.entered.filter((s) => s !== 'NotifyShipping') })), 'the happy path did not enter NotifyShipping'],
  ])('%s fails on %s', async (id, _name, change, message) => {
    deployed(change);
    await fails(id, message);
  });

  test('happy fails when the order is stored with another status', async () => {
    deployed();
    dynamodb.on(GetItemCommand).resolves({ Item: { status: { S: 'PENDING' } } });
    await fails('happy', 'the orders table has {"status":{"S":"PENDING"}} for happy-');
  });
  test.each<[string, object]>([
    ['is missing', {}],
    ['has no status', { Item: { total: { N: '25.5' } } }],
  ])('happy fails when the stored order %s', async (_name, answer) => {
    deployed();
    dynamodb.on(GetItemCommand).resolves(answer);
    await fails('happy', 'the orders table has ');
  });
  test('happy fails when NotifyShipping\'s message is not in the queue', async () => {
    deployed(undefined, () => [{ orderId: 'another', type: 'OrderAccepted' }]);
    await fails('happy', 'NotifyShipping\'s message for happy-');
  });

  test.each<[string, string, Change, string]>([
    ['retry', 'a retrier that does not recover', when('fail-twice', () => ({ status: 'FAILED', error: 'PaymentGatewayError' })), 'the fail-twice order ended FAILED: the retrier did not recover it'],
    ['retry', 'a payment that failed once', when('fail-twice', charges((c) => c.filter(([, t]) => t !== 1.2))), 'expected ChargePayment to fail twice, it failed 1 times'],
    ['retry', 'a failure of another error', when('fail-twice', charges((c) => c.map(([type, t, error]) => [type, t, error && 'Lambda.Unknown']))), 'unexpected errors [{"at":'],
    ['retry', 'a second failure of another error', when('fail-twice', charges((c) => c.map(([type, t, error]) => [type, t, t === 1.2 ? 'Lambda.Unknown' : error]))), 'unexpected errors [{"at":'],
    ['retry', 'an execution without output', when('fail-twice', () => ({ output: undefined })), 'expected the third attempt to succeed'],
    ['retry', 'an output without the payment', when('fail-twice', () => ({ output: {} })), 'expected the third attempt to succeed'],
    ['retry', 'a first retry after 0.8 s', when('fail-twice', charges((c) => c.map(([type, t, error]) => [type, t === 1.1 ? 0.9 : t, error]))), 'expected retry waits of about 1 s then 2 s, measured 0.8, 2 s'],
    ['retry', 'a fourth attempt', when('fail-twice', charges((c) => [...c, ['TaskScheduled', 9]])), 'expected the third attempt to succeed'],
    ['retry', 'retries without backoff', when('fail-twice', charges((c) => c.map(([type, t, error]) => [type, t === 3.2 ? 1.3 : t, error]))), 'expected retry waits of about 1 s then 2 s, measured 1, 0.1 s'],
    ['catch', 'an order that succeeds', when('fail-always', () => ({ status: 'SUCCEEDED', error: undefined })), 'expected FAILED with PaymentGatewayError, got SUCCEEDED undefined'],
    ['catch', 'an execution that timed out as a whole', when('fail-always', () => ({ status: 'TIMED_OUT' })), 'expected FAILED with PaymentGatewayError, got TIMED_OUT PaymentGatewayError'],
    ['catch', 'an order that fails otherwise', when('fail-always', () => ({ error: 'States.Runtime' })), 'expected FAILED with PaymentGatewayError, got FAILED States.Runtime'],
    ['catch', 'no catcher', when('fail-always', () => ({ entered: ['ChargePayment'] })), 'RecordFailure\'s input has no error at $.error: undefined'],
    ['catch', 'a catcher given another order', when('fail-always', () => ({ entered: ['ChargePayment', ['RecordFailure', { orderId: 'another', items: twoItems, error: { Error: 'PaymentGatewayError' } }]] })), 'the catcher lost the original input'],
    ['catch', 'one retry too few', when('fail-always', charges((c) => c.slice(2))), 'expected 1 attempt + 3 retries of ChargePayment, saw 3'],
    ['catch', 'a catcher without ResultPath', when('fail-always', () => ({ entered: ['ChargePayment', ['RecordFailure', { Error: 'PaymentGatewayError' }]] })), 'RecordFailure\'s input has no error at $.error: {"Error":"PaymentGatewayError"}'],
    ['catch', 'a catcher that keeps only the error', when('fail-always', (_e, order) => ({ entered: ['ChargePayment', ['RecordFailure', { orderId: order.orderId, error: { Error: 'PaymentGatewayError' } }]] })), 'the catcher lost the original input'],
    ['timeout', 'a payment that fails otherwise', when('slow', () => ({ error: 'PaymentGatewayError' })), 'expected FAILED with States.Timeout, got FAILED PaymentGatewayError'],
    ['timeout', 'an execution that timed out as a whole', when('slow', () => ({ status: 'TIMED_OUT' })), 'expected FAILED with States.Timeout, got TIMED_OUT States.Timeout'],
    ['timeout', 'a payment that failed instead of timing out', when('slow', charges(() => [['TaskScheduled', 0], ['TaskFailed', 3, 'Lambda.Unknown']])), 'expected one attempt that timed out and no retry'],
    ['timeout', 'a timed-out payment retried, the retry failing', when('slow', charges((c) => [...c, ['TaskScheduled', 4], ['TaskFailed', 5, 'Lambda.Unknown']])), 'expected one attempt that timed out and no retry'],
    ['timeout', 'a timed-out payment retried', when('slow', charges((c) => [...c, ['TaskScheduled', 4], ['TaskTimedOut', 7]])), 'expected one attempt that timed out and no retry'],
    ['timeout', 'no catcher for States.Timeout', when('slow', () => ({ entered: ['ChargePayment'] })), 'the States.Timeout catcher did not lead to PaymentTimedOut'],
    ['duplicate', 'a first order that fails', (e, order) => (order.orderId.startsWith('duplicate-') && e.status === 'SUCCEEDED' ? { ...e, status: 'FAILED' } : e), 'the first duplicate-'],
    ['duplicate', 'a duplicate accepted', (e, order) => (order.orderId.startsWith('duplicate-') ? asDeployed(order, 1) : e), 'expected the duplicate to fail with DynamoDB.ConditionalCheckFailedException, got SUCCEEDED undefined'],
    ['duplicate', 'a duplicate failing otherwise', (e, order) => (order.orderId.startsWith('duplicate-') && e.status === 'FAILED' ? { ...e, error: 'States.Runtime' } : e), 'got FAILED States.Runtime'],
    ['duplicate', 'a duplicate timing out as a whole', (e, order) => (order.orderId.startsWith('duplicate-') && e.status === 'FAILED' ? { ...e, status: 'TIMED_OUT' } : e), 'got TIMED_OUT DynamoDB.ConditionalCheckFailedException'],
    ['duplicate', 'a duplicate shipped before it failed', (e, order) => (order.orderId.startsWith('duplicate-') && e.status === 'FAILED' ? { ...e, entered: [...e.entered, 'ShipOrder'] } : e), 'the duplicate order was shipped'],
    ['express', 'an EXPRESS order that fails', when(undefined, () => ({ status: 'FAILED' })), 'the EXPRESS express order ended FAILED'],
    ['express', 'an EXPRESS order without output', when(undefined, () => ({ output: undefined })), 'unexpected payment undefined'],
    ['express', 'an EXPRESS output without the payment', when(undefined, () => ({ output: {} })), 'unexpected payment undefined'],
    ['express', 'an EXPRESS order without its retries', when('fail-twice', (e) => output(e, { payment: { attempts: 1 } })), 'unexpected payment {"attempts":1}'],
  ])('%s fails on %s', async (id, _name, change, message) => {
    deployed(change);
    await fails(id, message);
  });

  test('catch fails when RecordFailure\'s message is not in the queue', async () => {
    deployed(undefined, () => [{ orderId: 'another', type: 'OrderFailed' }]);
    await fails('catch', 'RecordFailure\'s OrderFailed message is not in the order events queue');
  });
  test('a step fails when StartExecution returns no executionArn', async () => {
    deployed();
    sfn.on(StartExecutionCommand).resolves({});
    await fails('happy', 'StartExecution returned no executionArn');
  });
  test('a step fails when the execution is still running at the deadline', async () => {
    deployed((e) => ({ ...e, status: 'RUNNING' }));
    await fails('happy', 'still RUNNING after 0.2 s');
  });

  describe('against a clock that moves only when the exercise calls Step Functions', () => {
    // The deadline is checked against Date.now(), which here moves 100 ms with each DescribeExecution: the boundary is exact.
    let clock: number;
    beforeEach(() => {
      clock = Date.parse('2025-01-01T00:00:00Z');
      jest.spyOn(Date, 'now').mockImplementation(() => clock);
    });
    afterEach(() => jest.restoreAllMocks());

    test('a running execution is described again before the 200 ms deadline, not at it', async () => {
      deployed();
      sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
        clock += 100;
        return { executionArn, status: 'RUNNING' };
      });
      await fails('happy', 'arn:aws:states:us-east-1:111111111111:execution:Orders:happy-run-t-1 still RUNNING after 0.2 s');
      expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(2);
    });

    test('express prints how long each synchronous execution took and what it was billed', async () => {
      deployed();
      sfn.on(StartSyncExecutionCommand).callsFake((input: { input: string }) => {
        clock += 1500;
        const order = JSON.parse(input.input) as Order;
        const { status, output } = asDeployed(order, 1);
        return { status, output: JSON.stringify(output), billingDetails: order.simulate ? undefined : { billedDurationInMilliseconds: 1500, billedMemoryUsedInMB: 64 } };
      });
      await run('express');
      expect(lines).toEqual([
        '\n== 1/1 express: the EXPRESS variant started synchronously (StartSyncExecution)',
        'StartSyncExecution (express): SUCCEEDED in 1.5 s, billed 1500 ms × 64 MB',
        'StartSyncExecution (express-retry): SUCCEEDED in 1.5 s, billed undefined ms × undefined MB',
        'the answer came back in the StartSyncExecution response: no DescribeExecution, and no history API for',
        'EXPRESS: its events are in the log group (ExpressOrderWorkflowLogGroup)',
      ]);
    });
  });
});

test('event: fails when the workflow the rule started stored an order without a status', async () => {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-4' }] });
  dynamodb.on(GetItemCommand).resolves({ Item: {} });
  await expect(runExercise([eventStep], context)).rejects.toThrow(new ExerciseCheckFailed('the workflow the rule started stored {}'));
});

describe('polling against a clock that moves 100 ms with each poll, with a 200 ms deadline', () => {
  // The deadlines are checked against Date.now(), which here moves only when the exercise polls: the boundary is exact.
  let clock: number;
  beforeEach(() => {
    clock = Date.parse('2025-01-01T00:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
  });
  afterEach(() => jest.restoreAllMocks());

  test('event polls the table again before the deadline, gives up at it, and sleeps pollMs between polls', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-5' }] });
    const polledAt: number[] = [];
    dynamodb.on(GetItemCommand).callsFake(() => {
      polledAt.push(performance.now());
      clock += 100;
      return {};
    });
    const slowPolls = { ...context, provide: [provide(timing, { pollMs: 20, timeoutMs: 200, eventDeadlineSeconds: 0.05 })] };
    await expect(runExercise([eventStep], slowPolls)).rejects.toThrow(/within 0.2 s: is the rule enabled\?/);
    expect(polledAt).toHaveLength(2);
    expect(polledAt[1] - polledAt[0]).toBeGreaterThanOrEqual(15);
  });
});

test('event: fails when the workflow the rule started stored another status', async () => {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-3' }] });
  dynamodb.on(GetItemCommand).resolves({ Item: { status: { S: 'REJECTED' } } });
  await expect(runExercise([eventStep], context)).rejects.toThrow(new ExerciseCheckFailed('the workflow the rule started stored {"status":{"S":"REJECTED"}}'));
});
