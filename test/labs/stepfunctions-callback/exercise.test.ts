import {
  DescribeExecutionCommand,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { steps, timing } from '../../../labs/stepfunctions-callback/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';

/**
 * No local engine runs callback tasks, activities and the approval endpoint together, so the steps run against doubles
 * of Step Functions and of the approval endpoint that behave as the lab does (workflow.test.ts runs the definition
 * itself): an execution's status and history follow the decisions and answers the steps send. Each negative test
 * changes one fact.
 */
const sfn = mockClient(SFNClient);
const DECISION_URL = 'https://api.example.com/prod/decision';
const outputs = { OrderWorkflowArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:Orders', ApprovalDecisionUrl: DECISION_URL, PackingActivityArn: 'arn:aws:states:us-east-1:111111111111:activity:Packing' };
const lines: string[] = [];
const options: ExerciseRunOptions = {
  outputs,
  log: (line) => lines.push(line),
  provide: [provide(timing, { pollMs: 1, timeoutMs: 50, packingWorkMs: 0, packingHeartbeatMs: 1_000 })],
};

interface Execution {
  status: string;
  error?: string;
  events: HistoryEvent[];
}
const entered = (name: string): HistoryEvent => ({ id: 0, type: 'TaskStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name } });
/**
 * An execution waiting for its approver: the warehouse answered, the approval task carries its token. The warehouse's
 * SQS task was scheduled first, with a token of its own in the message: only the Lambda task's token is the approver's.
 */
const awaitingApproval = (arn: string): HistoryEvent[] => [
  entered('AwaitWarehouse'),
  { id: 0, type: 'TaskScheduled', timestamp: new Date(), taskScheduledEventDetails: { resource: 'sendMessage.waitForTaskToken', resourceType: 'sqs', region: 'us-east-1', parameters: JSON.stringify({ MessageBody: { taskToken: 'warehouse-token' } }) } },
  { id: 0, type: 'TaskStateExited', timestamp: new Date(), stateExitedEventDetails: { name: 'AwaitWarehouse', output: '{"reserved":true}' } },
  { id: 0, type: 'TaskScheduled', timestamp: new Date(), taskScheduledEventDetails: { resource: 'invoke.waitForTaskToken', resourceType: 'lambda', region: 'us-east-1', parameters: JSON.stringify({ Payload: { taskToken: `token-${arn}` } }) } },
  entered('AwaitApproval'),
];

/** What each part of the lab does; a test replaces one of them. */
interface Lab {
  /** The execution StartExecution creates for an order named `name`. */
  started: (arn: string, name: string) => Execution;
  /** What the approver's decision does to the execution. */
  decided: (execution: Execution, action: string) => void;
  /** What the activity's answer does to the execution. */
  packed: (execution: Execution) => void;
  /** The approval endpoint, given a well-formed link or form: GET (confirmation page), POST (records the decision once per token). */
  endpoint: (method: string, firstAnswer: boolean) => { status: number; body: string };
  activityTasks: number;
}
const asDeployed = (): Lab => ({
  started: (arn, name) => {
    if (name.startsWith('reject-')) return { status: 'FAILED', error: 'WarehouseRejected', events: [] };
    return { status: 'RUNNING', events: awaitingApproval(arn) };
  },
  decided: (execution, action) => {
    if (action === 'approve') execution.events.push(entered('PackOrder'), { id: 0, type: 'ActivityScheduled', timestamp: new Date() });
    else Object.assign(execution, { status: 'FAILED', error: 'OrderRejected' });
  },
  packed: (execution) => Object.assign(execution, { status: 'SUCCEEDED' }),
  endpoint: (method, firstAnswer) => {
    if (method !== 'POST') return { status: 200, body: '<form method="post"><button>Confirm</button></form>' };
    return firstAnswer ? { status: 200, body: 'recorded' } : { status: 410, body: 'already answered' };
  },
  activityTasks: 1,
});

let lab: Lab;
function deploy(changes: Partial<Lab> = {}) {
  lab = { ...asDeployed(), ...changes };
  sfn.reset();
  const executions = new Map<string, Execution>();
  const awaitingPacking: Execution[] = [];
  sfn.on(StartExecutionCommand).callsFake(({ name }: { name: string }) => {
    const executionArn = `arn:aws:states:us-east-1:111111111111:execution:Orders:${name}`;
    executions.set(executionArn, lab.started(executionArn, name));
    return { executionArn };
  });
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => ({ status: executions.get(executionArn)!.status, error: executions.get(executionArn)!.error }));
  // One event a page, as a long history comes in pages: the steps must read past the first.
  sfn.on(GetExecutionHistoryCommand).callsFake(({ executionArn, nextToken }: { executionArn: string; nextToken?: string }) => {
    const events = executions.get(executionArn)!.events;
    const index = Number(nextToken ?? 0);
    return { events: events.slice(index, index + 1), nextToken: index + 1 < events.length ? String(index + 1) : undefined };
  });
  let tasks = 0;
  sfn.on(GetActivityTaskCommand).callsFake(() => (tasks++ < lab.activityTasks ? { taskToken: 'packing-token', input: '{"items":[{"sku":"BOOK-1"}]}' } : {}));
  sfn.on(SendTaskHeartbeatCommand).resolves({});
  sfn.on(SendTaskSuccessCommand).callsFake(() => {
    for (const execution of awaitingPacking.splice(0)) lab.packed(execution);
    return {};
  });
  const answeredTokens = new Set<string>();
  jest.spyOn(global, 'fetch').mockImplementation(async (url, init) => {
    const method = init?.method ?? 'GET';
    // As the endpoint reads them: the form of a POST, else the link's query; without both a 400 (lambda/sfn-approval-endpoint).
    const form = new URLSearchParams(method === 'POST' ? String(init?.body) : new URL(String(url)).search);
    const token = form.get('token') ?? '';
    if (!token || !['approve', 'reject'].includes(form.get('action') ?? '')) return new Response('Cannot record this decision', { status: 400 });
    const firstAnswer = !answeredTokens.has(token);
    const answer = lab.endpoint(method, firstAnswer);
    if (method === 'POST' && answer.status === 200 && firstAnswer) {
      answeredTokens.add(token);
      const execution = executions.get(token.replace(/^token-/, ''))!;
      lab.decided(execution, form.get('action') ?? '');
      if (form.get('action') === 'approve') awaitingPacking.push(execution);
    }
    return new Response(answer.body, { status: answer.status });
  });
}
afterEach(() => jest.restoreAllMocks());
afterAll(() => sfn.restore());
beforeEach(() => (lines.length = 0));

const run = (ids: string[]) => runExercise(steps.filter((s) => ids.includes(s.id)), options);

/** The orders a step run alone starts, by the name before its run id. */
const ordersStartedAlone: Record<string, string[]> = { callback: ['accept', 'reject'], approve: ['approve'], worker: [], reject: ['rejected-by-approver'] };
test.each(steps.map((s) => s.id))('step %s passes its own checks against the lab\'s behaviour', async (id) => {
  deploy();
  await run([id]);
  expect(lines.length).toBeGreaterThan(1);
  expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name?.replace(/-run-\w+$/, ''))).toEqual(ordersStartedAlone[id]);
});

test('a run prints the evidence of each step: the orders, the warehouse\'s answer, the links, the activity task', async () => {
  deploy();
  await runExercise(steps, { ...options, runId: 'run-test' });
  const started = (name: string, warehouse: object) => `started ${name}-run-test: ${JSON.stringify({ orderId: `${name}-run-test`, items: [{ sku: 'BOOK-1', quantity: 1 }], warehouse })}`;
  expect(lines).toEqual([
    '\n== 1/4 callback: SQS callback: the worker answers SendTaskSuccess (with heartbeats) or SendTaskFailure',
    started('accept', { workSeconds: 20 }),
    started('reject', { decision: 'reject' }),
    'the worker answered after ~20 s of work (heartbeats every 7.5 s < HeartbeatSeconds 15): {"reserved":true}',
    'SendTaskFailure failed the task: WarehouseRejected (undefined), caught into WarehouseRejectedOrder',
    '\n== 2/4 approve: human approval: open the emailed link, confirm, the workflow goes on',
    'opened the emailed approve link: a confirmation page (GET records nothing)',
    'confirmed: the endpoint called SendTaskSuccess with decision approved',
    'clicking again answers 410: a token is answered once',
    'the Choice sent the approved order to PackOrder: the activity waits for a worker (next step)',
    '\n== 3/4 worker: activity worker: GetActivityTask, SendTaskHeartbeat, SendTaskSuccess',
    'GetActivityTask (long poll, up to 60 s) as exercise-run-test...',
    'got a task: {"items":[{"sku":"BOOK-1"}]}',
    'SendTaskHeartbeat',
    'SendTaskSuccess {"packedItems":1,"box":"M"}',
    'answered 1 activity task(s)',
    'the order SUCCEEDED with undefined',
    '\n== 4/4 reject: human approval rejected: the Choice fails the order',
    started('rejected-by-approver', {}),
    'opened the emailed reject link: a confirmation page (GET records nothing)',
    'confirmed: the endpoint called SendTaskSuccess with decision rejected',
    'clicking again answers 410: a token is answered once',
    'the Choice sent the rejected order to the OrderRejected Fail state',
  ]);
  // The history's data (the task's parameters, the warehouse's output) is what the steps read.
  expect(sfn.commandCalls(GetExecutionHistoryCommand).every((c) => c.args[0].input.includeExecutionData === true)).toBe(true);
});

test('the worker packs an activity task without items as 0 items', async () => {
  deploy();
  sfn.on(GetActivityTaskCommand).resolvesOnce({ taskToken: 'packing-token', input: '{}' }).resolves({});
  await run(['worker']);
  expect(lines).toContain('SendTaskSuccess {"packedItems":0,"box":"M"}');
});

test('a second click refused as an invalid token (400) also shows the token is answered once', async () => {
  deploy({ endpoint: (method, first) => (method === 'POST' && !first ? { status: 400, body: 'the token is not a valid task token' } : asDeployed().endpoint(method, first)) });
  await run(['reject']);
  expect(lines).toContain('clicking again answers 400: a token is answered once');
});

describe('waiting for an execution', () => {
  const neverEnds: Partial<Lab> = { decided: () => undefined };

  test('gives up at the deadline: the poll that reaches it is the last', async () => {
    deploy(neverEnds);
    // Each DescribeExecution takes 25 ms of a clock the test holds, so the second poll of the end lands on the 50 ms deadline.
    let now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const describe = sfn.commandCalls(DescribeExecutionCommand).length;
    sfn.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
      now += 25;
      return { status: 'RUNNING', executionArn: input.executionArn };
    });
    await expect(run(['reject'])).rejects.toThrow(/did not end within 0.05 s$/);
    // One poll finds AwaitApproval entered; two more wait for the end.
    expect(sfn.commandCalls(DescribeExecutionCommand).length - describe).toBe(3);
  });

  test('pauses pollMs between polls', async () => {
    deploy(neverEnds);
    await expect(
      runExercise(steps.filter((s) => s.id === 'reject'), { ...options, provide: [provide(timing, { pollMs: 20, timeoutMs: 60, packingWorkMs: 0, packingHeartbeatMs: 1_000 })] }),
    ).rejects.toThrow(ExerciseCheckFailed);
    // At most one poll finding AwaitApproval, then one at the start and one after each 20 ms pause of the 60 ms.
    expect(sfn.commandCalls(DescribeExecutionCommand).length).toBeLessThanOrEqual(5);
  });
});

