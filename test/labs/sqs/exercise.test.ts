import { Message, SendMessageCommand, SendMessageCommandInput, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler } from '../../../lambda/sqs-consumer';
import { sqsLab } from '../../../labs/sqs/lab';
import { steps, timing } from '../../../labs/sqs/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { deployQueuesLocally, LocallyDeployedQueues, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { LocalEventSource, SqsMappingSettings, sqsMappingSettings, startLocalSqsEventSource } from '../../support/local-sqs-event-source';
import { concurrentTest } from '../../support/concurrent-test';
import { labTemplate } from '../../support/lab-template';
import { alter, Answer as AnyAnswer, AnyCommand, is } from '../../support/altered-answers';

// The steps check the same timings as against AWS, shortened: 1 s polls and windows, a 1 s delay queue.
jest.setTimeout(30_000);
// A message that never arrives fails its step with what it saw, well before jest's own timeout would hide it.
const DEADLINE_SECONDS = 10;

const lab = sqsLab;
const template = labTemplate(lab);
const workQueueId = (template.toJSON().Outputs.WorkQueueUrl.Value as { Ref: string }).Ref;

let sqs: LocalSqs;
const SHORT_TIMING = {
  emptyPollSeconds: 1,
  noRedeliveryWindowSeconds: 1,
  batchMatesPollSeconds: 1,
  arrivalDeadlineSeconds: DEADLINE_SECONDS,
  playgroundDlqDeadlineSeconds: DEADLINE_SECONDS,
  poisonDlqDeadlineSeconds: DEADLINE_SECONDS,
  reappearDeadlineSeconds: DEADLINE_SECONDS,
  delayedArrivalMarginSeconds: DEADLINE_SECONDS,
};

/** The lab's consumer mapping as deployed: its batch size and response types come from the template. */
const deployedMapping = sqsMappingSettings(template, workQueueId);

type Answer = AnyAnswer & { Messages?: Message[]; Successful?: { MD5OfMessageBody?: string }[] };
type Alteration = (command: AnyCommand, send: () => Promise<Answer>) => Promise<Answer>;

/**
 * The lab's queues deployed for one test alone, with what the test reads of them. The tests wait on SQS timings (1 s
 * long polls, windows and delays) far more than they compute: they run at once (`concurrentTest`), each against its
 * own queues, printing to its own lines.
 */
interface Deployment extends LocallyDeployedQueues {
  readonly lines: string[];
  context(timingFigures?: typeof SHORT_TIMING): ExerciseRunOptions;
  /** The lab's consumer on this deployment's work queue, with the mapping's settings. */
  consume(consumer: (event: SQSEvent) => Promise<SQSBatchResponse>, settings?: SqsMappingSettings): LocalEventSource;
}

let deployments = 0;
async function deploy(): Promise<Deployment> {
  const deployed = await deployQueuesLocally(template, sqs.client, `-${(deployments += 1)}`);
  // The delay step reads the queue's DelaySeconds: 1 s shows the same as the lab's 5 s.
  await sqs.client.send(new SetQueueAttributesCommand({ QueueUrl: deployed.outputs.DelayQueueUrl, Attributes: { DelaySeconds: '1' } }));
  const lines: string[] = [];
  return {
    ...deployed,
    lines,
    context: (timingFigures = SHORT_TIMING) => ({ outputs: deployed.outputs, log: (line) => lines.push(line), provide: [provide(timing, timingFigures)] }),
    consume: (consumer, settings = deployedMapping) => {
      const work = deployed.queues[workQueueId];
      return startLocalSqsEventSource({ ...settings, client: sqs.client, queueUrl: work.url, queueArn: work.arn, handler: consumer });
    },
  };
}

/** Answers each SQS call the test makes as `alteration` says, given the call and a way to make it against the local engine. */
const alterSqs = (alteration: Alteration) => alter<Answer>(SQSClient, alteration);

beforeAll(async () => (sqs = await startLocalSqs()));
// Under Stryker the tests run one at a time, and an alteration is a spy.
afterEach(() => jest.restoreAllMocks());
afterAll(() => sqs.stop());

