import { DeleteMessageCommand, Message, SQSClient } from '@aws-sdk/client-sqs';
import {
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  PublishCommandInput,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { handler } from '../../../lambda/sns-subscriber';
import { snsFanoutLab } from '../../../labs/sns-fanout/lab';
import { steps, timing } from '../../../labs/sns-fanout/exercise';
import { SNS_FANOUT_POLICIES } from '../../../labs/sns-fanout/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { deployTopicsLocally, LocallyDeployedTopics, LocalLambdaSubscriber, startLocalLambdaSubscriber } from '../../support/local-sns';
import { deployQueuesLocally, LocallyDeployedQueues, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/lab-template';
import { alter as alterAnswers, Answer as AnyAnswer, AnyCommand, is } from '../../support/altered-answers';
import { concurrentTest } from '../../support/concurrent-test';

// The steps wait for SNS deliveries, then listen 1 s (3 s against AWS) for unexpected ones.
jest.setTimeout(30_000);
// A delivery that never comes fails its step with what it saw, well before jest's own timeout would hide it.
const DEADLINE_SECONDS = 10;

const lab = snsFanoutLab;
const template = labTemplate(lab);

let sqs: LocalSqs;
let sns: SNSClient;
// The deployment the sequential tests share.
let queues: LocallyDeployedQueues;
let topics: LocallyDeployedTopics;
let audit: LocalLambdaSubscriber;
const printed = new Map<string, string[]>();
const context = (lines: string[] = [], runId?: string, deployment: Pick<Deployment, 'queues' | 'topics'> = { queues, topics }): ExerciseRunOptions => ({
  outputs: { ...deployment.queues.outputs, ...deployment.topics.outputs },
  log: (line) => lines.push(line),
  runId,
  provide: [
    provide(timing, {
      settleSeconds: 1,
      deliveryDeadlineSeconds: DEADLINE_SECONDS,
      subscriptionDlqDeadlineSeconds: DEADLINE_SECONDS,
      onSuccessRecordDeadlineSeconds: DEADLINE_SECONDS,
      onFailureRecordDeadlineSeconds: DEADLINE_SECONDS,
    }),
  ],
});
const step = (id: string) => steps.filter((s) => s.id === id);
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error);

type SqsAnswer = AnyAnswer & { Messages?: Message[] };
type Alteration = (command: AnyCommand, send: () => Promise<SqsAnswer>) => Promise<SqsAnswer>;

/**
 * The lab's queues, topics and Lambda stand-in, deployed once for the sequential tests and once for each concurrent
 * one. The steps wait for deliveries (a deadline, then 1 s of listening) far more than they compute: the tests that
 * wait run at once (`concurrentTest`), each against its own deployment, as a message one test receives would stay
 * hidden from another for the queue's visibility timeout. A test's alterations change its own calls only.
 */
interface Deployment {
  readonly queues: LocallyDeployedQueues;
  readonly topics: LocallyDeployedTopics;
  readonly audit: LocalLambdaSubscriber;
}
const deployments: Deployment[] = [];
let deploymentsMade = 0;
async function deploy(nameSuffix = `-${(deploymentsMade += 1)}`): Promise<Deployment> {
  const ownQueues = await deployQueuesLocally(template, sqs.client, nameSuffix);
  const ownTopics = await deployTopicsLocally(template, { sns, sqs: sqs.client }, ownQueues, nameSuffix);
  const deployment: Deployment = {
    queues: ownQueues,
    topics: ownTopics,
    audit: startLocalLambdaSubscriber(sqs.client, ownTopics.lambdaSubscriptions[0], handler),
  };
  deployments.push(deployment);
  return deployment;
}

beforeAll(async () => {
  sqs = await startLocalSqs();
  sns = new SNSClient({ endpoint: sqs.endpoint });
  ({ queues, topics, audit } = await deploy(''));
});
afterAll(async () => {
  await Promise.all(deployments.map((d) => d.audit.stop()));
  sns.destroy();
  await sqs.stop();
});

test('the local deployment covers every subscription: Lambda by a stand-in, the denied queue by its DLQ', () => {
  expect(topics.lambdaSubscriptions.map((s) => s.retryAttempts)).toEqual([0]);
  expect(topics.deniedSubscriptions).toEqual([expect.stringMatching(/^OrdersWarehouseQueue/)]);
  expect(topics.skipped).toEqual({});
});

// What each step of run `run-t` prints against fauxqs, line by line (its title first; printedShape says what varies):
// the lab's lesson is in these lines.
const PRINTED: Record<string, string[]> = {
  'fan-out': [
    '\n== 1/1 fan-out: publish 5 orders; which queue got which, and why (filter policies, raw vs envelope)',
    'the orders topic has 5 subscriptions; reading the filter policies of the 3 queues from SNS',
    '  AllOrders: filter none (every message) on MessageAttributes, raw delivery off',
    '  HighValue: filter {"eventType":["order.placed"],"total":[{"numeric":[">=",100]}]} on MessageAttributes, raw delivery on',
    '  Express: filter {"shipping":{"method":["express"]},"status":[{"anything-but":["cancelled"]}]} on MessageBody, raw delivery on',
    'published o1 (UUID): attributes eventType=order.placed total=25; body shipping.method=standard status=placed',
    'published o2 (UUID): attributes eventType=order.placed total=250; body shipping.method=standard status=placed',
    'published o3 (UUID): attributes eventType=order.placed total=40; body shipping.method=express status=placed',
    'published o4 (UUID): attributes eventType=order.cancelled total=500; body shipping.method=express status=cancelled',
    'published o5 (UUID): attributes eventType=refund.issued total=300; body shipping.method=standard status=refunded',
    'AllOrders received o1, o2, o3, o4, o5:',
    '  ✓ o1: no filter policy: every message',
    '  ✓ o2: no filter policy: every message',
    '  ✓ o3: no filter policy: every message',
    '  ✓ o4: no filter policy: every message',
    '  ✓ o5: no filter policy: every message',
    '  envelope: the body is SNS\'s JSON (Type, MessageId, TopicArn, Message, MessageAttributes, Signature...)',
    'HighValue received o2:',
    '  ✗ o1: eventType="order.placed" matched "order.placed"; total=25 matched none of [{"numeric":[">=",100]}]',
    '  ✓ o2: eventType="order.placed" matched "order.placed"; total=250 matched {"numeric":[">=",100]}',
    '  ✗ o3: eventType="order.placed" matched "order.placed"; total=40 matched none of [{"numeric":[">=",100]}]',
    '  ✗ o4: eventType="order.cancelled" matched none of ["order.placed"]; total=500 matched {"numeric":[">=",100]}',
    '  ✗ o5: eventType="refund.issued" matched none of ["order.placed"]; total=300 matched {"numeric":[">=",100]}',
    '  raw delivery: the body is the published JSON, the attributes are SQS message attributes',
    'Express received o3:',
    '  ✗ o1: shipping.method="standard" matched none of ["express"]; status="placed" matched {"anything-but":["cancelled"]}',
    '  ✗ o2: shipping.method="standard" matched none of ["express"]; status="placed" matched {"anything-but":["cancelled"]}',
    '  ✓ o3: shipping.method="express" matched "express"; status="placed" matched {"anything-but":["cancelled"]}',
    '  ✗ o4: shipping.method="express" matched "express"; status="cancelled" matched none of [{"anything-but":["cancelled"]}]',
    '  ✗ o5: shipping.method="standard" matched none of ["express"]; status="refunded" matched {"anything-but":["cancelled"]}',
    '  raw delivery: the body is the published JSON, the attributes are SQS message attributes',
  ],
  lambda: [
    '\n== 1/1 lambda: a Lambda subscriber: on-success and on-failure destinations, not the subscription DLQ',
    'published l1 (UUID): attributes eventType=order.placed total=60; body shipping.method=standard status=placed',
    'published l2 (UUID): attributes eventType=order.placed total=60; body shipping.method=standard status=placed fail=true',
    'SNS invokes the Audit function asynchronously; Lambda reports the outcome to the function\'s destinations',
    'after N s, on-success destination: condition=Success, the function returned {"processed":["l1"]}',
    'after N s, on-failure destination: condition=RetriesExhausted after 1 invocation(s), OrderRejected: SNS message UUID rejected: order l2 asked to fail ("fail": true)',
    'the Audit subscription DLQ stayed empty: SNS delivered l2 (Lambda accepted the event); the function failed later',
  ],
  'subscription-dlq': [
    '\n== 1/1 subscription-dlq: a subscriber SNS cannot deliver to: the message lands in its subscription DLQ',
    'published w1 (UUID): attributes eventType=stock.reserved total=80 warehouse=berlin; body shipping.method=standard status=reserved',
    'the Warehouse subscription matches it (warehouse exists), but the Warehouse queue\'s policy denies SNS',
    'after N s w1 is in the Warehouse subscription DLQ',
    'access denied is a client-side error: SNS does not retry it, it moves the message to the DLQ at once',
    'the Warehouse queue got nothing, while AllOrders got w1: SNS delivers to each subscription independently',
  ],
  fifo: [
    '\n== 1/1 fifo: FIFO topic to two FIFO queues: order per message group, deduplication',
    'published a1 to group customer-a',
    'published b1 to group customer-b',
    'published a2 to group customer-a',
    'published b2 to group customer-b',
    'published a3 to group customer-a',
    'published a1 to group customer-a',
    'a1 was published twice with the same body: the topic\'s content-based deduplication keeps one within 5 minutes',
    'Billing per group: {"customer-a":["a1","a2","a3"],"customer-b":["b1","b2"]}',
    'Shipping per group: {"customer-a":["a1","a2","a3"],"customer-b":["b1","b2"]}',
    'both FIFO queues got every message once, in publish order within each group',
  ],
};

const printedShape = (line: string) => line.replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, 'UUID').replace(/after \d+\.\d s/, 'after N s');

