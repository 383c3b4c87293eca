import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEvent, Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { checkDecision, handler as endpoint } from '../../lambda/sfn-approval-endpoint';
import { decisionLinks, handler as notifier } from '../../lambda/sfn-approval-notifier';
import { parseCallbackMessage, handler as worker, isTaskToken, UnanswerableMessageError } from '../../lambda/sfn-callback-worker';
import { loggedLines } from '../support/logged-lines';

const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
beforeEach(() => {
  sfn.reset();
  sns.reset();
});

const TOKEN = 'AQB8AAAAKgAAAAMAAAAAAAAAAd+/ab==';
const named = (name: string) => Object.assign(new Error(name), { name });

const logLines = async (run: () => Promise<void>) => (await loggedLines(run)).lines;

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

  test.each([
    ['not json', 'body is not JSON'],
    ['null', 'body is not an object'],
    ['42', 'body is not an object'],
    [JSON.stringify({ input: {} }), 'taskToken is missing'],
    [JSON.stringify({ taskToken: 'a b' }), 'taskToken is malformed'],
  ])('parseCallbackMessage refuses %s: %s', (body, reason) => {
    let refusal: unknown;
    try {
      parseCallbackMessage(event(body).Records[0]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(UnanswerableMessageError);
    expect(refusal).toMatchObject({ name: 'UnanswerableMessageError', message: `message m-0 cannot be answered: ${reason}` });
  });

  test('parseCallbackMessage reads a missing or non-object input as {}, and a heartbeat only when it is a number', () => {
    const parsed = (message: object) => parseCallbackMessage(event(JSON.stringify({ taskToken: TOKEN, ...message })).Records[0]);
    expect(parsed({ input: null, heartbeatSeconds: '60' })).toEqual({ taskToken: TOKEN, input: {}, heartbeatSeconds: undefined });
    expect(parsed({ input: 'o-1', heartbeatSeconds: 60 })).toEqual({ taskToken: TOKEN, input: {}, heartbeatSeconds: 60 });
  });

  test('answers a message whose input is not an object, and names a rejected order without an id', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    const result = await worker(
      event(JSON.stringify({ taskToken: 'ok-token', input: null }), JSON.stringify({ taskToken: 'no-token', input: { warehouse: { decision: 'reject' } } })),
      {} as Context,
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output).toBe(JSON.stringify({ warehouse: 'LAB-1', reserved: true }));
    expect(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause).toBe('the warehouse cannot fulfil order (no orderId)');
  });

  test('logs each answer, and each message dropped because its execution no longer waits', async () => {
    const lines = await logLines(async () => {
      const fresh = await import('@aws-sdk/client-sfn');
      const mock = mockClient(fresh.SFNClient);
      mock.on(fresh.SendTaskSuccessCommand).resolves({});
      const dead = { 'timed-out': 'TaskTimedOut', gone: 'TaskDoesNotExist', forged: 'InvalidToken' };
      for (const [token, error] of Object.entries(dead)) mock.on(fresh.SendTaskSuccessCommand, { taskToken: token }).rejects(named(error));
      mock.on(fresh.SendTaskFailureCommand).resolves({});
      const fresher = await import('../../lambda/sfn-callback-worker');
      jest.useFakeTimers();
      try {
        const pending = fresher.handler(
          event(
            JSON.stringify({ taskToken: 'ok', input: { orderId: 'o-1', warehouse: { workSeconds: 1 } } }),
            JSON.stringify({ taskToken: 'no', input: { orderId: 'o-2', warehouse: { decision: 'reject' } } }),
            ...Object.keys(dead).map((token) => JSON.stringify({ taskToken: token, input: { orderId: token } })),
          ),
          {} as Context,
        );
        await jest.advanceTimersByTimeAsync(999);
        expect(mock.commandCalls(fresh.SendTaskSuccessCommand, { taskToken: 'ok' })).toHaveLength(0);
        await jest.advanceTimersByTimeAsync(1);
        await expect(pending).resolves.toEqual({ batchItemFailures: [] });
      } finally {
        jest.useRealTimers();
      }
    });
    const service = 'sfn-callback-worker';
    const dropped = (orderId: string, error: string) =>
      expect.objectContaining({ level: 'WARN', message: 'the execution no longer waits for this token; dropping the message', service, orderId, error });
    expect(lines).toHaveLength(5);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'INFO', message: 'answered SendTaskSuccess', service, orderId: 'o-1' }),
        expect.objectContaining({ level: 'INFO', message: 'answered SendTaskFailure', service, orderId: 'o-2' }),
        dropped('timed-out', 'TaskTimedOut'),
        dropped('gone', 'TaskDoesNotExist'),
        dropped('forged', 'InvalidToken'),
      ]),
    );
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

  describe('while it works (workSeconds)', () => {
    beforeEach(() => {
      jest.useFakeTimers();
      sfn.on(SendTaskSuccessCommand).resolves({});
      sfn.on(SendTaskHeartbeatCommand).resolves({});
    });
    afterEach(() => jest.useRealTimers());
    const heartbeats = () => sfn.commandCalls(SendTaskHeartbeatCommand).map((c) => c.args[0].input);
    const answered = () => sfn.commandCalls(SendTaskSuccessCommand).length;
    const work = (warehouse: object, heartbeatSeconds?: number) =>
      worker(event(JSON.stringify({ taskToken: TOKEN, input: { orderId: 'o-1', warehouse }, heartbeatSeconds })), {} as Context);

    test('sends a heartbeat every half of the interval the task expects, and answers when the work is done', async () => {
      const pending = work({ workSeconds: 2.5 }, 2);
      await jest.advanceTimersByTimeAsync(999);
      expect(heartbeats()).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(heartbeats()).toEqual([{ taskToken: TOKEN }]);
      await jest.advanceTimersByTimeAsync(1000);
      expect(heartbeats()).toHaveLength(2);
      // The last stretch is the 0.5 s left, not a whole interval.
      await jest.advanceTimersByTimeAsync(499);
      expect(answered()).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      await expect(pending).resolves.toEqual({ batchItemFailures: [] });
      expect(heartbeats()).toHaveLength(3);
      expect(answered()).toBe(1);
    });

    test('without a heartbeat interval it works in one stretch and sends no heartbeat', async () => {
      const pending = work({ workSeconds: 2 });
      await jest.advanceTimersByTimeAsync(1999);
      expect(answered()).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      await pending;
      expect([heartbeats(), answered()]).toEqual([[], 1]);
    });

    test('works at most 10 minutes, and a negative workSeconds not at all', async () => {
      const capped = work({ workSeconds: 3600 });
      await jest.advanceTimersByTimeAsync(599_999);
      expect(answered()).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      await capped;
      expect(answered()).toBe(1);
      await work({ workSeconds: -5 }, 2);
      expect([heartbeats(), answered()]).toEqual([[], 2]);
    });
  });

  test('isTaskToken: 1–2,048 characters, no whitespace', () => {
    expect([TOKEN, 'x', 'x'.repeat(2048)].every(isTaskToken)).toBe(true);
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
    expect(links).toEqual({
      approve: `https://api.example/prod/decision?action=approve&token=${encodeURIComponent(TOKEN)}`,
      reject: `https://api.example/prod/decision?action=reject&token=${encodeURIComponent(TOKEN)}`,
    });
    expect(Message).toBe(
      [
        'A workflow needs your decision on this request:',
        '',
        '{\n  "orderId": "o-1"\n}',
        '',
        `Approve: ${links.approve}`,
        '',
        `Reject:  ${links.reject}`,
        '',
        'Each link opens a page that asks you to confirm; the request expires when the workflow stops waiting.',
      ].join('\n'),
    );
    expect(new URL(links.reject).searchParams.get('token')).toBe(TOKEN);
  });

  test('a request without details shows as {}, and a plain http URL is accepted', async () => {
    sns.on(PublishCommand).resolves({ MessageId: '1' });
    await expect(notifier({ taskToken: TOKEN, decisionUrl: 'http://localhost:3000/decision' })).resolves.toEqual({ notified: true });
    expect(sns.commandCalls(PublishCommand)[0].args[0].input.Message).toMatch(/^A workflow needs your decision on this request:\n\n\{\}\n\nApprove: http:\/\/localhost:3000\/decision\?action=approve&/);
  });

  test('logs each request sent', async () => {
    const lines = await logLines(async () => {
      const fresh = await import('@aws-sdk/client-sns');
      mockClient(fresh.SNSClient).on(fresh.PublishCommand).resolves({ MessageId: '1' });
      await (await import('../../lambda/sfn-approval-notifier')).handler({ taskToken: TOKEN, decisionUrl: 'https://x' });
    });
    expect(lines).toEqual([expect.objectContaining({ level: 'INFO', message: 'approval request sent', service: 'sfn-approval-notifier' })]);
  });

  test.each([
    [undefined, 'taskToken is missing'],
    [{ decisionUrl: 'https://x' }, 'taskToken is missing'],
    [{ taskToken: '', decisionUrl: 'https://x' }, 'taskToken is missing'],
    [{ taskToken: TOKEN }, 'decisionUrl must be an http(s) URL'],
    [{ taskToken: TOKEN, decisionUrl: ['https://x'] }, 'decisionUrl must be an http(s) URL'],
    [{ taskToken: TOKEN, decisionUrl: 'ftp://x' }, 'decisionUrl must be an http(s) URL'],
    [{ taskToken: TOKEN, decisionUrl: 'see https://x' }, 'decisionUrl must be an http(s) URL'],
    [{ taskToken: TOKEN, decisionUrl: 'https:/x' }, 'decisionUrl must be an http(s) URL'],
  ])('fails the task on a bad request: %j', async (event, message) => {
    await expect(notifier(event as Parameters<typeof notifier>[0])).rejects.toMatchObject({ name: 'InvalidApprovalRequestError', message });
    expect(sns.calls()).toHaveLength(0);
  });

  test('fails the task when the function has no topic to publish to', async () => {
    delete process.env.TOPIC_ARN;
    await expect(notifier({ taskToken: TOKEN, decisionUrl: 'https://x' })).rejects.toMatchObject({ name: 'InvalidApprovalRequestError', message: 'TOPIC_ARN is not set' });
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
    expect(page.body).toContain(`<title>Recorded: ${decision}</title>`);
    expect(page.body).toContain('<p>The workflow goes on. You can close this page.</p>');
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
    expect(page.body).toContain('<h1>Cannot record this decision</h1>');
    expect(page.body).toContain(`<p>${message}</p>`);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('the confirmation page is HTML nobody caches, with the token escaped into the form and the button named for the action', async () => {
    const token = `a&b<c>"d'e`;
    const page = await endpoint(get({ action: 'reject', token }));
    expect(page.headers).toEqual({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    expect(page.body).toBe(
      '<!doctype html><html><head><meta charset="utf-8"><title>Confirm: reject</title></head><body><h1>Confirm: reject</h1>' +
        '<form method="post"><input type="hidden" name="action" value="reject">' +
        '<input type="hidden" name="token" value="a&amp;b&lt;c&gt;&quot;d&#39;e">' +
        '<button type="submit">Reject the request</button></form></body></html>',
    );
    expect((await endpoint(get({ action: 'approve', token: TOKEN }))).body).toContain('<button type="submit">Approve the request</button>');
  });

  test('a token of 2,048 characters is accepted, one longer is malformed', () => {
    expect(checkDecision({ action: 'approve', token: 'x'.repeat(2048) })).toBeUndefined();
    expect(checkDecision({ action: 'approve', token: 'x'.repeat(2049) })).toBe('the token is malformed');
  });

  test('logs each decision recorded, and only the SendTaskSuccess errors it cannot explain to the approver', async () => {
    const errors = { late: 'TaskTimedOut', gone: 'TaskDoesNotExist', forged: 'InvalidToken', broken: 'ServiceUnavailable' };
    const pages: Record<string, [number, string | undefined]> = {};
    const lines = await logLines(async () => {
      const fresh = await import('@aws-sdk/client-sfn');
      const mock = mockClient(fresh.SFNClient);
      mock.on(fresh.SendTaskSuccessCommand).resolves({});
      for (const [token, error] of Object.entries(errors)) mock.on(fresh.SendTaskSuccessCommand, { taskToken: token }).rejects(named(error));
      const fresher = await import('../../lambda/sfn-approval-endpoint');
      await fresher.handler(post({ action: 'reject', token: TOKEN }));
      for (const token of Object.keys(errors)) {
        const page = await fresher.handler(post({ action: 'approve', token }));
        pages[token] = [page.statusCode, /<h1>Cannot record this decision<\/h1><p>(.*)<\/p>/.exec(page.body)?.[1]];
      }
    });
    expect(lines).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'decision recorded', service: 'sfn-approval-endpoint', decision: 'rejected' }),
      expect.objectContaining({ level: 'ERROR', message: 'SendTaskSuccess failed', service: 'sfn-approval-endpoint', error: 'ServiceUnavailable' }),
    ]);
    expect(pages).toEqual({
      late: [410, 'this approval request has expired or was already answered'],
      gone: [410, 'this approval request has expired or was already answered'],
      forged: [400, 'the token is not a valid task token'],
      broken: [502, 'the decision could not be recorded; try again in a minute'],
    });
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
