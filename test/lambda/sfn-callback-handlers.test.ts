import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEvent, Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { checkDecision, handler as endpoint } from '../../lambda/sfn-approval-endpoint';
import { decisionLinks, handler as notifier } from '../../lambda/sfn-approval-notifier';
import { handler as worker, isTaskToken } from '../../lambda/sfn-callback-worker';

const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
beforeEach(() => {
  sfn.reset();
  sns.reset();
});

const TOKEN = 'AQB8AAAAKgAAAAMAAAAAAAAAAd+/ab==';
const named = (name: string) => Object.assign(new Error(name), { name });

describe('sfn-callback-worker', () => {
  const event = (...bodies: string[]): SQSEvent => ({
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`,
      receiptHandle: `r-${i}`,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q',
      awsRegion: 'us-east-1',
    })),
  });

  test('answers SendTaskSuccess with the order, or SendTaskFailure when the warehouse rejects it', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    const result = await worker(
      event(
        JSON.stringify({ taskToken: 'ok-token', input: { orderId: 'o-1' } }),
        JSON.stringify({ taskToken: 'no-token', input: { orderId: 'o-2', warehouse: { decision: 'reject' } } }),
      ),
      {} as Context,
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'ok-token', output: JSON.stringify({ orderId: 'o-1', warehouse: 'LAB-1', reserved: true }) },
    ]);
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'no-token', error: 'WarehouseRejected', cause: 'the warehouse cannot fulfil order o-2' },
    ]);
  });

  test('reports messages without a usable token as failed (they go to the DLQ), without calling Step Functions', async () => {
    const result = await worker(
      event('not json', JSON.stringify({ input: {} }), JSON.stringify({ taskToken: 'has space' }), JSON.stringify({ taskToken: 'x'.repeat(2049) }), 'null'),
      {} as Context,
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('drops a message whose execution no longer waits (TaskTimedOut), retries on other errors', async () => {
    sfn.on(SendTaskSuccessCommand, { taskToken: 'expired' }).rejects(named('TaskTimedOut'));
    sfn.on(SendTaskSuccessCommand, { taskToken: 'throttled' }).rejects(named('ThrottlingException'));
    const result = await worker(
      event(JSON.stringify({ taskToken: 'expired', input: {} }), JSON.stringify({ taskToken: 'throttled', input: {} })),
      {} as Context,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
  });

  test('isTaskToken: 1–2,048 characters, no whitespace', () => {
    expect([TOKEN, 'x'.repeat(2048)].every(isTaskToken)).toBe(true);
    expect(['', 'a b', 'x'.repeat(2049), 42, undefined].some(isTaskToken)).toBe(false);
  });
});

describe('sfn-approval-notifier', () => {
  beforeEach(() => (process.env.TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:approvals'));

  test('publishes approve and reject links with the token URL-encoded', async () => {
    sns.on(PublishCommand).resolves({ MessageId: '1' });
    await notifier({ taskToken: TOKEN, decisionUrl: 'https://api.example/prod/decision', request: { orderId: 'o-1' } });
    const { Message, TopicArn, Subject } = sns.commandCalls(PublishCommand)[0].args[0].input;
    expect({ TopicArn, Subject }).toEqual({ TopicArn: process.env.TOPIC_ARN, Subject: 'Approval needed' });
    const links = decisionLinks('https://api.example/prod/decision', TOKEN);
    expect(links.approve).toBe(`https://api.example/prod/decision?action=approve&token=${encodeURIComponent(TOKEN)}`);
    expect(Message).toContain(`Approve: ${links.approve}`);
    expect(Message).toContain(`Reject:  ${links.reject}`);
    expect(new URL(links.reject).searchParams.get('token')).toBe(TOKEN);
  });

  test.each([
    [{ decisionUrl: 'https://x' }, 'taskToken is missing'],
    [{ taskToken: TOKEN, decisionUrl: 'ftp://x' }, 'decisionUrl must be an http(s) URL'],
  ])('fails the task on a bad request: %j', async (event, message) => {
    await expect(notifier(event)).rejects.toMatchObject({ name: 'InvalidApprovalRequestError', message });
    expect(sns.calls()).toHaveLength(0);
  });
});

describe('sfn-approval-endpoint', () => {
  const get = (query: Record<string, string> | null) =>
    ({ httpMethod: 'GET', queryStringParameters: query, body: null, isBase64Encoded: false }) as unknown as APIGatewayProxyEvent;
  const post = (form: Record<string, string>, base64 = false) => {
    const body = new URLSearchParams(form).toString();
    return {
      httpMethod: 'POST',
      queryStringParameters: null,
      body: base64 ? Buffer.from(body).toString('base64') : body,
      isBase64Encoded: base64,
    } as unknown as APIGatewayProxyEvent;
  };

  test('GET answers a confirmation form and records nothing (mail scanners follow links)', async () => {
    const page = await endpoint(get({ action: 'approve', token: TOKEN }));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post">');
    expect(page.body).toContain(`name="token" value="${TOKEN}"`);
    expect(sfn.calls()).toHaveLength(0);
  });

  test.each([
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ])('POST %s records the decision with SendTaskSuccess', async (action, decision) => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const page = await endpoint(post({ action, token: TOKEN }, action === 'reject'));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`Recorded: ${decision}`);
    const input = sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(input.taskToken).toBe(TOKEN);
    expect(JSON.parse(input.output!)).toEqual({ decision, decidedAt: expect.any(String) });
  });

  test.each([
    ['no parameters', null, 'the link has no token'],
    ['a missing token', { action: 'approve' }, 'the link has no token'],
    ['a malformed token', { action: 'approve', token: 'a b' }, 'the token is malformed'],
    ['a missing action', { token: TOKEN }, 'the link has no action'],
    ['an unknown decision', { action: 'maybe', token: TOKEN }, 'unknown decision &quot;maybe&quot;: use approve or reject'],
  ])('answers 400 with a message for %s, never calling Step Functions', async (_name, query, message) => {
    const page = await endpoint(get(query));
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain(message);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('checkDecision names the unknown action (the page escapes it, as above)', () => {
    expect(checkDecision({ token: TOKEN, action: '<script>' })).toBe('unknown decision "<script>": use approve or reject');
  });

  test.each([
    ['TaskTimedOut', 410, 'expired or was already answered'],
    ['TaskDoesNotExist', 410, 'expired or was already answered'],
    ['InvalidToken', 400, 'not a valid task token'],
    ['ServiceUnavailable', 502, 'could not be recorded'],
  ])('turns %s from SendTaskSuccess into %i', async (error, status, message) => {
    sfn.on(SendTaskSuccessCommand).rejects(named(error));
    const page = await endpoint(post({ action: 'approve', token: TOKEN }));
    expect(page.statusCode).toBe(status);
    expect(page.body).toContain(message);
  });
});
