import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';
import { IConsumableQueue } from '../queue-with-dlq';

/** Lambda's limits for SQS event sources (Lambda developer guide, "Using Lambda with Amazon SQS"). */
export const SQS_EVENT_SOURCE_LIMITS = {
  minBatchSize: 1,
  maxBatchSizeStandard: 10_000,
  maxBatchSizeFifo: 10,
  maxBatchingWindowSeconds: 300,
  minMaxConcurrency: 2,
  maxMaxConcurrency: 1_000,
  /** Largest batch Lambda accepts without a batching window. */
  maxBatchSizeWithoutWindow: 10,
  /** Lambda's timeout when a function sets none. */
  defaultFunctionTimeoutSeconds: 3,
  /** AWS guidance: visibility timeout at least 6× the function timeout plus the batching window. */
  visibilityTimeoutFactor: 6,
} as const;

export interface QueueConsumerProps {
  /** The queue to consume, with its visibility timeout (a `QueueWithDlq` is one). */
  readonly source: IConsumableQueue;
  /** The function that processes batches; it must return `{ batchItemFailures }`. */
  readonly handler: lambda.IFunction;
  /**
   * Timeout of `handler` (whole seconds), checked against the queue's visibility timeout.
   * @default - read from the handler's `AWS::Lambda::Function` resource when it is defined in this app; required for
   * an imported function (or an alias), whose timeout cannot be read at synth
   */
  readonly handlerTimeout?: Duration;
  /** Records per invocation (1–10 for FIFO, 1–10,000 for standard; above 10 needs a batching window). @default 10 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking (0–300 s). @default - no batching window */
  readonly maxBatchingWindow?: Duration;
  /** Most concurrent invocations this source may drive (2–1,000). @default - no limit beyond the function's */
  readonly maxConcurrency?: number;
  /** Event filters (`lambda.FilterCriteria.filter(...)`); filtered-out messages are deleted. @default - none */
  readonly filters?: Array<{ [key: string]: unknown }>;
}

/**
 * SQS → Lambda with partial batch responses on: only the records a handler reports as failed return to the
 * queue, instead of the whole batch. Refuses a visibility timeout shorter than the handler's timeout (Lambda
 * rejects that mapping at deploy) and warns below 6× (messages would reappear while retries are still running).
 */
export class QueueConsumer extends Construct {
  public readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? 10;
    validate(this, props, batchSize);
    this.eventSource = new SqsEventSource(props.source.queue, {
      batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      filters: props.filters,
      reportBatchItemFailures: true,
    });
    props.handler.addEventSource(this.eventSource);
  }
}

/**
 * The handler's timeout: `handlerTimeout`, or the Timeout of the `AWS::Lambda::Function` the handler defines in this
 * app (Lambda's 3 s when it sets none). Undefined for an imported function or an alias, which define no function.
 */
function handlerTimeoutOf(props: QueueConsumerProps): Duration | undefined {
  if (props.handlerTimeout) return props.handlerTimeout;
  const resource = props.handler.node.defaultChild;
  if (!CfnResource.isCfnResource(resource) || resource.cfnResourceType !== lambda.CfnFunction.CFN_RESOURCE_TYPE_NAME) {
    return undefined;
  }
  const timeout: unknown = (resource as lambda.CfnFunction).timeout;
  if (timeout === undefined) return Duration.seconds(SQS_EVENT_SOURCE_LIMITS.defaultFunctionTimeoutSeconds);
  const resolved: unknown = Stack.of(resource).resolve(timeout);
  return typeof resolved === 'number' ? Duration.seconds(resolved) : Duration.seconds(timeout as number);
}

function validate(scope: Construct, props: QueueConsumerProps, batchSize: number): void {
  const check = new PropsValidator(scope, 'QueueConsumer');
  const fifo = props.source.queue.fifo;
  const maxBatch = fifo ? SQS_EVENT_SOURCE_LIMITS.maxBatchSizeFifo : SQS_EVENT_SOURCE_LIMITS.maxBatchSizeStandard;
  check.inRange(
    batchSize,
    { min: SQS_EVENT_SOURCE_LIMITS.minBatchSize, max: maxBatch, whole: true },
    'BatchSizeRange',
    `batchSize must be a whole number between ${SQS_EVENT_SOURCE_LIMITS.minBatchSize} and ${maxBatch} for a ${fifo ? 'FIFO' : 'standard'} queue, got ${batchSize}`,
  );
  const windowSeconds = check.seconds(props.maxBatchingWindow, 'maxBatchingWindow') ?? 0;
  check.require(
    windowSeconds <= SQS_EVENT_SOURCE_LIMITS.maxBatchingWindowSeconds,
    'BatchingWindowRange',
    `maxBatchingWindow must be at most ${SQS_EVENT_SOURCE_LIMITS.maxBatchingWindowSeconds} seconds, got ${windowSeconds}`,
  );
  check.require(
    batchSize <= SQS_EVENT_SOURCE_LIMITS.maxBatchSizeWithoutWindow || windowSeconds > 0,
    'BatchSizeNeedsWindow',
    `batchSize ${batchSize} is above ${SQS_EVENT_SOURCE_LIMITS.maxBatchSizeWithoutWindow}, which Lambda accepts only with a maxBatchingWindow of at least 1 second`,
  );
  if (props.maxConcurrency !== undefined) {
    const { minMaxConcurrency: min, maxMaxConcurrency: max } = SQS_EVENT_SOURCE_LIMITS;
    check.inRange(
      props.maxConcurrency,
      { min, max, whole: true },
      'MaxConcurrencyRange',
      `maxConcurrency must be a whole number between ${min} and ${max}, got ${props.maxConcurrency}`,
    );
  }

  const handlerTimeout = handlerTimeoutOf(props);
  check.require(
    handlerTimeout !== undefined,
    'HandlerTimeoutUnknown',
    'handlerTimeout is required when handler is an imported function or an alias: its timeout cannot be read at synth',
  );
  const timeoutSeconds = check.seconds(handlerTimeout, props.handlerTimeout ? 'handlerTimeout' : 'the handler\'s timeout');
  const visibilitySeconds = check.seconds(props.source.visibilityTimeout, 'source.visibilityTimeout');
  if (timeoutSeconds !== undefined && visibilitySeconds !== undefined) {
    check.require(
      visibilitySeconds >= timeoutSeconds,
      'VisibilityTimeoutBelowHandlerTimeout',
      `the queue's visibility timeout (${visibilitySeconds} s) is shorter than the handler's timeout ` +
        `(${timeoutSeconds} s): Lambda rejects this event source mapping. Raise the visibility timeout to at ` +
        `least ${SQS_EVENT_SOURCE_LIMITS.visibilityTimeoutFactor * timeoutSeconds + windowSeconds} s.`,
    );
    const recommended = SQS_EVENT_SOURCE_LIMITS.visibilityTimeoutFactor * timeoutSeconds + windowSeconds;
    check.warnUnless(
      visibilitySeconds < timeoutSeconds || visibilitySeconds >= recommended,
      'VisibilityTimeoutBelowSixTimes',
      `the queue's visibility timeout (${visibilitySeconds} s) is below 6× the handler's timeout plus the ` +
        `batching window (${recommended} s), as AWS recommends: a message can reappear while Lambda is still ` +
        'retrying a throttled batch, and be processed twice.',
    );
  }
  check.throwIfInvalid();
}
