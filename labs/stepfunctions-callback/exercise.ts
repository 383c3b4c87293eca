import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { check, ExerciseContext, ExerciseStep, defineFixture, defineTiming, requireOutput } from '../support/exercise';
import { runActivityWorker } from './activity-worker';
import { CALLBACK_LAB } from './constants';

/** GetActivityTask waits up to 60 s: the request timeout is longer. */
const sfnOf = (context: ExerciseContext) => context.client(SFNClient, 'SFN', { requestHandler: { requestTimeout: 65_000 } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const timing = defineTiming(CALLBACK_LAB.exerciseTiming);
/** Executions started by earlier steps of this run, for the steps after them (empty when a step runs alone). */
const startedExecutions = defineFixture('executions started by earlier steps', (): { awaitingApproval?: string; awaitingPacking?: string } => ({}));

async function history(context: ExerciseContext, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfnOf(context).send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken, includeExecutionData: true }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

async function start(context: ExerciseContext, name: string, warehouse: object = {}): Promise<string> {
  // The order id names the execution too: `<name>-run-<base36 time>`, unique per run, well within 80 characters.
  const input = { orderId: `${name}-${context.runId}`, items: [{ sku: 'BOOK-1', quantity: 1 }], warehouse };
  const { executionArn } = await sfnOf(context).send(
    new StartExecutionCommand({
      stateMachineArn: requireOutput(context.outputs, 'OrderWorkflowArn'),
      name: input.orderId,
      input: JSON.stringify(input),
    }),
  );
  check(executionArn !== undefined, 'StartExecution returned no executionArn');
  context.log(`started ${input.orderId}: ${JSON.stringify(input)}`);
  return executionArn;
}

/** Waits until the execution ends, or enters `state` (returns its history then). */
async function waitFor(context: ExerciseContext, executionArn: string, state?: string) {
  const { pollMs, timeoutMs } = await context.use(timing);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const execution = await sfnOf(context).send(new DescribeExecutionCommand({ executionArn }));
    const events = await history(context, executionArn);
    // Without a state, only the end counts (events such as ExecutionStarted have no stateEnteredEventDetails).
    const entered = state !== undefined && events.some((e) => e.stateEnteredEventDetails?.name === state);
    if (execution.status !== 'RUNNING' || entered) return { execution, events };
    check(Date.now() < deadline, `${executionArn} ${state ? `neither ended nor entered ${state}` : 'did not end'} within ${timeoutMs / 1000} s`);
    await sleep(pollMs);
  }
}

/** The approval task's token, read from the history as the approver's email would carry it. */
function approvalToken(events: HistoryEvent[]): string {
  const scheduled = events.find((e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.resource === 'invoke.waitForTaskToken');
  const parameters = JSON.parse(scheduled?.taskScheduledEventDetails?.parameters ?? '{}') as { Payload?: { taskToken?: string } };
  check(typeof parameters.Payload?.taskToken === 'string', 'no approval task token in the history');
  return parameters.Payload.taskToken;
}

async function decide(context: ExerciseContext, executionArn: string, action: 'approve' | 'reject'): Promise<void> {
  const { events } = await waitFor(context, executionArn, 'AwaitApproval');
  const url = new URL(requireOutput(context.outputs, 'ApprovalDecisionUrl'));
  url.searchParams.set('action', action);
  url.searchParams.set('token', approvalToken(events));
  const confirm = await fetch(url);
  check(confirm.status === 200 && (await confirm.text()).includes('<form method="post">'), `GET of the ${action} link answered ${confirm.status}`);
  context.log(`opened the emailed ${action} link: a confirmation page (GET records nothing)`);
  const recorded = await fetch(requireOutput(context.outputs, 'ApprovalDecisionUrl'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action, token: url.searchParams.get('token') ?? '' }).toString(),
  });
  check(recorded.status === 200, `POST ${action} answered ${recorded.status}: ${await recorded.text()}`);
  context.log(`confirmed: the endpoint called SendTaskSuccess with decision ${action === 'approve' ? 'approved' : 'rejected'}`);
  const again = await fetch(requireOutput(context.outputs, 'ApprovalDecisionUrl'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action, token: url.searchParams.get('token') ?? '' }).toString(),
  });
  check(again.status === 410 || again.status === 400, `a second click answered ${again.status}, expected 410 (already answered)`);
  context.log(`clicking again answers ${again.status}: a token is answered once`);
}

