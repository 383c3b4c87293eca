import * as path from 'node:path';
import { CfnParameter, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { STREAM_EVENT_SOURCE_LIMITS, StreamProcessor, StreamProcessorProps, StreamSource } from '../../lib/stream-processor';
import { testApp } from '../support/synth';
import { validationErrorOf } from '../support/validation';

const ENTRY = path.join(__dirname, '../../lambda/orders-view/index.ts');

function setup(stream: dynamodb.StreamViewType | null = dynamodb.StreamViewType.NEW_AND_OLD_IMAGES) {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const table = new dynamodb.TableV2(stack, 'Orders', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    dynamoStream: stream ?? undefined,
  });
  const handler = new SafeNodejsFunction(stack, 'Handler', { entry: ENTRY });
  return { stack, table, handler, source: StreamSource.fromTable(table) };
}



describe('defaults', () => {
  const { stack, handler, source } = setup();
  const processor = new StreamProcessor(stack, 'Processor', { source, handler });
  const template = Template.fromStack(stack);

  test('the mapping starts at TRIM_HORIZON, bisects, retries 3 times, drops records older than 1 hour, reports items', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Orders'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailureQueue'), 'Arn'] } } },
      TumblingWindowInSeconds: Match.absent(),
    });
    expect(processor.retryAttempts).toBe(3);
    expect(processor.maxRecordAge.toSeconds()).toBe(3600);
  });

  test('creates an encrypted, TLS-only on-failure queue keeping messages 14 days, and lets the function send to it', () => {
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailureQueue'), 'Arn'] },
          }),
          Match.objectLike({
            Action: Match.arrayWith(['dynamodb:GetRecords', 'dynamodb:GetShardIterator']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Orders'), 'StreamArn'] },
          }),
        ]),
      },
    });
  });

  test('the queue it creates is acknowledged as the end of the failure path (cdk-nag AwsSolutions-SQS3), saying what it receives', () => {
    const acknowledged = processor.deadLetterQueue.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
    expect(acknowledged).toEqual([
      {
        'Annotation::AwsSolutions-SQS3':
          'This queue is the dead-letter destination of a stream event source mapping: it receives descriptions of ' +
          'discarded batches for an operator to replay, and is the end of the failure path, not a work queue.',
      },
    ]);
  });

  test('has no filters and no alarm unless asked', () => {
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mapping.Properties.FilterCriteria).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(processor.iteratorAgeAlarm).toBeUndefined();
  });
});

test('a tumbling window of 15 minutes, the longest Lambda takes, is rendered in seconds, with partial batch responses', () => {
  const { stack, handler, source } = setup();
  new StreamProcessor(stack, 'Windowed', { source, handler, tumblingWindow: Duration.minutes(15), parallelizationFactor: 1 });
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    TumblingWindowInSeconds: STREAM_EVENT_SOURCE_LIMITS.maxTumblingWindowSeconds,
    ParallelizationFactor: 1,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  });
});

test('takes filters, parallelization, batching and an existing on-failure queue, and creates no queue then', () => {
  const { stack, handler, source } = setup();
  const existing = sqs.Queue.fromQueueArn(stack, 'Existing', 'arn:aws:sqs:us-east-1:123456789012:failures');
  const processor = new StreamProcessor(stack, 'Processor', {
    source,
    handler,
    batchSize: 500,
    maxBatchingWindow: Duration.seconds(5),
    parallelizationFactor: 4,
    retryAttempts: 0,
    maxRecordAge: Duration.minutes(1),
    bisectBatchOnError: false,
    startingPosition: lambda.StartingPosition.LATEST,
    deadLetterQueue: existing,
    filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT') })],
  });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::SQS::Queue', 0);
  expect(processor.deadLetterQueue).toBe(existing);
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    StartingPosition: 'LATEST',
    BatchSize: 500,
    MaximumBatchingWindowInSeconds: 5,
    ParallelizationFactor: 4,
    MaximumRetryAttempts: 0,
    MaximumRecordAgeInSeconds: 60,
    BisectBatchOnFunctionError: false,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:123456789012:failures' } },
    FilterCriteria: { Filters: [{ Pattern: '{"eventName":["INSERT"]}' }] },
  });
});

test('an iterator-age alarm watches the function\'s IteratorAge in milliseconds and notifies a topic', () => {
  const { stack, handler, source } = setup();
  const topic = new sns.Topic(stack, 'Ops');
  const processor = new StreamProcessor(stack, 'Processor', {
    source,
    handler,
    alarms: { iteratorAge: Duration.minutes(2), evaluationPeriods: 2, alarmTopic: topic },
  });
  expect(processor.iteratorAgeAlarm).toBeDefined();
  Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'AWS/Lambda',
    MetricName: 'IteratorAge',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Handler') } }],
    Statistic: 'Maximum',
    Period: 60,
    Threshold: 120_000,
    EvaluationPeriods: 2,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmDescription: 'Test/Processor: the function is falling behind its stream (IteratorAge above threshold)',
    AlarmActions: [{ Ref: Match.stringLikeRegexp('^Ops') }],
    OKActions: [{ Ref: Match.stringLikeRegexp('^Ops') }],
  });
});

