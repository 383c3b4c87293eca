import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KINESIS_LIMITS, KinesisDataStream, StreamCapacity } from '../../lib/kinesis-data-stream';
import { StreamProcessor, StreamSource } from '../../lib/stream-processor';
import { ConstructUsageError } from '../../lib/core/validation';
import { testApp } from '../support/synth';
import { validationErrorOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

describe('defaults', () => {
  const stack = newStack();
  const clicks = new KinesisDataStream(stack, 'Clicks');
  const template = Template.fromStack(stack);

  test('one provisioned shard, 24 hours, encrypted with the AWS managed key in every Region (no Region condition)', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 1,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
    expect(template.toJSON().Conditions).toBeUndefined();
    expect(clicks.capacity.shardCount).toBe(1);
    expect(clicks.retentionPeriod.toHours()).toBe(24);
  });

  test('the stream is kept when removed from the stack (its records are data)', () => {
    template.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

test('on demand: no shard count; a customer managed key; 7 days', () => {
  const stack = newStack();
  const key = new kms.Key(stack, 'Key');
  new KinesisDataStream(stack, 'Clicks', { capacity: StreamCapacity.onDemand(), encryptionKey: key, retentionPeriod: Duration.days(7) });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Kinesis::Stream', {
    StreamModeDetails: { StreamMode: 'ON_DEMAND' },
    RetentionPeriodHours: 168,
    StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
  });
  const [stream] = Object.values(template.findResources('AWS::Kinesis::Stream'));
  expect(stream.Properties.ShardCount).toBeUndefined();
});

test('enhanced fan-out consumers are registered on the stream, named after the stack, at most 20', () => {
  const stack = newStack();
  const clicks = new KinesisDataStream(stack, 'Clicks');
  const consumer = clicks.addEnhancedFanOutConsumer('Analytics');
  Template.fromStack(stack).hasResourceProperties('AWS::Kinesis::StreamConsumer', {
    StreamARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClicksStream'), 'Arn'] },
    ConsumerName: { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'Analytics']] },
  });
  expect(clicks.enhancedFanOutConsumers).toEqual([consumer]);
  for (let i = 1; i < KINESIS_LIMITS.maxEnhancedFanOutConsumers; i++) clicks.addEnhancedFanOutConsumer(`C${i}`);
  let error: unknown;
  try {
    clicks.addEnhancedFanOutConsumer('OneTooMany');
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConstructUsageError);
  expect(error).toMatchObject({ code: 'KinesisDataStream.TooManyConsumers' });
  expect((error as Error).message).toBe('Test/Clicks: [KinesisDataStream.TooManyConsumers] a stream takes at most 20 enhanced fan-out consumers; OneTooMany would be one more');
});

describe('bad input: one error listing every problem', () => {
  test('no shard and a retention below 24 hours', () => {
    const error = validationErrorOf(() => new KinesisDataStream(newStack(), 'Clicks', { capacity: StreamCapacity.provisioned(0), retentionPeriod: Duration.hours(23) }));
    expect(error.problems).toEqual([
      { code: 'KinesisDataStream.ShardCountRange', message: 'StreamCapacity.provisioned takes a whole number of shards, at least 1, got 0' },
      { code: 'KinesisDataStream.RetentionPeriodRange', message: 'retentionPeriod must be a whole number of hours from 24 to 8760 (365 days), got 23 h' },
    ]);
  });

  test.each([
    [Duration.hours(8_761), '8761 h'],
    [Duration.minutes(90), '1.5 h'],
    [Duration.days(366), '8784 h'],
  ])('a retention of %s', (retentionPeriod, got) => {
    const error = validationErrorOf(() => new KinesisDataStream(newStack(), 'Clicks', { retentionPeriod }));
    expect(error.problems).toEqual([{ code: 'KinesisDataStream.RetentionPeriodRange', message: expect.stringMatching(new RegExp(`got ${got}$`)) }]);
  });

  test('a retention of exactly 365 days (8,760 h), the maximum, is accepted', () => {
    expect(() => new KinesisDataStream(newStack(), 'Clicks', { retentionPeriod: Duration.days(365) })).not.toThrow();
  });

  test('a fractional shard count', () => {
    const error = validationErrorOf(() => new KinesisDataStream(newStack(), 'Clicks', { capacity: StreamCapacity.provisioned(1.5) }));
    expect(error.problems.map((p) => p.code)).toEqual(['KinesisDataStream.ShardCountRange']);
  });

  test('a retention token is accepted in hours only', () => {
    const token = (unit: 'hours' | 'minutes') => Duration[unit](Lazy.number({ produce: () => 48 }));
    expect(() => new KinesisDataStream(newStack(), 'Clicks', { retentionPeriod: token('hours') })).not.toThrow();
    const error = validationErrorOf(() => new KinesisDataStream(newStack(), 'Clicks', { retentionPeriod: token('minutes') }));
    expect(error.problems).toEqual([
      { code: 'KinesisDataStream.TokenNotInHours', message: 'retentionPeriod is a token in minutes, which cannot be converted at synth: give it as Duration.hours(token)' },
    ]);
  });

  test('the limits of a shard are what the Kinesis developer guide states', () => {
    expect(KINESIS_LIMITS).toMatchObject({ writeBytesPerShardPerSecond: 1_048_576, writeRecordsPerShardPerSecond: 1_000, readBytesPerShardPerSecond: 2_097_152, maxRetentionHours: 8_760 });
  });

  test('a batch size over what Lambda reads from Kinesis in one invocation is refused by the StreamProcessor reading the stream', () => {
    const stack = newStack();
    const clicks = new KinesisDataStream(stack, 'Clicks');
    const handler = new lambda.Function(stack, 'Handler', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    });
    const error = validationErrorOf(() => new StreamProcessor(stack, 'Consumer', { source: StreamSource.fromKinesisStream(clicks.stream), handler, batchSize: 10_001 }));
    expect(error.problems).toEqual([{ code: 'StreamProcessor.BatchSizeRange', message: 'batchSize must be a whole number between 1 and 10000, got 10001' }]);
  });
});
