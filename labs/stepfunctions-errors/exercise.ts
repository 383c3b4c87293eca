import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { check, ExerciseContext, ExerciseStep, defineFixture, defineTiming, requireOutput } from '../support/exercise';
import { deleteMessage, receiveUntil } from '../support/sqs-messages';
import { attemptsOf, formatHistory, retryWaits, stateInput, statesEntered } from './history';
import { ERRORS_LAB } from './constants';

const sfnOf = (context: ExerciseContext) => context.client(SFNClient, 'SFN');
const ddbOf = (context: ExerciseContext) => context.client(DynamoDBClient, 'DYNAMODB');
const eventBridgeOf = (context: ExerciseContext) => context.client(EventBridgeClient, 'EVENTBRIDGE');

/**
 * This run's order ids (`<name>-run-<base36 time>`), so leftovers of earlier runs never confuse a check. They also
 * name the executions (with a counter): letters, digits and hyphens, far below Step Functions' 80 characters.
 */
const orderId = (context: ExerciseContext, name: string) => `${name}-${context.runId}`;
const order = (context: ExerciseContext, name: string, extra: Record<string, unknown> = {}) => ({
  orderId: orderId(context, name),
  items: [
    { sku: 'BOOK-1', quantity: 2, unitPrice: 10 },
    { sku: 'PEN-2', quantity: 1, unitPrice: 5.5 },
  ],
  ...extra,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const timing = defineTiming(ERRORS_LAB.exerciseTiming);

/** How many executions this run started: it numbers their names. */
const executions = defineFixture('execution counter', () => ({ started: 0 }));

async function start(context: ExerciseContext, stateMachineArn: string, input: object): Promise<string> {
  const { log } = context;
  const counter = await context.use(executions);
  // Execution names are unique per STANDARD state machine for 90 days: the order id plus a counter.
  const name = `${(input as { orderId: string }).orderId}-${++counter.started}`;
  const { executionArn } = await sfnOf(context).send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  check(executionArn !== undefined, 'StartExecution returned no executionArn');
  log(`started ${executionArn}`);
  return executionArn;
}

async function waitForEnd(context: ExerciseContext, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  const { pollMs, timeoutMs } = await context.use(timing);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const execution = await sfnOf(context).send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    check(Date.now() < deadline, `${executionArn} still RUNNING after ${timeoutMs / 1000} s`);
    await sleep(pollMs);
  }
}

async function history(context: ExerciseContext, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfnOf(context).send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: true, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Starts an order on the STANDARD workflow, waits for it to end, prints its history; returns what the checks need. */
async function runOrder(context: ExerciseContext, input: object) {
  const arn = await start(context, requireOutput(context.outputs, 'OrderWorkflowArn'), input);
  const execution = await waitForEnd(context, arn);
  const events = await history(context, arn);
  context.log(`status ${execution.status}${execution.error ? ` (${execution.error})` : ''}; history (GetExecutionHistory):`);
  for (const line of formatHistory(events)) context.log(`  ${line}`);
  return { execution, events, output: execution.output ? JSON.parse(execution.output) : undefined };
}

/** Waits up to `eventDeadlineSeconds` for an event matching `wanted` on the queue, deletes it and returns its body. */
async function receiveEvent(context: ExerciseContext, queueUrl: string, wanted: (body: Record<string, unknown>) => boolean) {
  const bodyOf = (body: string | undefined) => JSON.parse(body ?? '{}') as Record<string, unknown>;
  const { eventDeadlineSeconds } = await context.use(timing);
  const message = await receiveUntil(context, queueUrl, (m) => wanted(bodyOf(m.Body)), eventDeadlineSeconds);
  if (!message) return undefined;
  await deleteMessage(context, queueUrl, message);
  return bodyOf(message.Body);
}

async function happyPath(context: ExerciseContext): Promise<void> {
  const input = order(context, 'happy');
  const { execution, events, output } = await runOrder(context, input);
  check(execution.status === 'SUCCEEDED', `the happy order ended ${execution.status} (${execution.error}: ${execution.cause})`);
  check(output?.payment?.attempts === 1, `expected one payment attempt, got ${JSON.stringify(output?.payment)}`);
  check(output?.reservations?.length === 2, `expected 2 reservations from the Map state, got ${JSON.stringify(output?.reservations)}`);
  check(output?.shipment?.trackingId === `TRK-${input.orderId}`, `the nested workflow returned ${JSON.stringify(output?.shipment)}`);
  const entered = statesEntered(events);
  for (const state of ['ApplyDefaults', 'ReserveItems', 'CheckTotal', 'Fulfil', 'SaveOrder', 'NotifyShipping', 'ShipOrder']) {
    check(entered.includes(state), `the happy path did not enter ${state}`);
  }
  context.log(`output: payment ${JSON.stringify(output.payment)}, shipment ${JSON.stringify(output.shipment)}`);

  const { Item } = await ddbOf(context).send(
    new GetItemCommand({ TableName: requireOutput(context.outputs, 'OrdersTableName'), Key: { orderId: { S: input.orderId } } }),
  );
  check(Item?.status?.S === 'ACCEPTED', `the orders table has ${JSON.stringify(Item)} for ${input.orderId}`);
  context.log(`SaveOrder (DynamoDB PutItem, no Lambda) stored ${input.orderId} with status ACCEPTED, total ${Item.total?.N}`);
  const accepted = await receiveEvent(context, requireOutput(context.outputs, 'OrderEventsQueueUrl'), (b) => b.orderId === input.orderId);
  check(accepted?.type === 'OrderAccepted', `NotifyShipping's message for ${input.orderId} is not in the order events queue`);
  context.log(`NotifyShipping (SQS SendMessage) queued ${JSON.stringify(accepted)}`);
}

async function retryThenSucceed(context: ExerciseContext): Promise<void> {
  const { execution, events, output } = await runOrder(context, order(context, 'retry', { simulate: { payment: 'fail-twice' } }));
  check(execution.status === 'SUCCEEDED', `the fail-twice order ended ${execution.status}: the retrier did not recover it`);
  const attempts = attemptsOf(events, 'ChargePayment');
  check(attempts.failed.length === 2, `expected ChargePayment to fail twice, it failed ${attempts.failed.length} times`);
  check(attempts.failed.every((f) => f.error === 'PaymentGatewayError'), `unexpected errors ${JSON.stringify(attempts.failed)}`);
  check(attempts.scheduled.length === 3 && output?.payment?.attempts === 3, 'expected the third attempt to succeed');
  const waits = retryWaits(attempts);
  check(waits[0] >= 0.9 && waits[1] >= 1.9, `expected retry waits of about 1 s then 2 s, measured ${waits.join(', ')} s`);
  context.log(`ChargePayment failed twice with PaymentGatewayError; retried after ${waits.map((w) => w.toFixed(1)).join(' s, ')} s (interval 1 s × backoff 2)`);
}

async function failToCatch(context: ExerciseContext): Promise<void> {
  const input = order(context, 'catch', { simulate: { payment: 'fail-always' } });
  const { execution, events } = await runOrder(context, input);
  check(execution.status === 'FAILED' && execution.error === 'PaymentGatewayError', `expected FAILED with PaymentGatewayError, got ${execution.status} ${execution.error}`);
  const attempts = attemptsOf(events, 'ChargePayment');
  check(attempts.scheduled.length === 4, `expected 1 attempt + 3 retries of ChargePayment, saw ${attempts.scheduled.length}`);
  const failureInput = stateInput(events, 'RecordFailure') as { orderId?: string; items?: unknown[]; error?: { Error?: string } } | undefined;
  check(failureInput?.error?.Error === 'PaymentGatewayError', `RecordFailure's input has no error at $.error: ${JSON.stringify(failureInput)}`);
  check(failureInput.orderId === input.orderId && failureInput.items?.length === 2, 'the catcher lost the original input');
  context.log(`retries exhausted after ${attempts.scheduled.length} attempts (waits ${retryWaits(attempts).map((w) => w.toFixed(1)).join(', ')} s); the catcher`);
  context.log(`put the error at $.error beside the original order: ${JSON.stringify({ orderId: failureInput.orderId, error: failureInput.error })}`);
  const failed = await receiveEvent(context, requireOutput(context.outputs, 'OrderEventsQueueUrl'), (b) => b.orderId === input.orderId);
  check(failed?.type === 'OrderFailed', 'RecordFailure\'s OrderFailed message is not in the order events queue');
}

async function timeoutPath(context: ExerciseContext): Promise<void> {
  const { execution, events } = await runOrder(context, order(context, 'timeout', { simulate: { payment: 'slow' } }));
  check(execution.status === 'FAILED' && execution.error === 'States.Timeout', `expected FAILED with States.Timeout, got ${execution.status} ${execution.error}`);
  const attempts = attemptsOf(events, 'ChargePayment');
  check(attempts.timedOut.length === 1 && attempts.scheduled.length === 1, 'expected one attempt that timed out and no retry');
  check(statesEntered(events).includes('PaymentTimedOut'), 'the States.Timeout catcher did not lead to PaymentTimedOut');
  context.log('ChargePayment timed out after 3 s (TaskTimedOut), was not retried (MaxAttempts 0 for States.Timeout), and');
  context.log('the States.Timeout catcher recorded that the charge must be reconciled');
}

async function duplicateOrder(context: ExerciseContext): Promise<void> {
  const input = order(context, 'duplicate');
  const first = await runOrder(context, input);
  check(first.execution.status === 'SUCCEEDED', `the first ${input.orderId} ended ${first.execution.status}`);
  const second = await runOrder(context, input);
  check(
    second.execution.status === 'FAILED' && second.execution.error === 'DynamoDB.ConditionalCheckFailedException',
    `expected the duplicate to fail with DynamoDB.ConditionalCheckFailedException, got ${second.execution.status} ${second.execution.error}`,
  );
  check(!statesEntered(second.events).includes('ShipOrder'), 'the duplicate order was shipped');
  context.log('SaveOrder\'s condition attribute_not_exists(orderId) failed the Parallel state; States.ALL caught it');
}

async function expressSync(context: ExerciseContext): Promise<void> {
  const stateMachineArn = requireOutput(context.outputs, 'ExpressOrderWorkflowArn');
  for (const [name, extra] of [['express', {}], ['express-retry', { simulate: { payment: 'fail-twice' } }]] as const) {
    const started = Date.now();
    const result = await sfnOf(context).send(new StartSyncExecutionCommand({ stateMachineArn, input: JSON.stringify(order(context, name, extra)) }));
    const output = result.output ? JSON.parse(result.output) : undefined;
    context.log(
      `StartSyncExecution (${name}): ${result.status} in ${((Date.now() - started) / 1000).toFixed(1)} s, billed ` +
        `${result.billingDetails?.billedDurationInMilliseconds} ms × ${result.billingDetails?.billedMemoryUsedInMB} MB`,
    );
    check(result.status === 'SUCCEEDED', `the EXPRESS ${name} order ended ${result.status} (${result.error}: ${result.cause})`);
    check(output?.payment?.attempts === (name === 'express' ? 1 : 3), `unexpected payment ${JSON.stringify(output?.payment)}`);
  }
  context.log('the answer came back in the StartSyncExecution response: no DescribeExecution, and no history API for');
  context.log(`EXPRESS: its events are in the log group ${context.outputs.ExpressOrderWorkflowLogGroup ?? '(ExpressOrderWorkflowLogGroup)'}`);
}

/** An OrderPlaced event on the default bus: the rule starts the STANDARD workflow, which stores the order. */
async function eventStart(context: ExerciseContext): Promise<void> {
  const input = order(context, 'event');
  const sent = await eventBridgeOf(context).send(
    new PutEventsCommand({
      Entries: [{ Source: ERRORS_LAB.eventSource, DetailType: ERRORS_LAB.eventDetailType, Detail: JSON.stringify(input) }],
    }),
  );
  check(sent.FailedEntryCount === 0, `PutEvents refused the event: ${JSON.stringify(sent.Entries)}`);
  context.log(`put an ${ERRORS_LAB.eventDetailType} event (${sent.Entries?.[0]?.EventId}) on the default bus for ${input.orderId}`);

  const { pollMs, timeoutMs } = await context.use(timing);
  const deadline = Date.now() + timeoutMs;
  const tableName = requireOutput(context.outputs, 'OrdersTableName');
  for (;;) {
    const { Item } = await ddbOf(context).send(new GetItemCommand({ TableName: tableName, Key: { orderId: { S: input.orderId } } }));
    if (Item) {
      check(Item.status?.S === 'ACCEPTED', `the workflow the rule started stored ${JSON.stringify(Item)}`);
      context.log(`the rule started the workflow with the event's detail as input: ${input.orderId} stored as ACCEPTED`);
      return;
    }
    check(Date.now() < deadline, `no execution stored ${input.orderId} within ${timeoutMs / 1000} s: is the rule enabled?`);
    await sleep(pollMs);
  }
}

export const steps: readonly ExerciseStep[] = [
  { id: 'happy', title: 'an order through every state type: Map, Choice, Parallel (DynamoDB + SQS), nested .sync workflow', run: happyPath },
  { id: 'retry', title: 'a payment failing twice: the PaymentGatewayError retrier waits 1 s, then 2 s', run: retryThenSucceed },
  { id: 'catch', title: 'a payment always failing: retries exhausted, the catcher keeps the input beside the error', run: failToCatch },
  { id: 'timeout', title: 'a payment slower than TimeoutSeconds: States.Timeout, not retried, caught', run: timeoutPath },
  { id: 'duplicate', title: 'the same orderId twice: a DynamoDB condition fails the Parallel state, States.ALL catches it', run: duplicateOrder },
  { id: 'express', title: 'the EXPRESS variant started synchronously (StartSyncExecution)', run: expressSync },
  { id: 'event', title: 'an OrderPlaced event on the default bus starts the workflow through the EventBridge rule', run: eventStart },
];
