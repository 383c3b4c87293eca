import { DeleteMessageCommand, Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { ExerciseCheckFailed, startExerciseRun } from '../../../labs/support/exercise';
import {
  checkFifoDemoArrival,
  deleteMessage,
  FIFO_DEMO_SENDS,
  nextWaitSeconds,
  receiveAllUntil,
  receiveMessages,
  receiveUntil,
  sqsOf,
} from '../../../labs/support/sqs-messages';

const sqsMock = mockClient(SQSClient);
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/111122223333/orders';
const logged: string[] = [];
const run = startExerciseRun({ outputs: {}, log: (line) => logged.push(line) });
/** The clock the helpers read (Date.now): a test moves it instead of waiting. */
let now = 1_000_000;

beforeEach(() => {
  sqsMock.reset();
  logged.length = 0;
  now = 1_000_000;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => jest.restoreAllMocks());
afterAll(() => run.close());

const message = (body: string, group?: string): Message => ({
  Body: body,
  ReceiptHandle: `handle-${body}`,
  ...(group === undefined ? {} : { Attributes: { MessageGroupId: group } }),
});
const receiveInputs = () => sqsMock.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input);
const deletedHandles = () => sqsMock.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle);

test('sqsOf is the run\'s shared SQS client', () => {
  expect(sqsOf(run.context)).toBeInstanceOf(SQSClient);
  expect(sqsOf(run.context)).toBe(run.context.client(SQSClient, 'SQS'));
});

test('receiveMessages asks for up to 10 messages with all their attributes and the receive count, sent time and group', async () => {
  sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [message('a')] });
  expect(await receiveMessages(run.context, QUEUE, 7)).toEqual([message('a')]);
  await receiveMessages(run.context, QUEUE, 0, ['SequenceNumber']);
  expect(receiveInputs()).toEqual([
    {
      QueueUrl: QUEUE,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 7,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId'],
    },
    expect.objectContaining({ WaitTimeSeconds: 0, MessageSystemAttributeNames: ['SequenceNumber'] }),
  ]);
});

test('receiveMessages returns [] for a receive with no messages', async () => {
  sqsMock.on(ReceiveMessageCommand).resolves({});
  expect(await receiveMessages(run.context, QUEUE, 1)).toEqual([]);
});

test('deleteMessage deletes by the message\'s receipt handle', async () => {
  sqsMock.on(DeleteMessageCommand).resolves({});
  await deleteMessage(run.context, QUEUE, message('a'));
  expect(sqsMock.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input)).toEqual([{ QueueUrl: QUEUE, ReceiptHandle: 'handle-a' }]);
});

test('nextWaitSeconds is the whole seconds left before the deadline, kept within SQS\'s 1-20', () => {
  expect(nextWaitSeconds(now + 5_999)).toBe(5);
  expect(nextWaitSeconds(now + 6_000)).toBe(6);
  expect(nextWaitSeconds(now + 20_000)).toBe(20);
  expect(nextWaitSeconds(now + 21_000)).toBe(20);
  expect(nextWaitSeconds(now + 1_000)).toBe(1);
  expect(nextWaitSeconds(now + 999)).toBe(1);
  expect(nextWaitSeconds(now - 5_000)).toBe(1);
});

test('receiveAllUntil polls until a receive holds wanted messages, and returns all of those only', async () => {
  sqsMock
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [message('other')] })
    .callsFakeOnce(() => {
      now += 3_000;
      return { Messages: [message('ours-1'), message('other'), message('ours-2')] };
    });
  const wanted = (m: Message) => m.Body!.startsWith('ours');
  expect((await receiveAllUntil(run.context, QUEUE, wanted, 10)).map((m) => m.Body)).toEqual(['ours-1', 'ours-2']);
  expect(receiveInputs().map((input) => input.WaitTimeSeconds)).toEqual([10, 10]);
  expect(deletedHandles()).toEqual([]);
});

