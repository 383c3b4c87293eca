import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  MessageAttributeValue,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, Message } from '@aws-sdk/client-sqs';
import {
  evaluateFilterPolicy,
  FilterPolicy,
  FilterPolicyScope,
  SnsMessage,
  SnsMessageAttribute,
} from '../../lib/fan-out/filter-policy';
import { check, defineTiming, elapsedSeconds as seconds, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import { checkFifoDemoArrival, deleteMessage, FIFO_DEMO_SENDS, nextWaitSeconds, receiveMessages, sqsOf } from '../support/sqs-messages';
import { SNS_FANOUT_LAB } from './constants';

export const timing = defineTiming(SNS_FANOUT_LAB.exerciseTiming);

const snsOf = (context: ExerciseContext) => context.client(SNSClient, 'SNS');

/** A sample order: what is published as message attributes and as the JSON body. */
interface SampleOrder {
  readonly orderId: string;
  readonly eventType: string;
  readonly total: number;
  readonly shipping: 'standard' | 'express';
  readonly status: string;
  readonly warehouse?: string;
  readonly fail?: boolean;
}

function bodyOf(context: ExerciseContext, order: SampleOrder): string {
  return JSON.stringify({
    runId: context.runId,
    orderId: order.orderId,
    total: order.total,
    status: order.status,
    shipping: { method: order.shipping, country: 'DE' },
    ...(order.fail ? { fail: true } : {}),
  });
}

function attributesOf(order: SampleOrder): Record<string, MessageAttributeValue & SnsMessageAttribute> {
  return {
    eventType: { DataType: 'String', StringValue: order.eventType },
    total: { DataType: 'Number', StringValue: String(order.total) },
    ...(order.warehouse ? { warehouse: { DataType: 'String', StringValue: order.warehouse } } : {}),
  };
}

const snsMessageOf = (context: ExerciseContext, order: SampleOrder): SnsMessage => ({ attributes: attributesOf(order), body: bodyOf(context, order) });

async function publish(context: ExerciseContext, topicArn: string, order: SampleOrder): Promise<void> {
  const { log } = context;
  const { MessageId } = await snsOf(context).send(
    new PublishCommand({ TopicArn: topicArn, Message: bodyOf(context, order), MessageAttributes: attributesOf(order) }),
  );
  const warehouse = order.warehouse ? ` warehouse=${order.warehouse}` : '';
  log(
    `published ${order.orderId} (${MessageId}): attributes eventType=${order.eventType} total=${order.total}${warehouse}; ` +
      `body shipping.method=${order.shipping} status=${order.status}${order.fail ? ' fail=true' : ''}`,
  );
}

/** What arrived in a queue: the order, and whether SNS wrapped it in its JSON envelope (raw delivery off). */
interface Delivered {
  readonly message: Message;
  readonly envelope?: { Type?: string; TopicArn?: string; MessageAttributes?: Record<string, { Type: string; Value: string }> };
  readonly order?: { runId?: string; orderId?: string };
}

function unwrap(message: Message): Delivered {
  try {
    const body = JSON.parse(message.Body ?? '') as Record<string, unknown>;
    if (body?.Type === 'Notification' && typeof body.Message === 'string') {
      return { message, envelope: body as Delivered['envelope'], order: JSON.parse(body.Message) as Delivered['order'] };
    }
    return { message, order: body as Delivered['order'] };
  } catch {
    return { message };
  }
}

const isOurs = (runId: string, delivered: Delivered) => delivered.order?.runId === runId;

async function receive(context: ExerciseContext, queueUrl: string, waitTimeSeconds: number): Promise<Delivered[]> {
  return (await receiveMessages(context, queueUrl, waitTimeSeconds, ['MessageGroupId', 'SequenceNumber'])).map(unwrap);
}

const remove = (context: ExerciseContext, queueUrl: string, delivered: Delivered) => deleteMessage(context, queueUrl, delivered.message);

/**
 * Long-polls until every expected order of this run arrived or `timeoutSeconds` (by default the lab's
 * deliveryDeadlineSeconds) pass, then listens `settleSeconds` (by default the lab's) more for unexpected ones.
 * Deletes and returns this run's messages; leaves other messages alone.
 */
async function collect(
  context: ExerciseContext,
  queueUrl: string,
  expectedIds: readonly string[],
  { timeoutSeconds, settleSeconds }: { timeoutSeconds?: number; settleSeconds?: number } = {},
): Promise<Delivered[]> {
  const figures = await context.use(timing);
  const seen: Delivered[] = [];
  const missing = () => expectedIds.filter((id) => !seen.some((d) => d.order?.orderId === id));
  const deadline = Date.now() + (timeoutSeconds ?? figures.deliveryDeadlineSeconds) * 1000;
  while (missing().length > 0 && Date.now() < deadline) {
    for (const delivered of (await receive(context, queueUrl, nextWaitSeconds(deadline))).filter((d) => isOurs(context.runId, d))) {
      seen.push(delivered);
      await remove(context, queueUrl, delivered);
    }
  }
  const listenSeconds = settleSeconds ?? figures.settleSeconds;
  for (const delivered of (await receive(context, queueUrl, listenSeconds)).filter((d) => isOurs(context.runId, d))) {
    seen.push(delivered);
    await remove(context, queueUrl, delivered);
  }
  return seen;
}

async function queueArnOf(context: ExerciseContext, queueUrl: string): Promise<string> {
  const { Attributes } = await sqsOf(context).send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return Attributes?.QueueArn ?? '';
}

interface LiveSubscription {
  readonly filterPolicy?: FilterPolicy;
  readonly scope: FilterPolicyScope;
  readonly raw: boolean;
}

/** The topic's subscriptions as SNS has them, by endpoint: filter policy, scope, raw delivery. */
async function liveSubscriptions(context: ExerciseContext, topicArn: string): Promise<Map<string, LiveSubscription>> {
  const found = new Map<string, LiveSubscription>();
  let NextToken: string | undefined;
  do {
    const page = await snsOf(context).send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
    for (const { SubscriptionArn, Endpoint } of page.Subscriptions ?? []) {
      if (!SubscriptionArn || !Endpoint || SubscriptionArn === 'PendingConfirmation') continue;
      const { Attributes = {} } = await snsOf(context).send(new GetSubscriptionAttributesCommand({ SubscriptionArn }));
      found.set(Endpoint, {
        filterPolicy: Attributes.FilterPolicy ? (JSON.parse(Attributes.FilterPolicy) as FilterPolicy) : undefined,
        scope: (Attributes.FilterPolicyScope as FilterPolicyScope | undefined) ?? 'MessageAttributes',
        raw: Attributes.RawMessageDelivery === 'true',
      });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

const sorted = (ids: readonly (string | undefined)[]) => [...ids].map(String).sort();
const FILTER_DELAY_HINT =
  'SNS applies new or changed filter policies within up to 15 minutes: right after a deploy, wait and run the step again';

/** The orders the fan-out step publishes, and where the README says each one goes. */
const FAN_OUT_ORDERS: readonly SampleOrder[] = [
  { orderId: 'o1', eventType: 'order.placed', total: 25, shipping: 'standard', status: 'placed' },
  { orderId: 'o2', eventType: 'order.placed', total: 250, shipping: 'standard', status: 'placed' },
  { orderId: 'o3', eventType: 'order.placed', total: 40, shipping: 'express', status: 'placed' },
  { orderId: 'o4', eventType: 'order.cancelled', total: 500, shipping: 'express', status: 'cancelled' },
  { orderId: 'o5', eventType: 'refund.issued', total: 300, shipping: 'standard', status: 'refunded' },
];
const README_ROUTING: Record<string, readonly string[]> = {
  AllOrders: ['o1', 'o2', 'o3', 'o4', 'o5'],
  HighValue: ['o2'],
  Express: ['o3'],
};

async function fanOut(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const topicArn = requireOutput(outputs, 'OrdersTopicArn');
  const subscriptions = await liveSubscriptions(context, topicArn);
  log(`the orders topic has ${subscriptions.size} subscriptions; reading the filter policies of the 3 queues from SNS`);

  const queues: { name: string; url: string; subscription: LiveSubscription }[] = [];
  for (const name of Object.keys(README_ROUTING)) {
    const url = requireOutput(outputs, `${name}QueueUrl`);
    const subscription = subscriptions.get(await queueArnOf(context, url));
    check(subscription !== undefined, `no subscription of the orders topic delivers to the ${name} queue`);
    const policy = subscription.filterPolicy ? JSON.stringify(subscription.filterPolicy) : 'none (every message)';
    log(`  ${name}: filter ${policy} on ${subscription.scope}, raw delivery ${subscription.raw ? 'on' : 'off'}`);
    queues.push({ name, url, subscription });
  }

  for (const order of FAN_OUT_ORDERS) await publish(context, topicArn, order);

  const predictions = queues.map(({ name, subscription }) => {
    const verdicts = FAN_OUT_ORDERS.map((order) => ({
      order,
      result: evaluateFilterPolicy(subscription.filterPolicy, snsMessageOf(context, order), subscription.scope),
    }));
    const predicted = verdicts.filter((v) => v.result.matches).map((v) => v.order.orderId);
    check(
      JSON.stringify(predicted) === JSON.stringify(README_ROUTING[name]),
      `the deployed filter policy of ${name} selects ${predicted.join(', ') || 'nothing'}, not ${README_ROUTING[name].join(', ')} as the README says`,
    );
    return { verdicts, predicted };
  });
  const deliveries = await Promise.all(queues.map(({ url }, i) => collect(context, url, predictions[i].predicted)));

  for (const [i, { name, subscription }] of queues.entries()) {
    const { verdicts, predicted } = predictions[i];
    const received = deliveries[i];
    log(`${name} received ${sorted(received.map((d) => d.order?.orderId)).join(', ') || 'nothing'}:`);
    for (const { order, result } of verdicts) {
      log(`  ${result.matches ? '✓' : '✗'} ${order.orderId}: ${result.reasons.join('; ')}`);
    }
    check(
      JSON.stringify(sorted(received.map((d) => d.order?.orderId))) === JSON.stringify(sorted(predicted)),
      `${name} received ${sorted(received.map((d) => d.order?.orderId)).join(', ') || 'nothing'} but its filter policy ` +
        `selects ${predicted.join(', ')}. ${FILTER_DELAY_HINT}.`,
    );
    for (const delivered of received) {
      if (subscription.raw) {
        const attributes = delivered.message.MessageAttributes ?? {};
        check(!delivered.envelope, `${name} has raw delivery on but got SNS's JSON envelope`);
        check(
          attributes.eventType?.StringValue !== undefined && attributes.total?.DataType === 'Number',
          `${name}: with raw delivery the SNS message attributes should arrive as SQS attributes, got ${JSON.stringify(attributes)}`,
        );
      } else {
        check(
          delivered.envelope?.TopicArn === topicArn && delivered.envelope.MessageAttributes?.total?.Type === 'Number',
          `${name} has raw delivery off but its message is not SNS's envelope with the topic ARN and the attributes`,
        );
      }
    }
    log(
      subscription.raw
        ? `  raw delivery: the body is the published JSON, the attributes are SQS message attributes`
        : `  envelope: the body is SNS's JSON (Type, MessageId, TopicArn, Message, MessageAttributes, Signature...)`,
    );
  }
}

/** What Lambda sends to an on-success or on-failure destination. */
interface InvocationRecord {
  readonly requestContext?: { condition?: string; approximateInvokeCount?: number };
  readonly requestPayload?: { Records?: { Sns?: { Message?: string } }[] };
  readonly responsePayload?: { processed?: string[]; errorType?: string; errorMessage?: string };
}

async function invocationRecord(context: ExerciseContext, queueUrl: string, orderId: string, timeoutSeconds: number): Promise<InvocationRecord | undefined> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let found: InvocationRecord | undefined;
  while (!found && Date.now() < deadline) {
    for (const message of await receiveMessages(context, queueUrl, nextWaitSeconds(deadline), [])) {
      let record: InvocationRecord;
      let order: { runId?: string; orderId?: string };
      try {
        record = JSON.parse(message.Body ?? '') as InvocationRecord;
        order = JSON.parse(record.requestPayload?.Records?.[0]?.Sns?.Message ?? '{}');
      } catch {
        continue;
      }
      if (order.runId !== context.runId) continue;
      await deleteMessage(context, queueUrl, message);
      if (order.orderId === orderId) found = record;
    }
  }
  return found;
}

async function lambdaSubscriber(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const topicArn = requireOutput(outputs, 'OrdersTopicArn');
  const succeededUrl = requireOutput(outputs, 'AuditSucceededQueueUrl');
  const failedUrl = requireOutput(outputs, 'AuditFailedQueueUrl');
  const subscriptionDlqUrl = requireOutput(outputs, 'AuditSubscriptionDlqUrl');
  const good: SampleOrder = { orderId: 'l1', eventType: 'order.placed', total: 60, shipping: 'standard', status: 'placed' };
  const bad: SampleOrder = { ...good, orderId: 'l2', fail: true };
  await publish(context, topicArn, good);
  await publish(context, topicArn, bad);
  log('SNS invokes the Audit function asynchronously; Lambda reports the outcome to the function\'s destinations');

  const { onSuccessRecordDeadlineSeconds, onFailureRecordDeadlineSeconds } = await context.use(timing);
  const started = Date.now();
  const success = await invocationRecord(context, succeededUrl, good.orderId, onSuccessRecordDeadlineSeconds);
  check(success !== undefined, `no on-success record for l1 within ${onSuccessRecordDeadlineSeconds} s: did SNS invoke the function?`);
  check(
    success.requestContext?.condition === 'Success' && (success.responsePayload?.processed ?? []).includes('l1'),
    `the on-success record of l1 is not a success returning it: ${JSON.stringify(success.requestContext)} ${JSON.stringify(success.responsePayload)}`,
  );
  log(`after ${seconds(started)} s, on-success destination: condition=Success, the function returned ${JSON.stringify(success.responsePayload)}`);

  const failure = await invocationRecord(context, failedUrl, bad.orderId, onFailureRecordDeadlineSeconds);
  check(failure !== undefined, `no on-failure record for l2 within ${onFailureRecordDeadlineSeconds} s`);
  check(
    failure.requestContext?.condition === 'RetriesExhausted' && /asked to fail/.test(failure.responsePayload?.errorMessage ?? ''),
    `the on-failure record of l2 does not carry the function's error: ${JSON.stringify(failure.responsePayload)}`,
  );
  log(
    `after ${seconds(started)} s, on-failure destination: condition=RetriesExhausted after ` +
      `${failure.requestContext?.approximateInvokeCount} invocation(s), ${failure.responsePayload?.errorType}: ${failure.responsePayload?.errorMessage}`,
  );

  const inSubscriptionDlq = (await collect(context, subscriptionDlqUrl, [])).map((d) => d.order?.orderId);
  check(
    !inSubscriptionDlq.includes('l2'),
    'l2 reached the Audit subscription DLQ: that queue is for messages SNS cannot deliver, not for function errors',
  );
  log('the Audit subscription DLQ stayed empty: SNS delivered l2 (Lambda accepted the event); the function failed later');
}

async function subscriptionDlq(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const topicArn = requireOutput(outputs, 'OrdersTopicArn');
  const warehouseUrl = requireOutput(outputs, 'WarehouseQueueUrl');
  const dlqUrl = requireOutput(outputs, 'WarehouseSubscriptionDlqUrl');
  const allOrdersUrl = requireOutput(outputs, 'AllOrdersQueueUrl');
  const order: SampleOrder = {
    orderId: 'w1',
    eventType: 'stock.reserved',
    total: 80,
    shipping: 'standard',
    status: 'reserved',
    warehouse: 'berlin',
  };
  await publish(context, topicArn, order);
  log('the Warehouse subscription matches it (warehouse exists), but the Warehouse queue\'s policy denies SNS');

  const { subscriptionDlqDeadlineSeconds } = await context.use(timing);
  const started = Date.now();
  const [dead] = await collect(context, dlqUrl, ['w1'], { timeoutSeconds: subscriptionDlqDeadlineSeconds, settleSeconds: 0 });
  check(dead !== undefined, `w1 did not reach the Warehouse subscription DLQ within ${subscriptionDlqDeadlineSeconds} s`);
  const attributes = Object.entries(dead.message.MessageAttributes ?? {})
    .map(([name, value]) => `${name}=${value.StringValue}`)
    .join(', ');
  log(`after ${seconds(started)} s w1 is in the Warehouse subscription DLQ${attributes ? ` (attributes: ${attributes})` : ''}`);
  log('access denied is a client-side error: SNS does not retry it, it moves the message to the DLQ at once');

  const [inWarehouse, allOrders] = await Promise.all([
    collect(context, warehouseUrl, []),
    collect(context, allOrdersUrl, ['w1'], { settleSeconds: 0 }),
  ]);
  check(inWarehouse.length === 0, 'w1 reached the Warehouse queue although its policy denies SNS');
  check(allOrders.some((d) => d.order?.orderId === 'w1'), 'w1 did not reach AllOrders');
  log('the Warehouse queue got nothing, while AllOrders got w1: SNS delivers to each subscription independently');
}

async function fifoOrdering(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const topicArn = requireOutput(outputs, 'FifoTopicArn');
  for (const [group, orderId] of FIFO_DEMO_SENDS) {
    const { SequenceNumber } = await snsOf(context).send(
      new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify({ runId: context.runId, orderId }), MessageGroupId: group }),
    );
    log(`published ${orderId} to group ${group}${SequenceNumber ? ` (sequence number ${SequenceNumber})` : ''}`);
  }
  log('a1 was published twice with the same body: the topic\'s content-based deduplication keeps one within 5 minutes');

  for (const name of ['Billing', 'Shipping']) {
    const queueUrl = requireOutput(outputs, `${name}QueueUrl`);
    await checkFifoDemoArrival(context, queueUrl, (m) => {
      const delivered = unwrap(m);
      return isOurs(context.runId, delivered) ? (delivered.order?.orderId ?? '?') : undefined;
    }, name);
  }
  log('both FIFO queues got every message once, in publish order within each group');
}

export const steps: readonly ExerciseStep[] = [
  { id: 'fan-out', title: 'publish 5 orders; which queue got which, and why (filter policies, raw vs envelope)', run: fanOut },
  { id: 'lambda', title: 'a Lambda subscriber: on-success and on-failure destinations, not the subscription DLQ', run: lambdaSubscriber },
  { id: 'subscription-dlq', title: 'a subscriber SNS cannot deliver to: the message lands in its subscription DLQ', run: subscriptionDlq },
  { id: 'fifo', title: 'FIFO topic to two FIFO queues: order per message group, deduplication', run: fifoOrdering },
];
