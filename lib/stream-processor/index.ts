import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  DynamoEventSource,
  KinesisConsumerEventSource,
  KinesisEventSource,
  SqsDlq,
  StreamEventSource,
  StreamEventSourceProps,
} from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmNotificationOptions, notifyOnAlarmAndOk } from '../core/alarms';
import { createFailureQueue } from '../core/queues';
import { PropsValidator } from '../core/validation';

/** Lambda's limits for DynamoDB and Kinesis event source mappings (Lambda developer guide, "...event source mappings"). */
export const STREAM_EVENT_SOURCE_LIMITS = {
  minBatchSize: 1,
  maxBatchSize: 10_000,
  maxBatchingWindowSeconds: 300,
  minRetryAttempts: 0,
  maxRetryAttempts: 10_000,
  minMaxRecordAgeSeconds: 60,
  maxMaxRecordAgeSeconds: 604_800,
  minParallelizationFactor: 1,
  maxParallelizationFactor: 10,
  minEvaluationPeriods: 1,
  /** `TumblingWindowInSeconds`: 0 means no window, so a window is 1–900 s (15 minutes). */
  maxTumblingWindowSeconds: 900,
  /** DynamoDB Streams keeps a record for 24 hours; a longer maximum record age changes nothing. */
  dynamoDbStreamRetentionSeconds: 86_400,
} as const;

/** What a source can tell the processor about itself, to check the props against it. */
export interface StreamSourceInfo {
  /** `dynamodb` or `kinesis`: which starting positions and limits apply. */
  readonly kind: 'dynamodb' | 'kinesis';
  /** Words for error messages, e.g. `table Orders`. */
  readonly description: string;
  /** False for a DynamoDB table without a stream (nothing to read). */
  readonly hasStream: boolean;
}

/**
 * Where a `StreamProcessor` reads from: the stream of a DynamoDB table, a Kinesis data stream, or a Kinesis
 * enhanced fan-out consumer. Each source builds the matching CDK event source with the processor's settings.
 */
export abstract class StreamSource {
  /** The DynamoDB Streams stream of `table`; the table must have one (`dynamoStream` on TableV2, `stream` on Table). */
  static fromTable(table: dynamodb.ITable): StreamSource {
    return new DynamoDbTableSource(table);
  }

  /** A Kinesis data stream, read with shared throughput (2 MB/s per shard across all consumers). */
  static fromKinesisStream(stream: kinesis.IStream): StreamSource {
    return new KinesisSource(stream.node.path, (props) => new KinesisEventSource(stream, props));
  }

  /** A Kinesis enhanced fan-out consumer: its own 2 MB/s per shard, pushed over HTTP/2. */
  static fromKinesisConsumer(consumer: kinesis.IStreamConsumer): StreamSource {
    return new KinesisSource(consumer.node.path, (props) => new KinesisConsumerEventSource(consumer, props));
  }

  abstract readonly info: StreamSourceInfo;

  /** The CDK event source for this stream with the processor's settings; called once. */
  abstract bind(props: StreamEventSourceProps & { readonly startingPositionTimestamp?: number }): StreamEventSource;
}

/**
 * Whether a table has a stream to read. TableV2 always exposes a stream ARN (its global tables may add one later),
 * so the table's own resource is asked; an imported table has one when it was imported with `tableStreamArn`.
 */
function tableHasStream(table: dynamodb.ITable): boolean {
  if (table.tableStreamArn === undefined) return false;
  const resource = table.node.defaultChild;
  const tableTypes = [dynamodb.CfnGlobalTable.CFN_RESOURCE_TYPE_NAME, dynamodb.CfnTable.CFN_RESOURCE_TYPE_NAME];
  if (CfnResource.isCfnResource(resource) && tableTypes.includes(resource.cfnResourceType)) {
    const streamSpecification = (resource as dynamodb.CfnTable | dynamodb.CfnGlobalTable).streamSpecification;
    return Stack.of(table).resolve(streamSpecification) !== undefined;
  }
  return true;
}

class DynamoDbTableSource extends StreamSource {
  readonly info: StreamSourceInfo;
  constructor(private readonly table: dynamodb.ITable) {
    super();
    this.info = { kind: 'dynamodb', description: `table ${table.node.path}`, hasStream: tableHasStream(table) };
  }

  bind(props: StreamEventSourceProps): StreamEventSource {
    return new DynamoEventSource(this.table, props);
  }
}