test('the steps in a run: approve hands its execution to the worker, which waits for it to succeed', async () => {
  deploy();
  await run(['callback', 'approve', 'worker']);
  expect(lines).toContain('the order SUCCEEDED with undefined');
  expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name?.replace(/-run-\w+$/, ''))).toEqual(['accept', 'reject']);
});

const stillWaiting = (arn: string): Execution => ({ status: 'RUNNING', events: awaitingApproval(arn).slice(0, 2) });
test.each<[string[], string, Partial<Lab>, string]>([
  [['callback'], 'an order that never reaches the approval', { started: (arn, name) => (name.startsWith('accept-') ? stillWaiting(arn) : asDeployed().started(arn, name)) }, 'neither ended nor entered AwaitApproval within 0.05 s'],
  [['callback'], 'an order that ends before the approval', { started: (arn, name) => (name.startsWith('accept-') ? { status: 'FAILED', events: [] } : asDeployed().started(arn, name)) }, 'the accepted order ended FAILED before AwaitApproval'],
  [['callback'], 'a warehouse rejection that fails the order with another error', { started: (arn, name) => (name.startsWith('reject-') ? { status: 'FAILED', error: 'States.Timeout', events: [] } : asDeployed().started(arn, name)) }, 'the rejected order ended FAILED States.Timeout'],
  [['callback'], 'a warehouse rejection that times the order out', { started: (arn, name) => (name.startsWith('reject-') ? { status: 'TIMED_OUT', error: 'WarehouseRejected', events: [] } : asDeployed().started(arn, name)) }, 'the rejected order ended TIMED_OUT WarehouseRejected'],
  [['callback'], 'a warehouse rejection that does not fail the order', { started: (arn, name) => (name.startsWith('reject-') ? { status: 'SUCCEEDED', events: [] } : asDeployed().started(arn, name)) }, 'the rejected order ended SUCCEEDED undefined'],
  [['approve'], 'an approval task without a token', { started: (arn) => ({ status: 'RUNNING', events: awaitingApproval(arn).filter((e) => e.type !== 'TaskScheduled') }) }, 'no approval task token in the history'],
  [['approve'], 'a link that does not open', { endpoint: (method, first) => (method === 'GET' ? { status: 403, body: 'Forbidden' } : asDeployed().endpoint(method, first)) }, 'GET of the approve link answered 403'],
  [['approve'], 'a link that answers an error page with a form', { endpoint: (method, first) => (method === 'GET' ? { status: 400, body: '<form method="post"></form>' } : asDeployed().endpoint(method, first)) }, 'GET of the approve link answered 400'],
  [['approve'], 'a link that records the decision without a confirmation page', { endpoint: (method, first) => (method === 'GET' ? { status: 200, body: 'recorded' } : asDeployed().endpoint(method, first)) }, 'GET of the approve link answered 200'],
  [['approve'], 'a confirmation that fails', { endpoint: (method, first) => (method === 'POST' ? { status: 500, body: 'SendTaskSuccess failed' } : asDeployed().endpoint(method, first)) }, 'POST approve answered 500: SendTaskSuccess failed'],
  [['approve'], 'a token answered twice', { endpoint: (method) => asDeployed().endpoint(method, true) }, 'a second click answered 200, expected 410 (already answered)'],
  [['approve'], 'an approval that ends the order', { decided: (execution) => Object.assign(execution, { status: 'FAILED' }) }, 'the approved order did not go on to PackOrder'],
  [['approve'], 'an approved order that failed once its activity was scheduled', { decided: (execution) => Object.assign(execution, { status: 'FAILED', events: [...execution.events, entered('PackOrder'), { id: 0, type: 'ActivityScheduled', timestamp: new Date() }] }) }, 'the approved order did not go on to PackOrder'],
  [['approve'], 'an approved order in PackOrder with no activity scheduled', { decided: (execution) => execution.events.push(entered('PackOrder')) }, 'the approved order did not go on to PackOrder'],
  [['worker'], 'no activity task', { activityTasks: 0 }, 'no PackOrder task came within two polls: run the approve step first'],
  [['approve', 'worker'], 'an order that fails after packing', { packed: (execution) => Object.assign(execution, { status: 'FAILED' }) }, 'the order ended FAILED after the activity answered'],
  // The history holds events of other states (AwaitWarehouse's exit ...): waiting for the end must not stop at them.
  [['reject'], 'a rejection that does not end the order', { decided: () => undefined }, 'did not end within 0.05 s'],
  [['reject'], 'a rejection that times the order out', { decided: (execution) => Object.assign(execution, { status: 'TIMED_OUT', error: 'OrderRejected' }) }, 'the rejected order ended TIMED_OUT OrderRejected'],
  [['reject'], 'a rejection that fails the order otherwise', { decided: (execution) => Object.assign(execution, { status: 'FAILED', error: 'States.Runtime' }) }, 'the rejected order ended FAILED States.Runtime'],
])('%s fails on %s', async (ids, _name, changes, message) => {
  deploy(changes);
  const failure = await run(ids).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ExerciseCheckFailed);
  expect((failure as Error).message).toContain(message);
});

test('a step fails when StartExecution returns no executionArn', async () => {
  deploy();
  sfn.on(StartExecutionCommand).resolves({});
  await expect(run(['reject'])).rejects.toThrow(new ExerciseCheckFailed('StartExecution returned no executionArn'));
});
