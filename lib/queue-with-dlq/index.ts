import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmNotificationOptions, notifyOnAlarmAndOk } from '../core/alarms';
import { createFailureQueue, queueEncryption } from '../core/queues';
import { PropsValidator } from '../core/validation';

/** SQS limits these props are checked against at synth (SQS developer guide, "Quotas"). */
export const SQS_LIMITS = {
  minVisibilityTimeoutSeconds: 0,
  maxVisibilityTimeoutSeconds: 43_200,
  maxDeliveryDelaySeconds: 900,
  maxReceiveWaitSeconds: 20,
  minRetentionSeconds: 60,
  maxRetentionSeconds: 1_209_600,
  minReceiveCount: 1,
  maxReceiveCount: 1_000,
} as const;

/** Alarms on the queue pair; each alarm costs $0.10 per month. `alarmTopic` hears ALARM and OK. */
export interface QueueWithDlqAlarmsOptions extends AlarmNotificationOptions {
  /** Messages visible in the DLQ that raise the DLQ-depth alarm. @default 1 */
  readonly dlqMessagesThreshold?: number;
  /** Age of the oldest message in the queue that raises the backlog alarm (whole seconds). @default Duration.minutes(15) */
  readonly oldestMessageAge?: Duration;
}

export interface QueueWithDlqProps {
  /** A FIFO queue (exactly-once processing, ordered per message group); its DLQ must be FIFO too. @default false */
  readonly fifo?: boolean;
  /** FIFO only: deduplicate on a SHA-256 of the body instead of a MessageDeduplicationId. @default false */
  readonly contentBasedDeduplication?: boolean;
  /**
   * How long a received message stays invisible to other consumers (0 s – 12 h).
   * Keep it at least 6× the consumer's timeout for Lambda consumers. @default Duration.seconds(30)
   */
  readonly visibilityTimeout?: Duration;
  /** Long-polling wait of ReceiveMessage calls that do not set their own (0–20 s). @default Duration.seconds(20) */
  readonly receiveMessageWaitTime?: Duration;
  /** How long SQS keeps an unprocessed message in the queue (60 s – 14 days). @default Duration.days(4) */
  readonly retentionPeriod?: Duration;
  /** Delay before a new message becomes visible (0–15 min); a "delay queue" when above 0. @default Duration.seconds(0) */
  readonly deliveryDelay?: Duration;
  /** Receives after which a message moves to the DLQ (1–1,000). @default 3 */
  readonly maxReceiveCount?: number;
  /** An existing queue to use as DLQ. @default - a DLQ is created, retaining messages for 14 days */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Customer managed key for SSE-KMS on both queues. @default - SSE-SQS (SQS-owned keys, no KMS charges) */
  readonly encryptionKey?: kms.IKey;
  /** DLQ-depth and backlog-age alarms. @default - no alarms */
  readonly alarms?: QueueWithDlqAlarmsOptions;
}

/** A queue and how long its messages stay invisible once received: what a consumer needs to be checked against. */
export interface IConsumableQueue {
  readonly queue: sqs.IQueue;
  readonly visibilityTimeout: Duration;
}

/**
 * An SQS queue with a dead-letter queue and safe defaults: encryption at rest, TLS-only access, long polling,
 * bounded receives before messages move to the DLQ, and a work queue that no other queue may use as its DLQ.
 */