describe('against the lab\'s topics and queues on fauxqs, with the real Lambda handler', () => {
  // One run id for the steps, in order, as in a learner's run: each step must tell its messages from the others'.
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (id, s) => {
    const lines: string[] = [];
    printed.set(id, lines);
    await runExercise([s], context(lines, 'run-t'));
    expect(lines.map(printedShape)).toEqual(PRINTED[id]);
  });

  test('the fan-out step explained each verdict with the key that decided it', () => {
    expect(printed.get('fan-out')).toEqual(
      expect.arrayContaining([
        'HighValue received o2:',
        '  ✓ o2: eventType="order.placed" matched "order.placed"; total=250 matched {"numeric":[">=",100]}',
        '  ✗ o4: eventType="order.cancelled" matched none of ["order.placed"]; total=500 matched {"numeric":[">=",100]}',
        'Express received o3:',
        '  ✗ o4: shipping.method="express" matched "express"; status="cancelled" matched none of [{"anything-but":["cancelled"]}]',
      ]),
    );
  });

  test('the Lambda handler ran once per matching order, and the failing one was not retried (retryAttempts 0)', () => {
    const orderIds = audit.invocations.map((e) => (JSON.parse(e.Records[0].Sns.Message) as { orderId: string }).orderId);
    expect(orderIds.sort()).toEqual(['l1', 'l2', 'o1', 'o2', 'o3', 'o4']);
  });
});

