import * as path from 'node:path';
import { inspect } from 'node:util';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { SafeNodejsFunction } from '../../lib/core/function';
import { notifyOnAlarmAndOk } from '../../lib/core/alarms';
import { createFailureQueue, queueEncryption } from '../../lib/core/queues';
import { ConstructUsageError, ConstructValidationError, PropsValidator, tokenInSeconds } from '../../lib/core/validation';
import { problemMessagesOf } from '../support/validation';
import { testApp } from '../support/synth';

describe('SafeNodejsFunction', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  new SafeNodejsFunction(stack, 'Fn', { entry: path.join(__dirname, '../../lambda/sqs-consumer/index.ts') });
  const template = Template.fromStack(stack);

  test('runs on the latest Node.js runtime, arm64, with active tracing', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 10,
    });
  });

  test('logs to its own log group with a retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const tuned = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Tuned');
    new SafeNodejsFunction(tuned, 'Fn', {
      entry: path.join(__dirname, '../../lambda/sqs-consumer/index.ts'),
      logGroupProps: { retention: logs.RetentionDays.ONE_WEEK },
    });
    Template.fromStack(tuned).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('FnLogs') } },
    });
  });

  test('has a role without AWS managed policies that may write only to its log group', () => {
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('FnLogs'), 'Arn'] },
          },
        ],
      },
    });
  });

  test('keeps the X-Ray wildcard in a policy of its own', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('XRayWrite'),
      PolicyDocument: {
        Statement: [{ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' }],
      },
    });
  });
});

describe('PropsValidator', () => {
  test('throws nothing when every requirement holds', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    check.require(true, 'Fine', 'never shown');
    expect(() => check.throwIfInvalid()).not.toThrow();
  });

  test('throws one error with every problem, its code and the construct path', () => {
    const stack = new Stack(undefined, 'Owner');
    const check = new PropsValidator(stack, 'Thing');
    check.require(false, 'First', 'first problem');
    check.require(false, 'Second', 'second problem');
    let thrown: unknown;
    try {
      check.throwIfInvalid();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConstructValidationError);
    expect((thrown as ConstructValidationError).constructPath).toBe('Owner');
    expect((thrown as Error).message).toBe(
      'Owner: 2 problems in props:\n  - [Thing.First] first problem\n  - [Thing.Second] second problem',
    );
  });
});

describe('PropsValidator.inRange', () => {
  const codes = (value: number | undefined, range: { min?: number; max?: number; whole?: boolean }) =>
    problemMessagesOf(() => {
      const check = new PropsValidator(new Stack(), 'Thing');
      check.inRange(value, range, 'Range', 'out of range');
      check.throwIfInvalid();
    });
  test('accepts both ends and refuses one unit beyond each', () => {
    expect([0, 1, 10, 11].map((v) => codes(v, { min: 1, max: 10, whole: true }).length)).toEqual([1, 0, 0, 1]);
    expect([0.99, 1, 10, 10.01].map((v) => codes(v, { min: 1, max: 10 }).length)).toEqual([1, 0, 0, 1]);
  });
  test('refuses a fraction when whole, NaN always; an open end has no limit; undefined is not checked', () => {
    expect(codes(1.5, { min: 1, max: 10, whole: true })).toEqual(['Thing.Range: out of range']);
    expect(codes(1.5, { min: 1, max: 10 })).toEqual([]);
    expect(codes(Number.NaN, {})).toEqual(['Thing.Range: out of range']);
    expect(codes(-1e12, { max: 0 })).toEqual([]);
    expect(codes(1e12, { min: 0 })).toEqual([]);
    expect(codes(undefined, { min: 1 })).toEqual([]);
  });
});

