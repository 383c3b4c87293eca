import {
  GetActivityTaskCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEvent, Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as endpoint } from '../../../lambda/sfn-approval-endpoint';
import { handler as notifier } from '../../../lambda/sfn-approval-notifier';
import { handler as worker } from '../../../lambda/sfn-callback-worker';
import { stepfunctionsCallbackLab } from '../../../labs/stepfunctions-callback/lab';
import { runActivityWorker } from '../../../labs/stepfunctions-callback/activity-worker';
import { LocalRunOptions, runLocally } from '../../support/local-stepfunctions';
import { stateMachineDefinition } from '../../../labs/support/state-machine-definition';
import { labTemplate } from '../../support/lab-template';

const template = labTemplate(stepfunctionsCallbackLab);
const definition = stateMachineDefinition(template, (template.toJSON().Outputs.OrderWorkflowArn.Value as { Ref: string }).Ref);

const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);

/**
 * Tasks waiting for their token. Answering is what the mocked SendTaskSuccess / SendTaskFailure calls do, so each
 * task's result is whatever the real worker, endpoint or activity worker sent back.
 */
const waiting = new Map<string, { resolve: (output: unknown) => void; reject: (error: Error) => void }>();
function waitForToken(token: string): Promise<unknown> {
  return new Promise((resolve, reject) => waiting.set(token, { resolve, reject }));
}
const heartbeats: string[] = [];
const activityQueue: { taskToken: string; input: string }[] = [];

beforeEach(() => {
  sfn.reset();
  sns.reset();
  waiting.clear();
  heartbeats.length = 0;
  sfn.on(SendTaskSuccessCommand).callsFake(({ taskToken, output }) => {
    const task = waiting.get(taskToken);
    if (!task) throw Object.assign(new Error('Task does not exist'), { name: 'TaskDoesNotExist' });
    waiting.delete(taskToken);
    task.resolve(JSON.parse(output));
    return {};
  });
  sfn.on(SendTaskFailureCommand).callsFake(({ taskToken, error, cause }) => {
    const task = waiting.get(taskToken);
    if (!task) throw Object.assign(new Error('Task does not exist'), { name: 'TaskDoesNotExist' });
    waiting.delete(taskToken);
    task.reject(Object.assign(new Error(cause), { name: error }));
    return {};
  });
  sfn.on(SendTaskHeartbeatCommand).callsFake(({ taskToken }) => {
    heartbeats.push(taskToken);
    return {};
  });
  sfn.on(GetActivityTaskCommand).callsFake(async () => activityQueue.shift() ?? { taskToken: '' });
});

const sqsEvent = (body: unknown): SQSEvent => ({
  Records: [
    {
      messageId: 'm-1',
      receiptHandle: 'r-1',
      body: JSON.stringify(body),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:WarehouseQueue',
      awsRegion: 'us-east-1',
    },
  ],
});

const apiEvent = (httpMethod: string, query: Record<string, string> | null, body: string | null = null) =>
  ({ httpMethod, queryStringParameters: query, body, isBase64Encoded: false }) as unknown as APIGatewayProxyEvent;

/** Stand-ins: the SQS message goes to the real worker; the approval email's link is followed through the real endpoint. */
function options(decision: 'approve' | 'reject'): LocalRunOptions {
  return {
    tasks: {
      AwaitWarehouse: async ({ MessageBody }: { MessageBody: { taskToken: string } }) => {
        const answer = waitForToken(MessageBody.taskToken);
        const batch = await worker(sqsEvent(MessageBody), {} as Context);
        expect(batch.batchItemFailures).toEqual([]);
        return answer;
      },
      AwaitApproval: async ({ Payload }: { Payload: { taskToken: string } }) => {
        const answer = waitForToken(Payload.taskToken);
        process.env.TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:approvals';
        sns.on(PublishCommand).resolves({ MessageId: 'p-1' });
        await notifier(Payload);
        const email = sns.commandCalls(PublishCommand)[0].args[0].input.Message ?? '';
        const link = new URL(email.match(new RegExp(`${decision === 'approve' ? 'Approve' : 'Reject'}:\\s+(\\S+)`))![1]);
        const params = Object.fromEntries(link.searchParams);
        const confirm = await endpoint(apiEvent('GET', params));
        expect(confirm.statusCode).toBe(200);
        const recorded = await endpoint(apiEvent('POST', null, new URLSearchParams(params).toString()));
        expect(recorded.statusCode).toBe(200);
        return answer;
      },
      PackOrder: (input: unknown) => {
        const answer = waitForToken('activity-token');
        activityQueue.push({ taskToken: 'activity-token', input: JSON.stringify(input) });
        void runActivityWorker({
          client: new SFNClient({}),
          activityArn: 'arn:aws:states:us-east-1:123456789012:activity:PackOrder',
          workerName: 'test',
          maxEmptyPolls: 1,
          handle: async (task) => ({ packedItems: (task as { items: unknown[] }).items.length, box: 'M' }),
        });
        return answer;
      },
    },
  };
}