async function subscriptionArnOf(output: string): Promise<string> {
  const queue = Object.values(queues.queues).find((q) => q.url === queues.outputs[output])!;
  const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topics.outputs.OrdersTopicArn }));
  return Subscriptions.find((s) => s.Endpoint === queue.arn)!.SubscriptionArn!;
}

test.each<[string, object, string]>([
  ['differs from the README', { total: [{ numeric: ['>=', 10] }] }, 'selects o1, o2, o3, o4, o5, not o2 as the README says'],
  ['selects none of the orders', { eventType: ['order.shipped'] }, 'selects nothing, not o2 as the README says'],
])('the fan-out step fails when a deployed filter policy %s', async (_, policy, message) => {
  const SubscriptionArn = await subscriptionArnOf('HighValueQueueUrl');
  const set = (filterPolicy: object) =>
    sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn, AttributeName: 'FilterPolicy', AttributeValue: JSON.stringify(filterPolicy) }));
  await set(policy);
  try {
    const failure = await failureOf(runExercise(step('fan-out'), context()));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe(`the deployed filter policy of HighValue ${message}`);
  } finally {
    await set(SNS_FANOUT_POLICIES.highValue);
  }
});

test('the subscription-dlq step fails when SNS can deliver to the Warehouse queue', async () => {
  const warehouse = Object.values(queues.queues).find((q) => q.url === queues.outputs.WarehouseQueueUrl)!;
  const { SubscriptionArn } = await sns.send(
    new SubscribeCommand({ TopicArn: topics.outputs.OrdersTopicArn, Protocol: 'sqs', Endpoint: warehouse.arn }),
  );
  try {
    const failure = await failureOf(runExercise(step('subscription-dlq'), context()));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe('w1 reached the Warehouse queue although its policy denies SNS');
  } finally {
    await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
  }
});

