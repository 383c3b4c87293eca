import { Match, Template } from 'aws-cdk-lib/assertions';
import { streamingLab } from '../../../labs/streaming/lab';
import { StreamingLabStack } from '../../../labs/streaming/stack';
import { STREAMING_LAB } from '../../../labs/streaming/constants';
import { withStack } from '../../../labs/support/app';
import { LabConfigError } from '../../../labs/support/lab-stack';
import { labTemplate, testApp } from '../../support/synth';

const lab = withStack(streamingLab, StreamingLabStack);
const template = labTemplate(lab);
const logicalId = (type: string, prefix: string) => Object.keys(template.findResources(type)).find((id) => id.startsWith(prefix))!;
const statements = () =>
  Object.values({ ...template.findResources('AWS::IAM::Policy'), ...template.findResources('AWS::IAM::Role') }).flatMap((r) => [
    ...((r.Properties.PolicyDocument?.Statement ?? []) as { Action: string | string[]; Resource: unknown }[]),
    ...((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }[]).flatMap((p) => p.PolicyDocument.Statement),
  ]);

describe('Data Streams', () => {
  test('one provisioned shard, 24 hours, encrypted at rest with aws/kinesis', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 1,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
    template.resourceCountIs('AWS::Kinesis::StreamConsumer', 0);
  });

  test('-c streaming:capacityMode=on-demand and -c streaming:enhancedFanOut=true: an on-demand stream read through a fan-out consumer', () => {
    const app = testApp({ 'streaming:capacityMode': 'on-demand', 'streaming:enhancedFanOut': true }, { builtinCloudFormationValidation: false });
    const variant = Template.fromStack(new lab.stack(app, { lab }));
    const [stream] = Object.values(variant.findResources('AWS::Kinesis::Stream'));
    expect(stream.Properties.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
    expect(stream.Properties.ShardCount).toBeUndefined();
    const consumerId = Object.keys(variant.findResources('AWS::Kinesis::StreamConsumer'))[0];
    variant.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: { 'Fn::GetAtt': [consumerId, 'ConsumerARN'] } });
    expect(Object.keys(variant.toJSON().Outputs)).toContain('FanOutConsumerArn');
  });

  test('a parameter outside its pattern, or a shard count for an on-demand stream, is refused with what it expects', () => {
    const build = (context: Record<string, unknown>) => () => new lab.stack(testApp(context, { builtinCloudFormationValidation: false }), { lab });
    expect(build({ 'streaming:capacityMode': 'serverless' })).toThrow(new LabConfigError('context streaming:capacityMode must be provisioned or on-demand, got "serverless"'));
    expect(build({ 'streaming:shardCount': 0 })).toThrow(new LabConfigError('context streaming:shardCount must be a whole number from 1 to 10, got 0'));
    expect(build({ 'streaming:shardCount': 2, 'streaming:capacityMode': 'on-demand' })).toThrow(
      new LabConfigError('context streaming:shardCount applies to a provisioned stream: an on-demand stream manages its shards'),
    );
  });
});

describe('the Lambda consumer', () => {
  test('reads the stream with bisect, 2 retries, 1 hour, a 1 s batching window, 2 batches per shard, failures to a queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId('AWS::Kinesis::Stream', 'ClicksStream'), 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: STREAMING_LAB.batchSize,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 2,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailureQueue'), 'Arn'] } } },
    });
  });

  test('may only update and read items of the progress table', () => {
    const table = logicalId('AWS::DynamoDB::GlobalTable', 'KeyProgress');
    expect(statements().filter((s) => JSON.stringify(s.Resource).includes(table)).flatMap((s) => s.Action)).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ PROGRESS_TABLE_NAME: { Ref: table } }) } });
  });
});

describe('Firehose to S3', () => {
  const [delivery] = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream'));
  const destination = delivery.Properties.ExtendedS3DestinationConfiguration;

  test('reads the stream and writes gzip objects under a date prefix, failures under an error prefix, every 60 s or 1 MiB', () => {
    expect(delivery.Properties.DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(delivery.Properties.KinesisStreamSourceConfiguration.KinesisStreamARN).toEqual({ 'Fn::GetAtt': [logicalId('AWS::Kinesis::Stream', 'ClicksStream'), 'Arn'] });
    expect(destination).toMatchObject({
      Prefix: 'clicks/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/',
      ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/',
      CompressionFormat: 'GZIP',
      BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 1 },
      CloudWatchLoggingOptions: { Enabled: true },
    });
  });

  test('transforms every record with the Lambda function', () => {
    const [processor] = destination.ProcessingConfiguration.Processors;
    expect(destination.ProcessingConfiguration.Enabled).toBe(true);
    expect(processor.Type).toBe('Lambda');
    expect(processor.Parameters).toEqual([
      { ParameterName: 'LambdaArn', ParameterValue: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'Transform'), 'Arn'] } },
      { ParameterName: 'BufferSizeInMBs', ParameterValue: '1' },
      { ParameterName: 'BufferIntervalInSeconds', ParameterValue: '60' },
      { ParameterName: 'NumberOfRetries', ParameterValue: '1' },
    ]);
  });

  test('its role reads the stream, invokes the transform, writes the bucket and one log stream: no wildcard actions', () => {
    const role = Object.values(template.findResources('AWS::IAM::Role')).find((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('firehose.amazonaws.com'));
    const actions = role?.Properties.Policies[0].PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => s.Action);
    expect(actions).toEqual([
      'kinesis:DescribeStream', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards',
      'lambda:GetFunctionConfiguration', 'lambda:InvokeFunction',
      's3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads',
      's3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject',
      'logs:PutLogEvents',
    ]);
    expect(role?.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
  });

  test('the bucket is private, TLS only, expires deliveries after 7 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7 })]) },
    });
  });
});

test('outputs what the exercise uses; no fan-out consumer unless asked', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'ConsumerFunctionName', 'DeliveryBucketName', 'DeliveryStreamName', 'OnFailureQueueUrl', 'ProgressTableName', 'StreamArn', 'StreamName', 'TransformFunctionName',
  ]);
});
