/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** us-east-1 list prices (Kinesis Data Streams pricing page, checked 2026-11) behind the lab's idle costs. */
export const STREAMING_PRICES = {
  /** Provisioned mode: per shard-hour, whatever the traffic. */
  shardHourUsd: 0.015,
  /** On-demand (standard) mode: per stream-hour, plus $0.08/GB in and $0.04/GB out. */
  onDemandStreamHourUsd: 0.04,
  /** Enhanced fan-out: per consumer-shard-hour, plus $0.013/GB pushed. */
  enhancedFanOutConsumerShardHourUsd: 0.015,
  /** Extended retention (beyond 24 hours, up to 7 days): per shard-hour. */
  extendedRetentionShardHourUsd: 0.02,
} as const;

/**
 * us-east-1 list prices (OpenSearch Service pricing page, checked 2026-11) behind the OpenSearch feature's figure: the
 * smallest data node that supports encryption at rest, node-to-node encryption and fine-grained access control
 * (t2 does not; t3 does), against a serverless collection's floor of 0.5 OCU indexing + 0.5 OCU search.
 */
export const SEARCH_PRICES = {
  t3SmallSearchHourUsd: 0.036,
  gp3GbMonthUsd: 0.122,
  /** Serverless: per OCU-hour; with standby replicas disabled a collection never goes under 1 OCU (0.5 + 0.5). */
  serverlessOcuHourUsd: 0.24,
  serverlessMinimumOcus: 1,
} as const;

/** The OpenSearch feature (-c streaming:opensearch=true): one t3.small.search node, fed by a second Firehose stream. */
export const SEARCH_LAB = {
  /** The domain is named this, a dash and 8 hex digits of the stack's id. */
  domainNamePrefix: 'clicks',
  instanceType: 't3.small.search',
  /** GiB of gp3: the smallest volume a t3.small.search data node takes. */
  volumeGiB: 10,
  indexName: 'clicks',
  /** The OpenSearch role the exercise maps the Firehose role to: it may create and write the clicks index, nothing else. */
  writerRole: 'clicks_writer',
  failedDocumentsPrefix: 'opensearch-failed/',
  /** Firehose retries a refused bulk request for this long before it writes the documents to S3 (failed documents only). */
  retrySeconds: 60,
  /** The partial-match query of the exercise: every page whose path holds this (the transform lowercases pages). */
  pageFragment: 'ask',
  exerciseTiming: {
    /** How long the search step waits for Firehose to index this run's clicks (60 s buffer, the transform, the bulk write). */
    indexDeadlineSeconds: 300,
    /** Pause between two searches while the clicks are not indexed yet. */
    indexPollSeconds: 10,
  },
} as const;

/** Figures the exercise and README rely on. */
export const STREAMING_LAB = {
  defaultShardCount: 1,
  retention: LabDuration.hours(24),
  /** The consumer mapping: records per invocation, how long Lambda gathers them, batches per shard at once. */
  batchSize: 100,
  maxBatchingWindow: LabDuration.seconds(1),
  parallelizationFactor: 2,
  retryAttempts: 2,
  maxRecordAge: LabDuration.hours(1),
  consumerTimeout: LabDuration.seconds(10),
  /** The second mapping's tumbling window: the window counter adds up each shard's clicks per 30 s window. */
  tumblingWindow: LabDuration.seconds(30),
  /** Clicks the windows step writes, spread over the ordering keys (so over the shards). */
  windowRecords: 8,
  /** Firehose: the transform gets up to 1 MiB per invocation; S3 objects are written every 60 s or 1 MiB. */
  transformTimeout: LabDuration.minutes(1),
  firehoseBufferInterval: LabDuration.seconds(60),
  firehoseBufferMiB: 1,
  deliveryPrefix: 'clicks/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/',
  errorPrefix: 'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/',
  /** Partition keys of the ordering step: each is numbered 1..recordsPerKey by the producer. */
  orderingKeys: ['alice', 'bob', 'carol', 'dave'],
  recordsPerKey: 5,
  /** The throttling step: this many records of one partition key (one shard), in PutRecords calls of 500 at once: even spread over two seconds, one of them gets more than a shard takes. */
  burstRecords: 2_500,
  /** Bytes of each burst record: 1,000 of them are about 1 MiB, a shard's write limit per second. */
  burstRecordBytes: 1_024,
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Pause between two GetRecords calls on a shard: a shard serves 5 calls per second to all its readers together. */
    getRecordsPauseMs: 200,
    /** Reads of a shard a step makes before it checks what it read: a record is readable within about a second of its put. */
    readAttempts: 10,
    /** Backoff of the throttled producer: the first retry waits this long, doubled each time, with full jitter. */
    retryBaseMs: 100,
    /** Retries after the first attempt before the producer gives up on the records still refused. */
    maxRetries: 8,
    /** Pause between two reads of the progress table while the consumer catches up. */
    progressPollSeconds: 1,
    /** How long the consumer step waits for the progress table to show every record before it fails, saying what it holds. */
    consumerDeadlineSeconds: 120,
    /** How long the poison step waits for this run's failure record in the on-failure queue (retries, bisect, maximum record age). */
    failureRecordDeadlineSeconds: 240,
    /** How long the Firehose step waits for its objects in S3 (the 60 s buffer, plus the transform and the write). */
    deliveryDeadlineSeconds: 300,
    /** Pause between two listings of the delivery bucket. */
    deliveryPollSeconds: 10,
  },
} as const;

