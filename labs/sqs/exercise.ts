import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  Message,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { check, defineTiming, elapsedSeconds as seconds, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import {
  checkFifoDemoArrival,
  deleteMessage as remove,
  FIFO_DEMO_SENDS,
  nextWaitSeconds,
  receiveMessages as receive,
  receiveAllUntil,
  receiveUntil,
  sqsOf,
} from '../support/sqs-messages';
import { SQS_LAB } from './constants';

export const timing = defineTiming(SQS_LAB.exerciseTiming);

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
/** The body of an order of this run, and whether a message is one. */
const runOrders = (runId: string) => ({
  order: (orderId: string, extra: Record<string, unknown> = {}) => JSON.stringify({ runId, orderId, quantity: 1, ...extra }),
  isOurs: (message: Message) => message.Body?.includes(`"runId":"${runId}"`) ?? false,
});
const orderIdOf = (message: Message) => (JSON.parse(message.Body ?? '{}') as { orderId?: string }).orderId;

const receiveCount = (message: Message) => Number(message.Attributes?.ApproximateReceiveCount);

async function sendAndReceive(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { order, isOurs } = runOrders(context.runId);
  const queueUrl = requireOutput(outputs, 'PlaygroundQueueUrl');
  const entries = [1, 2, 3].map((n) => ({
    Id: `m${n}`,
    MessageBody: order(`order-${n}`),
    MessageAttributes: {
      eventType: { DataType: 'String', StringValue: 'order.created' },
      priority: { DataType: 'Number', StringValue: String(n) },
    },
  }));
  const sent = await sqsOf(context).send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  check((sent.Failed ?? []).length === 0, `SendMessageBatch rejected ${JSON.stringify(sent.Failed)}`);
  for (const result of sent.Successful ?? []) {
    const body = entries.find((e) => e.Id === result.Id)?.MessageBody ?? '';
    check(result.MD5OfMessageBody === md5(body), `SQS stored a different body for ${result.Id}`);
    log(`sent ${result.Id} as ${result.MessageId} (MD5 of body verified: ${result.MD5OfMessageBody})`);
  }

  const received = new Map<string, Message>();
  const { arrivalDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + arrivalDeadlineSeconds * 1000;
  while (received.size < entries.length && Date.now() < deadline) {
    for (const message of (await receive(context, queueUrl, nextWaitSeconds(deadline))).filter(isOurs)) received.set(orderIdOf(message) ?? '', message);
  }
  check(received.size === entries.length, `received ${received.size} of ${entries.length} messages within ${arrivalDeadlineSeconds} s`);
  for (const [orderId, message] of received) {
    const attributes = message.MessageAttributes ?? {};
    check(
      attributes.eventType?.StringValue === 'order.created' && attributes.priority?.DataType === 'Number',
      `message attributes of ${orderId} did not survive the round trip: ${JSON.stringify(attributes)}`,
    );
    log(`received ${orderId}: eventType=${attributes.eventType.StringValue} priority=${attributes.priority.StringValue}`);
    await remove(context, queueUrl, message);
  }
  log('deleted all three: a received message stays in the queue until the consumer deletes it');

  const { emptyPollSeconds } = await context.use(timing);
  const started = Date.now();
  const empty = (await receive(context, queueUrl, emptyPollSeconds)).filter(isOurs);
  check(empty.length === 0, 'the queue still returned messages of this run after they were deleted');
  check(Date.now() - started >= (emptyPollSeconds - 0.5) * 1000, `ReceiveMessage with WaitTimeSeconds=${emptyPollSeconds} returned at once on an empty queue`);
  log(`an empty long poll (WaitTimeSeconds=${emptyPollSeconds}) waited ${seconds(started)} s before returning nothing`);
}

async function visibilityTimeout(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { order } = runOrders(context.runId);
  const queueUrl = requireOutput(outputs, 'PlaygroundQueueUrl');
  const dlqUrl = requireOutput(outputs, 'PlaygroundDlqUrl');
  const { Attributes } = await sqsOf(context).send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'] }),
  );
  const maxReceiveCount = Number(JSON.parse(Attributes?.RedrivePolicy ?? '{}').maxReceiveCount);
  log(`playground queue: VisibilityTimeout=${Attributes?.VisibilityTimeout} s, maxReceiveCount=${maxReceiveCount}`);
  check(maxReceiveCount === 2, `expected maxReceiveCount 2 on the playground queue, found ${maxReceiveCount}`);

  const body = order('visibility-demo');
  await sqsOf(context).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  const mine = (message: Message) => message.Body === body;

  const { arrivalDeadlineSeconds, noRedeliveryWindowSeconds, playgroundDlqDeadlineSeconds, reappearDeadlineSeconds } = await context.use(timing);
  const first = await receiveUntil(context, queueUrl, mine, arrivalDeadlineSeconds);
  check(first !== undefined, `the message sent did not arrive within ${arrivalDeadlineSeconds} s`);
  log(`receive #1: got it, ApproximateReceiveCount=${receiveCount(first)}; it is now invisible to other consumers`);
  const hidden = await receiveUntil(context, queueUrl, mine, 1);
  check(hidden === undefined, 'the message was delivered again while its visibility timeout was running');
  log('receive right after: nothing; the message is in flight');

  await sqsOf(context).send(
    new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 1 }),
  );
  const started = Date.now();
  const second = await receiveUntil(context, queueUrl, mine, reappearDeadlineSeconds);
  check(second !== undefined, `the message did not reappear within ${reappearDeadlineSeconds} s after ChangeMessageVisibility(1 s)`);
  check(receiveCount(second) === 2, `expected ApproximateReceiveCount 2, got ${receiveCount(second)}`);
  log(`ChangeMessageVisibility(1 s): it reappeared after ${seconds(started)} s, ApproximateReceiveCount=2`);

  await sqsOf(context).send(
    new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: second.ReceiptHandle, VisibilityTimeout: 0 }),
  );
  const third = await receiveUntil(context, queueUrl, mine, noRedeliveryWindowSeconds);
  check(third === undefined, 'the message was delivered a third time although maxReceiveCount is 2');
  log('released again (visibility 0), but receive #3 gets nothing: SQS moved it to the DLQ instead');
  const dead = await receiveUntil(context, dlqUrl, mine, playgroundDlqDeadlineSeconds);
  check(dead !== undefined, `the message is not in the playground DLQ ${playgroundDlqDeadlineSeconds} s after exceeding maxReceiveCount`);
  log(`found it in the DLQ (ApproximateReceiveCount=${receiveCount(dead)}); deleting it`);
  await remove(context, dlqUrl, dead);
}