describe('Kinesis sources (for the Kinesis lab)', () => {
  test('a stream, from a timestamp', () => {
    const { stack, handler } = setup();
    const stream = new kinesis.Stream(stack, 'Clicks');
    new StreamProcessor(stack, 'Processor', {
      source: StreamSource.fromKinesisStream(stream),
      handler,
      startingPosition: lambda.StartingPosition.AT_TIMESTAMP,
      startingPositionTimestamp: 1_700_000_000,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Clicks'), 'Arn'] },
      StartingPosition: 'AT_TIMESTAMP',
      StartingPositionTimestamp: 1_700_000_000,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('a Kinesis source describes itself for the checks: always a stream to read', () => {
    const { stack } = setup();
    expect(StreamSource.fromKinesisStream(new kinesis.Stream(stack, 'Clicks')).info).toEqual({ kind: 'kinesis', description: 'Kinesis stream Test/Clicks', hasStream: true });
  });

  test('an enhanced fan-out consumer', () => {
    const { stack, handler } = setup();
    const stream = new kinesis.Stream(stack, 'Clicks');
    const consumer = new kinesis.StreamConsumer(stack, 'Consumer', { stream, streamConsumerName: 'view' });
    new StreamProcessor(stack, 'Processor', { source: StreamSource.fromKinesisConsumer(consumer), handler });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Consumer'), 'ConsumerARN'] },
      StartingPosition: 'TRIM_HORIZON',
    });
  });
});

describe('validation', () => {
  test('bad retry attempts, a table without a stream and a bad batch size: one error listing every problem', () => {
    const { stack, handler, source } = setup(null);
    const error = validationErrorOf(() => new StreamProcessor(stack, 'Processor', { source, handler, retryAttempts: -1, batchSize: 0 }));
    expect(error.message).toBe(
      'Test/Processor: 3 problems in props:\n' +
        '  - [StreamProcessor.TableWithoutStream] table Test/Orders has no stream: set dynamoStream (TableV2) or ' +
        'stream (Table), e.g. NEW_AND_OLD_IMAGES\n' +
        '  - [StreamProcessor.BatchSizeRange] batchSize must be a whole number between 1 and 10000, got 0\n' +
        '  - [StreamProcessor.RetryAttemptsRange] retryAttempts must be a whole number between 0 and 10000, got -1 ' +
        '(-1 means infinite: one poison record would block its shard until it expires)',
    );
  });

  const cases: [string, string, Partial<StreamProcessorProps>, string][] = [
    ['BatchingWindowRange', '6 minutes', { maxBatchingWindow: Duration.minutes(6) }, 'maxBatchingWindow must be at most 300 seconds, got 360'],
    ['RetryAttemptsRange', '10,001', { retryAttempts: 10_001 }, 'retryAttempts must be a whole number between 0 and 10000, got 10001'],
    ['RetryAttemptsRange', '1.5', { retryAttempts: 1.5 }, 'retryAttempts must be a whole number between 0 and 10000, got 1.5'],
    ['BatchSizeRange', '10,001', { batchSize: 10_001 }, 'batchSize must be a whole number between 1 and 10000, got 10001'],
    ['BatchSizeRange', '1.5', { batchSize: 1.5 }, 'batchSize must be a whole number between 1 and 10000, got 1.5'],
    ['MaxRecordAgeRange', '59 s', { maxRecordAge: Duration.seconds(59) }, 'maxRecordAge must be between 60 seconds and 7 days (604,800 seconds), got 59'],
    ['MaxRecordAgeRange', '8 days', { maxRecordAge: Duration.days(8) }, 'maxRecordAge must be between 60 seconds and 7 days (604,800 seconds), got 691200'],
    ['TumblingWindowRange', '901 s', { tumblingWindow: Duration.seconds(901) }, 'tumblingWindow must be between 1 second and 15 minutes (900 seconds), got 901'],
    ['TumblingWindowRange', '0 s', { tumblingWindow: Duration.seconds(0) }, 'tumblingWindow must be between 1 second and 15 minutes (900 seconds), got 0'],
    ['NotWholeSeconds', '1.5 s window', { tumblingWindow: Duration.millis(1500) }, 'tumblingWindow must be a whole number of seconds, got 1.5 s'],
    ['ParallelizationFactorRange', '11', { parallelizationFactor: 11 }, 'parallelizationFactor must be a whole number between 1 and 10, got 11'],
    [
      'TumblingWindowParallelization',
      'a window with factor 2',
      { tumblingWindow: Duration.seconds(30), parallelizationFactor: 2 },
      'tumblingWindow needs parallelizationFactor 1 (state is carried per shard, one batch at a time), got 2',
    ],
    [
      'StartingPositionNotSupported',
      'AT_TIMESTAMP on DynamoDB',
      { startingPosition: lambda.StartingPosition.AT_TIMESTAMP },
      'startingPosition AT_TIMESTAMP is for Kinesis only: a DynamoDB stream starts at TRIM_HORIZON or LATEST',
    ],
    [
      'StartingTimestampMismatch',
      'a timestamp on DynamoDB',
      { startingPositionTimestamp: 1 },
      'startingPositionTimestamp applies only with startingPosition AT_TIMESTAMP on a Kinesis stream',
    ],
    [
      'IteratorAgeThresholdTooHigh',
      'default 5-minute threshold, 5-minute record age',
      { maxRecordAge: Duration.minutes(5), alarms: {} },
      'alarms.iteratorAge (300 s) must be below maxRecordAge (300 s): records older than maxRecordAge are ' +
        'discarded, so the iterator age never gets that high and the alarm would never fire',
    ],
    [
      'EvaluationPeriodsRange',
      '0 periods',
      { alarms: { evaluationPeriods: 0 } },
      'alarms.evaluationPeriods must be a whole number of at least 1, got 0',
    ],
  ];
  test.each(cases)('%s (%s)', (code, _label, props, message) => {
    const { stack, handler, source } = setup();
    const error = validationErrorOf(() => new StreamProcessor(stack, 'Processor', { source, handler, ...props }));
    expect(error.problems).toEqual([{ code: `StreamProcessor.${code}`, message }]);
  });

  test('a Table without a stream and a table imported without its stream ARN are refused; with the ARN it is read', () => {
    const { stack, handler } = setup();
    const plain = new dynamodb.Table(stack, 'Plain', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const importedWithout = dynamodb.Table.fromTableName(stack, 'ImportedWithout', 'legacy');
    const importedWith = dynamodb.Table.fromTableAttributes(stack, 'ImportedWith', {
      tableName: 'legacy',
      tableStreamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/legacy/stream/2020-01-01T00:00:00.000',
    });
    for (const table of [plain, importedWithout]) {
      const error = validationErrorOf(() => new StreamProcessor(stack, `For${table.node.id}`, { source: StreamSource.fromTable(table), handler }));
      expect(error.problems.map((p) => p.code)).toEqual(['StreamProcessor.TableWithoutStream']);
    }
    new StreamProcessor(stack, 'ForImportedWith', { source: StreamSource.fromTable(importedWith), handler });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/legacy/stream/2020-01-01T00:00:00.000',
    });
  });

  test('a FIFO on-failure queue is refused', () => {
    const { stack, handler, source } = setup();
    const fifo = new sqs.Queue(stack, 'Fifo', { fifo: true });
    expect(() => new StreamProcessor(stack, 'Processor', { source, handler, deadLetterQueue: fifo })).toThrow(
      '[StreamProcessor.DeadLetterQueueFifo] deadLetterQueue must be a standard queue: Lambda cannot send stream failure ' +
        'records to a FIFO queue',
    );
  });

  test('durations that are not whole seconds are listed with the other problems, not thrown by CDK', () => {
    const { stack, handler, source } = setup();
    const error = validationErrorOf(
      () =>
        new StreamProcessor(stack, 'Processor', {
          source,
          handler,
          maxBatchingWindow: Duration.millis(1500),
          maxRecordAge: Duration.millis(90_500),
          parallelizationFactor: 0,
          alarms: { iteratorAge: Duration.millis(30_500) },
        }),
    );
    expect(error.problems).toEqual([
      { code: 'StreamProcessor.NotWholeSeconds', message: 'maxBatchingWindow must be a whole number of seconds, got 1.5 s' },
      { code: 'StreamProcessor.NotWholeSeconds', message: 'maxRecordAge must be a whole number of seconds, got 90.5 s' },
      { code: 'StreamProcessor.ParallelizationFactorRange', message: 'parallelizationFactor must be a whole number between 1 and 10, got 0' },
    ]);
  });

  test('an IteratorAge threshold in milliseconds is fine: the metric is in milliseconds', () => {
    const { stack, handler, source } = setup();
    new StreamProcessor(stack, 'Processor', { source, handler, alarms: { iteratorAge: Duration.millis(90_500) } });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 90_500 });
  });

  test('accepted at the limits: a 300 s batching window, 10,000 retries, factor 10, a record age of 24 h on DynamoDB, 1 evaluation period', () => {
    const { stack, handler, source } = setup();
    new StreamProcessor(stack, 'Processor', {
      source,
      handler,
      maxBatchingWindow: Duration.seconds(STREAM_EVENT_SOURCE_LIMITS.maxBatchingWindowSeconds),
      retryAttempts: STREAM_EVENT_SOURCE_LIMITS.maxRetryAttempts,
      parallelizationFactor: STREAM_EVENT_SOURCE_LIMITS.maxParallelizationFactor,
      maxRecordAge: Duration.seconds(STREAM_EVENT_SOURCE_LIMITS.dynamoDbStreamRetentionSeconds),
      alarms: { evaluationPeriods: 1 },
    });
    // Strict synth: the record-age warning would fail it.
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      MaximumBatchingWindowInSeconds: 300,
      MaximumRetryAttempts: 10_000,
      ParallelizationFactor: 10,
      MaximumRecordAgeInSeconds: 86_400,
    });
  });

  test('a threshold with a fraction of a millisecond is rendered exactly', () => {
    const { stack, handler, source } = setup();
    new StreamProcessor(stack, 'Processor', { source, handler, alarms: { iteratorAge: Duration.millis(90_000.5) } });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 90_000.5 });
  });

  test('an IteratorAge threshold given as Duration.millis(token) is rendered as the token', () => {
    const { stack, handler, source } = setup();
    const millis = new CfnParameter(stack, 'Millis', { type: 'Number' }).valueAsNumber;
    new StreamProcessor(stack, 'Processor', { source, handler, alarms: { iteratorAge: Duration.millis(millis) } });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: { Ref: 'Millis' } });
  });

  test('an IteratorAge token in another unit is TokenNotInMillis, never CDK\'s own error', () => {
    const { stack, handler, source } = setup();
    const minutes = new CfnParameter(stack, 'Minutes', { type: 'Number' }).valueAsNumber;
    const error = validationErrorOf(
      () => new StreamProcessor(stack, 'Processor', { source, handler, alarms: { iteratorAge: Duration.minutes(minutes) } }),
    );
    expect(error.problems).toEqual([
      {
        code: 'StreamProcessor.TokenNotInMillis',
        message:
          'alarms.iteratorAge is a token in minutes, which cannot be converted at synth: give it as Duration.millis(token)',
      },
    ]);
  });

  test.each([
    ['seconds', (n: number) => Duration.seconds(n)],
    ['hours', (n: number) => Duration.hours(n)],
  ])('a maxRecordAge token in %s is MaxRecordAgeToken, never CDK\'s own range error', (_unit, duration) => {
    const { stack, handler, source } = setup();
    const age = new CfnParameter(stack, 'Age', { type: 'Number' }).valueAsNumber;
    const error = validationErrorOf(() => new StreamProcessor(stack, 'Processor', { source, handler, maxRecordAge: duration(age) }));
    expect(error.problems).toEqual([
      {
        code: 'StreamProcessor.MaxRecordAgeToken',
        message: 'maxRecordAge is a token: the event source mapping checks it against 60 seconds to 7 days at synth, which a token cannot pass',
      },
    ]);
  });

  test('the lower limits checked are exported with the upper ones', () => {
    expect(STREAM_EVENT_SOURCE_LIMITS).toMatchObject({ minBatchSize: 1, minRetryAttempts: 0, minParallelizationFactor: 1 });
  });

  test('AT_TIMESTAMP on Kinesis needs its timestamp', () => {
    const { stack, handler } = setup();
    const source = StreamSource.fromKinesisStream(new kinesis.Stream(stack, 'Clicks'));
    expect(
      () => new StreamProcessor(stack, 'Processor', { source, handler, startingPosition: lambda.StartingPosition.AT_TIMESTAMP }),
    ).toThrow('[StreamProcessor.StartingTimestampMismatch] startingPosition AT_TIMESTAMP needs startingPositionTimestamp (Unix seconds)');
  });

  test('a maximum record age above DynamoDB Streams\' 24 h is a warning: strict synth fails until acknowledged', () => {
    const { stack, handler, source } = setup();
    const processor = new StreamProcessor(stack, 'Processor', { source, handler, maxRecordAge: Duration.days(2) });
    expect(() => Template.fromStack(stack)).toThrow(
      /maxRecordAge is 172800 s, but DynamoDB Streams deletes records after 24 hours \(86,400 s\): above that it bounds nothing/,
    );
    Validations.of(processor).acknowledge({ id: 'Annotation::StreamProcessor.MaxRecordAgeAboveRetention', reason: 'test' });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('the same age on a Kinesis stream (retention up to 365 days) is fine', () => {
    const { stack, handler } = setup();
    const source = StreamSource.fromKinesisStream(new kinesis.Stream(stack, 'Clicks'));
    new StreamProcessor(stack, 'Processor', { source, handler, maxRecordAge: Duration.days(2) });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});