export class QueueWithDlq extends Construct implements IConsumableQueue {
  public readonly queue: sqs.IQueue;
  public readonly deadLetterQueue: sqs.IQueue;
  public readonly visibilityTimeout: Duration;
  public readonly maxReceiveCount: number;
  /** Fires when messages are waiting in the DLQ; undefined unless `alarms` is set. */
  public readonly dlqDepthAlarm?: cloudwatch.Alarm;
  /** Fires when the oldest message in the queue is older than the threshold; undefined unless `alarms` is set. */
  public readonly oldestMessageAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps = {}) {
    super(scope, id);
    const fifo = props.fifo ?? false;
    this.visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(30);
    this.maxReceiveCount = props.maxReceiveCount ?? 3;
    const retentionPeriod = props.retentionPeriod ?? Duration.days(4);
    const oldestMessageAgeSeconds = validate(this, props, fifo, this.visibilityTimeout, this.maxReceiveCount, retentionPeriod);

    const fifoProps = fifo ? { fifo: true, contentBasedDeduplication: props.contentBasedDeduplication } : {};
    this.deadLetterQueue = props.deadLetterQueue ?? this.createDeadLetterQueue(props, fifo);
    this.queue = new sqs.Queue(this, 'Queue', {
      ...fifoProps,
      ...queueEncryption(props.encryptionKey),
      enforceSSL: true,
      visibilityTimeout: this.visibilityTimeout,
      receiveMessageWaitTime: props.receiveMessageWaitTime ?? Duration.seconds(20),
      retentionPeriod,
      deliveryDelay: props.deliveryDelay,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
    });

    if (props.alarms) {
      this.dlqDepthAlarm = this.metricDlqMessagesVisible().createAlarm(this, 'DlqDepthAlarm', {
        alarmDescription: `Messages are waiting in the dead-letter queue of ${this.node.path}`,
        threshold: props.alarms.dlqMessagesThreshold ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.oldestMessageAlarm = this.metricOldestMessageAge().createAlarm(this, 'OldestMessageAlarm', {
        alarmDescription: `The oldest message in ${this.node.path} waits longer than the threshold`,
        threshold: oldestMessageAgeSeconds,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      notifyOnAlarmAndOk(props.alarms.alarmTopic, [this.dlqDepthAlarm, this.oldestMessageAlarm]);
    }
  }

  /** Messages waiting in the DLQ (maximum over 1 minute). */
  metricDlqMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Age in seconds of the oldest message in the queue (maximum over 1 minute). */
  metricOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  grantSendMessages(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  grantConsumeMessages(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantConsumeMessages(grantee);
  }

  private createDeadLetterQueue(props: QueueWithDlqProps, fifo: boolean): sqs.IQueue {
    const dlq = createFailureQueue(this, 'Dlq', {
      encryptionKey: props.encryptionKey,
      fifo,
      endOfFailurePath:
        `The dead-letter queue of ${this.node.path}: SQS moves a message here after ${this.maxReceiveCount} receives ` +
        'without a delete; it is the end of the failure path, kept 14 days for an operator to inspect and redrive.',
    });
    // Kept as before: a FIFO DLQ shares the work queue's deduplication setting.
    if (fifo && props.contentBasedDeduplication !== undefined) {
      (dlq.node.defaultChild as sqs.CfnQueue).contentBasedDeduplication = props.contentBasedDeduplication;
    }
    return dlq;
  }
}

const DEFAULT_OLDEST_MESSAGE_AGE = Duration.minutes(15);

/**
 * Checks the props and returns the oldest-message alarm threshold in seconds: whole seconds, or a token given in
 * seconds, passed through as CDK renders `Duration.seconds(token)`.
 */
function validate(
  scope: Construct,
  props: QueueWithDlqProps,
  fifo: boolean,
  visibilityTimeout: Duration,
  maxReceiveCount: number,
  retentionPeriod: Duration,
): number {
  const check = new PropsValidator(scope, 'QueueWithDlq');
  const visibility = check.seconds(visibilityTimeout, 'visibilityTimeout') ?? 0;
  check.inRange(
    visibility,
    { min: SQS_LIMITS.minVisibilityTimeoutSeconds, max: SQS_LIMITS.maxVisibilityTimeoutSeconds },
    'VisibilityTimeoutRange',
    `visibilityTimeout must be between 0 and ${SQS_LIMITS.maxVisibilityTimeoutSeconds} seconds (12 hours), got ${visibility}`,
  );
  const delay = check.seconds(props.deliveryDelay, 'deliveryDelay') ?? 0;
  check.require(
    delay <= SQS_LIMITS.maxDeliveryDelaySeconds,
    'DeliveryDelayRange',
    `deliveryDelay must be at most ${SQS_LIMITS.maxDeliveryDelaySeconds} seconds (15 minutes), got ${delay}`,
  );
  const wait = check.seconds(props.receiveMessageWaitTime, 'receiveMessageWaitTime') ?? 0;
  check.require(
    wait <= SQS_LIMITS.maxReceiveWaitSeconds,
    'ReceiveWaitRange',
    `receiveMessageWaitTime must be between 0 and ${SQS_LIMITS.maxReceiveWaitSeconds} seconds, got ${wait}`,
  );
  const retention = check.seconds(retentionPeriod, 'retentionPeriod') ?? SQS_LIMITS.minRetentionSeconds;
  check.inRange(
    retention,
    { min: SQS_LIMITS.minRetentionSeconds, max: SQS_LIMITS.maxRetentionSeconds },
    'RetentionRange',
    `retentionPeriod must be between 60 seconds and 14 days (1,209,600 seconds), got ${retention}`,
  );
  check.require(
    Number.isInteger(maxReceiveCount) &&
      maxReceiveCount >= SQS_LIMITS.minReceiveCount &&
      maxReceiveCount <= SQS_LIMITS.maxReceiveCount,
    'MaxReceiveCountRange',
    `maxReceiveCount must be a whole number between ${SQS_LIMITS.minReceiveCount} and ${SQS_LIMITS.maxReceiveCount}, got ${maxReceiveCount}`,
  );
  check.require(
    !props.contentBasedDeduplication || fifo,
    'ContentBasedDeduplicationNeedsFifo',
    'contentBasedDeduplication applies to FIFO queues only: set fifo: true or drop it',
  );
  if (props.deadLetterQueue) {
    check.require(
      props.deadLetterQueue.fifo === fifo,
      'DlqTypeMismatch',
      fifo
        ? 'a FIFO queue needs a FIFO dead-letter queue, but deadLetterQueue is a standard queue'
        : 'a standard queue needs a standard dead-letter queue, but deadLetterQueue is a FIFO queue',
    );
  } else {
    check.warnUnless(
      retention < SQS_LIMITS.maxRetentionSeconds || fifo,
      'DlqRetentionNotLonger',
      'retentionPeriod is 14 days, as long as the DLQ\'s: a standard queue keeps the original enqueue time when a ' +
        'message moves to its DLQ, so it can expire there at once. Keep the queue\'s retention below 14 days.',
    );
  }
  const oldestMessageAge = props.alarms?.oldestMessageAge ?? DEFAULT_OLDEST_MESSAGE_AGE;
  const oldestMessageAgeSeconds = props.alarms ? check.seconds(oldestMessageAge, 'alarms.oldestMessageAge') : undefined;
  check.throwIfInvalid();
  // Past the checks, a token left is in seconds: toSeconds() gives the token itself.
  return oldestMessageAgeSeconds ?? oldestMessageAge.toSeconds();
}