async function delayQueue(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { order } = runOrders(context.runId);
  const queueUrl = requireOutput(outputs, 'DelayQueueUrl');
  const { Attributes } = await sqsOf(context).send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['DelaySeconds'] }),
  );
  const delaySeconds = Number(Attributes?.DelaySeconds);
  check(delaySeconds > 0, `the delay queue has DelaySeconds=${delaySeconds}`);
  const delayed = order('delayed');
  const immediate = order('immediate');
  const sentAt = Date.now();
  await sqsOf(context).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: delayed }));
  await sqsOf(context).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: immediate, DelaySeconds: 0 }));
  log(`sent one message with the queue's delay (${delaySeconds} s) and one with DelaySeconds=0`);

  const first = await receiveUntil(context, queueUrl, (m) => m.Body === immediate || m.Body === delayed, 10);
  check(first?.Body === immediate, 'the message sent with DelaySeconds=0 was not the first to arrive');
  log(`after ${seconds(sentAt)} s: the DelaySeconds=0 message (a per-message delay overrides the queue's)`);
  await remove(context, queueUrl, first);
  const { delayedArrivalMarginSeconds } = await context.use(timing);
  const second = await receiveUntil(context, queueUrl, (m) => m.Body === delayed, delaySeconds + delayedArrivalMarginSeconds);
  check(second !== undefined, `the delayed message did not arrive within ${delaySeconds + delayedArrivalMarginSeconds} s`);
  const waited = (Date.now() - sentAt) / 1000;
  check(waited >= delaySeconds - 0.5, `the delayed message arrived after ${waited} s, before its ${delaySeconds} s delay`);
  log(`after ${waited.toFixed(1)} s: the delayed message`);
  await remove(context, queueUrl, second);
}

