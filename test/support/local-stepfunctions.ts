import type { Context } from 'aws-lambda';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { allStates, AslDefinition, AslState } from '../../labs/support/state-machine-definition';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
// The engine's event log entries; typed loosely so tests can read any field by name.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LocalEvent = Record<string, any> & { type: string; timestamp: number };

/** A Lambda handler as deployed: async, (event, context). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LocalLambda = (event: any, context: Context) => Promise<unknown>;
/** Stands in for a non-Lambda Task (DynamoDB, SQS, nested state machine...): gets the state's effective input. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LocalTask = (input: any) => Promise<unknown> | unknown;

export interface LocalRunOptions {
  /** Real handler code per Lambda function ARN (placeholder ARNs from `placeholderArn`). */
  readonly lambdas?: Readonly<Record<string, LocalLambda>>;
  /** Stand-ins for the other Task states, by state name. */
  readonly tasks?: Readonly<Record<string, LocalTask>>;
  /** Milliseconds each Wait state (by name) pauses instead of its Seconds. @default 0 for every Wait state */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /**
   * Milliseconds a state waits before each retry (one number per retrier, -1 to keep the definition's). Tests that
   * check the configured backoff leave a state out and measure the real waits instead.
   */
  readonly retryIntervalOverrides?: Readonly<Record<string, number | number[]>>;
  /** Replaces the TimeoutSeconds of Task states (by name), to reach the timeout path quickly. */
  readonly taskTimeoutSeconds?: Readonly<Record<string, number>>;
  /** Context object fields (`$$`) beyond the ones filled in here. */
  readonly context?: Record<string, unknown>;
  /** Execution name, in `$$.Execution.Name` and `$$.Execution.Id`. @default 'local-run' */
  readonly executionName?: string;
}

export interface LocalRun {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  /** The execution's error and cause when it failed. */
  readonly error?: { Error: string; Cause: unknown };
  readonly events: LocalEvent[];
  /** Names of the states entered, in order (Map iterations and Parallel branches included). */
  readonly statesEntered: string[];
}

const validated = new WeakSet<AslDefinition>();

/** What the task token is locally: `$$.Task.Token` resolves to this. */
export const LOCAL_TASK_TOKEN = 'local-task-token';

/** Paths, inside a state's effective input, of the Parameters fields that read `$$.State.RetryCount`. */
function retryCountPaths(parameters: unknown, prefix: string[] = []): string[][] {
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) return [];
  return Object.entries(parameters as Record<string, unknown>).flatMap(([key, value]) => {
    if (key.endsWith('.$') && value === '$$.State.RetryCount') return [[...prefix, key.slice(0, -2)]];
    return retryCountPaths(value, [...prefix, key]);
  });
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]] = value;
}

/** Rethrows what a Lambda handler threw as Step Functions reports it: the error type as the name, a JSON cause. */
function asLambdaError(error: unknown): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const reported = new Error(
    JSON.stringify({ errorType: original.name, errorMessage: original.message, trace: [] }),
  );
  reported.name = original.name;
  return reported;
}

function lambdaTask(name: string, state: AslState, options: LocalRunOptions, calls: Map<string, number>): LocalTask {
  const resource: string = state.Resource;
  const optimized = /^arn:[^:]+:states:::lambda:invoke$/.test(resource);
  const functionArn = optimized ? state.Parameters?.FunctionName : resource;
  const handler = options.lambdas?.[functionArn];
  if (!handler) throw new Error(`Task ${name} invokes ${functionArn}, which has no local handler in options.lambdas`);
  const retryPaths = retryCountPaths(state.Parameters);
  return async (input: Record<string, unknown>) => {
    // The engine's context object is static: fill $$.State.RetryCount with how often this state ran before.
    const count = calls.get(name) ?? 0;
    calls.set(name, count + 1);
    for (const path of retryPaths) setPath(input, path, count);
    const event = optimized ? input.Payload : input;
    const context = { functionName: functionArn.split(':').pop(), awsRequestId: `local-${count}` } as Context;
    let result: unknown;
    try {
      result = await handler(event, context);
    } catch (error) {
      throw asLambdaError(error);
    }
    return optimized ? { ExecutedVersion: '$LATEST', Payload: result ?? null, StatusCode: 200 } : result;
  };
}