describe('each check of the steps fails when the one fact it checks is changed', () => {
  const RUN_ID = 'run-negative';
  type Answer = AnyAnswer & { Messages?: Message[] };
  const alter = alterAnswers<Answer>;
  /** SQS as fauxqs answers, except receives from `queueUrl`, whose messages `edit` rewrites. */
  const editedReceives = (queueUrl: string, edit: (messages: Message[]) => Message[]): Alteration => async (command, send) => {
    // A message the test made up has no receipt fauxqs knows.
    if (is(command, 'DeleteMessage') && command.input.ReceiptHandle === 'made-up') return {};
    const answer = await send();
    return is(command, 'ReceiveMessage') && command.input.QueueUrl === queueUrl ? { ...answer, Messages: edit(answer.Messages ?? []) } : answer;
  };
  /** For the sequential tests: receives from the shared queue of `output` return the messages `edit` makes of fauxqs's. */
  const receivesFrom = (output: string, edit: (messages: Message[]) => Message[]) => alter(SQSClient, editedReceives(queues.outputs[output], edit));
  /**
   * For the concurrent tests, which wait out a 1 s deadline: a deployment of the test's own, where receives from the
   * queue of `output` return the messages `edit` makes of fauxqs's.
   */
  const deployedWithReceivesFrom = async (output: string, edit: (messages: Message[]) => Message[]) => {
    const deployment = await deploy();
    alter(SQSClient, editedReceives(deployment.queues.outputs[output], edit));
    return deployment;
  };
  const madeUp = (body: object): Message => ({ MessageId: 'made-up', ReceiptHandle: 'made-up', Body: JSON.stringify({ runId: RUN_ID, ...body }) });
  const editBody = (message: Message, edit: (body: Record<string, unknown>) => object): Message => ({ ...message, Body: JSON.stringify(edit(JSON.parse(message.Body ?? '{}'))) });
  const ofRun = (message: Message) => message.Body?.includes(RUN_ID) ?? false;
  const stepFails = async (id: string, message: string, deadlines: Record<string, number> = {}, deployment?: Deployment) => {
    const options = context([], undefined, deployment);
    // No listening for late deliveries: each change below is seen by the receives that wait for the expected ones.
    const figures = { ...(options.provide![0].value as object), settleSeconds: 0, ...deadlines };
    const failure = await failureOf(runExercise(step(id), { ...options, runId: RUN_ID, provide: [provide(timing, figures as never)] }));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toContain(message);
  };
  afterEach(() => jest.restoreAllMocks());

  describe('fan-out', () => {
    test('a queue no subscription delivers to', async () => {
      const highValue = Object.values(queues.queues).find((q) => q.url === queues.outputs.HighValueQueueUrl)!;
      alter(SNSClient, async (command, send) => {
        const answer = (await send()) as Answer & { Subscriptions?: { Endpoint?: string }[] };
        return is(command, 'ListSubscriptionsByTopic') ? { ...answer, Subscriptions: answer.Subscriptions?.filter((s) => s.Endpoint !== highValue.arn) } : answer;
      });
      await stepFails('fan-out', 'no subscription of the orders topic delivers to the HighValue queue');
    });
    test('a queue that gets an order its filter policy does not select', async () => {
      receivesFrom('ExpressQueueUrl', (messages) => (messages.some(ofRun) ? [...messages, madeUp({ orderId: 'o4' })] : messages));
      await stepFails('fan-out', 'Express received o3, o4 but its filter policy selects o3.');
    });
    test('an envelope although raw delivery is on', async () => {
      receivesFrom('HighValueQueueUrl', (messages) =>
        messages.map((m) => (ofRun(m) ? { ...m, Body: JSON.stringify({ Type: 'Notification', TopicArn: topics.outputs.OrdersTopicArn, Message: m.Body }) } : m)),
      );
      await stepFails('fan-out', "HighValue has raw delivery on but got SNS's JSON envelope");
    });
    test('raw delivery without the message attributes', async () => {
      receivesFrom('HighValueQueueUrl', (messages) => messages.map((m) => (ofRun(m) ? { ...m, MessageAttributes: {} } : m)));
      await stepFails('fan-out', 'HighValue: with raw delivery the SNS message attributes should arrive as SQS attributes, got {}');
    });
    concurrentTest('a queue SNS delivers nothing to', async () => {
      const deployment = await deploy();
      const allOrdersUrl = deployment.queues.outputs.AllOrdersQueueUrl;
      // Received and deleted before the step sees them: as if SNS never delivered them.
      alter(SQSClient, async (command, send) => {
        const answer = await send();
        if (!is(command, 'ReceiveMessage') || command.input.QueueUrl !== allOrdersUrl) return answer;
        for (const m of (answer.Messages ?? []).filter(ofRun)) await sqs.client.send(new DeleteMessageCommand({ QueueUrl: allOrdersUrl, ReceiptHandle: m.ReceiptHandle }));
        return { ...answer, Messages: (answer.Messages ?? []).filter((m) => !ofRun(m)) };
      });
      await stepFails(
        'fan-out',
        'AllOrders received nothing but its filter policy selects o1, o2, o3, o4, o5. SNS applies new or changed filter policies within up to 15 minutes: right after a deploy, wait and run the step again.',
        { deliveryDeadlineSeconds: 1 },
        deployment,
      );
    });
    test('raw delivery with the eventType attribute but without total', async () => {
      receivesFrom('HighValueQueueUrl', (messages) => messages.map((m) => (ofRun(m) ? { ...m, MessageAttributes: { eventType: m.MessageAttributes!.eventType } } : m)));
      await stepFails('fan-out', 'HighValue: with raw delivery the SNS message attributes should arrive as SQS attributes, got {"eventType":{"DataType":"String","StringValue":"order.placed"}}');
    });
    test('raw delivery with total as a String attribute', async () => {
      receivesFrom('HighValueQueueUrl', (messages) =>
        messages.map((m) => (ofRun(m) ? { ...m, MessageAttributes: { ...m.MessageAttributes, total: { DataType: 'String', StringValue: '250' } } } : m)),
      );
      await stepFails('fan-out', 'HighValue: with raw delivery the SNS message attributes should arrive as SQS attributes, got {"eventType":{"DataType":"String","StringValue":"order.placed"},"total":{"DataType":"String","StringValue":"250"}}');
    });
    test('raw delivery with no message attributes at all', async () => {
      receivesFrom('HighValueQueueUrl', (messages) => messages.map((m) => (ofRun(m) ? { ...m, MessageAttributes: undefined } : m)));
      await stepFails('fan-out', 'HighValue: with raw delivery the SNS message attributes should arrive as SQS attributes, got {}');
    });
    test('the published JSON although raw delivery is off', async () => {
      receivesFrom('AllOrdersQueueUrl', (messages) => messages.map((m) => (ofRun(m) ? editBody(m, (body) => JSON.parse(body.Message as string)) : m)));
      await stepFails('fan-out', "AllOrders has raw delivery off but its message is not SNS's envelope with the topic ARN and the attributes");
    });
    test('an envelope without the message attributes', async () => {
      receivesFrom('AllOrdersQueueUrl', (messages) => messages.map((m) => (ofRun(m) ? editBody(m, (body) => ({ ...body, MessageAttributes: undefined })) : m)));
      await stepFails('fan-out', "AllOrders has raw delivery off but its message is not SNS's envelope with the topic ARN and the attributes");
    });
    test('an envelope whose total is a String attribute', async () => {
      receivesFrom('AllOrdersQueueUrl', (messages) =>
        messages.map((m) => (ofRun(m) ? editBody(m, (body) => ({ ...body, MessageAttributes: { ...(body.MessageAttributes as object), total: { Type: 'String', Value: '25' } } })) : m)),
      );
      await stepFails('fan-out', "AllOrders has raw delivery off but its message is not SNS's envelope with the topic ARN and the attributes");
    });
    test('an envelope from another topic', async () => {
      receivesFrom('AllOrdersQueueUrl', (messages) => messages.map((m) => (ofRun(m) ? editBody(m, (body) => ({ ...body, TopicArn: `${topics.outputs.OrdersTopicArn}-other` })) : m)));
      await stepFails('fan-out', "AllOrders has raw delivery off but its message is not SNS's envelope with the topic ARN and the attributes");
    });
  });

  describe('lambda', () => {
    type Record = { requestContext?: object; responsePayload?: object; requestPayload?: { Records?: { Sns?: { Message?: string } }[] } };
    const ofOrder = (message: Message, orderId: string) => {
      const record = JSON.parse(message.Body ?? '{}') as Record;
      return (record.requestPayload?.Records?.[0]?.Sns?.Message ?? '').includes(`"orderId":"${orderId}"`);
    };
    concurrentTest('no on-success record', async () => {
      const deployment = await deployedWithReceivesFrom('AuditSucceededQueueUrl', () => []);
      await stepFails('lambda', 'no on-success record for l1 within 1 s: did SNS invoke the function?', { onSuccessRecordDeadlineSeconds: 1 }, deployment);
    });
    test('an on-success record that is not a success', async () => {
      receivesFrom('AuditSucceededQueueUrl', (messages) => messages.map((m) => (ofOrder(m, 'l1') ? editBody(m, (r) => ({ ...r, requestContext: { condition: 'RetriesExhausted' } })) : m)));
      await stepFails('lambda', 'the on-success record of l1 is not a success returning it: {"condition":"RetriesExhausted"}');
    });
    test('an on-success record without the function\'s answer', async () => {
      receivesFrom('AuditSucceededQueueUrl', (messages) => messages.map((m) => (ofOrder(m, 'l1') ? editBody(m, (r) => ({ ...r, requestContext: { condition: 'Success' }, responsePayload: undefined })) : m)));
      await stepFails('lambda', 'the on-success record of l1 is not a success returning it: {"condition":"Success"} undefined');
    });
    concurrentTest('no on-failure record', async () => {
      const deployment = await deployedWithReceivesFrom('AuditFailedQueueUrl', () => []);
      await stepFails('lambda', 'no on-failure record for l2 within 1 s', { onFailureRecordDeadlineSeconds: 1 }, deployment);
    });
    test("an on-failure record without the function's error", async () => {
      receivesFrom('AuditFailedQueueUrl', (messages) => messages.map((m) => (ofOrder(m, 'l2') ? editBody(m, (r) => ({ ...r, responsePayload: { errorType: 'Error', errorMessage: 'timeout' } })) : m)));
      await stepFails('lambda', 'the on-failure record of l2 does not carry the function\'s error: {"errorType":"Error","errorMessage":"timeout"}');
    });
    test('an on-failure record with the error type but no message', async () => {
      receivesFrom('AuditFailedQueueUrl', (messages) => messages.map((m) => (ofOrder(m, 'l2') ? editBody(m, (r) => ({ ...r, responsePayload: { errorType: 'OrderRejected' } })) : m)));
      await stepFails('lambda', 'the on-failure record of l2 does not carry the function\'s error: {"errorType":"OrderRejected"}');
    });
    test('the failed order in the subscription DLQ', async () => {
      receivesFrom('AuditSubscriptionDlqUrl', (messages) => [...messages, madeUp({ orderId: 'l2' })]);
      await stepFails('lambda', 'l2 reached the Audit subscription DLQ');
    });
  });

  describe('subscription-dlq', () => {
    concurrentTest('an order missing from the subscription DLQ', async () => {
      const deployment = await deployedWithReceivesFrom('WarehouseSubscriptionDlqUrl', () => []);
      await stepFails('subscription-dlq', 'w1 did not reach the Warehouse subscription DLQ within 1 s', { subscriptionDlqDeadlineSeconds: 1 }, deployment);
    });
    concurrentTest('an order missing from AllOrders', async () => {
      const deployment = await deployedWithReceivesFrom('AllOrdersQueueUrl', (messages) => messages.filter((m) => !ofRun(m)));
      await stepFails('subscription-dlq', 'w1 did not reach AllOrders', { deliveryDeadlineSeconds: 1 }, deployment);
    });
    concurrentTest('another order of this run in AllOrders in place of w1 (as an earlier step of the run leaves one)', async () => {
      const asO1 = (envelope: Record<string, unknown>) => ({ ...envelope, Message: JSON.stringify({ ...JSON.parse(envelope.Message as string), orderId: 'o1' }) });
      const deployment = await deployedWithReceivesFrom('AllOrdersQueueUrl', (messages) => messages.map((m) => (ofRun(m) ? editBody(m, asO1) : m)));
      await stepFails('subscription-dlq', 'w1 did not reach AllOrders', { deliveryDeadlineSeconds: 1 }, deployment);
    });
  });

  test('fifo: a message published to the wrong group breaks the order of its own', async () => {
    let fifoPublishes = 0;
    alter(SNSClient, async (command, send) => {
      if (!is(command, 'Publish') || command.input.TopicArn !== topics.outputs.FifoTopicArn) return send();
      fifoPublishes += 1;
      // a2 (the third publish) into customer-b's group.
      return fifoPublishes === 3 ? (sns.send(new PublishCommand({ ...command.input, MessageGroupId: 'customer-b' } as unknown as PublishCommandInput)) as never) : send();
    });
    await stepFails('fifo', 'Billing: group customer-a arrived as ["a1","a3"], expected a1, a2, a3 once each, in order');
  });
});

