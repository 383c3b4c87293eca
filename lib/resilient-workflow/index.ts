import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AlarmNotificationOptions, notifyOnAlarmAndOk } from '../core/alarms';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from '../core/logs';
import { PropsValidator } from '../core/validation';

export { LAMBDA_SERVICE_ERRORS, misspelledStatesError, STATES_ERRORS } from './errors';
export * from './task';

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
      check.inRange(
        timeoutSeconds,
        { min: WORKFLOW_LIMITS.minDurationSeconds, max: max },
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