test('receiveAllUntil returns [] once the timeout passes, and waits no longer than what is left of it', async () => {
  sqsMock.on(ReceiveMessageCommand).callsFake(() => {
    now += 4_000;
    return { Messages: [message('other')] };
  });
  expect(await receiveAllUntil(run.context, QUEUE, () => false, 10)).toEqual([]);
  expect(receiveInputs().map((input) => input.WaitTimeSeconds)).toEqual([10, 6, 2]);
  sqsMock.resetHistory();
  expect(await receiveAllUntil(run.context, QUEUE, () => true, 0)).toEqual([]);
  expect(receiveInputs()).toEqual([]);
});

test('receiveUntil returns the first wanted message, or undefined once the timeout passes', async () => {
  sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [message('other'), message('ours-1'), message('ours-2')] });
  expect((await receiveUntil(run.context, QUEUE, (m) => m.Body!.startsWith('ours'), 5))?.Body).toBe('ours-1');
  expect(await receiveUntil(run.context, QUEUE, () => true, 0)).toBeUndefined();
});

describe('checkFifoDemoArrival', () => {
  const sentMessages = () => FIFO_DEMO_SENDS.map(([group, orderId], i) => message(`${orderId}#${i}`, group));
  const orderIdOfOurs = (m: Message) => (m.Body === 'stray' ? undefined : m.Body!.split('#')[0]);

  beforeEach(() => {
    sqsMock.on(DeleteMessageCommand).resolves({});
  });

  test('passes when each group arrives once and in order, deleting every message it receives, a stranger\'s too', async () => {
    // The duplicate a1 (the last send) is dropped by content-based deduplication.
    const [a1, b1, a2, b2, a3] = sentMessages();
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [a1, b1, message('stray')] })
      .resolvesOnce({ Messages: [a2, b2] })
      .resolvesOnce({ Messages: [a3] });
    await checkFifoDemoArrival(run.context, QUEUE, orderIdOfOurs, 'fifo');
    expect(logged).toEqual(['fifo per group: {"customer-a":["a1","a2","a3"],"customer-b":["b1","b2"]}']);
    expect(deletedHandles()).toEqual(['handle-a1#0', 'handle-b1#1', 'handle-stray', 'handle-a2#2', 'handle-b2#3', 'handle-a3#4']);
    expect(receiveInputs().map((input) => input.WaitTimeSeconds)).toEqual([5, 5, 5]);
  });

  test('fails naming the group that arrived out of order, with the default label', async () => {
    const [a1, b1, a2, b2, a3] = sentMessages();
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: [a2, a1, b1, b2, a3] });
    const failure = checkFifoDemoArrival(run.context, QUEUE, orderIdOfOurs);
    await expect(failure).rejects.toThrow(ExerciseCheckFailed);
    await expect(failure).rejects.toThrow('received: group customer-a arrived as ["a2","a1","a3"], expected a1, a2, a3 once each, in order');
    expect(logged).toEqual(['received per group: {"customer-a":["a2","a1","a3"],"customer-b":["b1","b2"]}']);
  });

  test('gives up after 30 seconds, failing on a group that did not arrive, and files a message with no group under ?', async () => {
    const [a1, , a2, , a3] = sentMessages();
    sqsMock.on(ReceiveMessageCommand).callsFake(() => {
      now += 10_000;
      return now <= 1_010_000 ? { Messages: [a1, a2, a3, message('b1#9')] } : {};
    });
    await expect(checkFifoDemoArrival(run.context, QUEUE, orderIdOfOurs, 'fifo')).rejects.toThrow(
      'fifo: group customer-b arrived as undefined, expected b1, b2 once each, in order',
    );
    expect(logged).toEqual(['fifo per group: {"customer-a":["a1","a2","a3"],"?":["b1"]}']);
    // Receives at 0, 10 and 20 s; the deadline at 30 s ends the loop.
    expect(receiveInputs()).toHaveLength(3);
  });
});