/** Request-response Lambda tasks; a `.waitForTaskToken` one waits for its token, so it needs a stand-in that does. */
const isLambdaResource = (resource: string) =>
  /^arn:[^:]+:states:::lambda:invoke$/.test(resource) || /^arn:[^:]+:lambda:/.test(resource);

/**
 * Runs a synthesized definition on aws-local-stepfunctions: Lambda tasks run the real handler code, other tasks
 * run the stand-ins given, Wait states do not wait unless told to. Resolves with the status, output or error, and
 * the engine's event log (StateEntered, StateRetried, StateCaught, ...). A task without a handler is an error.
 */
export async function runLocally(definition: AslDefinition, input: unknown, options: LocalRunOptions = {}): Promise<LocalRun> {
  // JSON round trip, not structuredClone: under jest the latter builds objects of another realm, which the engine's
  // plain-object check rejects.
  const patched = JSON.parse(JSON.stringify(definition)) as AslDefinition;
  const states = allStates(patched);
  const calls = new Map<string, number>();
  const taskResourceLocalHandlers: Record<string, LocalTask> = {};
  const waitTimeOverrides: Record<string, number> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Wait') waitTimeOverrides[name] = options.waitTimeOverrides?.[name] ?? 0;
    if (state.Type !== 'Task') continue;
    if (options.taskTimeoutSeconds?.[name] !== undefined) state.TimeoutSeconds = options.taskTimeoutSeconds[name];
    const stand = options.tasks?.[name];
    if (stand) taskResourceLocalHandlers[name] = stand;
    else if (isLambdaResource(state.Resource)) taskResourceLocalHandlers[name] = lambdaTask(name, state, options, calls);
    else throw new Error(`Task ${name} (${state.Resource}) has no stand-in in options.tasks`);
  }

  const executionName = options.executionName ?? 'local-run';
  if (!validated.has(definition)) {
    // Validates the whole definition (JSONPaths, ARNs, fields, reachability) once; runs skip it, as the engine
    // would otherwise validate again for every Map iteration and Parallel branch.
    new StateMachine(patched as never, { validationOptions: { checkArn: true, checkPaths: true } });
    validated.add(definition);
  }
  const machine = new StateMachine(patched as never, { validationOptions: { noValidate: true } });
  const execution = machine.run(input as Json, {
    overrides: {
      taskResourceLocalHandlers: taskResourceLocalHandlers as never,
      waitTimeOverrides,
      retryIntervalOverrides: options.retryIntervalOverrides as Record<string, number | number[]>,
    },
    context: {
      ...options.context,
      Execution: {
        Id: `arn:aws:states:us-east-1:123456789012:execution:local:${executionName}`,
        Name: executionName,
      },
      State: { RetryCount: 0 },
      Task: { Token: LOCAL_TASK_TOKEN },
    },
  });
  const events: LocalEvent[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) events.push(event as LocalEvent);
  })();
  let run: Omit<LocalRun, 'events' | 'statesEntered'>;
  try {
    run = { status: 'SUCCEEDED', output: await execution.result };
  } catch (error) {
    if (!(error instanceof ExecutionError)) throw error;
    const cause = (error as { cause?: { name?: string; message?: string } }).cause;
    run = { status: 'FAILED', error: { Error: cause?.name ?? 'unknown', Cause: cause?.message } };
  }
  await collecting;
  const statesEntered = events.filter((e) => e.type === 'StateEntered').map((e) => e.state.name as string);
  return { ...run, events, statesEntered };
}

/** The events of one state, by type: `eventsOf(run, 'ChargePayment', 'StateRetried')`. */
export function eventsOf(run: LocalRun, stateName: string, type: string): LocalEvent[] {
  return run.events.filter((e) => e.type === type && e.state?.name === stateName);
}

/** The input a state received the first time it was entered. */
export function inputOf(run: LocalRun, stateName: string): unknown {
  const entered = eventsOf(run, stateName, 'StateEntered')[0];
  if (!entered) throw new Error(`state ${stateName} was never entered; entered: ${run.statesEntered.join(' → ')}`);
  return entered.state.input;
}
