import { Message, SendMessageCommand, SendMessageCommandInput, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler } from '../../../lambda/sqs-consumer';
import { sqsLab } from '../../../labs/sqs/lab';
import { steps, timing } from '../../../labs/sqs/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { deployQueuesLocally, LocallyDeployedQueues, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { LocalEventSource, SqsMappingSettings, sqsMappingSettings, startLocalSqsEventSource } from '../../support/local-sqs-event-source';
import { labTemplate } from '../../support/lab-template';

// The steps check the same timings as against AWS, shortened: 1 s polls and windows, a 1 s delay queue.
jest.setTimeout(30_000);
// A message that never arrives fails its step with what it saw, well before jest's own timeout would hide it.
const DEADLINE_SECONDS = 10;

const lab = sqsLab;
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
  reappearDeadlineSeconds: DEADLINE_SECONDS,
  delayedArrivalMarginSeconds: DEADLINE_SECONDS,
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

describe('against the lab\'s queues on a local SQS engine', () => {
  let consumer: LocalEventSource;
  beforeAll(() => (consumer = consume((event) => handler(event, {} as never))));
  afterAll(() => consumer.stop());

  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (id, step) => {
    await runExercise([step], { ...context(), runId: 'run-t' });
    expect(lines.map(printedShape)).toEqual(PRINTED[id]);
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

describe('each check of the steps fails when the one fact it checks is changed', () => {
  type AnyCommand = { constructor: { name: string }; input: Record<string, unknown> };
  type Answer = Record<string, unknown> & { Messages?: Message[]; Successful?: { MD5OfMessageBody?: string }[] };
  /** Answers each SQS call as `alter` says, given the call and a way to make it against the local engine. */
  function alterSqs(alter: (command: AnyCommand, send: () => Promise<Answer>) => Promise<Answer>) {
    const send = SQSClient.prototype.send;
    jest.spyOn(SQSClient.prototype, 'send').mockImplementation(function (this: SQSClient, command: AnyCommand, ...rest: unknown[]) {
      return alter(command, () => (send as (...args: unknown[]) => Promise<Answer>).call(this, command, ...rest));
    } as never);
  }
  const is = (command: AnyCommand, name: string) => command.constructor.name === `${name}Command`;
  /** A SendMessage with other input, in place of the step's (it passes through `alterSqs` again). */
  const resend = (input: Record<string, unknown>) => sqs.client.send(new SendMessageCommand(input as unknown as SendMessageCommandInput)) as unknown as Promise<Answer>;
  const stepFails = async (id: string, message: string, timingFigures = SHORT_TIMING) => {
    const failure = await runExercise(steps.filter((s) => s.id === id), context(timingFigures)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toContain(message);
  };
  const quick = { ...SHORT_TIMING, arrivalDeadlineSeconds: 1, playgroundDlqDeadlineSeconds: 1, reappearDeadlineSeconds: 1, delayedArrivalMarginSeconds: 1 };
  afterEach(() => jest.restoreAllMocks());

  describe('send-receive', () => {
    /** Every DeleteMessage made so far: after the third, the step polls the empty queue. */
    let deletes = 0;
    beforeEach(() => (deletes = 0));
    const afterDeletes = (answer: (command: AnyCommand, send: () => Promise<Answer>) => Promise<Answer>) =>
      alterSqs(async (command, send) => {
        if (is(command, 'DeleteMessage')) deletes += 1;
        return is(command, 'ReceiveMessage') && deletes === 3 ? answer(command, send) : send();
      });

    test('a batch entry SQS rejected', async () => {
      alterSqs(async (command, send) => (is(command, 'SendMessageBatch') ? { ...(await send()), Failed: [{ Id: 'm2', Code: 'InternalError', SenderFault: false }] } : send()));
      await stepFails('send-receive', 'SendMessageBatch rejected [{"Id":"m2"');
    });
    test('a body stored differently (MD5)', async () => {
      alterSqs(async (command, send) => {
        const answer = await send();
        return is(command, 'SendMessageBatch') ? { ...answer, Successful: answer.Successful?.map((r, i) => (i === 0 ? { ...r, MD5OfMessageBody: '0'.repeat(32) } : r)) } : answer;
      });
      await stepFails('send-receive', 'SQS stored a different body for m1');
    });
    test('messages that never arrive', async () => {
      alterSqs(async (command, send) => (is(command, 'ReceiveMessage') ? { ...(await send()), Messages: [] } : send()));
      await stepFails('send-receive', 'received 0 of 3 messages within 1 s', quick);
    });
    test('a message attribute lost on the way', async () => {
      alterSqs(async (command, send) => {
        const answer = await send();
        if (!is(command, 'ReceiveMessage')) return answer;
        return { ...answer, Messages: answer.Messages?.map((m) => ({ ...m, MessageAttributes: { priority: m.MessageAttributes!.priority } })) };
      });
      await stepFails('send-receive', 'did not survive the round trip: {"priority":');
    });
    test('a Number attribute that comes back as a String', async () => {
      alterSqs(async (command, send) => {
        const answer = await send();
        if (!is(command, 'ReceiveMessage')) return answer;
        return { ...answer, Messages: answer.Messages?.map((m) => ({ ...m, MessageAttributes: { ...m.MessageAttributes, priority: { DataType: 'String', StringValue: '1' } } })) };
      });
      await stepFails('send-receive', 'message attributes of order-1 did not survive the round trip: {"eventType":{"DataType":"String","StringValue":"order.created"},"priority":{"DataType":"String","StringValue":"1"}}');
    });
    test('a deleted message returned again', async () => {
      const body = JSON.stringify({ runId: 'run-deleted', orderId: 'order-1' });
      afterDeletes(async () => ({ Messages: [{ MessageId: 'm', ReceiptHandle: 'r', Body: body }] }));
      const failure = await runExercise(steps.filter((s) => s.id === 'send-receive'), { ...context(), runId: 'run-deleted' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe('the queue still returned messages of this run after they were deleted');
    });
    test('a long poll of the empty queue that returns at once', async () => {
      afterDeletes(async () => ({ Messages: [] }));
      await stepFails('send-receive', 'ReceiveMessage with WaitTimeSeconds=1 returned at once on an empty queue');
    });
  });

  test('the steps look only at messages of their own run: another run\'s order in every receive is left alone', async () => {
    const stray: Message = { MessageId: 'stray', ReceiptHandle: 'stray-receipt', Body: JSON.stringify({ runId: 'run-other', orderId: 'stray', quantity: 1 }), Attributes: { ApproximateReceiveCount: '1' } };
    const touched: string[] = [];
    alterSqs(async (command, send) => {
      if (command.input.ReceiptHandle === 'stray-receipt') touched.push(command.constructor.name);
      if (!is(command, 'ReceiveMessage')) return send();
      const answer = await send();
      return { ...answer, Messages: [stray, ...(answer.Messages ?? [])] };
    });
    await runExercise(steps.filter((s) => ['send-receive', 'visibility', 'delay'].includes(s.id)), { ...context(), runId: 'run-t' });
    expect(touched).toEqual([]);
    expect(lines.filter((line) => line.includes('stray'))).toEqual([]);
    expect(lines.map(printedShape).filter((line) => !line.startsWith('\n=='))).toEqual(
      [...PRINTED['send-receive'], ...PRINTED.visibility, ...PRINTED.delay].filter((line) => !line.startsWith('\n==')),
    );
  });

  describe('visibility', () => {
    /** The order this step sends, once SendMessage names it. */
    let body: string | undefined;
    /** The calls made so far that changed the message's visibility, by the timeout they set. */
    let changes: number[] = [];
    beforeEach(() => {
      body = undefined;
      changes = [];
    });
    const track = (command: AnyCommand) => {
      if (is(command, 'SendMessage')) body = command.input.MessageBody as string;
      if (is(command, 'ChangeMessageVisibility')) changes.push(command.input.VisibilityTimeout as number);
    };
    /** The message as SQS gave it the first time, kept to be handed out again. */
    let firstCopy: Message | undefined;

    test('a queue that redrives after 3 receives', async () => {
      alterSqs(async (command, send) => {
        const answer = await send();
        return is(command, 'GetQueueAttributes') ? { ...answer, Attributes: { ...(answer.Attributes as object), RedrivePolicy: JSON.stringify({ maxReceiveCount: 3 }) } } : answer;
      });
      await stepFails('visibility', 'expected maxReceiveCount 2 on the playground queue, found 3');
    });
    test('a message that never arrives', async () => {
      alterSqs(async (command, send) => {
        track(command);
        return is(command, 'ReceiveMessage') ? { ...(await send()), Messages: [] } : send();
      });
      await stepFails('visibility', 'the message sent did not arrive within 1 s', quick);
    });
    test('a message delivered again while in flight', async () => {
      firstCopy = undefined;
      alterSqs(async (command, send) => {
        track(command);
        const answer = await send();
        if (!is(command, 'ReceiveMessage')) return answer;
        const ours = answer.Messages?.find((m) => m.Body === body);
        if (ours && !firstCopy) firstCopy = ours;
        else if (firstCopy && changes.length === 0) return { Messages: [firstCopy] };
        return answer;
      });
      await stepFails('visibility', 'the message was delivered again while its visibility timeout was running');
    });
    /**
     * The engine until the first receive of the order; then ChangeMessageVisibility is only recorded, and the receives
     * after the first and the second change answer `afterChanges[n - 1]` (a copy of the order, or undefined for the
     * engine's own answer), so that no check waits for a visibility timeout to end.
     */
    const scripted = (afterChanges: ((copy: Message) => Answer | undefined)[], dlq: (send: () => Promise<Answer>) => Promise<Answer> = (send) => send()) =>
      alterSqs(async (command, send) => {
        track(command);
        if (is(command, 'ChangeMessageVisibility')) return {};
        if (!is(command, 'ReceiveMessage')) return send();
        if (command.input.QueueUrl === deployed.outputs.PlaygroundDlqUrl) return dlq(send);
        const scriptedAnswer = firstCopy && changes.length > 0 ? afterChanges[changes.length - 1]?.(firstCopy) : undefined;
        if (scriptedAnswer) return scriptedAnswer;
        const answer = await send();
        firstCopy ??= answer.Messages?.find((m) => m.Body === body);
        return answer;
      });
    const received = (copy: Message, count: string): Answer => ({ Messages: [{ ...copy, Attributes: { ...copy.Attributes, ApproximateReceiveCount: count } }] });

    test('a message that does not reappear after the visibility change', async () => {
      firstCopy = undefined;
      scripted([() => ({ Messages: [] })]);
      await stepFails('visibility', 'the message did not reappear within 1 s after ChangeMessageVisibility(1 s)', quick);
    });
    test('a receive count other than 2 after the visibility change', async () => {
      firstCopy = undefined;
      scripted([(copy) => received(copy, '3')]);
      await stepFails('visibility', 'expected ApproximateReceiveCount 2, got 3');
    });
    test('a third delivery past maxReceiveCount', async () => {
      firstCopy = undefined;
      scripted([(copy) => received(copy, '2'), (copy) => received(copy, '3')]);
      await stepFails('visibility', 'the message was delivered a third time although maxReceiveCount is 2');
    });
    test('a message missing from the DLQ', async () => {
      firstCopy = undefined;
      scripted([(copy) => received(copy, '2')], async (send) => ({ ...(await send()), Messages: [] }));
      await stepFails('visibility', 'the message is not in the playground DLQ 1 s after exceeding maxReceiveCount', quick);
    });
  });

  describe('delay', () => {
    const delaySecondsRead = (value: string) =>
      alterSqs(async (command, send) => {
        const answer = await send();
        return is(command, 'GetQueueAttributes') ? { ...answer, Attributes: { DelaySeconds: value } } : answer;
      });
    test('a queue without a delay', async () => {
      delaySecondsRead('0');
      await stepFails('delay', 'the delay queue has DelaySeconds=0');
    });
    test('the per-message delay not overriding the queue\'s', async () => {
      // The "immediate" message held back longer than the queue's 1 s: the delayed one arrives first.
      alterSqs((command, send) =>
        is(command, 'SendMessage') && command.input.DelaySeconds === 0 ? resend({ ...command.input, DelaySeconds: 2 }) : send(),
      );
      await stepFails('delay', 'the message sent with DelaySeconds=0 was not the first to arrive');
    });
    test('a delayed message that never arrives', async () => {
      alterSqs(async (command, send) => {
        const answer = await send();
        return is(command, 'ReceiveMessage') ? { ...answer, Messages: answer.Messages?.filter((m) => !m.Body?.includes('"orderId":"delayed"')) } : answer;
      });
      // The queue's delay is 1 s here (see beforeAll), and no margin.
      await stepFails('delay', 'the delayed message did not arrive within 1 s', { ...quick, delayedArrivalMarginSeconds: 0 });
    });
    test('a delayed message that arrives before its delay', async () => {
      // The queue says 3 s; the local queue delays by 1 s.
      delaySecondsRead('3');
      await stepFails('delay', 'before its 3 s delay');
    });
  });

  test('fifo: a message in the wrong group breaks the order of its own', async () => {
    let fifoSends = 0;
    alterSqs(async (command, send) => {
      if (!is(command, 'SendMessage') || command.input.QueueUrl !== deployed.outputs.FifoQueueUrl) return send();
      fifoSends += 1;
      // a2 (the third send) into customer-b's group.
      return fifoSends === 3 ? resend({ ...command.input, MessageGroupId: 'customer-b' }) : send();
    });
    await stepFails('fifo', 'group customer-a arrived as ["a1","a3"], expected a1, a2, a3 once each, in order');
  });
});
