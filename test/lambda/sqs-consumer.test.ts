import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { handler, parseOrder, PoisonMessageError } from '../../lambda/sqs-consumer';

const record = (messageId: string, body: string, queue = 'work'): SQSRecord => ({
  messageId,
  receiptHandle: `handle-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: '1',
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

test.each([
  ['hello', 'body is not JSON'],
  ['{"orderId":1,"quantity":1}', 'body needs a string orderId and a numeric quantity'],
  ['{"orderId":"x","quantity":1,"poison":true}', 'marked poison'],
])('refuses %s: %s', (body, reason) => {
  expect(() => parseOrder(record('m', body))).toThrow(new PoisonMessageError('m', reason));
});
