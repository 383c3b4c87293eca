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
/** An execution waiting for its approver: the warehouse answered, the approval task carries its token. */
const awaitingApproval = (arn: string): HistoryEvent[] => [
  entered('AwaitWarehouse'),
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
  /** The approval endpoint: GET (confirmation page) and POST (records the decision once per token). */
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
    if (method === 'GET') return { status: 200, body: '<form method="post"><button>Confirm</button></form>' };
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
  sfn.on(GetExecutionHistoryCommand).callsFake(({ executionArn }: { executionArn: string }) => ({ events: executions.get(executionArn)!.events }));
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
    const form = new URLSearchParams(method === 'GET' ? new URL(String(url)).search : String(init?.body));
    const token = form.get('token') ?? '';
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

test.each(steps.map((s) => s.id))('step %s passes its own checks against the lab\'s behaviour', async (id) => {
  deploy();
  await run([id]);
  expect(lines.length).toBeGreaterThan(1);
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
  [['callback'], 'a warehouse rejection that does not fail the order', { started: (arn, name) => (name.startsWith('reject-') ? { status: 'SUCCEEDED', events: [] } : asDeployed().started(arn, name)) }, 'the rejected order ended SUCCEEDED undefined'],
  [['approve'], 'an approval task without a token', { started: (arn) => ({ status: 'RUNNING', events: awaitingApproval(arn).filter((e) => e.type !== 'TaskScheduled') }) }, 'no approval task token in the history'],
  [['approve'], 'a link that does not open', { endpoint: (method, first) => (method === 'GET' ? { status: 403, body: 'Forbidden' } : asDeployed().endpoint(method, first)) }, 'GET of the approve link answered 403'],
  [['approve'], 'a link that records the decision without a confirmation page', { endpoint: (method, first) => (method === 'GET' ? { status: 200, body: 'recorded' } : asDeployed().endpoint(method, first)) }, 'GET of the approve link answered 200'],
  [['approve'], 'a confirmation that fails', { endpoint: (method, first) => (method === 'POST' ? { status: 500, body: 'SendTaskSuccess failed' } : asDeployed().endpoint(method, first)) }, 'POST approve answered 500: SendTaskSuccess failed'],
  [['approve'], 'a token answered twice', { endpoint: (method) => asDeployed().endpoint(method, true) }, 'a second click answered 200, expected 410 (already answered)'],
  [['approve'], 'an approval that ends the order', { decided: (execution) => Object.assign(execution, { status: 'FAILED' }) }, 'the approved order did not go on to PackOrder'],
  [['worker'], 'no activity task', { activityTasks: 0 }, 'no PackOrder task came within two polls: run the approve step first'],
  [['approve', 'worker'], 'an order that fails after packing', { packed: (execution) => Object.assign(execution, { status: 'FAILED' }) }, 'the order ended FAILED after the activity answered'],
  // The history holds events of other states (AwaitWarehouse's exit ...): waiting for the end must not stop at them.
  [['reject'], 'a rejection that does not end the order', { decided: () => undefined }, 'did not end within 0.05 s'],
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
