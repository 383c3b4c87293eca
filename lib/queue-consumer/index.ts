import { Duration, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';
import { IConsumableQueue } from '../queue-with-dlq';

/** Lambda's limits for SQS event sources (Lambda developer guide, "Using Lambda with Amazon SQS"). */
export const SQS_EVENT_SOURCE_LIMITS = {
  maxBatchSizeStandard: 10_000,
  maxBatchSizeFifo: 10,
  maxBatchingWindowSeconds: 300,
  minMaxConcurrency: 2,
  maxMaxConcurrency: 1_000,
  /** AWS guidance: visibility timeout at least 6× the function timeout plus the batching window. */
  visibilityTimeoutFactor: 6,
} as const;

export interface QueueConsumerProps {
  /** The queue to consume, with its visibility timeout (a `QueueWithDlq` is one). */
  readonly source: IConsumableQueue;
  /** The function that processes batches; it must return `{ batchItemFailures }`. */
  readonly handler: lambda.IFunction;
  /** Timeout of `handler`. @default - read from `handler` when it is a `lambda.Function`; required otherwise */
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

function handlerTimeoutOf(props: QueueConsumerProps): Duration | undefined {
  if (props.handlerTimeout) return props.handlerTimeout;
  if (props.handler instanceof lambda.Function) return props.handler.timeout ?? Duration.seconds(3);
  return undefined;
}

function validate(scope: Construct, props: QueueConsumerProps, batchSize: number): void {
  const check = new PropsValidator(scope, 'QueueConsumer');
  const fifo = props.source.queue.fifo;
  const maxBatch = fifo ? SQS_EVENT_SOURCE_LIMITS.maxBatchSizeFifo : SQS_EVENT_SOURCE_LIMITS.maxBatchSizeStandard;
  check.require(
    Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= maxBatch,
    'BatchSizeRange',
    `batchSize must be a whole number between 1 and ${maxBatch} for a ${fifo ? 'FIFO' : 'standard'} queue, got ${batchSize}`,
  );
  const windowSeconds = props.maxBatchingWindow?.toSeconds() ?? 0;
  check.require(
    windowSeconds <= SQS_EVENT_SOURCE_LIMITS.maxBatchingWindowSeconds,
    'BatchingWindowRange',
    `maxBatchingWindow must be at most ${SQS_EVENT_SOURCE_LIMITS.maxBatchingWindowSeconds} seconds, got ${windowSeconds}`,
  );
  check.require(
    batchSize <= 10 || windowSeconds > 0,
    'BatchSizeNeedsWindow',
    `batchSize ${batchSize} is above 10, which Lambda accepts only with a maxBatchingWindow of at least 1 second`,
  );
  if (props.maxConcurrency !== undefined) {
    const { minMaxConcurrency: min, maxMaxConcurrency: max } = SQS_EVENT_SOURCE_LIMITS;
    check.require(
      Number.isInteger(props.maxConcurrency) && props.maxConcurrency >= min && props.maxConcurrency <= max,
      'MaxConcurrencyRange',
      `maxConcurrency must be a whole number between ${min} and ${max}, got ${props.maxConcurrency}`,
    );
  }

  const handlerTimeout = handlerTimeoutOf(props);
  check.require(
    handlerTimeout !== undefined,
    'HandlerTimeoutUnknown',
    'handlerTimeout is required when handler is an imported function: its timeout cannot be read at synth',
  );
  const visibility = props.source.visibilityTimeout;
  if (handlerTimeout && !Token.isUnresolved(visibility) && !Token.isUnresolved(handlerTimeout)) {
    const timeoutSeconds = handlerTimeout.toSeconds();
    const visibilitySeconds = visibility.toSeconds();
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
