import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AlarmNotificationOptions, notifyOnAlarmAndOk } from '../core/alarms';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from '../core/logs';
import { ConstructUsageError, PropsValidator } from '../core/validation';
import { misspelledStatesError, STATES_ERRORS } from './errors';

export { LAMBDA_SERVICE_ERRORS, misspelledStatesError, STATES_ERRORS } from './errors';

/** Amazon States Language limits these props are checked against (Step Functions developer guide, "Retry"). */
export const RETRY_LIMITS = {
  maxAttempts: 99_999_999,
  minIntervalSeconds: 1,
  maxIntervalSeconds: 99_999_999,
  minDelaySeconds: 1,
  maxDelaySeconds: 31_622_400,
  minBackoffRate: 1,
} as const;

/**
 * One retrier: when a state fails with one of `errors`, Step Functions waits and runs it again. Retriers are
 * evaluated top to bottom and the first whose `errors` match is used; each keeps its own attempt count.
 * Wait before retry n (1-based) = min(interval × backoffRate^(n-1), maxDelay), randomised down to 0–that with jitter.
 */
export interface RetrierSpec {
  /** Error names this retrier matches (`States.ALL` alone, in the last retrier only). */
  readonly errors: readonly string[];
  /** Wait before the first retry (whole seconds, 1 s – 99,999,999 s). @default Duration.seconds(1) */
  readonly interval?: Duration;
  /** Retries after the first attempt; 0 = never retried (0 – 99,999,999). @default 3 */
  readonly maxAttempts?: number;
  /** Multiplier of the wait after each retry (≥ 1.0). @default 2 */
  readonly backoffRate?: number;
  /** Cap on any single wait (whole seconds, 1 s – 31,622,400 s). @default - no cap */
  readonly maxDelay?: Duration;
  /** Full jitter: each wait is randomised between 0 and its computed value, so retries of many executions spread out. @default false */
  readonly jitter?: boolean;
}

/** One catcher: when retries are exhausted (or none match), errors matching `errors` move the execution to `handler`. */
export interface CatcherSpec {
  /** Error names this catcher matches (`States.ALL` alone, in the last catcher only). @default ['States.ALL'] */
  readonly errors?: readonly string[];
  /** The failure path. */
  readonly handler: sfn.IChainable;
  /**
   * Where the error object `{ Error, Cause }` is written in the state's input before it goes to `handler`. A path
   * below `$` keeps the original input beside the error; `$` replaces the input by the error. @default '$.error'
   */
  readonly resultPath?: string;
}

/** A state that can retry and catch: a Task, Parallel or Map state. */
export interface IRetryableState extends sfn.IChainable {
  addRetry(props?: sfn.RetryProps): unknown;
  addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): unknown;
}

export interface ResilientTaskProps {
  /** The Task, Parallel or Map state to protect. */
  readonly state: IRetryableState;
  /** Retriers, evaluated top to bottom: specific errors first, `States.ALL` last. An empty list retries nothing. */
  readonly retry: readonly RetrierSpec[];
  /** Catchers, evaluated top to bottom after retries are exhausted. @default - none: the error fails the execution */
  readonly catch?: readonly CatcherSpec[];
}

/**
 * The waits (seconds) before each retry of `retrier`, without jitter (jitter draws each between 0 and this).
 * Throws `ResilientTask.RetryDelaysOfToken` (a `ConstructUsageError`) when `interval` or `maxDelay` is a token: its
 * value, and so the waits, are known only at deploy time.
 */
export function retryDelays(retrier: RetrierSpec): number[] {
  const seconds = (duration: Duration | undefined, name: string): number | undefined => {
    if (duration?.isUnresolved()) {
      throw new ConstructUsageError(
        'retryDelays',
        'ResilientTask.RetryDelaysOfToken',
        `${name} is a token, known only at deploy time: the waits cannot be computed at synth`,
      );
    }
    return duration?.toSeconds({ integral: false });
  };
  const interval = seconds(retrier.interval, 'interval') ?? 1;
  const backoff = retrier.backoffRate ?? 2;
  const cap = seconds(retrier.maxDelay, 'maxDelay') ?? Number.POSITIVE_INFINITY;
  return Array.from({ length: retrier.maxAttempts ?? 3 }, (_, n) => Math.min(interval * backoff ** n, cap));
}

