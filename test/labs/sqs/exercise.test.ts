import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler } from '../../../lambda/sqs-consumer';
import { sqsLab } from '../../../labs/sqs/lab';
import { SqsLabStack } from '../../../labs/sqs/stack';
import { withStack } from '../../../labs/support/app';
import { steps, timing } from '../../../labs/sqs/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { deployQueuesLocally, LocallyDeployedQueues, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { LocalEventSource, SqsMappingSettings, sqsMappingSettings, startLocalSqsEventSource } from '../../support/local-sqs-event-source';
import { labTemplate } from '../../support/synth';

// The steps check the same timings as against AWS, shortened: 1 s polls and windows, a 1 s delay queue.
jest.setTimeout(30_000);
// A message that never arrives fails its step with what it saw, well before jest's own timeout would hide it.
const DEADLINE_SECONDS = 10;

const lab = withStack(sqsLab, SqsLabStack);
const template = labTemplate(lab);
const workQueueId = (template.toJSON().Outputs.WorkQueueUrl.Value as { Ref: string }).Ref;

let sqs: LocalSqs;
let deployed: LocallyDeployedQueues;
const lines: string[] = [];
const SHORT_TIMING = {
  emptyPollSeconds: 1,
  noRedeliveryWindowSeconds: 1,
  batchMatesPollSeconds: 1,
  arrivalDeadlineSeconds: DEADLINE_SECONDS,
  playgroundDlqDeadlineSeconds: DEADLINE_SECONDS,
  poisonDlqDeadlineSeconds: DEADLINE_SECONDS,
};
const context = (timingFigures = SHORT_TIMING): ExerciseRunOptions => ({
  outputs: deployed.outputs,
  log: (line) => lines.push(line),
  provide: [provide(timing, timingFigures)],
});

/** The lab's consumer mapping as deployed: its batch size and response types come from the template. */
const deployedMapping = sqsMappingSettings(template, workQueueId);

function consume(
  consumer: (event: SQSEvent) => Promise<SQSBatchResponse>,
  settings: SqsMappingSettings = deployedMapping,
): LocalEventSource {
  const work = deployed.queues[workQueueId];
  return startLocalSqsEventSource({ ...settings, client: sqs.client, queueUrl: work.url, queueArn: work.arn, handler: consumer });
}

beforeAll(async () => {
  sqs = await startLocalSqs();
  deployed = await deployQueuesLocally(template, sqs.client);
  // The delay step reads the queue's DelaySeconds: 1 s shows the same as the lab's 5 s.
  await sqs.client.send(new SetQueueAttributesCommand({ QueueUrl: deployed.outputs.DelayQueueUrl, Attributes: { DelaySeconds: '1' } }));
});
afterAll(() => sqs.stop());
beforeEach(() => (lines.length = 0));

describe('against the lab\'s queues on a local SQS engine', () => {
  let consumer: LocalEventSource;
  beforeAll(() => (consumer = consume((event) => handler(event, {} as never))));
  afterAll(() => consumer.stop());

  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (_id, step) => {
    await runExercise([step], context());
    expect(lines.length).toBeGreaterThan(2);
  });

  test('the poison step saw the consumer fail the poison order on every receive', () => {
    const poisonReceives = consumer.invocations
      .flatMap((event) => event.Records)
      .filter((r) => r.body.includes('"orderId":"poison-1"'))
      .map((r) => Number(r.attributes.ApproximateReceiveCount));
    expect(poisonReceives).toEqual([1, 2, 3]);
  });
});

test('the poison step fails when the consumer sends good orders to the DLQ too', async () => {
  const failEverything = consume(async (event) => ({
    batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
  }));
  try {
    const poison = steps.find((s) => s.id === 'poison')!;
    const failure = await runExercise([poison], context()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toMatch(/^good orders \(good-\d(, good-\d)?\) reached the DLQ: partial batch failure is off$/);
  } finally {
    await failEverything.stop();
  }
});

test('the poison step fails when the consumer mapping stops reporting partial batch failures', async () => {
  expect(deployedMapping).toEqual({ batchSize: 10, reportBatchItemFailures: true });
  // What Lambda does when FunctionResponseTypes loses ReportBatchItemFailures: the handler's answer is ignored and the
  // whole batch deleted, the poison order with it.
  const withoutPartialFailures = consume((event) => handler(event, {} as never), { ...deployedMapping, reportBatchItemFailures: false });
  try {
    const poison = steps.find((s) => s.id === 'poison')!;
    const failure = await runExercise([poison], context({ ...SHORT_TIMING, poisonDlqDeadlineSeconds: 3 })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('no message of this run reached the DLQ within 3 s');
  } finally {
    await withoutPartialFailures.stop();
  }
});
