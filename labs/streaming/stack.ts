import * as path from 'node:path';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { KinesisDataStream, StreamCapacity } from '../../lib/kinesis-data-stream';
import { StreamProcessor, StreamSource } from '../../lib/stream-processor';
import { labBucket } from '../support/lab-bucket';
import { LabConfigError, LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { streamingLab } from './lab';
import { lambdaTransform, STREAMING_LAB as STREAMING_LAB_SPEC } from './constants';
import { clickNotebook } from './flink';
import { clickKafka } from './msk';
import { clickSearch } from './search';

/** The shared constants (./constants.ts) with CDK durations. */
const STREAMING_LAB = withCdkDurations(STREAMING_LAB_SPEC);

const handlerEntry = (name: string) => path.join(__dirname, '..', '..', 'lambda', name, 'index.ts');

/**
 * Streaming lab: a Kinesis data stream (1 provisioned shard, or on demand) read by a Lambda consumer through the
 * StreamProcessor mapping (optionally through an enhanced fan-out consumer), and copied by Firehose to S3 through a
 * Lambda transform, compressed, under a date prefix, with failed records under an error prefix; optionally indexed
 * in OpenSearch by a second Firehose stream (-c streaming:opensearch=true); an MSK Serverless topic produced to by a
 * Lambda function in its VPC and consumed by another (-c streaming:msk=true); a Flink Studio notebook over the
 * stream, not started (-c streaming:flink=true).
 */
export class StreamingLabStack extends LabStack<typeof streamingLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const onDemand = this.parameter('capacityMode') === 'on-demand';
    const shards = this.parameter('shardCount');
    if (onDemand && shards !== undefined) {
      throw new LabConfigError('context streaming:shardCount applies to a provisioned stream: an on-demand stream manages its shards');
    }
    const shardCount = Number(shards ?? STREAMING_LAB.defaultShardCount);
    const clicks = new KinesisDataStream(this, 'Clicks', {
      capacity: onDemand ? StreamCapacity.onDemand() : StreamCapacity.provisioned(shardCount),
      retentionPeriod: STREAMING_LAB.retention,
    });
    Validations.of(clicks.stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        'Encrypted at rest with the AWS managed key aws/kinesis: free, and every reader of this lab is in the account. ' +
        'A customer managed key ($1/month) matters for cross-account readers or a key policy of your own.',
    });

    const progress = new dynamodb.TableV2(this, 'KeyProgress', {
      partitionKey: { name: 'partitionKey', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    const consumer = new SafeNodejsFunction(this, 'Consumer', {
      entry: handlerEntry('kinesis-consumer'),
      description: 'Applies the clicks stream to a per-partition-key progress table, in order, once per record',
      timeout: STREAMING_LAB.consumerTimeout,
      environment: { PROGRESS_TABLE_NAME: progress.tableName },
    });
    // A conditional UpdateItem per record, and a consistent GetItem when the condition fails: nothing more.
    progress.grant(consumer, 'dynamodb:UpdateItem', 'dynamodb:GetItem');

    const fanOut = this.feature('enhancedFanOut') ? clicks.addEnhancedFanOutConsumer('LambdaConsumer') : undefined;
    const processor = new StreamProcessor(this, 'ClicksConsumer', {
      source: fanOut ? StreamSource.fromKinesisConsumer(fanOut) : StreamSource.fromKinesisStream(clicks.stream),
      handler: consumer,
      batchSize: STREAMING_LAB.batchSize,
      maxBatchingWindow: STREAMING_LAB.maxBatchingWindow,
      parallelizationFactor: STREAMING_LAB.parallelizationFactor,
      retryAttempts: STREAMING_LAB.retryAttempts,
      maxRecordAge: STREAMING_LAB.maxRecordAge,
    });

    // A second mapping on the same stream (a shared-throughput reader: the fan-out consumer serves one mapping).
    const windowCounter = new SafeNodejsFunction(this, 'WindowCounter', {
      entry: handlerEntry('kinesis-window'),
      description: 'Counts the clicks of each run per shard and tumbling window, and writes each window\'s total when it closes',
      timeout: STREAMING_LAB.consumerTimeout,
      environment: { PROGRESS_TABLE_NAME: progress.tableName },
    });
    // Two UpdateItem calls per run on each window's final invocation: nothing else.
    progress.grant(windowCounter, 'dynamodb:UpdateItem');
    new StreamProcessor(this, 'ClicksPerWindow', {
      source: StreamSource.fromKinesisStream(clicks.stream),
      handler: windowCounter,
      tumblingWindow: STREAMING_LAB.tumblingWindow,
      batchSize: STREAMING_LAB.batchSize,
      retryAttempts: STREAMING_LAB.retryAttempts,
      maxRecordAge: STREAMING_LAB.maxRecordAge,
    });

    const deliveries = labBucket(this, 'Deliveries', {
      expiration: Duration.days(7),
      withoutAccessLogs:
        'Written only by the lab\'s Firehose stream (its role is the only writer) and expiring after 7 days; Firehose ' +
        'logs its deliveries to CloudWatch Logs. Server access logs would need a second bucket for no added lesson.',
    });
    const transform = new SafeNodejsFunction(this, 'Transform', {
      entry: handlerEntry('firehose-transform'),
      description: 'Firehose transform of the clicks stream: Ok with one JSON line, Dropped heartbeats, ProcessingFailed bad records',
      timeout: STREAMING_LAB.transformTimeout,
    });
    const delivery = firehoseToS3(this, { stream: clicks.stream, bucket: deliveries, transform });
    Validations.of(delivery).acknowledge({
      id: 'AwsSolutions-KDF1',
      reason:
        'Firehose server-side encryption applies to Direct PUT sources only; this stream reads a Kinesis stream that is ' +
        'encrypted at rest (aws/kinesis) and writes SSE-S3 objects.',
    });

    const outputs: Record<string, string> = {
      StreamName: clicks.stream.streamName,
      StreamArn: clicks.stream.streamArn,
      ProgressTableName: progress.tableName,
      ConsumerFunctionName: consumer.functionName,
      OnFailureQueueUrl: processor.deadLetterQueue.queueUrl,
      WindowCounterFunctionName: windowCounter.functionName,
      DeliveryStreamName: delivery.ref,
      DeliveryBucketName: deliveries.bucketName,
      TransformFunctionName: transform.functionName,
    };
    if (fanOut) outputs.FanOutConsumerArn = fanOut.streamConsumerArn;
    if (this.feature('opensearch')) {
      const search = clickSearch(this, { stream: clicks.stream, bucket: deliveries, transform });
      Object.assign(outputs, {
        SearchEndpoint: `https://${search.domain.attrDomainEndpoint}`,
        SearchDomainArn: search.domain.attrArn,
        SearchAdminRoleArn: search.adminRole.roleArn,
        SearchFirehoseRoleArn: search.firehoseRole.roleArn,
      });
    }
    if (this.feature('flink')) {
      const notebook = clickNotebook(this, { stream: clicks.stream });
      outputs.NotebookName = notebook.application.ref;
    }
    if (this.feature('msk')) {
      const kafka = clickKafka(this, { progress });
      Object.assign(outputs, {
        KafkaClusterArn: kafka.cluster.attrArn,
        KafkaConsumerFunctionName: kafka.consumer.functionName,
        KafkaMappingId: kafka.mapping.eventSourceMappingId,
        KafkaProducerFunctionName: kafka.producer.functionName,
      });
    }
    this.addOutputs(outputs);
  }
}

/**
 * Firehose reading the stream and writing to S3 through the transform, declared in CloudFormation terms: the L2
 * construct grants its role `s3:GetObject*`, `s3:DeleteObject*`, `s3:List*` and the function's versions, where
 * Firehose needs five S3 actions, the unqualified function and one log stream.
 */
function firehoseToS3(
  scope: Construct,
  { stream, bucket, transform }: { stream: kinesis.IStream; bucket: s3.IBucket; transform: lambda.IFunction },
): firehose.CfnDeliveryStream {
  const logGroup = new logs.LogGroup(scope, 'FirehoseLogs', { retention: logs.RetentionDays.ONE_WEEK });
  const logStream = logGroup.addStream('S3Delivery');
  const logStreamArn = Stack.of(scope).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const role = new iam.Role(scope, 'FirehoseRole', {
    assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } } }),
    description: 'Firehose of the streaming lab: reads the clicks stream, invokes the transform, writes to the deliveries bucket',
    inlinePolicies: {
      Delivery: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            actions: ['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'],
            resources: [stream.streamArn],
          }),
          new iam.PolicyStatement({ actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'], resources: [transform.functionArn] }),
          new iam.PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [bucket.bucketArn] }),
          new iam.PolicyStatement({
            actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
            resources: [bucket.arnForObjects('*')],
          }),
          new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [logStreamArn] }),
        ],
      }),
    },
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::<DeliveriesBF2F7293.Arn>/*]',
    reason: 'The objects of the deliveries bucket: Firehose names each object (prefix, date, its own suffix), so no narrower ARN exists.',
  });
  const delivery = new firehose.CfnDeliveryStream(scope, 'ToS3', {
    deliveryStreamType: 'KinesisStreamAsSource',
    kinesisStreamSourceConfiguration: { kinesisStreamArn: stream.streamArn, roleArn: role.roleArn },
    extendedS3DestinationConfiguration: {
      bucketArn: bucket.bucketArn,
      roleArn: role.roleArn,
      prefix: STREAMING_LAB.deliveryPrefix,
      errorOutputPrefix: STREAMING_LAB.errorPrefix,
      compressionFormat: 'GZIP',
      bufferingHints: {
        intervalInSeconds: STREAMING_LAB.firehoseBufferInterval.toSeconds(),
        sizeInMBs: STREAMING_LAB.firehoseBufferMiB,
      },
      cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
      processingConfiguration: lambdaTransform(transform.functionArn),
    },
  });
  // The role's policy is inline, so it exists when Firehose first assumes the role.
  delivery.node.addDependency(role);
  return delivery;
}
