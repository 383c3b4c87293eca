import { Match } from 'aws-cdk-lib/assertions';
import { sqsLab } from '../../../labs/sqs/lab';
import { SQS_LAB } from '../../../labs/sqs/constants';
import { featureTemplate, labTemplate } from '../../support/lab-template';

const lab = sqsLab;
const template = labTemplate(lab);

test('the work queue hides a message for 6× the consumer timeout and gives up after 3 receives', () => {
  expect(SQS_LAB.workVisibilityTimeout.toSeconds()).toBe(6 * SQS_LAB.consumerTimeout.toSeconds());
  template.hasResourceProperties('AWS::Lambda::Function', { Timeout: SQS_LAB.consumerTimeout.toSeconds() });
  template.hasResourceProperties('AWS::SQS::Queue', {
    VisibilityTimeout: 30,
    RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
  });
});

test('the consumer reports partial batch failures, with at most 2 concurrent invocations', () => {
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    BatchSize: 10,
    ScalingConfig: { MaximumConcurrency: 2 },
  });
});

test('the playground queue redrives after 2 receives, the FIFO queue deduplicates by content, the delay queue waits 5 s', () => {
  template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 10, RedrivePolicy: Match.objectLike({ maxReceiveCount: 2 }) });
  template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true, ContentBasedDeduplication: true }, 2);
  template.hasResourceProperties('AWS::SQS::Queue', { DelaySeconds: 5 });
});

test('every queue is encrypted and refuses requests without TLS', () => {
  const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
  expect(queues).toHaveLength(8);
  template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 8);
  template.resourcePropertiesCountIs(
    'AWS::SQS::QueuePolicy',
    { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } },
    8,
  );
});

test('outputs every URL the exercise uses; no alarm, nothing billed while idle, unless asked', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'ConsumerFunctionName',
    'DelayQueueUrl',
    'FifoQueueUrl',
    'PlaygroundDlqUrl',
    'PlaygroundQueueUrl',
    'WorkDlqUrl',
    'WorkQueueUrl',
  ]);
  template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  template.resourceCountIs('AWS::SNS::Topic', 0);
});

test('-c sqs:alarms=true adds the two work-queue alarms, notifying a TLS-only topic', () => {
  const withAlarms = featureTemplate(lab, 'alarms');
  withAlarms.resourceCountIs('AWS::CloudWatch::Alarm', 2);
  withAlarms.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'ApproximateAgeOfOldestMessage',
    Threshold: 300,
    AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
  });
  withAlarms.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
  });
  expect(withAlarms.toJSON().Outputs.AlarmTopicArn).toBeDefined();
});