function validateErrorLists(
  check: PropsValidator,
  kind: 'retry' | 'catch',
  lists: readonly (readonly string[])[],
  isTask: boolean,
): void {
  const seen = new Map<string, number>();
  let taskFailedAt: number | undefined;
  lists.forEach((errors, index) => {
    const where = `${kind}[${index}]`;
    check.require(errors.length > 0, 'EmptyErrors', `${where} lists no error names: name at least one (or States.ALL)`);
    if (errors.includes(STATES_ERRORS.ALL)) {
      check.require(errors.length === 1, 'AllNotAlone', `${where}: States.ALL must be the only error name of its list`);
      check.require(
        index === lists.length - 1,
        'AllNotLast',
        `${where}: States.ALL must be in the last ${kind === 'retry' ? 'retrier' : 'catcher'}; the ones after it are never reached`,
      );
    }
    for (const error of errors) {
      const meant = misspelledStatesError(error);
      check.require(
        meant === undefined,
        'UnknownStatesError',
        `${where}: ${error} is not a predefined error name` +
          (meant && meant !== '?' ? `; did you mean ${meant}?` : '; custom error names must not start with "States."'),
      );
      const earlier = seen.get(error);
      check.require(
        earlier === undefined,
        'ShadowedError',
        `${where}: ${error} is already matched by ${kind}[${earlier}], so this entry never matches it`,
      );
      const timeoutError = error === STATES_ERRORS.TIMEOUT || error === STATES_ERRORS.HEARTBEAT_TIMEOUT;
      check.require(
        !isTask || taskFailedAt === undefined || timeoutError || error === STATES_ERRORS.ALL,
        'ShadowedByTaskFailed',
        `${where}: ${error} is already matched by States.TaskFailed in ${kind}[${taskFailedAt}] (it matches every ` +
          'error of a Task except States.Timeout): list specific errors before it',
      );
      if (!seen.has(error)) seen.set(error, index);
    }
    if (errors.includes(STATES_ERRORS.TASK_FAILED) && taskFailedAt === undefined) taskFailedAt = index;
  });
}

function validateRetrier(check: PropsValidator, retrier: RetrierSpec, index: number): void {
  const where = `retry[${index}]`;
  const maxAttempts = retrier.maxAttempts ?? 3;
  check.require(
    Number.isInteger(maxAttempts) && maxAttempts >= 0 && maxAttempts <= RETRY_LIMITS.maxAttempts,
    'MaxAttemptsRange',
    `${where}: maxAttempts must be a whole number from 0 (never retry) to ${RETRY_LIMITS.maxAttempts}, got ${maxAttempts}`,
  );
  const backoffRate = retrier.backoffRate ?? 2;
  check.require(
    Number.isFinite(backoffRate) && backoffRate >= RETRY_LIMITS.minBackoffRate,
    'BackoffRateRange',
    `${where}: backoffRate must be at least ${RETRY_LIMITS.minBackoffRate.toFixed(1)} (1 keeps the interval constant), got ${backoffRate}`,
  );
  // Not whole seconds is part of each range problem (IntervalRange, MaxDelayRange), so integral: false here.
  const interval = check.seconds(retrier.interval, `${where}.interval`, { integral: false });
  if (interval !== undefined) {
    const { minIntervalSeconds: min, maxIntervalSeconds: max } = RETRY_LIMITS;
    check.require(
      Number.isInteger(interval) && interval >= min && interval <= max,
      'IntervalRange',
      `${where}: interval must be whole seconds from ${min} to ${max}, got ${interval} s`,
    );
  }
  const maxDelay = check.seconds(retrier.maxDelay, `${where}.maxDelay`, { integral: false });
  if (maxDelay !== undefined) {
    const { minDelaySeconds: min, maxDelaySeconds: max } = RETRY_LIMITS;
    check.require(
      Number.isInteger(maxDelay) && maxDelay >= min && maxDelay <= max,
      'MaxDelayRange',
      `${where}: maxDelay must be whole seconds from ${min} to ${max}, got ${maxDelay} s`,
    );
  }
}