async function fifoOrdering(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { order, isOurs } = runOrders(context.runId);
  const queueUrl = requireOutput(outputs, 'FifoQueueUrl');
  for (const [group, orderId] of FIFO_DEMO_SENDS) {
    const { MessageId } = await sqsOf(context).send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: order(orderId), MessageGroupId: group }),
    );
    log(`sent ${orderId} to group ${group} → ${MessageId}`);
  }
  log('a1 was sent twice with the same body: content-based deduplication keeps one within 5 minutes');

  await checkFifoDemoArrival(context, queueUrl, (m) => (isOurs(m) ? orderIdOf(m) : undefined));
  log('order is kept inside each message group, and the duplicate a1 was never delivered');
}

async function poisonMessage(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { order, isOurs } = runOrders(context.runId);
  const queueUrl = requireOutput(outputs, 'WorkQueueUrl');
  const dlqUrl = requireOutput(outputs, 'WorkDlqUrl');
  const { Attributes } = await sqsOf(context).send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'] }),
  );
  const visibility = Number(Attributes?.VisibilityTimeout);
  const maxReceiveCount = Number(JSON.parse(Attributes?.RedrivePolicy ?? '{}').maxReceiveCount);
  const expected = visibility * maxReceiveCount;

  const entries = [
    { Id: 'good1', MessageBody: order('good-1') },
    { Id: 'poison', MessageBody: order('poison-1', { poison: true }) },
    { Id: 'good2', MessageBody: order('good-2') },
  ];
  await sqsOf(context).send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  log(`sent 2 good orders and 1 poison order to the work queue; the Lambda consumer fails the poison one each time`);
  log(`visibility timeout ${visibility} s × maxReceiveCount ${maxReceiveCount}: expect it in the DLQ after ~${expected} s`);

  const { poisonDlqDeadlineSeconds, batchMatesPollSeconds } = await context.use(timing);
  const started = Date.now();
  // Every message of this run in the receive that finds one: a good order received beside the poison one must be seen.
  const arrived = await receiveAllUntil(context, dlqUrl, isOurs, poisonDlqDeadlineSeconds);
  check(arrived.length > 0, `no message of this run reached the DLQ within ${poisonDlqDeadlineSeconds} s`);
  const first = arrived[0];
  // Messages of one failed batch reach the DLQ together: one more short poll collects any that came after them.
  const dead = [...arrived, ...(await receive(context, dlqUrl, batchMatesPollSeconds)).filter(isOurs)];
  for (const message of dead) await remove(context, dlqUrl, message);
  const good = dead.map(orderIdOf).filter((id) => id !== 'poison-1');
  check(good.length === 0, `good orders (${good.join(', ')}) reached the DLQ: partial batch failure is off`);
  log(`after ${seconds(started)} s the poison order is in the DLQ, received ${receiveCount(first)} times; deleted it`);
  log('the good orders of the same batch were deleted after one receive: only failed records return to the queue');
}

export const steps: readonly ExerciseStep[] = [
  { id: 'send-receive', title: 'send with attributes, long-poll receive, delete', run: sendAndReceive },
  { id: 'visibility', title: 'visibility timeout, ChangeMessageVisibility, redrive to the DLQ', run: visibilityTimeout },
  { id: 'delay', title: 'delay queue and a per-message delay', run: delayQueue },
  { id: 'fifo', title: 'FIFO: order per message group and deduplication', run: fifoOrdering },
  { id: 'poison', title: 'a poison message through the Lambda consumer lands in the DLQ', run: poisonMessage },
];