class KinesisSource extends StreamSource {
  readonly info: StreamSourceInfo;
  constructor(
    path: string,
    private readonly create: (props: StreamEventSourceProps & { startingPositionTimestamp?: number }) => StreamEventSource,
  ) {
    super();
    this.info = { kind: 'kinesis', description: `Kinesis stream ${path}`, hasStream: true };
  }

  bind(props: StreamEventSourceProps & { startingPositionTimestamp?: number }): StreamEventSource {
    return this.create(props);
  }
}

/**
 * An alarm on the function's IteratorAge (the age of the last record of each batch when the function got it: how far
 * behind the stream it is); it costs $0.10 per month. `alarmTopic` hears ALARM and OK.
 */
export interface StreamProcessorAlarmsOptions extends AlarmNotificationOptions {
  /** IteratorAge that raises the alarm; must be below `maxRecordAge`, or records are discarded first. @default Duration.minutes(5) */
  readonly iteratorAge?: Duration;
  /** Consecutive 1-minute periods above the threshold before the alarm fires (at least 1). @default 3 */
  readonly evaluationPeriods?: number;
}

const DEFAULT_ITERATOR_AGE = Duration.minutes(5);

export interface StreamProcessorProps {
  /** The stream to read: `StreamSource.fromTable(table)`, `.fromKinesisStream(stream)` or `.fromKinesisConsumer(c)`. */
  readonly source: StreamSource;
  /** The function that processes batches; it returns `{ batchItemFailures: [{ itemIdentifier: <SequenceNumber> }] }`. */
  readonly handler: lambda.IFunction;
  /**
   * Where a new mapping starts: TRIM_HORIZON (the oldest record kept, so nothing written before the mapping is
   * missed), LATEST, or AT_TIMESTAMP (Kinesis only, with `startingPositionTimestamp`). @default TRIM_HORIZON
   */
  readonly startingPosition?: lambda.StartingPosition;
  /** Kinesis AT_TIMESTAMP only: where to start, in Unix seconds. @default - none */
  readonly startingPositionTimestamp?: number;
  /** Records per invocation (1–10,000; the payload is also capped at 6 MB). @default 100 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking (0–300 s). @default - none: invoke as soon as records arrive */
  readonly maxBatchingWindow?: Duration;
  /**
   * Retries of a failed batch before its records go to the on-failure queue (0–10,000). Lambda's default is
   * infinite: one poison record blocks its shard until the record expires (24 h for DynamoDB). @default 3
   */
  readonly retryAttempts?: number;
  /**
   * Records older than this are not sent to the function but to the on-failure queue (60 s – 7 days). Lambda's
   * default is infinite. @default Duration.hours(1)
   */
  readonly maxRecordAge?: Duration;
  /** Split a batch in two when the function throws, to isolate a poison record; splits use no retries. @default true */
  readonly bisectBatchOnError?: boolean;
  /** Batches processed concurrently per shard (1–10); records of one partition key stay in order. @default 1 */
  readonly parallelizationFactor?: number;
  /**
   * A tumbling window (1 s – 15 minutes, whole seconds): Lambda passes the `state` the function returned to its next
   * invocation for the same shard and window, then invokes it once more with `isFinalInvokeForWindow` to act on the
   * total. The function must return `{ state }` (with `batchItemFailures` too); the state is at most 1 MB per shard,
   * beyond which Lambda ends the window early (`isWindowTerminatedEarly`). Windows follow the records' arrival times,
   * per shard: a total across shards is summed by the function (e.g. in a table). Needs `parallelizationFactor` 1.
   * @default - none: stateless invocations
   */
  readonly tumblingWindow?: Duration;
  /** Event filters (`lambda.FilterCriteria.filter(...)`); filtered-out records never invoke the function. @default - none */
  readonly filters?: Array<{ [key: string]: unknown }>;
  /**
   * The mapping's on-failure destination: a standard queue that receives a description of every discarded batch
   * (shard, sequence numbers, reason); the records themselves stay in the stream until it expires.
   * @default - a queue is created (SSE-SQS, TLS only, 14 days)
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /** An alarm on the function's IteratorAge metric (how far behind the stream it is). @default - no alarm */
  readonly alarms?: StreamProcessorAlarmsOptions;
}

/**
 * A DynamoDB or Kinesis stream → Lambda event source mapping with safe defaults, where Lambda's are unsafe:
 * bounded retries and record age instead of infinite, bisect on error, partial batch responses
 * (`ReportBatchItemFailures`), an on-failure queue instead of silently dropped records, TRIM_HORIZON.
 */
