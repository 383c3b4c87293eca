import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';
import { handler, OrderRejected, parseOrder } from '../../lambda/sns-subscriber';
import { loggedLines } from '../support/logged-lines';

const record = (messageId: string, message: string): SNSEventRecord => ({
  EventSource: 'aws:sns',
  EventVersion: '1.0',
  EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:orders:sub',
  Sns: {
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:orders',
    Message: message,
    MessageAttributes: { eventType: { Type: 'String', Value: 'order.placed' } },
    Timestamp: '2026-01-01T00:00:00.000Z',
    SignatureVersion: '1',
    Signature: 'sig',
    SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/cert.pem',
    UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  },
});
const event = (...records: SNSEventRecord[]): SNSEvent => ({ Records: records });
const context = { functionName: 'audit', awsRequestId: 'req-1' } as Context;

test('returns the processed order ids: the on-success destination receives them as responsePayload', async () => {
  await expect(handler(event(record('m1', '{"orderId":"o1","total":25}')), context)).resolves.toEqual({ processed: ['o1'] });
});

test('throws for an order that asks to fail, so Lambda retries it and then sends it to the on-failure destination', async () => {
  await expect(handler(event(record('m2', '{"orderId":"o2","total":25,"fail":true}')), context)).rejects.toThrow(
    'SNS message m2 rejected: order o2 asked to fail ("fail": true)',
  );
});

test.each([
  ['hello', 'the message is not JSON'],
  ['null', 'the message needs a string orderId and a numeric total'],
  ['{"orderId":1,"total":1}', 'the message needs a string orderId and a numeric total'],
  ['{"orderId":"x"}', 'the message needs a string orderId and a numeric total'],
])('refuses %s: %s', (message, reason) => {
  let refusal: unknown;
  try {
    parseOrder(record('m', message));
  } catch (error) {
    refusal = error;
  }
  expect(refusal).toBeInstanceOf(OrderRejected);
  expect(refusal).toMatchObject({ name: 'OrderRejected', message: `SNS message m rejected: ${reason}` });
});

test('logs each order with its event type and topic, and the invocation\'s context', async () => {
  const withoutAttributes = record('m4', '{"orderId":"o4","total":5}');
  delete (withoutAttributes.Sns as Partial<SNSEventRecord['Sns']>).MessageAttributes;
  const { lines } = await loggedLines(async () => {
    const subscriber = await import('../../lambda/sns-subscriber');
    await subscriber.handler(event(record('m3', '{"orderId":"o3","total":25}'), withoutAttributes), context);
  });
  expect(lines).toEqual([
    expect.objectContaining({ message: 'order received from SNS', service: 'sns-subscriber', function_request_id: 'req-1', orderId: 'o3', total: 25, eventType: 'order.placed', topicArn: 'arn:aws:sns:us-east-1:123456789012:orders' }),
    expect.objectContaining({ message: 'order received from SNS', orderId: 'o4', total: 5, topicArn: 'arn:aws:sns:us-east-1:123456789012:orders' }),
  ]);
  expect(lines[1]).not.toHaveProperty('eventType');
});