describe('a step passes, printing the same, when the engines answer in other ways the real services may', () => {
  type Answer = AnyAnswer & { Messages?: Message[]; Subscriptions?: { SubscriptionArn?: string; Endpoint?: string }[] };
  const alter = alterAnswers<Answer>;
  /** Runs the step with its own run id, no listening for late deliveries, and returns what it printed. */
  const passes = async (id: string, runId: string) => {
    const lines: string[] = [];
    const options = context(lines, runId);
    const figures = { ...(options.provide![0].value as object), settleSeconds: 0 };
    await runExercise(step(id), { ...options, provide: [provide(timing, figures as never)] });
    return lines.map(printedShape);
  };
  /** SQS as fauxqs answers, with `extra` messages (never deleted: their receipts are made up) after each answer from the queue of `output`. */
  const alsoReceives = (output: string, extra: Message[], reorder = (messages: Message[]) => messages) =>
    alter(SQSClient, async (command, send) => {
      if (is(command, 'DeleteMessage') && command.input.ReceiptHandle === 'made-up') return {};
      const answer = await send();
      return is(command, 'ReceiveMessage') && command.input.QueueUrl === queues.outputs[output] ? { ...answer, Messages: [...reorder(answer.Messages ?? []), ...extra] } : answer;
    });
  const message = (Body: string): Message => ({ MessageId: 'made-up', ReceiptHandle: 'made-up', Body });
  afterEach(() => jest.restoreAllMocks());

  test('fan-out: subscriptions over two pages with one pending confirmation; other runs\' and unreadable messages in a queue', async () => {
    alter(SNSClient, async (command, send) => {
      if (!is(command, 'ListSubscriptionsByTopic') || command.input.TopicArn !== topics.outputs.OrdersTopicArn) return send();
      // SNS pages its answer: the first two, then the rest, with a subscription still waiting for its confirmation.
      const page = command.input.NextToken;
      command.input.NextToken = undefined;
      const { Subscriptions = [], ...answer } = await send();
      if (page === 'page-2') return { ...answer, Subscriptions: Subscriptions.slice(2) };
      const pending = { SubscriptionArn: 'PendingConfirmation', Endpoint: Subscriptions[0].Endpoint, Protocol: 'sqs', TopicArn: command.input.TopicArn };
      return { ...answer, Subscriptions: [...Subscriptions.slice(0, 2), pending], NextToken: 'page-2' };
    });
    const published: string[] = [];
    alter(SNSClient, async (command, send) => {
      if (is(command, 'Publish')) published.push(command.input.Message as string);
      return send();
    });
    // A standard queue keeps no order: the orders arrive last published first.
    alsoReceives('AllOrdersQueueUrl', [
      message('not JSON'),
      message('null'),
      message(JSON.stringify({ runId: 'run-other', orderId: 'o9' })),
      message(JSON.stringify({ Type: 'Notification', TopicArn: topics.outputs.OrdersTopicArn, Message: JSON.stringify({ runId: 'run-other', orderId: 'o1' }) })),
    ], (messages) => [...messages].reverse());
    expect(await passes('fan-out', 'run-pages')).toEqual(PRINTED['fan-out']);
    expect(published.map((body) => JSON.parse(body))).toEqual([
      { runId: 'run-pages', orderId: 'o1', total: 25, status: 'placed', shipping: { method: 'standard', country: 'DE' } },
      { runId: 'run-pages', orderId: 'o2', total: 250, status: 'placed', shipping: { method: 'standard', country: 'DE' } },
      { runId: 'run-pages', orderId: 'o3', total: 40, status: 'placed', shipping: { method: 'express', country: 'DE' } },
      { runId: 'run-pages', orderId: 'o4', total: 500, status: 'cancelled', shipping: { method: 'express', country: 'DE' } },
      { runId: 'run-pages', orderId: 'o5', total: 300, status: 'refunded', shipping: { method: 'standard', country: 'DE' } },
    ]);
  });

  test('lambda: destination records of other runs, of another order of the run, and unreadable ones are not taken for l1\'s', async () => {
    const record = (runId: string, orderId: string, condition: string, processed: string[]) =>
      message(JSON.stringify({
        requestContext: { condition, approximateInvokeCount: 1 },
        requestPayload: { Records: [{ Sns: { Message: JSON.stringify({ runId, orderId }) } }] },
        responsePayload: { processed },
      }));
    alsoReceives('AuditSucceededQueueUrl', [
      message('not JSON'),
      message(JSON.stringify({ requestContext: { condition: 'Success' } })),
      record('run-other', 'l1', 'RetriesExhausted', []),
      record('run-records', 'l0', 'Success', ['l0']),
    ]);
    // The first long poll of the on-success queue ends empty: the step polls again until its deadline.
    let firstPoll = true;
    alter(SQSClient, async (command, send) => {
      if (!firstPoll || !is(command, 'ReceiveMessage') || command.input.QueueUrl !== queues.outputs.AuditSucceededQueueUrl) return send();
      firstPoll = false;
      return { Messages: [] };
    });
    const lines = await passes('lambda', 'run-records');
    expect(lines.slice(0, 5)).toEqual(PRINTED.lambda.slice(0, 5));
  });

  test('subscription-dlq: the message in the DLQ shows the attributes it was published with', async () => {
    alter(SQSClient, async (command, send) => {
      const answer = await send();
      if (!is(command, 'ReceiveMessage') || command.input.QueueUrl !== queues.outputs.WarehouseSubscriptionDlqUrl) return answer;
      return {
        ...answer,
        Messages: (answer.Messages ?? []).map((m) => ({
          ...m,
          MessageAttributes: { eventType: { DataType: 'String', StringValue: 'stock.reserved' }, warehouse: { DataType: 'String', StringValue: 'berlin' } },
        })),
      };
    });
    const lines = await passes('subscription-dlq', 'run-dlq-attributes');
    expect(lines[3]).toBe('after N s w1 is in the Warehouse subscription DLQ (attributes: eventType=stock.reserved, warehouse=berlin)');
  });

  test('fifo: the sequence numbers SNS gives FIFO publishes are printed', async () => {
    let sequence = 10_000_000_000_000_000_000n;
    alter(SNSClient, async (command, send) => {
      const answer = await send();
      if (!is(command, 'Publish') || command.input.TopicArn !== topics.outputs.FifoTopicArn) return answer;
      sequence += 1n;
      return { ...answer, SequenceNumber: String(sequence) };
    });
    const lines = await passes('fifo', 'run-sequence');
    expect(lines.slice(1, 3)).toEqual(['published a1 to group customer-a (sequence number 10000000000000000001)', 'published b1 to group customer-b (sequence number 10000000000000000002)']);
    expect(lines.slice(3)).toEqual(PRINTED.fifo.slice(3).map((l) => (l.startsWith('published') ? expect.stringMatching(/^published .+ \(sequence number \d{20}\)$/) : l)));
  });
});