describe('PropsValidator.seconds', () => {
  const validate = (build: (check: PropsValidator) => void) =>
    problemMessagesOf(() => {
      const check = new PropsValidator(new Stack(), 'Thing');
      build(check);
      check.throwIfInvalid();
    });

  test('converts a whole number of seconds', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    expect(check.seconds(Duration.minutes(2), 'timeout')).toBe(120);
    expect(check.seconds(undefined, 'timeout')).toBeUndefined();
    expect(() => check.throwIfInvalid()).not.toThrow();
  });

  test('lists a duration that is not whole seconds with the other problems, instead of throwing CDK\'s error', () => {
    expect(
      validate((check) => {
        check.seconds(Duration.millis(1500), 'timeout');
        check.require(false, 'Other', 'another problem');
      }),
    ).toEqual([
      'Thing.NotWholeSeconds: timeout must be a whole number of seconds, got 1.5 s',
      'Thing.Other: another problem',
    ]);
  });

  test('keeps fractions where the property takes them', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    expect(check.seconds(Duration.millis(1500), 'interval', { integral: false })).toBe(1.5);
    expect(() => check.throwIfInvalid()).not.toThrow();
  });

  test('lists a token in another unit than the property takes, since it cannot be converted at synth', () => {
    const token = Token.asNumber({ Ref: 'Timeout' });
    expect(
      validate((check) => {
        check.seconds(Duration.minutes(token), 'timeout');
        check.seconds(Duration.seconds(token), 'interval', { tokenUnit: 'minutes' });
        check.seconds(Duration.millis(token), 'age', { tokenUnit: 'millis' });
      }),
    ).toEqual([
      'Thing.TokenNotInSeconds: timeout is a token in minutes, which cannot be converted at synth: give it as Duration.seconds(token)',
      'Thing.TokenNotInMinutes: interval is a token in seconds, which cannot be converted at synth: give it as Duration.minutes(token)',
    ]);
    expect(tokenInSeconds(Duration.seconds(token))).toBe(token);
    expect(tokenInSeconds(Duration.minutes(token))).toBeUndefined();
    expect(tokenInSeconds(Duration.seconds(5))).toBeUndefined();
  });

  test('skips a token, whose value is known only at deploy time', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    expect(check.seconds(Duration.seconds(Token.asNumber({ Ref: 'Timeout' })), 'timeout')).toBeUndefined();
    expect(() => check.throwIfInvalid()).not.toThrow();
  });
});

describe('PropsValidator.existingOrProps', () => {
  test('refuses an existing resource together with settings for a new one, with a code naming both', () => {
    const messages = problemMessagesOf(() => {
      const check = new PropsValidator(new Stack(), 'Thing');
      check.existingOrProps('a log group', { retention: 7 }, { existing: 'logGroup', props: 'logGroupProps', who: 'workflow' });
      check.throwIfInvalid();
    });
    expect(messages).toEqual([
      'Thing.LogGroupAndLogGroupProps: workflow: give either logGroup (an existing resource) or logGroupProps (for the one to create), not both',
    ]);
  });

  test('accepts either one alone, or neither', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    check.existingOrProps('a queue', undefined, { existing: 'queue', props: 'queueProps' });
    check.existingOrProps(undefined, {}, { existing: 'queue', props: 'queueProps' });
    check.existingOrProps(undefined, undefined, { existing: 'queue', props: 'queueProps' });
    expect(() => check.throwIfInvalid()).not.toThrow();
  });
});

