import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';

/** Limits the waits are checked against (Step Functions developer guide, "Task" state; service quotas). */
export const CALLBACK_LIMITS = {
  maxTimeoutSeconds: 31_536_000,
  minSeconds: 1,
} as const;

/** How long a task waits for its worker, shared by both callback styles. */
export interface WaitForWorkerProps {
  /**
   * Longest the task waits for SendTaskSuccess/SendTaskFailure before it fails with States.Timeout (1 s – 1 year).
   * Without one, a waiting task lasts as long as the execution may (a year for STANDARD). @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * The worker must call SendTaskHeartbeat at least this often, or the task fails with States.HeartbeatTimeout:
   * a crashed worker is noticed in `heartbeat`, not `timeout`. Shorter than `timeout`. @default - no heartbeat required
   */
  readonly heartbeat?: Duration;
  /** Where the worker's output goes in the state's input. @default '$.callback' */
  readonly resultPath?: string;
}

/** The waits as rendered: whole seconds, or a token given in seconds, passed through as CDK renders it. */
interface Waits {
  readonly timeout: Duration;
  readonly heartbeat?: Duration;
}

/**
 * Checks both waits and returns them as rendered. Not whole seconds is part of each range problem (TimeoutRange,
 * HeartbeatRange): integral: false. A token renders only when given in seconds (`check.seconds`: TokenNotInSeconds otherwise).
 */
function validateWaits(check: PropsValidator, timeout: Duration, heartbeat: Duration | undefined): Waits {
  const { minSeconds, maxTimeoutSeconds } = CALLBACK_LIMITS;
  const timeoutSeconds = check.seconds(timeout, 'timeout', { integral: false });
  if (timeoutSeconds !== undefined) {
    check.inRange(
      timeoutSeconds,
      { min: minSeconds, max: maxTimeoutSeconds, whole: true },
      'TimeoutRange',
      `timeout must be whole seconds from ${minSeconds} to ${maxTimeoutSeconds} (1 year), got ${timeoutSeconds} s`,
    );
  }
  const heartbeatSeconds = check.seconds(heartbeat, 'heartbeat', { integral: false });
  if (heartbeatSeconds !== undefined) {
    check.require(
      Number.isInteger(heartbeatSeconds) && heartbeatSeconds >= minSeconds,
      'HeartbeatRange',
      `heartbeat must be whole seconds of at least ${minSeconds}, got ${heartbeatSeconds} s`,
    );
    if (timeoutSeconds !== undefined) {
      check.require(
        heartbeatSeconds < timeoutSeconds,
        'HeartbeatNotBelowTimeout',
        `heartbeat (${heartbeatSeconds} s) must be shorter than timeout (${timeoutSeconds} s), or it never fires`,
      );
    }
  }
  const rendered = (duration: Duration, seconds: number | undefined) =>
    seconds !== undefined ? Duration.seconds(seconds) : duration;
  return { timeout: rendered(timeout, timeoutSeconds), heartbeat: heartbeat && rendered(heartbeat, heartbeatSeconds) };
}

export interface SqsCallbackTaskProps extends WaitForWorkerProps {
  /** The queue the worker consumes; each message carries a task token. A FIFO queue is refused (no group id). */
  readonly queue: sqs.IQueue;
  /** What the worker gets beside the token, as `input`. @default - the state's whole input */
  readonly input?: sfn.TaskInput;
}

/**
 * The callback pattern through SQS: `sqs:sendMessage.waitForTaskToken` sends `{ taskToken, input, heartbeatSeconds }`
 * and the execution pauses until a worker answers with SendTaskSuccess or SendTaskFailure (or the heartbeat or
 * timeout expires). STANDARD workflows only. Grant the worker `ResilientWorkflow.grantTaskResponse`.
 */
export class SqsCallbackTask extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];
  public readonly task: tasks.SqsSendMessage;
  public readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: SqsCallbackTaskProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.hours(1);
    const check = new PropsValidator(this, 'SqsCallbackTask');
    const waits = validateWaits(check, this.timeout, props.heartbeat);
    check.require(
      !props.queue.fifo,
      'FifoQueueUnsupported',
      'queue is FIFO: a callback message has no message group to order by; use a standard queue',
    );
    check.throwIfInvalid();

    this.task = new tasks.SqsSendMessage(this, id, {
      comment: 'Callback: waits until a worker returns the task token with SendTaskSuccess or SendTaskFailure',
      queue: props.queue,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      messageBody: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        input: props.input?.value ?? sfn.JsonPath.entirePayload,
        // In seconds, so a token given as Duration.seconds(token) renders as itself.
        ...(waits.heartbeat ? { heartbeatSeconds: waits.heartbeat.toSeconds() } : {}),
      }),
      taskTimeout: sfn.Timeout.duration(waits.timeout),
      heartbeatTimeout: waits.heartbeat ? sfn.Timeout.duration(waits.heartbeat) : undefined,
      resultPath: props.resultPath ?? '$.callback',
    });
    this.startState = this.task;
    this.endStates = this.task.endStates;
  }
}

export interface ActivityTaskProps extends WaitForWorkerProps {
  /** The activity workers poll. @default - an activity is created */
  readonly activity?: sfn.IActivity;
  /** What the worker receives as the task's input. @default - the state's whole input */
  readonly input?: sfn.TaskInput;
}

/**
 * A Task state answered by an activity worker anywhere (EC2, containers, on premises, a laptop): the worker long-polls
 * GetActivityTask, may send SendTaskHeartbeat, and answers SendTaskSuccess or SendTaskFailure. STANDARD only.
 */
export class ActivityTask extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];
  public readonly activity: sfn.IActivity;
  public readonly task: tasks.StepFunctionsInvokeActivity;

  constructor(scope: Construct, id: string, props: ActivityTaskProps = {}) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.hours(1);
    const check = new PropsValidator(this, 'ActivityTask');
    const waits = validateWaits(check, timeout, props.heartbeat);
    check.throwIfInvalid();

    // Activity names are unique per account and Region: the stack name keeps two deployments apart.
    this.activity = props.activity ?? new sfn.Activity(this, 'Activity', { activityName: `${Aws.STACK_NAME}-${id}` });
    this.task = new tasks.StepFunctionsInvokeActivity(this, id, {
      comment: 'Activity: waits until a worker polls GetActivityTask and answers with the task token',
      activity: this.activity,
      parameters: props.input ? (props.input.value as Record<string, unknown>) : undefined,
      taskTimeout: sfn.Timeout.duration(waits.timeout),
      heartbeatTimeout: waits.heartbeat ? sfn.Timeout.duration(waits.heartbeat) : undefined,
      resultPath: props.resultPath ?? '$.activity',
    });
    this.startState = this.task;
    this.endStates = this.task.endStates;
  }

  /** What a worker needs: GetActivityTask, SendTaskSuccess/Failure/Heartbeat, on this activity only. */
  grantWorker(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:GetActivityTask', 'states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      resourceArns: [this.activity.activityArn],
    });
  }
}