/**
 * Protects one Task, Parallel or Map state with an ordered retry policy and catchers whose `ResultPath` keeps the
 * original input beside the error. Validates the whole policy at synth (ranges, `States.ALL` alone and last, error
 * names shadowed by an earlier entry, misspelled predefined names) and throws once, listing every problem.
 *
 * Use it in a chain where the state would go: `Chain.start(validate).next(new ResilientTask(...)).next(done)`.
 */
export class ResilientTask extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];
  /** The retriers as applied, in evaluation order. */
  public readonly retriers: readonly RetrierSpec[];

  constructor(scope: Construct, id: string, props: ResilientTaskProps) {
    super(scope, id);
    const catchers = props.catch ?? [];
    const isTask = props.state instanceof sfn.TaskStateBase || props.state instanceof sfn.CustomState;

    const check = new PropsValidator(this, 'ResilientTask');
    props.retry.forEach((retrier, index) => validateRetrier(check, retrier, index));
    validateErrorLists(check, 'retry', props.retry.map((r) => r.errors), isTask);
    validateErrorLists(check, 'catch', catchers.map((c) => c.errors ?? [STATES_ERRORS.ALL]), isTask);
    catchers.forEach((catcher, index) => {
      const resultPath = catcher.resultPath ?? '$.error';
      check.require(
        Token.isUnresolved(resultPath) || /^\$(\.|\[|$)/.test(resultPath),
        'ResultPathInvalid',
        `catch[${index}]: resultPath must be a JSONPath starting with "$", got "${resultPath}"`,
      );
      check.warnUnless(
        resultPath !== '$',
        'ResultPathReplacesInput',
        `catch[${index}]: resultPath "$" replaces the state's input by the error, so the failure path loses the ` +
          'original input; use a path such as "$.error" to keep both',
      );
    });
    check.throwIfInvalid();

    for (const retrier of props.retry) {
      const maxAttempts = retrier.maxAttempts ?? 3;
      // A retrier that never retries needs no wait settings: render only ErrorEquals and MaxAttempts 0.
      props.state.addRetry(
        maxAttempts === 0
          ? { errors: [...retrier.errors], maxAttempts }
          : {
              errors: [...retrier.errors],
              interval: retrier.interval ?? Duration.seconds(1),
              maxAttempts,
              backoffRate: retrier.backoffRate ?? 2,
              maxDelay: retrier.maxDelay,
              jitterStrategy: retrier.jitter ? sfn.JitterType.FULL : undefined,
            },
      );
    }
    for (const catcher of catchers) {
      props.state.addCatch(catcher.handler, {
        errors: [...(catcher.errors ?? [STATES_ERRORS.ALL])],
        resultPath: catcher.resultPath ?? '$.error',
      });
    }
    this.retriers = props.retry;
    this.startState = props.state.startState;
    this.endStates = props.state.endStates;
  }
}

/** Alarms on the state machine's executions; each alarm costs $0.10 per month. `alarmTopic` hears ALARM and OK. */
export interface ResilientWorkflowAlarmsOptions extends AlarmNotificationOptions {
  /**
   * Period each alarm sums its metric over (whole seconds: 10, 30 or a multiple of 60; known at synth, not a token).
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

export interface ResilientWorkflowProps {
  /** The workflow: a chain of states. */
  readonly definition: sfn.IChainable;
  /**
   * STANDARD: up to 1 year, exactly-once, history kept 90 days, billed per state transition. EXPRESS: up to 5 minutes,
   * at-least-once (async) or at-most-once (sync), history only in the logs, billed per request and duration; it does
   * not support `.waitForTaskToken`, `.sync` or activities. @default sfn.StateMachineType.STANDARD
   */
  readonly type?: sfn.StateMachineType;
  /** Longest an execution may run before it fails with States.Timeout. @default - 5 minutes for EXPRESS, none (1 year) for STANDARD */
  readonly timeout?: Duration;
  /** An existing log group for the execution events (all of them: level ALL). @default - a log group is created */
  readonly logGroup?: logs.ILogGroup;
  /** Settings of the log group created when `logGroup` is not given. @default - retention of one month, kept on stack deletion */
  readonly logGroupProps?: CreatedLogGroupProps;
  /** Log each state's input and output too (needed to debug EXPRESS, which has no history API). @default true */
  readonly includeExecutionData?: boolean;
  /** Description of the state machine, written as the definition's Comment. @default - none */
  readonly comment?: string;
  /** Alarms on failed, timed-out and throttled executions. @default - no alarms */
  readonly alarms?: ResilientWorkflowAlarmsOptions;
}

