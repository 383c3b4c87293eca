import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context, SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DESTINATION_VALIDATION_MESSAGE, FeedbackRejected, handler, parseSesEvent, suppressionsOf } from '../../lambda/ses-feedback';
import { loggedLines } from '../support/logged-lines';

// Samples from the SES Developer Guide: "Examples of event data that Amazon SES publishes to Amazon SNS" (eventType)
// and "Amazon SNS notification examples for Amazon SES" (notificationType), trimmed to the fields the handler reads
// plus a few around them.
const MAIL = {
  timestamp: '2017-08-05T00:40:02.012Z',
  source: 'Sender Name <sender@example.com>',
  sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/sender@example.com',
  sendingAccountId: '123456789012',
  messageId: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
  destination: ['recipient@example.com'],
  tags: { 'ses:configuration-set': ['ConfigSet'] },
};
const PERMANENT_BOUNCE = {
  eventType: 'Bounce',
  bounce: {
    bounceType: 'Permanent',
    bounceSubType: 'General',
    bouncedRecipients: [{ emailAddress: 'Recipient@example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
    timestamp: '2017-08-05T00:41:02.669Z',
    feedbackId: '01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000',
    reportingMTA: 'dsn; mta.example.com',
  },
  mail: MAIL,
};
const TRANSIENT_BOUNCE = {
  ...PERMANENT_BOUNCE,
  bounce: { ...PERMANENT_BOUNCE.bounce, bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'full@example.com', status: '4.2.2' }] },
};
const COMPLAINT = {
  eventType: 'Complaint',
  complaint: {
    complainedRecipients: [{ emailAddress: 'recipient@example.com' }],
    timestamp: '2017-08-05T00:41:02.669Z',
    feedbackId: '01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000',
    userAgent: 'Mozilla/5.0',
    complaintFeedbackType: 'abuse',
    arrivalDate: '2017-08-05T00:41:02.669Z',
  },
  mail: MAIL,
};
const DELIVERY = {
  eventType: 'Delivery',
  mail: MAIL,
  delivery: { timestamp: '2016-10-19T23:21:04.133Z', processingTimeMillis: 11893, recipients: ['recipient@example.com'], smtpResponse: '250 2.6.0 Message received', reportingMTA: 'mta.example.com' },
};
/** An identity feedback notification: the same bounce under `notificationType`. */
const NOTIFICATION_BOUNCE = { notificationType: 'Bounce', bounce: PERMANENT_BOUNCE.bounce, mail: MAIL };

const snsEvent = (...messages: (object | string)[]): SNSEvent =>
  ({
    Records: messages.map((m, i) => ({ Sns: { MessageId: `m${i}`, Message: typeof m === 'string' ? m : JSON.stringify(m), TopicArn: 'arn:aws:sns:us-east-1:123456789012:feedback' } })),
  }) as unknown as SNSEvent;

const dynamodb = mockClient(DynamoDBClient);
beforeEach(() => {
  dynamodb.reset();
  dynamodb.on(PutItemCommand).resolves({});
  process.env.SUPPRESSION_TABLE = 'suppressed';
});

test('a permanent bounce suppresses each bounced address, lower-cased, with the sub-type and the message id', async () => {
  const result = await handler(snsEvent(PERMANENT_BOUNCE), {} as Context);
  expect(result).toEqual({ suppressed: ['recipient@example.com'], softBounced: [], ignored: 0 });
  expect(dynamodb.commandCalls(PutItemCommand).map((c) => c.args[0].input)).toEqual([
    {
      TableName: 'suppressed',
      Item: {
        address: { S: 'recipient@example.com' },
        reason: { S: 'permanent-bounce' },
        detail: { S: 'General' },
        messageId: { S: MAIL.messageId },
        feedbackId: { S: PERMANENT_BOUNCE.bounce.feedbackId },
        at: { S: PERMANENT_BOUNCE.bounce.timestamp },
      },
    },
  ]);
});

test('a transient bounce is reported but not suppressed: the mailbox may accept mail later', async () => {
  const result = await handler(snsEvent(TRANSIENT_BOUNCE), {} as Context);
  expect(result).toEqual({ suppressed: [], softBounced: ['full@example.com'], ignored: 0 });
  expect(dynamodb.commandCalls(PutItemCommand)).toHaveLength(0);
});

test('an undetermined bounce is not suppressed either', () => {
  const undetermined = { ...PERMANENT_BOUNCE, bounce: { ...PERMANENT_BOUNCE.bounce, bounceType: 'Undetermined' } };
  expect(suppressionsOf(undetermined as never)).toEqual({ suppress: [], softBounced: ['recipient@example.com'] });
});

