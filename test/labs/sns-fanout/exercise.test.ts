import {
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { handler } from '../../../lambda/sns-subscriber';
import { snsFanoutLab } from '../../../labs/sns-fanout/lab';
import { withStack } from '../../../labs/support/app';
import { steps, timing } from '../../../labs/sns-fanout/exercise';
import { SnsFanoutLabStack } from '../../../labs/sns-fanout/stack';
import { SNS_FANOUT_POLICIES } from '../../../labs/sns-fanout/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { deployTopicsLocally, LocallyDeployedTopics, LocalLambdaSubscriber, startLocalLambdaSubscriber } from '../../support/local-sns';
import { deployQueuesLocally, LocallyDeployedQueues, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/synth';

// The steps wait for SNS deliveries, then listen 1 s (3 s against AWS) for unexpected ones.
jest.setTimeout(30_000);
// A delivery that never comes fails its step with what it saw, well before jest's own timeout would hide it.
const DEADLINE_SECONDS = 10;

const lab = withStack(snsFanoutLab, SnsFanoutLabStack);
const template = labTemplate(lab);

let sqs: LocalSqs;
let sns: SNSClient;
let queues: LocallyDeployedQueues;
let topics: LocallyDeployedTopics;
let audit: LocalLambdaSubscriber;
const printed = new Map<string, string[]>();
const context = (lines: string[] = []): ExerciseRunOptions => ({
  outputs: { ...queues.outputs, ...topics.outputs },
  log: (line) => lines.push(line),
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

beforeAll(async () => {
  sqs = await startLocalSqs();
  sns = new SNSClient({ endpoint: sqs.endpoint });
  queues = await deployQueuesLocally(template, sqs.client);
  topics = await deployTopicsLocally(template, { sns, sqs: sqs.client }, queues);
  audit = startLocalLambdaSubscriber(sqs.client, topics.lambdaSubscriptions[0], handler);
});
afterAll(async () => {
  await audit.stop();
  sns.destroy();
  await sqs.stop();
});

test('the local deployment covers every subscription: Lambda by a stand-in, the denied queue by its DLQ', () => {
  expect(topics.lambdaSubscriptions.map((s) => s.retryAttempts)).toEqual([0]);
  expect(topics.deniedSubscriptions).toEqual([expect.stringMatching(/^OrdersWarehouseQueue/)]);
  expect(topics.skipped).toEqual({});
});

describe('against the lab\'s topics and queues on fauxqs, with the real Lambda handler', () => {
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (id, s) => {
    const lines: string[] = [];
    printed.set(id, lines);
    await runExercise([s], context(lines));
    expect(lines.length).toBeGreaterThan(2);
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

test('the fan-out step fails when a deployed filter policy differs from the README', async () => {
  const SubscriptionArn = await subscriptionArnOf('HighValueQueueUrl');
  const set = (policy: object) =>
    sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn, AttributeName: 'FilterPolicy', AttributeValue: JSON.stringify(policy) }));
  await set({ total: [{ numeric: ['>=', 10] }] });
  try {
    const failure = await failureOf(runExercise(step('fan-out'), context()));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe('the deployed filter policy of HighValue selects o1, o2, o3, o4, o5, not o2 as the README says');
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