/** Step Functions quotas these props are checked against (developer guide, "Step Functions service quotas"). */
export const WORKFLOW_LIMITS = {
  minDurationSeconds: 1,
  expressMaxDurationSeconds: 300,
  standardMaxDurationSeconds: 31_536_000,
  /** Alarm periods below one minute that CloudWatch accepts (high resolution). */
  alarmPeriodsBelowOneMinuteSeconds: [10, 30],
  /** Any other alarm period is a (non-zero) multiple of this. */
  alarmPeriodMultipleSeconds: 60,
} as const;

const DEFAULT_ALARM_PERIOD = Duration.minutes(5);

interface StateFinding {
  readonly state: string;
  readonly resource: string;
  readonly json: Record<string, unknown>;
}

/**
 * Every Task state of the definition, nested branches and Map iterations included, with its Resource. Call it once
 * the definition is bound to a state machine: Parallel states render their branches only then.
 */
function taskStates(definition: sfn.IChainable): StateFinding[] {
  const found: StateFinding[] = [];
  const visit = (name: string, json: Record<string, unknown>) => {
    if (typeof json.Resource === 'string') found.push({ state: name, resource: json.Resource, json });
    const nested = [
      ...((json.Branches as { States: Record<string, Record<string, unknown>> }[] | undefined) ?? []),
      ...([json.ItemProcessor, json.Iterator].filter(Boolean) as { States: Record<string, Record<string, unknown>> }[]),
    ];
    for (const graph of nested) for (const [child, state] of Object.entries(graph.States)) visit(child, state);
  };
  for (const state of sfn.State.findReachableStates(definition.startState, { includeErrorHandlers: true })) {
    visit(state.stateId, state.toStateJson() as Record<string, unknown>);
  }
  return found;
}

/**
 * A state machine with what production needs and CDK leaves off: every execution event logged (level ALL) to a log
 * group with retention, X-Ray tracing, optional alarms on failed / timed-out / throttled executions, and a synth
 * error when the definition uses what its type does not support (`.waitForTaskToken`, `.sync` or activities in
 * EXPRESS; more than 5 minutes for EXPRESS).
 */