describe('what a user reads in their own app', () => {
  const thisFile = path.basename(__filename);
  const libraryFrame = new RegExp(`${path.sep}lib${path.sep}(core|queue-with-dlq)${path.sep}`);

  test('an uncaught props error prints the coded list once, then only the frames of the code that wrote the construct', () => {
    let thrown: unknown;
    try {
      new QueueWithDlq(new Stack(undefined, 'Orders'), 'Bad', { visibilityTimeout: Duration.hours(13), maxReceiveCount: 0 });
    } catch (error) {
      thrown = error;
    }
    // What Node.js prints for an uncaught error.
    const printed = inspect(thrown);
    const [heading, ...rest] = printed.split('\n');
    expect(heading).toBe('ConstructValidationError: Orders/Bad: 2 problems in props:');
    expect(rest.slice(0, 2)).toEqual([
      expect.stringContaining('[QueueWithDlq.VisibilityTimeoutRange]'),
      expect.stringContaining('[QueueWithDlq.MaxReceiveCountRange]'),
    ]);
    const frames = rest.slice(2);
    expect(frames[0]).toContain(thisFile);
    expect(frames.filter((frame) => libraryFrame.test(frame) || frame.includes('node_modules'))).toEqual([]);
    expect(printed.match(/VisibilityTimeoutRange/g)).toHaveLength(1);
    expect((thrown as ConstructValidationError).problems).toHaveLength(2);
  });

  test('an uncaught usage error prints its message without its fields as an object', () => {
    const printed = inspect(new ConstructUsageError('Lab/Orders', 'FanOut.UnknownSubscriber', 'no subscriber "audit"'));
    expect(printed.split('\n')[0]).toBe('ConstructUsageError: Lab/Orders: [FanOut.UnknownSubscriber] no subscriber "audit"');
    expect(printed).not.toMatch(/code:|constructPath:/);
  });

  test('a warning is traced to the code that wrote the construct, where the CLI shows it', () => {
    const stack = new Stack();
    const queue = new QueueWithDlq(stack, 'Kept', { visibilityTimeout: Duration.seconds(30), retentionPeriod: Duration.days(14) });
    const [warning] = queue.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning');
    expect(warning.data).toContain('[ack: QueueWithDlq.DlqRetentionNotLonger]');
    expect(warning.trace?.[0]).toContain(thisFile);
    expect((warning.trace ?? []).filter((frame) => libraryFrame.test(frame))).toEqual([]);
  });
});

test('ConstructUsageError names the construct path and the code', () => {
  const error = new ConstructUsageError('Lab/Orders', 'FanOut.UnknownSubscriber', 'no subscriber "audit"');
  expect(error.message).toBe('Lab/Orders: [FanOut.UnknownSubscriber] no subscriber "audit"');
  expect(error.code).toBe('FanOut.UnknownSubscriber');
});

describe('shared alarm and queue pieces', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Pieces');
  const topic = new sns.Topic(stack, 'Topic');
  const metric = new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors' });
  notifyOnAlarmAndOk(topic, [metric.createAlarm(stack, 'Notified', { threshold: 1, evaluationPeriods: 1 })]);
  notifyOnAlarmAndOk(undefined, [metric.createAlarm(stack, 'Silent', { threshold: 1, evaluationPeriods: 1 })]);
  const key = new kms.Key(stack, 'Key');
  createFailureQueue(stack, 'Failures', { encryptionKey: key, fifo: true, endOfFailurePath: 'test' });
  createFailureQueue(stack, 'Plain', { endOfFailurePath: 'test' });
  const template = Template.fromStack(stack);

  test('an alarm with a topic notifies it on ALARM and on OK; without one, nobody', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const notified = Object.entries(alarms).find(([id]) => id.startsWith('Notified'))![1].Properties;
    const silent = Object.entries(alarms).find(([id]) => id.startsWith('Silent'))![1].Properties;
    expect(notified.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }]);
    expect(notified.OKActions).toEqual(notified.AlarmActions);
    expect(silent.AlarmActions).toBeUndefined();
    expect(silent.OKActions).toBeUndefined();
  });

  test('a failure queue keeps messages 14 days, encrypted with the given key or SSE-SQS', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: Match.absent(),
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
  });

  test('a failure queue refuses plain HTTP', () => {
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      { PolicyDocument: { Statement: [Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Effect: 'Deny' })] } },
      2,
    );
  });

  test('queueEncryption chooses SSE-KMS for a key and SSE-SQS without one', () => {
    expect(queueEncryption(key)).toEqual({ encryption: 'KMS', encryptionMasterKey: key });
    expect(queueEncryption(undefined)).toEqual({ encryption: 'SQS_MANAGED' });
  });
});
