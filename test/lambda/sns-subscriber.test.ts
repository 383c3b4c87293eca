import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';
import { handler, OrderRejected, parseOrder } from '../../lambda/sns-subscriber';

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
    new OrderRejected('m2', 'order o2 asked to fail ("fail": true)'),
  );
});

test.each([
  ['hello', 'the message is not JSON'],
  ['{"orderId":1,"total":1}', 'the message needs a string orderId and a numeric total'],
  ['{"orderId":"x"}', 'the message needs a string orderId and a numeric total'],
])('refuses %s: %s', (message, reason) => {
  expect(() => parseOrder(record('m', message))).toThrow(new OrderRejected('m', reason));
});
