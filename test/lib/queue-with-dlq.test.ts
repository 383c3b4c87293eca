import { CfnParameter, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { QueueWithDlq, SQS_LIMITS } from '../../lib/queue-with-dlq';
import { testApp } from '../support/synth';
import { problemCodesOf, validationErrorOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

const problemsOf = (build: (stack: Stack) => void) => problemCodesOf(() => build(newStack()));

describe('QueueWithDlq defaults', () => {
  const stack = newStack();
  const pair = new QueueWithDlq(stack, 'Orders');
  const template = Template.fromStack(stack);

  test('creates a work queue with SSE-SQS, long polling, 30 s visibility and a redrive after 3 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      ReceiveMessageWaitTimeSeconds: 20,
      VisibilityTimeout: 30,
      MessageRetentionPeriod: 345_600,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersDlq'), 'Arn'] }, maxReceiveCount: 3 },
      RedriveAllowPolicy: { redrivePermission: 'denyAll' },
    });
  });

  test('creates a DLQ that keeps messages 14 days, longer than the work queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: Match.absent(),
    });
  });

  test('denies every request without TLS on both queues', () => {
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      },
      2,
    );
  });

  test('the DLQ it creates is acknowledged as the end of the failure path, saying after how many receives messages land there', () => {
    const acknowledged = pair.deadLetterQueue.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
    expect(acknowledged).toEqual([
      {
        'Annotation::AwsSolutions-SQS3':
          'The dead-letter queue of Test/Orders: SQS moves a message here after 3 receives without a delete; it is the end of the ' +
          'failure path, kept 14 days for an operator to inspect and redrive.',
      },
    ]);
  });

  test('creates no alarm unless asked (each costs $0.10/month)', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(pair.dlqDepthAlarm).toBeUndefined();
  });

  test('grants consume rights on the work queue only', () => {
    const grantStack = newStack();
    const queues = new QueueWithDlq(grantStack, 'Orders');
    const role = new iam.Role(grantStack, 'Worker', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    queues.grantConsumeMessages(role);
    Template.fromStack(grantStack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: Match.arrayWith(['sqs:DeleteMessage', 'sqs:ReceiveMessage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersQueue'), 'Arn'] },
          }),
        ],
      },
    });
  });

  test('grants send rights on the work queue only', () => {
    const grantStack = newStack();
    const queues = new QueueWithDlq(grantStack, 'Orders');
    queues.grantSendMessages(new iam.Role(grantStack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    Template.fromStack(grantStack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersQueue'), 'Arn'] } })],
      },
    });
  });
});