async function callback(context: ExerciseContext): Promise<void> {
  const started = await context.use(startedExecutions);
  const accepted = await start(context, 'accept', { workSeconds: 20 });
  const rejected = await start(context, 'reject', { decision: 'reject' });
  const first = await waitFor(context, accepted, 'AwaitApproval');
  const warehouse = first.events.find((e) => e.stateExitedEventDetails?.name === 'AwaitWarehouse');
  check(warehouse !== undefined, `the accepted order ended ${first.execution.status} before AwaitApproval`);
  context.log(`the worker answered after ~20 s of work (heartbeats every 7.5 s < HeartbeatSeconds 15): ${warehouse.stateExitedEventDetails?.output}`);
  started.awaitingApproval = accepted;
  const second = await waitFor(context, rejected);
  check(second.execution.status === 'FAILED' && second.execution.error === 'WarehouseRejected', `the rejected order ended ${second.execution.status} ${second.execution.error}`);
  context.log(`SendTaskFailure failed the task: ${second.execution.error} (${second.execution.cause}), caught into WarehouseRejectedOrder`);
}

async function approve(context: ExerciseContext): Promise<void> {
  const started = await context.use(startedExecutions);
  const executionArn = started.awaitingApproval ?? (await start(context, 'approve'));
  await decide(context, executionArn, 'approve');
  const { execution, events } = await waitFor(context, executionArn, 'PackOrder');
  check(execution.status === 'RUNNING' && events.some((e) => e.type === 'ActivityScheduled'), 'the approved order did not go on to PackOrder');
  context.log('the Choice sent the approved order to PackOrder: the activity waits for a worker (next step)');
  started.awaitingPacking = executionArn;
}

async function worker(context: ExerciseContext): Promise<void> {
  const started = await context.use(startedExecutions);
  const { packingWorkMs, packingHeartbeatMs } = await context.use(timing);
  const result = await runActivityWorker({
    client: sfnOf(context),
    activityArn: requireOutput(context.outputs, 'PackingActivityArn'),
    workerName: `exercise-${context.runId}`,
    maxTasks: started.awaitingPacking ? 1 : 10,
    heartbeatMs: packingHeartbeatMs,
    log: context.log,
    handle: async (input, heartbeat) => {
      await heartbeat();
      await sleep(packingWorkMs);
      return { packedItems: (input as { items?: unknown[] }).items?.length ?? 0, box: 'M' };
    },
  });
  check(result.answered.length > 0, 'no PackOrder task came within two polls: run the approve step first');
  context.log(`answered ${result.answered.length} activity task(s)`);
  if (started.awaitingPacking) {
    const { execution } = await waitFor(context, started.awaitingPacking);
    check(execution.status === 'SUCCEEDED', `the order ended ${execution.status} after the activity answered`);
    context.log(`the order SUCCEEDED with ${execution.output}`);
  }
}

async function reject(context: ExerciseContext): Promise<void> {
  const executionArn = await start(context, 'rejected-by-approver');
  await decide(context, executionArn, 'reject');
  const { execution } = await waitFor(context, executionArn);
  check(execution.status === 'FAILED' && execution.error === 'OrderRejected', `the rejected order ended ${execution.status} ${execution.error}`);
  context.log('the Choice sent the rejected order to the OrderRejected Fail state');
}

export const steps: readonly ExerciseStep[] = [
  { id: 'callback', title: 'SQS callback: the worker answers SendTaskSuccess (with heartbeats) or SendTaskFailure', run: callback },
  { id: 'approve', title: 'human approval: open the emailed link, confirm, the workflow goes on', run: approve },
  { id: 'worker', title: 'activity worker: GetActivityTask, SendTaskHeartbeat, SendTaskSuccess', run: worker },
  { id: 'reject', title: 'human approval rejected: the Choice fails the order', run: reject },
];
