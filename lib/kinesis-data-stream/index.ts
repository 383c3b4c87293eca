import { Aws, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ConstructUsageError, PropsValidator } from '../core/validation';

/**
 * Kinesis Data Streams limits (developer guide, "Quotas and limits"): what one shard takes and gives, in both
 * capacity modes, and the bounds of a stream's settings.
 */
export const KINESIS_LIMITS = {
  minShardCount: 1,
  /** Records are kept 24 hours at least; longer retention is billed per shard-hour. */
  minRetentionHours: 24,
  /** 365 days. */
  maxRetentionHours: 8_760,
  /** Writes per shard: 1 MiB/s or 1,000 records/s, whichever comes first; more is ProvisionedThroughputExceededException. */
  writeBytesPerShardPerSecond: 1_048_576,
  writeRecordsPerShardPerSecond: 1_000,
  /** Reads per shard with shared throughput: 2 MiB/s and 5 GetRecords calls/s, shared by every consumer of the shard. */
  readBytesPerShardPerSecond: 2_097_152,
  getRecordsCallsPerShardPerSecond: 5,
  /** Enhanced fan-out: each registered consumer gets its own 2 MiB/s per shard, pushed over HTTP/2. */
  enhancedFanOutBytesPerShardPerSecond: 2_097_152,
  /** Enhanced fan-out consumers registered on one stream. */
  maxEnhancedFanOutConsumers: 20,
  /** Records in one PutRecords call. */
  maxRecordsPerPutRecords: 500,
  /** Unicode characters of a partition key. */
  maxPartitionKeyLength: 256,
} as const;

/** How a stream gets its capacity: shards you choose and pay for by the hour, or on demand. */
export abstract class StreamCapacity {
  /** `shardCount` shards (at least 1), each 1 MiB/s or 1,000 records/s in and 2 MiB/s out, billed per shard-hour. */
  static provisioned(shardCount: number): StreamCapacity {
    return new ProvisionedCapacity(shardCount);
  }

  /** Shards managed by Kinesis (4 MiB/s in to start, scaling with the traffic), billed per stream-hour and per GB. */
  static onDemand(): StreamCapacity {
    return new OnDemandCapacity();
  }

  /** `PROVISIONED` or `ON_DEMAND`. */
  abstract readonly mode: kinesis.StreamMode;
  /** The shards of a provisioned stream; undefined on demand. */
  abstract readonly shardCount?: number;
}

class ProvisionedCapacity extends StreamCapacity {
  readonly mode = kinesis.StreamMode.PROVISIONED;
  constructor(readonly shardCount: number) {
    super();
  }
}

class OnDemandCapacity extends StreamCapacity {
  readonly mode = kinesis.StreamMode.ON_DEMAND;
  readonly shardCount = undefined;
}

export interface KinesisDataStreamProps {
  /** Provisioned shards or on demand. @default StreamCapacity.provisioned(1) */
  readonly capacity?: StreamCapacity;
  /**
   * How long records stay readable: a whole number of hours from 24 to 8,760 (365 days). Beyond 24 hours it is billed
   * per shard-hour (up to 7 days), then per GB-month. @default Duration.hours(24)
   */
  readonly retentionPeriod?: Duration;
  /**
   * Customer managed KMS key for server-side encryption ($1/month, and producers and consumers need kms:GenerateDataKey
   * and kms:Decrypt on it). @default - the AWS managed key `alias/aws/kinesis`: encrypted at rest, no key to pay for
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * A Kinesis data stream encrypted at rest, whatever the Region (CDK's own default depends on a Region condition), with
 * its capacity and retention checked at synth with coded errors, and enhanced fan-out consumers registered on it.
 */
export class KinesisDataStream extends Construct {
  public readonly stream: kinesis.Stream;
  public readonly capacity: StreamCapacity;
  public readonly retentionPeriod: Duration;
  /** The consumers registered with `addEnhancedFanOutConsumer`, in order. */
  public readonly enhancedFanOutConsumers: kinesis.StreamConsumer[] = [];

  constructor(scope: Construct, id: string, props: KinesisDataStreamProps = {}) {
    super(scope, id);
    this.capacity = props.capacity ?? StreamCapacity.provisioned(1);
    this.retentionPeriod = props.retentionPeriod ?? Duration.hours(KINESIS_LIMITS.minRetentionHours);
    validate(this, this.capacity, this.retentionPeriod);

    this.stream = new kinesis.Stream(this, 'Stream', {
      streamMode: this.capacity.mode,
      shardCount: this.capacity.shardCount,
      retentionPeriod: this.retentionPeriod,
      encryption: props.encryptionKey ? kinesis.StreamEncryption.KMS : kinesis.StreamEncryption.MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Registers an enhanced fan-out consumer (`AWS::Kinesis::StreamConsumer`): its own 2 MiB/s per shard, records pushed
   * within about 70 ms, billed per consumer-shard-hour and per GB. Named after the stack and `id` (names are unique
   * per stream). At most 20 per stream: one more is `KinesisDataStream.TooManyConsumers`.
   */
  addEnhancedFanOutConsumer(id: string): kinesis.StreamConsumer {
    if (this.enhancedFanOutConsumers.length >= KINESIS_LIMITS.maxEnhancedFanOutConsumers) {
      throw new ConstructUsageError(
        this.node.path,
        'KinesisDataStream.TooManyConsumers',
        `a stream takes at most ${KINESIS_LIMITS.maxEnhancedFanOutConsumers} enhanced fan-out consumers; ${id} would be one more`,
      );
    }
    const consumer = new kinesis.StreamConsumer(this, id, {
      stream: this.stream,
      streamConsumerName: Fn.join('-', [Aws.STACK_NAME, id]),
    });
    this.enhancedFanOutConsumers.push(consumer);
    return consumer;
  }
}

function validate(scope: Construct, capacity: StreamCapacity, retentionPeriod: Duration): void {
  const check = new PropsValidator(scope, 'KinesisDataStream');
  const limits = KINESIS_LIMITS;
  const shards = capacity.shardCount;
  check.require(
    shards === undefined || (Number.isInteger(shards) && shards >= limits.minShardCount),
    'ShardCountRange',
    `StreamCapacity.provisioned takes a whole number of shards, at least ${limits.minShardCount}, got ${shards}`,
  );
  if (retentionPeriod.isUnresolved()) {
    // Rendered as RetentionPeriodHours: only a token given in hours can be.
    check.require(
      retentionPeriod.unitLabel() === 'hours',
      'TokenNotInHours',
      `retentionPeriod is a token in ${retentionPeriod.unitLabel()}, which cannot be converted at synth: give it as Duration.hours(token)`,
    );
  } else {
    const hours = retentionPeriod.toHours({ integral: false });
    check.require(
      Number.isInteger(hours) && hours >= limits.minRetentionHours && hours <= limits.maxRetentionHours,
      'RetentionPeriodRange',
      `retentionPeriod must be a whole number of hours from ${limits.minRetentionHours} to ${limits.maxRetentionHours} (365 days), got ${hours} h`,
    );
  }
  check.throwIfInvalid();
}