test('a complaint suppresses the address with its feedback type', async () => {
  await handler(snsEvent(COMPLAINT), {} as Context);
  expect(dynamodb.commandCalls(PutItemCommand)[0].args[0].input.Item).toMatchObject({ reason: { S: 'complaint' }, detail: { S: 'abuse' } });
});

test('a complaint without a feedback type is suppressed too, its detail "not given"', async () => {
  const complaint: Partial<typeof COMPLAINT.complaint> = { ...COMPLAINT.complaint };
  delete complaint.complaintFeedbackType;
  await handler(snsEvent({ ...COMPLAINT, complaint }), {} as Context);
  expect(dynamodb.commandCalls(PutItemCommand)[0].args[0].input.Item).toMatchObject({ reason: { S: 'complaint' }, detail: { S: 'not given' } });
});

test('the event type decides: a Bounce or Complaint without its details, or another event carrying them, suppresses nothing', async () => {
  const result = await handler(
    snsEvent(
      { eventType: 'Bounce', mail: MAIL },
      { eventType: 'Complaint', mail: MAIL },
      { ...DELIVERY, bounce: PERMANENT_BOUNCE.bounce, complaint: COMPLAINT.complaint },
    ),
    {} as Context,
  );
  expect(result).toEqual({ suppressed: [], softBounced: [], ignored: 3 });
  expect(dynamodb.commandCalls(PutItemCommand)).toHaveLength(0);
});

test('deliveries and other events are only counted; a batch mixes them', async () => {
  const result = await handler(snsEvent(DELIVERY, COMPLAINT, { eventType: 'Open', mail: MAIL, open: {} }), {} as Context);
  expect(result).toEqual({ suppressed: ['recipient@example.com'], softBounced: [], ignored: 2 });
});

test('the message SES publishes when the destination is created is ignored, not retried', async () => {
  expect(await handler(snsEvent(DESTINATION_VALIDATION_MESSAGE), {} as Context)).toEqual({ suppressed: [], softBounced: [], ignored: 1 });
  expect(await handler(snsEvent(`${DESTINATION_VALIDATION_MESSAGE}\n`), {} as Context)).toEqual({ suppressed: [], softBounced: [], ignored: 1 });
  expect(dynamodb.commandCalls(PutItemCommand)).toHaveLength(0);
});

test('identity notifications (notificationType) are read like published events', () => {
  const parsed = parseSesEvent(snsEvent(NOTIFICATION_BOUNCE).Records[0]);
  expect(suppressionsOf(parsed).suppress.map((s) => s.address)).toEqual(['recipient@example.com']);
});

test.each([
  ['not JSON', 'Hello from SNS', 'the message is not JSON'],
  ['JSON without an event type', { mail: MAIL }, 'it needs eventType (or notificationType) and mail.messageId'],
  ['an event without mail', { eventType: 'Bounce' }, 'it needs eventType (or notificationType) and mail.messageId'],
])('rejects a message that is %s, so Lambda retries it and it shows', async (_what, message, reason) => {
  const rejection = await handler(snsEvent(message), {} as Context).catch((error: unknown) => error);
  expect(rejection).toBeInstanceOf(FeedbackRejected);
  expect(rejection).toMatchObject({ name: 'FeedbackRejected', message: `SNS message m0 is not an SES event: ${reason}` });
  expect(dynamodb.commandCalls(PutItemCommand)).toHaveLength(0);
});

test('logs each address suppressed, each transient bounce and each other event, with the invocation\'s context', async () => {
  const { lines } = await loggedLines(async () => {
    const fresh = await import('@aws-sdk/client-dynamodb');
    mockClient(fresh.DynamoDBClient).on(fresh.PutItemCommand).resolves({});
    const feedback = await import('../../lambda/ses-feedback');
    await feedback.handler(snsEvent(DESTINATION_VALIDATION_MESSAGE, COMPLAINT, TRANSIENT_BOUNCE, DELIVERY, NOTIFICATION_BOUNCE, { notificationType: 'Delivery', mail: MAIL }), { functionName: 'feedback', awsRequestId: 'req-9' } as Context);
  });
  const service = 'ses-feedback';
  expect(lines).toEqual([
    expect.objectContaining({ level: 'INFO', message: 'address suppressed', service, function_request_id: 'req-9', address: 'recipient@example.com', reason: 'complaint', messageId: MAIL.messageId }),
    expect.objectContaining({ level: 'WARN', message: 'transient bounce: not suppressed', service, address: 'full@example.com', messageId: MAIL.messageId }),
    expect.objectContaining({ level: 'INFO', message: 'event', service, eventType: 'Delivery', messageId: MAIL.messageId }),
    expect.objectContaining({ level: 'INFO', message: 'address suppressed', service, reason: 'permanent-bounce' }),
    expect.objectContaining({ level: 'INFO', message: 'event', service, eventType: 'Delivery' }),
  ]);
});