export class StreamProcessor extends Construct {
  public readonly eventSource: StreamEventSource;
  /** Receives the metadata of every batch Lambda gives up on (created unless `deadLetterQueue` was given). */
  public readonly deadLetterQueue: sqs.IQueue;
  public readonly retryAttempts: number;
  public readonly maxRecordAge: Duration;
  /** Undefined unless `alarms` is set. */
  public readonly iteratorAgeAlarm?: cloudwatch.Alarm;
  private readonly handler: lambda.IFunction;

  constructor(scope: Construct, id: string, props: StreamProcessorProps) {
    super(scope, id);
    this.handler = props.handler;
    this.retryAttempts = props.retryAttempts ?? 3;
    this.maxRecordAge = props.maxRecordAge ?? Duration.hours(1);
    const startingPosition = props.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON;
    const { iteratorAgeMillis } = validate(this, props, startingPosition, this.retryAttempts, this.maxRecordAge);

    this.deadLetterQueue =
      props.deadLetterQueue ??
      // Construct id kept from when the prop was called onFailureQueue: the logical id stays.
      createFailureQueue(this, 'OnFailureQueue', {
        endOfFailurePath:
          'This queue is the dead-letter destination of a stream event source mapping: it receives descriptions of ' +
          'discarded batches for an operator to replay, and is the end of the failure path, not a work queue.',
      });
    this.eventSource = props.source.bind({
      startingPosition,
      startingPositionTimestamp: props.startingPositionTimestamp,
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow,
      retryAttempts: this.retryAttempts,
      maxRecordAge: this.maxRecordAge,
      bisectBatchOnError: props.bisectBatchOnError ?? true,
      parallelizationFactor: props.parallelizationFactor ?? 1,
      tumblingWindow: props.tumblingWindow,
      reportBatchItemFailures: true,
      filters: props.filters,
      onFailure: new SqsDlq(this.deadLetterQueue),
    });
    props.handler.addEventSource(this.eventSource);

    if (props.alarms) {
      const alarms = props.alarms;
      this.iteratorAgeAlarm = this.metricIteratorAge().createAlarm(this, 'IteratorAgeAlarm', {
        alarmDescription: `${this.node.path}: the function is falling behind its stream (IteratorAge above threshold)`,
        threshold: iteratorAgeMillis,
        evaluationPeriods: alarms.evaluationPeriods ?? 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      notifyOnAlarmAndOk(alarms.alarmTopic, [this.iteratorAgeAlarm]);
    }
  }

  /** Age in milliseconds of the last record of each batch when the function got it (maximum over 1 minute). */
  metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }
}

function validate(
  scope: Construct,
  props: StreamProcessorProps,
  startingPosition: lambda.StartingPosition,
  retryAttempts: number,
  maxRecordAge: Duration,
): { readonly iteratorAgeMillis: number } {
  const check = new PropsValidator(scope, 'StreamProcessor');
  const limits = STREAM_EVENT_SOURCE_LIMITS;
  const { info } = props.source;

  check.require(
    info.hasStream,
    'TableWithoutStream',
    `${info.description} has no stream: set dynamoStream (TableV2) or stream (Table), e.g. NEW_AND_OLD_IMAGES`,
  );
  const batchSize = props.batchSize ?? 100;
  check.inRange(
    batchSize,
    { min: limits.minBatchSize, max: limits.maxBatchSize, whole: true },
    'BatchSizeRange',
    `batchSize must be a whole number between ${limits.minBatchSize} and ${limits.maxBatchSize}, got ${batchSize}`,
  );
  const window = check.seconds(props.maxBatchingWindow, 'maxBatchingWindow') ?? 0;
  check.require(
    window <= limits.maxBatchingWindowSeconds,
    'BatchingWindowRange',
    `maxBatchingWindow must be at most ${limits.maxBatchingWindowSeconds} seconds, got ${window}`,
  );
  check.inRange(
    retryAttempts,
    { min: limits.minRetryAttempts, max: limits.maxRetryAttempts, whole: true },
    'RetryAttemptsRange',
    `retryAttempts must be a whole number between ${limits.minRetryAttempts} and ${limits.maxRetryAttempts}, got ${retryAttempts}` +
      (retryAttempts === -1 ? ' (-1 means infinite: one poison record would block its shard until it expires)' : ''),
  );
  // CDK's event source mapping range-checks maxRecordAge at synth, and a token's placeholder number fails it.
  check.require(
    !maxRecordAge.isUnresolved(),
    'MaxRecordAgeToken',
    'maxRecordAge is a token: the event source mapping checks it against 60 seconds to 7 days at synth, which a token cannot pass',
  );
  const age = maxRecordAge.isUnresolved() ? undefined : check.seconds(maxRecordAge, 'maxRecordAge');
  if (age !== undefined) {
    check.inRange(
      age,
      { min: limits.minMaxRecordAgeSeconds, max: limits.maxMaxRecordAgeSeconds },
      'MaxRecordAgeRange',
      `maxRecordAge must be between 60 seconds and 7 days (604,800 seconds), got ${age}`,
    );
    check.warnUnless(
      info.kind !== 'dynamodb' || age <= limits.dynamoDbStreamRetentionSeconds,
      'MaxRecordAgeAboveRetention',
      `maxRecordAge is ${age} s, but DynamoDB Streams deletes records after 24 hours (86,400 s): above that it ` +
        'bounds nothing, and a failing record blocks its shard until it expires',
    );
  }
  const parallelization = props.parallelizationFactor ?? 1;
  check.require(
    Number.isInteger(parallelization) &&
      parallelization >= limits.minParallelizationFactor &&
      parallelization <= limits.maxParallelizationFactor,
    'ParallelizationFactorRange',
    `parallelizationFactor must be a whole number between ${limits.minParallelizationFactor} and ${limits.maxParallelizationFactor}, got ${parallelization}`,
  );

  const tumbling = check.seconds(props.tumblingWindow, 'tumblingWindow');
  if (tumbling !== undefined) {
    check.require(
      tumbling > 0 && tumbling <= limits.maxTumblingWindowSeconds,
      'TumblingWindowRange',
      `tumblingWindow must be between 1 second and 15 minutes (${limits.maxTumblingWindowSeconds} seconds), got ${tumbling}`,
    );
    // Reported as refused by Lambda (terraform-aws-modules/terraform-aws-lambda#619); the docs say nothing either way,
    // and a window's state is carried per shard, which concurrent batches of one shard would split.
    check.require(
      parallelization === 1,
      'TumblingWindowParallelization',
      `tumblingWindow needs parallelizationFactor 1 (state is carried per shard, one batch at a time), got ${parallelization}`,
    );
  }

  const atTimestamp = startingPosition === lambda.StartingPosition.AT_TIMESTAMP;
  check.require(
    !atTimestamp || info.kind === 'kinesis',
    'StartingPositionNotSupported',
    'startingPosition AT_TIMESTAMP is for Kinesis only: a DynamoDB stream starts at TRIM_HORIZON or LATEST',
  );
  const timestamp = props.startingPositionTimestamp !== undefined;
  check.require(
    info.kind === 'kinesis' ? atTimestamp === timestamp : !timestamp,
    'StartingTimestampMismatch',
    atTimestamp
      ? 'startingPosition AT_TIMESTAMP needs startingPositionTimestamp (Unix seconds)'
      : 'startingPositionTimestamp applies only with startingPosition AT_TIMESTAMP on a Kinesis stream',
  );
  if (props.deadLetterQueue) {
    check.require(
      props.deadLetterQueue.fifo !== true,
      'DeadLetterQueueFifo',
      'deadLetterQueue must be a standard queue: Lambda cannot send stream failure records to a FIFO queue',
    );
  }
  const iteratorAge = props.alarms?.iteratorAge ?? DEFAULT_ITERATOR_AGE;
  // The IteratorAge metric is in milliseconds: a token renders as the alarm's Threshold only when given in them.
  const threshold = props.alarms ? check.seconds(iteratorAge, 'alarms.iteratorAge', { integral: false, tokenUnit: 'millis' }) : undefined;
  if (threshold !== undefined && age !== undefined) {
    check.require(
      threshold < age,
      'IteratorAgeThresholdTooHigh',
      `alarms.iteratorAge (${threshold} s) must be below maxRecordAge (${age} s): records older than ` +
        'maxRecordAge are discarded, so the iterator age never gets that high and the alarm would never fire',
    );
  }
  const periods = props.alarms?.evaluationPeriods ?? 3;
  check.require(
    Number.isInteger(periods) && periods >= limits.minEvaluationPeriods,
    'EvaluationPeriodsRange',
    `alarms.evaluationPeriods must be a whole number of at least ${limits.minEvaluationPeriods}, got ${periods}`,
  );
  check.throwIfInvalid();
  // Exact milliseconds of a known age (the seconds above may be fractional); a token is left as given in millis.
  return { iteratorAgeMillis: iteratorAge.toMilliseconds({ integral: false }) };
}