/** How long the windows step waits (see defineTiming in windows.ts). */
export const WINDOW_TIMING = {
  /**
   * How long the step waits for the totals of its clicks: the 30 s window, then the final invocation after the
   * window's end, when the mapping next polls the shard (the docs give no bound: the rest is a margin), then its write.
   */
  totalsDeadlineSeconds: 240,
  /** Pause between two reads of the run's totals. */
  totalsPollSeconds: 5,
} as const;

/** Firehose's Lambda processor, the same for every delivery stream of the lab: the record transform, retried once. */
export function lambdaTransform(functionArn: string) {
  return {
    enabled: true,
    processors: [
      {
        type: 'Lambda',
        parameters: [
          { parameterName: 'LambdaArn', parameterValue: functionArn },
          { parameterName: 'BufferSizeInMBs', parameterValue: String(STREAMING_LAB.firehoseBufferMiB) },
          { parameterName: 'BufferIntervalInSeconds', parameterValue: String(STREAMING_LAB.firehoseBufferInterval.toSeconds()) },
          { parameterName: 'NumberOfRetries', parameterValue: '1' },
        ],
      },
    ],
  };
}


/** The MSK feature (-c streaming:msk=true): MSK Serverless in two isolated subnets, a topic, a Lambda consumer. */
export const KAFKA_LAB = {
  /** The cluster is named this, a dash and 8 hex digits of the stack's id. */
  clusterNamePrefix: 'clicks-kafka',
  topic: 'clicks',
  /** Partitions of the topic the exercise creates: MSK Serverless bills each by the hour while the topic exists. */
  partitions: 2,
  consumerGroupId: 'streaming-lab-consumer',
  /** The IAM-authenticated listener of MSK brokers (SASL/IAM over TLS). */
  iamPort: 9098,
  /** Interface endpoints the event source mapping reaches AWS through without a NAT gateway. */
  endpointServices: ['sts', 'lambda'],
  availabilityZones: 2,
  /** Messages the msk step produces, keyed by the ordering keys. */
  messages: 6,
  /**
   * The producer function's timeout: it connects to the brokers (a TLS and SASL handshake each), creates the topic and
   * waits for its partitions' leaders, then sends the messages one by one, each acknowledged by all replicas.
   */
  producerTimeout: LabDuration.minutes(1),
  exerciseTiming: {
    /**
     * How long the msk step waits for the consumer to record every message: the mapping must find the topic the step
     * created after it (the docs give no delay), then poll it; on failure the step prints the mapping's state.
     */
    consumerDeadlineSeconds: 300,
    /** Pause between two reads of the run's item. */
    consumerPollSeconds: 5,
  },
} as const;

/**
 * us-east-1 list prices behind the Flink feature's figures (Managed Service for Apache Flink pricing page, checked
 * 2026-12): KPUs bill per hour while the application runs, and a Studio notebook adds two KPUs to those it runs on.
 */
export const FLINK_PRICES = {
  kpuHourUsd: 0.11,
  studioExtraKpus: 2,
} as const;

/** The Flink feature (-c streaming:flink=true): a Studio notebook reading the clicks stream, created but not started. */
export const FLINK_LAB = {
  /** The notebook and its Glue database are named this, a separator and 8 hex digits of the stack's id. */
  namePrefix: 'clicks',
  runtime: 'ZEPPELIN-FLINK-3_0',
  /** One KPU of parallelism: with the Studio's two, 3 KPUs while running. */
  parallelism: 1,
  exerciseTiming: {
    /** How long the flink step waits for the notebook to start, then to stop (each takes a few minutes). */
    transitionDeadlineSeconds: 600,
    /** Pause between two DescribeApplication calls while it starts or stops. */
    statusPollSeconds: 15,
  },
} as const;

/** What a running Studio notebook costs per hour: its KPUs (parallelism / 1 per KPU) and the Studio's two. */
export const flinkRunningHourUsd = () => (FLINK_LAB.parallelism + FLINK_PRICES.studioExtraKpus) * FLINK_PRICES.kpuHourUsd;