// What each step prints, line by line (its title first; printedShape says what varies: message ids, times, and how
// often the DLQ was polled): the lab's lesson is in these lines.
const PRINTED: Record<string, string[]> = {
  'send-receive': [
    '\n== 1/1 send-receive: send with attributes, long-poll receive, delete',
    'sent m1 as UUID (MD5 of body verified: aa04e05ddf0077e35cf533a1368b050c)',
    'sent m2 as UUID (MD5 of body verified: 6cf86cf11e7dc06e5eea1a9afc0a95ec)',
    'sent m3 as UUID (MD5 of body verified: cc6a186e9c01b6dad1cd21132cdbd837)',
    'received order-1: eventType=order.created priority=1',
    'received order-2: eventType=order.created priority=2',
    'received order-3: eventType=order.created priority=3',
    'deleted all three: a received message stays in the queue until the consumer deletes it',
    'an empty long poll (WaitTimeSeconds=1) waited N s before returning nothing',
  ],
  visibility: [
    '\n== 1/1 visibility: visibility timeout, ChangeMessageVisibility, redrive to the DLQ',
    'playground queue: VisibilityTimeout=10 s, maxReceiveCount=2',
    'receive #1: got it, ApproximateReceiveCount=1; it is now invisible to other consumers',
    'receive right after: nothing; the message is in flight',
    'ChangeMessageVisibility(1 s): it reappeared after N s, ApproximateReceiveCount=2',
    'released again (visibility 0), but receive #3 gets nothing: SQS moved it to the DLQ instead',
    'found it in the DLQ (ApproximateReceiveCount=N); deleting it',
  ],
  delay: [
    '\n== 1/1 delay: delay queue and a per-message delay',
    'sent one message with the queue\'s delay (1 s) and one with DelaySeconds=0',
    'after N s: the DelaySeconds=0 message (a per-message delay overrides the queue\'s)',
    'after N s: the delayed message',
  ],
  fifo: [
    '\n== 1/1 fifo: FIFO: order per message group and deduplication',
    'sent a1 to group customer-a → UUID',
    'sent b1 to group customer-b → UUID',
    'sent a2 to group customer-a → UUID',
    'sent b2 to group customer-b → UUID',
    'sent a3 to group customer-a → UUID',
    'sent a1 to group customer-a → UUID',
    'a1 was sent twice with the same body: content-based deduplication keeps one within 5 minutes',
    'received per group: {"customer-a":["a1","a2","a3"],"customer-b":["b1","b2"]}',
    'order is kept inside each message group, and the duplicate a1 was never delivered',
  ],
  poison: [
    '\n== 1/1 poison: a poison message through the Lambda consumer lands in the DLQ',
    'sent 2 good orders and 1 poison order to the work queue; the Lambda consumer fails the poison one each time',
    'visibility timeout 30 s × maxReceiveCount 3: expect it in the DLQ after ~90 s',
    'after N s the poison order is in the DLQ, received N times; deleted it',
    'the good orders of the same batch were deleted after one receive: only failed records return to the queue',
  ],
};
const printedShape = (line: string) =>
  line
    .replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, 'UUID')
    .replace(/\d+\.\d s/, 'N s')
    .replace(/in the DLQ \(ApproximateReceiveCount=\d+\)/, 'in the DLQ (ApproximateReceiveCount=N)')
    .replace(/received \d+ times/, 'received N times');

const stepsOf = (...ids: string[]) => steps.filter((s) => ids.includes(s.id));
/** Runs the step `id` on a deployment and expects it to fail with `message`. */
async function stepFails(deployment: Deployment, id: string, message: string, timingFigures = SHORT_TIMING): Promise<void> {
  const failure = await runExercise(stepsOf(id), deployment.context(timingFigures)).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ExerciseCheckFailed);
  expect((failure as Error).message).toContain(message);
}
/** A SendMessage with other input, in place of the step's (it passes through the test's alteration again). */
const resend = (input: Record<string, unknown>) => sqs.client.send(new SendMessageCommand(input as unknown as SendMessageCommandInput)) as unknown as Promise<Answer>;
/** Every receive of the test comes back empty. */
const nothingReceived: Alteration = async (command, send) => (is(command, 'ReceiveMessage') ? { ...(await send()), Messages: [] } : send());
const quick = { ...SHORT_TIMING, arrivalDeadlineSeconds: 1, playgroundDlqDeadlineSeconds: 1, reappearDeadlineSeconds: 1, delayedArrivalMarginSeconds: 1 };