export class ResilientWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.ILogGroup;
  public readonly type: sfn.StateMachineType;
  public readonly failedAlarm?: cloudwatch.Alarm;
  public readonly timedOutAlarm?: cloudwatch.Alarm;
  public readonly throttledAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ResilientWorkflowProps) {
    super(scope, id);
    this.type = props.type ?? sfn.StateMachineType.STANDARD;
    const express = this.type === sfn.StateMachineType.EXPRESS;
    const timeout = props.timeout ?? (express ? Duration.seconds(WORKFLOW_LIMITS.expressMaxDurationSeconds) : undefined);

    const check = new PropsValidator(this, 'ResilientWorkflow');
    check.existingOrProps(props.logGroup, props.logGroupProps, { existing: 'logGroup', props: 'logGroupProps' });
    const timeoutSeconds = this.checkTimeout(check, timeout, express);
    const periodSeconds = props.alarms ? this.checkAlarmPeriod(check, props.alarms.period) : undefined;

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, 'Logs', {
        retention: props.logGroupProps?.retention ?? DEFAULT_LOG_RETENTION,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
      stateMachineType: this.type,
      // Whole seconds, or a token given in seconds (rendered as is), so CDK never throws its own error for
      // Duration.millis(1500) or Duration.minutes(token): those problems are already listed, thrown below.
      timeout: timeoutSeconds !== undefined ? Duration.seconds(timeoutSeconds) : timeout?.unitLabel() === 'seconds' ? timeout : undefined,
      comment: props.comment,
    });
    // Checked once the definition is bound to the state machine's graph: only then do Parallel states render
    // their branches.
    if (express) this.checkExpressDefinition(check, props.definition);
    check.throwIfInvalid();
    this.enableLoggingAndTracing(props.includeExecutionData ?? true);
    this.acknowledgeFunctionVersions(props.definition);

    if (props.alarms) {
      const period = Duration.seconds(periodSeconds ?? DEFAULT_ALARM_PERIOD.toSeconds());
      const alarm = (alarmId: string, metric: cloudwatch.Metric, what: string) =>
        metric.createAlarm(this, alarmId, {
          alarmDescription: `Executions of ${this.node.path} ${what}`,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      this.failedAlarm = alarm('FailedAlarm', this.stateMachine.metricFailed({ period, statistic: 'Sum' }), 'failed');
      this.timedOutAlarm = alarm('TimedOutAlarm', this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }), 'timed out');
      this.throttledAlarm = alarm(
        'ThrottledAlarm',
        this.stateMachine.metricThrottled({ period, statistic: 'Sum' }),
        'were throttled',
      );
      notifyOnAlarmAndOk(props.alarms.alarmTopic, [this.failedAlarm, this.timedOutAlarm, this.throttledAlarm]);
    }
  }

  /** StartExecution (asynchronous), plus StartSyncExecution for an EXPRESS state machine. */
  grantStart(grantee: iam.IGrantable): iam.Grant {
    const grant = this.stateMachine.grants.startExecution(grantee);
    return this.type === sfn.StateMachineType.EXPRESS ? grant.combine(this.stateMachine.grants.startSyncExecution(grantee)) : grant;
  }

  /** DescribeExecution, GetExecutionHistory, ListExecutions... on this state machine and its executions. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grants.read(grantee);
  }

  /** SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: what a callback worker needs. */
  grantTaskResponse(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grants.taskResponse(grantee);
  }

  /** The timeout in whole seconds (rounded up when it is not whole, which is then a problem), undefined for none or a token. */
  private checkTimeout(check: PropsValidator, timeout: Duration | undefined, express: boolean): number | undefined {
    const timeoutSeconds = check.seconds(timeout, 'timeout');
    if (timeoutSeconds !== undefined) {
      const max = express ? WORKFLOW_LIMITS.expressMaxDurationSeconds : WORKFLOW_LIMITS.standardMaxDurationSeconds;
      check.require(
        timeoutSeconds >= WORKFLOW_LIMITS.minDurationSeconds && timeoutSeconds <= max,
        'TimeoutRange',
        `timeout must be between 1 second and ${express ? '5 minutes' : '1 year'} for a ${this.type} state machine, got ${timeoutSeconds} s`,
      );
    }
    return timeoutSeconds;
  }

  /**
   * The alarm period in whole seconds, checked against the periods CloudWatch accepts (so CDK never throws its own
   * error for `Duration.seconds(45)`). A token is a problem: CDK checks a metric's period at synth.
   */
  private checkAlarmPeriod(check: PropsValidator, period: Duration = DEFAULT_ALARM_PERIOD): number | undefined {
    const { alarmPeriodsBelowOneMinuteSeconds: belowOneMinute, alarmPeriodMultipleSeconds: multiple } = WORKFLOW_LIMITS;
    const allowed = `${belowOneMinute.map((p) => `${p} s`).join(', ')} or a multiple of ${multiple} s`;
    check.require(
      !period.isUnresolved(),
      'AlarmPeriodRange',
      `alarms.period must be known at synth (${allowed}), got a token`,
    );
    const seconds = check.seconds(period, 'alarms.period');
    // A period that is not whole seconds is already NotWholeSeconds: its rounded value is not checked again.
    if (seconds !== undefined && seconds === period.toSeconds({ integral: false })) {
      check.require(
        (belowOneMinute as readonly number[]).includes(seconds) || (seconds > 0 && seconds % multiple === 0),
        'AlarmPeriodRange',
        `alarms.period must be ${allowed}, got ${seconds} s`,
      );
    }
    return seconds;
  }

  /** What EXPRESS state machines do not support: callbacks, .sync and activities. */
  private checkExpressDefinition(check: PropsValidator, definition: sfn.IChainable): void {
    const activityArns = new Set(
      Stack.of(this).node.findAll().filter((c): c is sfn.Activity => c instanceof sfn.Activity).map((a) => a.activityArn),
    );
    const tasks = taskStates(definition);
    const names = (match: (resource: string) => boolean) => tasks.filter((t) => match(t.resource)).map((t) => t.state);
    const callbacks = names((r) => r.endsWith('.waitForTaskToken'));
    check.require(
      callbacks.length === 0,
      'ExpressCallbackUnsupported',
      `EXPRESS state machines do not support the callback pattern (.waitForTaskToken), used by ${callbacks.join(', ')}: use STANDARD`,
    );
    const syncs = names((r) => /\.sync(:\d+)?$/.test(r));
    check.require(
      syncs.length === 0,
      'ExpressSyncUnsupported',
      `EXPRESS state machines do not support the run-a-job pattern (.sync), used by ${syncs.join(', ')}: use STANDARD`,
    );
    const activities = names((r) => activityArns.has(r) || /:activity:/.test(r));
    check.require(
      activities.length === 0,
      'ExpressActivityUnsupported',
      `EXPRESS state machines do not support activities, used by ${activities.join(', ')}: use STANDARD`,
    );
  }

  /**
   * A Lambda task's grant covers the function and its versions and aliases (`<function ARN>:*`), so that a qualified
   * FunctionName works: a wildcard within one function, acknowledged per function this definition invokes.
   */
  private acknowledgeFunctionVersions(definition: sfn.IChainable): void {
    const stack = Stack.of(this);
    const logicalIds = new Set<string>();
    for (const task of taskStates(definition)) {
      const optimized = task.resource.includes(':states:::lambda:invoke');
      const target = optimized ? (task.json.Parameters as Record<string, unknown> | undefined)?.FunctionName : task.resource;
      const resolved = stack.resolve(target) as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const getAtt = resolved?.['Fn::GetAtt'];
      if (getAtt && getAtt[1] === 'Arn') logicalIds.add(getAtt[0]);
    }
    const defaultPolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    for (const task of taskStates(definition)) {
      if (!/:states:::states:startExecution\.sync/.test(task.resource)) continue;
      const child = stack.resolve((task.json.Parameters as Record<string, unknown> | undefined)?.StateMachineArn) as
        | { Ref?: string }
        | undefined;
      if (!child?.Ref) continue;
      Validations.of(defaultPolicy ?? this.stateMachine.role).acknowledge({
        id:
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:' +
          `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${child.Ref}"}]}]}*]`,
        reason:
          `${task.state} (.sync) describes and stops the executions it starts, whose names are only known at run ` +
          'time: the wildcard covers the executions of that one child state machine.',
      });
    }
    for (const logicalId of logicalIds) {
      Validations.of(defaultPolicy ?? this.stateMachine.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason:
          'A Step Functions Lambda task may invoke the function\'s versions and aliases (a qualified FunctionName): ' +
          'the wildcard stays within this one function.',
      });
    }
  }

  /**
   * Level-ALL logging and X-Ray tracing, set on the L1 resource. CDK's `logs`/`tracingEnabled` props would put their
   * `Resource: *` statements in the role's default policy, where acknowledging them would also hide a wildcard that
   * a task of the definition adds; here they sit in a policy of their own.
   */
  private enableLoggingAndTracing(includeExecutionData: boolean): void {
    const cfn = this.stateMachine.node.defaultChild as sfn.CfnStateMachine;
    cfn.loggingConfiguration = {
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: this.logGroup.logGroupArn } }],
      includeExecutionData,
      level: sfn.LogLevel.ALL,
    };
    cfn.tracingConfiguration = { enabled: true };
    const policy = new iam.Policy(this, 'LogDeliveryAndTracing', {
      roles: [this.stateMachine.role],
      statements: [
        new iam.PolicyStatement({
          actions: [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:UpdateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:DescribeResourcePolicies',
            'logs:DescribeLogGroups',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
          resources: ['*'],
        }),
      ],
    });
    // The role must hold these before Step Functions validates the log destination at creation.
    cfn.node.addDependency(policy);
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs log-delivery actions (logs:CreateLogDelivery, ...) and X-Ray (xray:PutTraceSegments, ...) ' +
        'support no resource-level permissions: the Step Functions docs require "*" for them.',
    });
  }
}
