import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { handler, parseOrder, PoisonMessageError } from '../../lambda/sqs-consumer';
import { loggedLines } from '../support/logged-lines';

const record = (messageId: string, body: string, queue = 'work', receiveCount = '1'): SQSRecord => ({
  messageId,
  receiptHandle: `handle-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: receiveCount,
    SentTimestamp: '0',
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: '0',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queue}`,
  awsRegion: 'us-east-1',
});
const order = (orderId: string, extra: object = {}) => JSON.stringify({ orderId, quantity: 1, ...extra });
const context = {} as Context;

test('reports only the failed records of a standard-queue batch', async () => {
  const event: SQSEvent = {
    Records: [
      record('ok-1', order('a')),
      record('poison', order('b', { poison: true })),
      record('ok-2', order('c')),
      record('not-json', 'hello'),
    ],
  };
  await expect(handler(event, context)).resolves.toEqual({
    batchItemFailures: [{ itemIdentifier: 'poison' }, { itemIdentifier: 'not-json' }],
  });
});

test('reports nothing when every record succeeds', async () => {
  await expect(handler({ Records: [record('ok', order('a'))] }, context)).resolves.toEqual({ batchItemFailures: [] });
});

test('reports a batch that fails whole instead of throwing', async () => {
  const event = { Records: [record('p1', order('a', { poison: true })), record('p2', '{}')] };
  await expect(handler(event, context)).resolves.toEqual({
    batchItemFailures: [{ itemIdentifier: 'p1' }, { itemIdentifier: 'p2' }],
  });
});

test('on a FIFO queue, stops at the first failure and returns the rest of the batch unprocessed', async () => {
  const event: SQSEvent = {
    Records: [
      record('a1', order('a1'), 'orders.fifo'),
      record('a2', order('a2', { poison: true }), 'orders.fifo'),
      record('a3', order('a3'), 'orders.fifo'),
    ],
  };
  await expect(handler(event, context)).resolves.toEqual({
    batchItemFailures: [{ itemIdentifier: 'a2' }, { itemIdentifier: 'a3' }],
  });
});

test('reports nothing for an empty batch rather than crashing on the missing first record', async () => {
  await expect(handler({ Records: [] }, context)).resolves.toEqual({ batchItemFailures: [] });
});

test.each([
  ['hello', 'body is not JSON'],
  ['null', 'body needs a string orderId and a numeric quantity'],
  ['{"orderId":1,"quantity":1}', 'body needs a string orderId and a numeric quantity'],
  ['{"orderId":"x","quantity":"1"}', 'body needs a string orderId and a numeric quantity'],
  ['{"orderId":"x","quantity":1,"poison":true}', 'marked poison'],
])('refuses %s: %s', (body, reason) => {
  let refusal: unknown;
  try {
    parseOrder(record('m', body));
  } catch (error) {
    refusal = error;
  }
  expect(refusal).toBeInstanceOf(PoisonMessageError);
  expect(refusal).toMatchObject({ name: 'PoisonMessageError', message: `message m cannot be processed: ${reason}` });
});

// The lab's README tells the reader to look for this line: good orders log `order processed` with `receiveCount` 1.
test('logs each processed order with its id, quantity and receive count', async () => {
  const { lines } = await loggedLines(async () => {
    const consumer = await import('../../lambda/sqs-consumer');
    await consumer.handler({ Records: [record('ok', JSON.stringify({ orderId: 'a', quantity: 3 }), 'work', '2')] }, context);
  });
  expect(lines).toContainEqual(expect.objectContaining({ message: 'order processed', service: 'sqs-consumer', orderId: 'a', quantity: 3, receiveCount: 2 }));
});