describe('against the lab\'s queues on a local SQS engine', () => {
  concurrentTest.each(steps.filter((s) => s.id !== 'poison').map((s) => [s.id, s] as const))('step %s passes its own checks', async (id, step) => {
    const deployment = await deploy();
    await runExercise([step], { ...deployment.context(), runId: 'run-t' });
    expect(deployment.lines.map(printedShape)).toEqual(PRINTED[id]);
  });

  concurrentTest('step poison passes its own checks: the consumer failed the poison order on every receive', async () => {
    const deployment = await deploy();
    const consumer = deployment.consume((event) => handler(event, {} as never));
    try {
      await runExercise(stepsOf('poison'), { ...deployment.context(), runId: 'run-t' });
    } finally {
      await consumer.stop();
    }
    expect(deployment.lines.map(printedShape)).toEqual(PRINTED.poison);
    const poisonReceives = consumer.invocations
      .flatMap((event) => event.Records)
      .filter((r) => r.body.includes('"orderId":"poison-1"'))
      .map((r) => Number(r.attributes.ApproximateReceiveCount));
    expect(poisonReceives).toEqual([1, 2, 3]);
  });
});

concurrentTest('the poison step fails when the consumer sends good orders to the DLQ too', async () => {
  const deployment = await deploy();
  const failEverything = deployment.consume(async (event) => ({
    batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
  }));
  try {
    const failure = await runExercise(stepsOf('poison'), deployment.context()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toMatch(/^good orders \(good-\d(, good-\d)?\) reached the DLQ: partial batch failure is off$/);
  } finally {
    await failEverything.stop();
  }
});

concurrentTest('the poison step fails when the consumer mapping stops reporting partial batch failures', async () => {
  expect(deployedMapping).toEqual({ batchSize: 10, reportBatchItemFailures: true });
  const deployment = await deploy();
  // What Lambda does when FunctionResponseTypes loses ReportBatchItemFailures: the handler's answer is ignored and the
  // whole batch deleted, the poison order with it.
  const withoutPartialFailures = deployment.consume((event) => handler(event, {} as never), { ...deployedMapping, reportBatchItemFailures: false });
  try {
    const failure = await runExercise(stepsOf('poison'), deployment.context({ ...SHORT_TIMING, poisonDlqDeadlineSeconds: 3 })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('no message of this run reached the DLQ within 3 s');
  } finally {
    await withoutPartialFailures.stop();
  }
});

describe('each check of the steps fails when the one fact it checks is changed', () => {
  describe('send-receive', () => {
    /** Answers the receives made after the step's third DeleteMessage (the poll of the emptied queue) as `answer` says. */
    const afterDeletes = (answer: Alteration) => {
      let deletes = 0;
      alterSqs(async (command, send) => {
        if (is(command, 'DeleteMessage')) deletes += 1;
        return is(command, 'ReceiveMessage') && deletes === 3 ? answer(command, send) : send();
      });
    };

    concurrentTest('a batch entry SQS rejected', async () => {
      const deployment = await deploy();
      alterSqs(async (command, send) => (is(command, 'SendMessageBatch') ? { ...(await send()), Failed: [{ Id: 'm2', Code: 'InternalError', SenderFault: false }] } : send()));
      await stepFails(deployment, 'send-receive', 'SendMessageBatch rejected [{"Id":"m2"');
    });
    concurrentTest('a body stored differently (MD5)', async () => {
      const deployment = await deploy();
      alterSqs(async (command, send) => {
        const answer = await send();
        return is(command, 'SendMessageBatch') ? { ...answer, Successful: answer.Successful?.map((r, i) => (i === 0 ? { ...r, MD5OfMessageBody: '0'.repeat(32) } : r)) } : answer;
      });
      await stepFails(deployment, 'send-receive', 'SQS stored a different body for m1');
    });
    concurrentTest('messages that never arrive', async () => {
      const deployment = await deploy();
      alterSqs(nothingReceived);
      await stepFails(deployment, 'send-receive', 'received 0 of 3 messages within 1 s', quick);
    });
    concurrentTest('a message attribute lost on the way', async () => {
      const deployment = await deploy();
      alterSqs(async (command, send) => {
        const answer = await send();
        if (!is(command, 'ReceiveMessage')) return answer;
        return { ...answer, Messages: answer.Messages?.map((m) => ({ ...m, MessageAttributes: { priority: m.MessageAttributes!.priority } })) };
      });
      await stepFails(deployment, 'send-receive', 'did not survive the round trip: {"priority":');
    });
    concurrentTest('a Number attribute that comes back as a String', async () => {
      const deployment = await deploy();
      alterSqs(async (command, send) => {
        const answer = await send();
        if (!is(command, 'ReceiveMessage')) return answer;
        return { ...answer, Messages: answer.Messages?.map((m) => ({ ...m, MessageAttributes: { ...m.MessageAttributes, priority: { DataType: 'String', StringValue: '1' } } })) };
      });
      await stepFails(deployment, 'send-receive', 'message attributes of order-1 did not survive the round trip: {"eventType":{"DataType":"String","StringValue":"order.created"},"priority":{"DataType":"String","StringValue":"1"}}');
    });
    concurrentTest('a deleted message returned again', async () => {
      const deployment = await deploy();
      const body = JSON.stringify({ runId: 'run-deleted', orderId: 'order-1' });
      afterDeletes(async () => ({ Messages: [{ MessageId: 'm', ReceiptHandle: 'r', Body: body }] }));
      const failure = await runExercise(stepsOf('send-receive'), { ...deployment.context(), runId: 'run-deleted' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe('the queue still returned messages of this run after they were deleted');
    });
    concurrentTest('a long poll of the empty queue that returns at once', async () => {
      const deployment = await deploy();
      afterDeletes(async () => ({ Messages: [] }));
      await stepFails(deployment, 'send-receive', 'ReceiveMessage with WaitTimeSeconds=1 returned at once on an empty queue');
    });
  });

  concurrentTest('the steps look only at messages of their own run: another run\'s order in every receive is left alone', async () => {
    const deployment = await deploy();
    const stray: Message = { MessageId: 'stray', ReceiptHandle: 'stray-receipt', Body: JSON.stringify({ runId: 'run-other', orderId: 'stray', quantity: 1 }), Attributes: { ApproximateReceiveCount: '1' } };
    const touched: string[] = [];
    alterSqs(async (command, send) => {
      if (command.input.ReceiptHandle === 'stray-receipt') touched.push(command.constructor.name);
      if (!is(command, 'ReceiveMessage')) return send();
      const answer = await send();
      return { ...answer, Messages: [stray, ...(answer.Messages ?? [])] };
    });
    await runExercise(stepsOf('send-receive', 'visibility', 'delay'), { ...deployment.context(), runId: 'run-t' });
    expect(touched).toEqual([]);
    expect(deployment.lines.filter((line) => line.includes('stray'))).toEqual([]);
    expect(deployment.lines.map(printedShape).filter((line) => !line.startsWith('\n=='))).toEqual(
      [...PRINTED['send-receive'], ...PRINTED.visibility, ...PRINTED.delay].filter((line) => !line.startsWith('\n==')),
    );
  });

  describe('visibility', () => {
    /**
     * The step's order, once SendMessage names it, and the timeouts of the calls that changed its visibility so far;
     * `firstCopy` is the message as SQS gave it the first time, kept to be handed out again.
     */
    const tracked = () => {
      const seen = { body: undefined as string | undefined, changes: [] as number[], firstCopy: undefined as Message | undefined };
      const track = (command: AnyCommand) => {
        if (is(command, 'SendMessage')) seen.body = command.input.MessageBody as string;
        if (is(command, 'ChangeMessageVisibility')) seen.changes.push(command.input.VisibilityTimeout as number);
      };
      return { seen, track };
    };

    concurrentTest('a queue that redrives after 3 receives', async () => {
      const deployment = await deploy();
      alterSqs(async (command, send) => {
        const answer = await send();
        return is(command, 'GetQueueAttributes') ? { ...answer, Attributes: { ...(answer.Attributes as object), RedrivePolicy: JSON.stringify({ maxReceiveCount: 3 }) } } : answer;
      });
      await stepFails(deployment, 'visibility', 'expected maxReceiveCount 2 on the playground queue, found 3');
    });
    concurrentTest('a message that never arrives', async () => {
      const deployment = await deploy();
      alterSqs(nothingReceived);
      await stepFails(deployment, 'visibility', 'the message sent did not arrive within 1 s', quick);
    });
    concurrentTest('a message delivered again while in flight', async () => {
      const deployment = await deploy();
      const { seen, track } = tracked();
      alterSqs(async (command, send) => {
        track(command);
        const answer = await send();
        if (!is(command, 'ReceiveMessage')) return answer;
        const ours = answer.Messages?.find((m) => m.Body === seen.body);
        if (ours && !seen.firstCopy) seen.firstCopy = ours;
        else if (seen.firstCopy && seen.changes.length === 0) return { Messages: [seen.firstCopy] };
        return answer;
      });
      await stepFails(deployment, 'visibility', 'the message was delivered again while its visibility timeout was running');
    });
    /**
     * A deployment whose engine answers the test until the first receive of the order; then ChangeMessageVisibility is only
     * recorded, and the receives after the first and the second change answer `afterChanges[n - 1]` (a copy of the
     * order, or undefined for the engine's own answer), so that no check waits for a visibility timeout to end.
     */
    const scripted = async (afterChanges: ((copy: Message) => Answer | undefined)[], dlq: (send: () => Promise<Answer>) => Promise<Answer> = (send) => send()) => {
      const deployment = await deploy();
      const { seen, track } = tracked();
      alterSqs(async (command, send) => {
        track(command);
        if (is(command, 'ChangeMessageVisibility')) return {};
        if (!is(command, 'ReceiveMessage')) return send();
        if (command.input.QueueUrl === deployment.outputs.PlaygroundDlqUrl) return dlq(send);
        const scriptedAnswer = seen.firstCopy && seen.changes.length > 0 ? afterChanges[seen.changes.length - 1]?.(seen.firstCopy) : undefined;
        if (scriptedAnswer) return scriptedAnswer;
        const answer = await send();
        seen.firstCopy ??= answer.Messages?.find((m) => m.Body === seen.body);
        return answer;
      });
      return deployment;
    };
    const received = (copy: Message, count: string): Answer => ({ Messages: [{ ...copy, Attributes: { ...copy.Attributes, ApproximateReceiveCount: count } }] });

    concurrentTest('a message that does not reappear after the visibility change', async () => {
      const deployment = await scripted([() => ({ Messages: [] })]);
      await stepFails(deployment, 'visibility', 'the message did not reappear within 1 s after ChangeMessageVisibility(1 s)', quick);
    });
    concurrentTest('a receive count other than 2 after the visibility change', async () => {
      const deployment = await scripted([(copy) => received(copy, '3')]);
      await stepFails(deployment, 'visibility', 'expected ApproximateReceiveCount 2, got 3');
    });
    concurrentTest('a third delivery past maxReceiveCount', async () => {
      const deployment = await scripted([(copy) => received(copy, '2'), (copy) => received(copy, '3')]);
      await stepFails(deployment, 'visibility', 'the message was delivered a third time although maxReceiveCount is 2');
    });
    concurrentTest('a message missing from the DLQ', async () => {
      const deployment = await scripted([(copy) => received(copy, '2')], async (send) => ({ ...(await send()), Messages: [] }));
      await stepFails(deployment, 'visibility', 'the message is not in the playground DLQ 1 s after exceeding maxReceiveCount', quick);
    });
  });

  describe('delay', () => {
    const delaySecondsRead = (value: string) =>
      alterSqs(async (command, send) => {
        const answer = await send();
        return is(command, 'GetQueueAttributes') ? { ...answer, Attributes: { DelaySeconds: value } } : answer;
      });
    concurrentTest('a queue without a delay', async () => {
      const deployment = await deploy();
      delaySecondsRead('0');
      await stepFails(deployment, 'delay', 'the delay queue has DelaySeconds=0');
    });
    concurrentTest('the per-message delay not overriding the queue\'s', async () => {
      const deployment = await deploy();
      // The "immediate" message held back longer than the queue's 1 s: the delayed one arrives first.
      alterSqs((command, send) =>
        is(command, 'SendMessage') && command.input.DelaySeconds === 0 ? resend({ ...command.input, DelaySeconds: 2 }) : send(),
      );
      await stepFails(deployment, 'delay', 'the message sent with DelaySeconds=0 was not the first to arrive');
    });
    concurrentTest('a delayed message that never arrives', async () => {
      const deployment = await deploy();
      alterSqs(async (command, send) => {
        const answer = await send();
        return is(command, 'ReceiveMessage') ? { ...answer, Messages: answer.Messages?.filter((m) => !m.Body?.includes('"orderId":"delayed"')) } : answer;
      });
      // The queue's delay is 1 s here (see deploy), and no margin.
      await stepFails(deployment, 'delay', 'the delayed message did not arrive within 1 s', { ...quick, delayedArrivalMarginSeconds: 0 });
    });
    concurrentTest('a delayed message that arrives before its delay', async () => {
      const deployment = await deploy();
      // The queue says 3 s; the local queue delays by 1 s.
      delaySecondsRead('3');
      await stepFails(deployment, 'delay', 'before its 3 s delay');
    });
  });

  concurrentTest('fifo: a message in the wrong group breaks the order of its own', async () => {
    const deployment = await deploy();
    let fifoSends = 0;
    alterSqs(async (command, send) => {
      if (!is(command, 'SendMessage') || command.input.QueueUrl !== deployment.outputs.FifoQueueUrl) return send();
      fifoSends += 1;
      // a2 (the third send) into customer-b's group.
      return fifoSends === 3 ? resend({ ...command.input, MessageGroupId: 'customer-b' }) : send();
    });
    await stepFails(deployment, 'fifo', 'group customer-a arrived as ["a1","a3"], expected a1, a2, a3 once each, in order');
  });
});
