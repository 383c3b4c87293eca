import { Duration, Token } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ConstructUsageError, PropsValidator } from '../core/validation';
import { misspelledStatesError, STATES_ERRORS } from './errors';

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
  check.inRange(
    maxAttempts,
    { min: 0, max: RETRY_LIMITS.maxAttempts, whole: true },
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
    check.inRange(
      interval,
      { min, max, whole: true },
      'IntervalRange',
      `${where}: interval must be whole seconds from ${min} to ${max}, got ${interval} s`,
    );
  }
  const maxDelay = check.seconds(retrier.maxDelay, `${where}.maxDelay`, { integral: false });
  if (maxDelay !== undefined) {
    const { minDelaySeconds: min, maxDelaySeconds: max } = RETRY_LIMITS;
    check.inRange(
      maxDelay,
      { min, max, whole: true },
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