describe('QueueWithDlq options', () => {
  test('FIFO with content-based deduplication makes both queues FIFO', () => {
    const stack = newStack();
    new QueueWithDlq(stack, 'Fifo', { fifo: true, contentBasedDeduplication: true });
    Template.fromStack(stack).resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true, ContentBasedDeduplication: true }, 2);
  });

  test('a customer managed key encrypts both queues with SSE-KMS', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    new QueueWithDlq(stack, 'Secret', { encryptionKey: key });
    Template.fromStack(stack).resourcePropertiesCountIs(
      'AWS::SQS::Queue',
      { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] }, SqsManagedSseEnabled: Match.absent() },
      2,
    );
  });

  test('uses a DLQ brought by the caller instead of creating one', () => {
    const stack = newStack();
    const shared = new sqs.Queue(stack, 'SharedDlq');
    const pair = new QueueWithDlq(stack, 'Orders', { deadLetterQueue: shared, maxReceiveCount: 5 });
    expect(pair.deadLetterQueue).toBe(shared);
    Template.fromStack(stack).resourceCountIs('AWS::SQS::Queue', 2);
  });

  test('alarms on DLQ depth and oldest message age notify the topic on alarm and recovery', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Alarms');
    new QueueWithDlq(stack, 'Orders', { alarms: { alarmTopic: topic, oldestMessageAge: Duration.minutes(5) } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'Messages are waiting in the dead-letter queue of Test/Orders',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersDlq'), 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Alarms') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('Alarms') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'The oldest message in Test/Orders waits longer than the threshold',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 300,
    });
  });

  test('warns when the work queue keeps messages as long as the DLQ; strict synth fails until acknowledged', () => {
    const stack = newStack();
    const pair = new QueueWithDlq(stack, 'Orders', { retentionPeriod: Duration.days(14) });
    expect(() => Template.fromStack(stack)).toThrow(/original enqueue time.*\n.*\n.*Annotation::QueueWithDlq.DlqRetentionNotLonger/);
    expect(() => Template.fromStack(stack)).toThrow(/so it can expire there at once\. Keep the queue's retention below 14 days\./);

    Validations.of(pair).acknowledge({ id: 'Annotation::QueueWithDlq.DlqRetentionNotLonger', reason: 'test' });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('QueueWithDlq validation', () => {
  test('lists every problem of one construct in one error naming the construct path', () => {
    expect(() =>
      new QueueWithDlq(newStack(), 'Bad', {
        maxReceiveCount: 0,
        visibilityTimeout: Duration.hours(13),
        deliveryDelay: Duration.minutes(16),
        receiveMessageWaitTime: Duration.seconds(21),
        retentionPeriod: Duration.days(15),
        contentBasedDeduplication: true,
      }),
    ).toThrow(
      [
        'Test/Bad: 6 problems in props:',
        '  - [QueueWithDlq.VisibilityTimeoutRange] visibilityTimeout must be between 0 and 43200 seconds (12 hours), got 46800',
        '  - [QueueWithDlq.DeliveryDelayRange] deliveryDelay must be at most 900 seconds (15 minutes), got 960',
        '  - [QueueWithDlq.ReceiveWaitRange] receiveMessageWaitTime must be between 0 and 20 seconds, got 21',
        '  - [QueueWithDlq.RetentionRange] retentionPeriod must be between 60 seconds and 14 days (1,209,600 seconds), got 1296000',
        '  - [QueueWithDlq.MaxReceiveCountRange] maxReceiveCount must be a whole number between 1 and 1000, got 0',
        '  - [QueueWithDlq.ContentBasedDeduplicationNeedsFifo] contentBasedDeduplication applies to FIFO queues only: set fifo: true or drop it',
      ].join('\n'),
    );
  });

  test('a FIFO queue refuses a standard DLQ', () => {
    const problems = problemsOf((stack) => {
      new QueueWithDlq(stack, 'Fifo', { fifo: true, deadLetterQueue: new sqs.Queue(stack, 'Standard') });
    });
    expect(problems).toEqual(['QueueWithDlq.DlqTypeMismatch']);
    expect(() => {
      const stack = newStack();
      new QueueWithDlq(stack, 'Fifo', { fifo: true, deadLetterQueue: new sqs.Queue(stack, 'Standard') });
    }).toThrow('a FIFO queue needs a FIFO dead-letter queue, but deadLetterQueue is a standard queue');
  });

  test('a delivery delay of 15 minutes and a receive wait of 20 seconds, the maximums, are accepted', () => {
    expect(problemsOf((stack) => new QueueWithDlq(stack, 'Max', { deliveryDelay: Duration.minutes(15), receiveMessageWaitTime: Duration.seconds(20) }))).toEqual([]);
  });

  test('a standard queue refuses a FIFO DLQ, with the reason', () => {
    expect(() => {
      const stack = newStack();
      new QueueWithDlq(stack, 'Std', { deadLetterQueue: new sqs.Queue(stack, 'FifoDlq', { fifo: true }) });
    }).toThrow('a standard queue needs a standard dead-letter queue, but deadLetterQueue is a FIFO queue');
  });

  test('durations that are not whole seconds are listed with the other problems, not thrown by CDK', () => {
    expect(() =>
      new QueueWithDlq(newStack(), 'Bad', {
        visibilityTimeout: Duration.millis(1500),
        deliveryDelay: Duration.millis(2500),
        receiveMessageWaitTime: Duration.millis(500),
        retentionPeriod: Duration.millis(90_500),
        maxReceiveCount: 0,
        alarms: { oldestMessageAge: Duration.millis(60_500) },
      }),
    ).toThrow(
      [
        'Test/Bad: 6 problems in props:',
        '  - [QueueWithDlq.NotWholeSeconds] visibilityTimeout must be a whole number of seconds, got 1.5 s',
        '  - [QueueWithDlq.NotWholeSeconds] deliveryDelay must be a whole number of seconds, got 2.5 s',
        '  - [QueueWithDlq.NotWholeSeconds] receiveMessageWaitTime must be a whole number of seconds, got 0.5 s',
        '  - [QueueWithDlq.NotWholeSeconds] retentionPeriod must be a whole number of seconds, got 90.5 s',
        '  - [QueueWithDlq.MaxReceiveCountRange] maxReceiveCount must be a whole number between 1 and 1000, got 0',
        '  - [QueueWithDlq.NotWholeSeconds] alarms.oldestMessageAge must be a whole number of seconds, got 60.5 s',
      ].join('\n'),
    );
  });

  test.each([1, 1000])('maxReceiveCount %d is accepted', (maxReceiveCount) => {
    expect(problemsOf((stack) => new QueueWithDlq(stack, 'Q', { maxReceiveCount }))).toEqual([]);
  });

  test.each([1001, 2.5])('maxReceiveCount %d is refused', (maxReceiveCount) => {
    expect(problemsOf((stack) => new QueueWithDlq(stack, 'Q', { maxReceiveCount }))).toEqual(['QueueWithDlq.MaxReceiveCountRange']);
  });

  test('the lower limits checked are exported with the upper ones', () => {
    expect(SQS_LIMITS).toMatchObject({ minVisibilityTimeoutSeconds: 0, minReceiveCount: 1, maxReceiveCount: 1_000 });
  });
});

describe('QueueWithDlq duration tokens', () => {
  test('a token in seconds is rendered as the token, as CDK renders it (the alarm threshold included)', () => {
    const stack = newStack();
    const seconds = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    new QueueWithDlq(stack, 'Orders', { visibilityTimeout: Duration.seconds(seconds), alarms: { oldestMessageAge: Duration.seconds(seconds) } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: { Ref: 'Seconds' } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: { Ref: 'Seconds' } });
  });

  test('a token in another unit than seconds is TokenNotInSeconds, never CDK\'s own error', () => {
    const error = validationErrorOf(() => {
      const stack = newStack();
      const minutes = new CfnParameter(stack, 'Minutes', { type: 'Number' }).valueAsNumber;
      new QueueWithDlq(stack, 'Orders', {
        visibilityTimeout: Duration.minutes(minutes),
        alarms: { oldestMessageAge: Duration.minutes(minutes) },
      });
    });
    const message = (name: string) =>
      `${name} is a token in minutes, which cannot be converted at synth: give it as Duration.seconds(token)`;
    expect(error.problems).toEqual([
      { code: 'QueueWithDlq.TokenNotInSeconds', message: message('visibilityTimeout') },
      { code: 'QueueWithDlq.TokenNotInSeconds', message: message('alarms.oldestMessageAge') },
    ]);
  });
});