const order = (orderId: string, warehouse: Record<string, unknown> = {}) => ({
  orderId,
  items: [{ sku: 'BOOK-1', quantity: 1 }],
  warehouse,
});

test('callback success, approval and activity: the worker, the approver and the activity worker each return the token', async () => {
  const result = await runLocally(definition, order('c-1'), options('approve'));
  expect(result.error).toBeUndefined();
  expect(result.statesEntered).toEqual(['AwaitWarehouse', 'AwaitApproval', 'ApprovalDecision', 'PackOrder', 'OrderReady']);
  expect(result.output).toMatchObject({
    orderId: 'c-1',
    warehouse: { orderId: 'c-1', warehouse: 'LAB-1', reserved: true },
    approval: { decision: 'approved', decidedAt: expect.any(String) },
    packing: { packedItems: 1, box: 'M' },
  });
  const sent = sns.commandCalls(PublishCommand)[0].args[0].input;
  expect(JSON.parse(sent.Message!.split('\n\n')[1])).toEqual({ orderId: 'c-1', warehouse: { orderId: 'c-1', warehouse: 'LAB-1', reserved: true } });
});

test('callback failure: SendTaskFailure fails the task with the worker\'s error, caught into WarehouseRejectedOrder', async () => {
  const result = await runLocally(definition, order('c-2', { decision: 'reject' }), options('approve'));
  expect(result.status).toBe('FAILED');
  expect(result.error).toEqual({ Error: 'WarehouseRejected', Cause: 'the warehouse cannot fulfil order c-2' });
  expect(result.statesEntered).toEqual(['AwaitWarehouse', 'WarehouseRejectedOrder']);
});

test('a worker that takes a while sends heartbeats at half the HeartbeatSeconds the message carries', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
  try {
    const answer = waitForToken('slow-token');
    const working = worker(sqsEvent({ taskToken: 'slow-token', input: { orderId: 'c-3', warehouse: { workSeconds: 20 } }, heartbeatSeconds: 15 }), {} as Context);
    await jest.advanceTimersByTimeAsync(20_000);
    await working;
    expect(heartbeats).toEqual(['slow-token', 'slow-token', 'slow-token']);
    await expect(answer).resolves.toMatchObject({ orderId: 'c-3' });
  } finally {
    jest.useRealTimers();
  }
});

test('a rejected approval takes the Choice\'s default branch to OrderRejected', async () => {
  const result = await runLocally(definition, order('c-4'), options('reject'));
  expect(result.status).toBe('FAILED');
  expect(result.error).toEqual({ Error: 'OrderRejected', Cause: 'The approver rejected the order' });
  expect(result.statesEntered).toEqual(['AwaitWarehouse', 'AwaitApproval', 'ApprovalDecision', 'OrderRejected']);
});

test('the approval task times out into ApprovalExpired when nobody answers', async () => {
  const result = await runLocally(definition, order('c-5'), {
    ...options('approve'),
    tasks: { ...options('approve').tasks, AwaitApproval: () => new Promise(() => undefined) },
    taskTimeoutSeconds: { AwaitApproval: 1 },
  });
  expect(result.error?.Error).toBe('States.Timeout');
  expect(result.statesEntered.slice(-2)).toEqual(['AwaitApproval', 'ApprovalExpired']);
});
