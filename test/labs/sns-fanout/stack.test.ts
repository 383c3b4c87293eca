import { Match, Template } from 'aws-cdk-lib/assertions';
import { snsFanoutLab } from '../../../labs/sns-fanout/lab';
import { withStack } from '../../../labs/support/app';
import { SnsFanoutLabStack } from '../../../labs/sns-fanout/stack';
import { SNS_FANOUT_LAB, SNS_FANOUT_POLICIES } from '../../../labs/sns-fanout/constants';

const EMAIL_CONTEXT_KEY = 'sns-fanout:email';
import { LabConfigError } from '../../../labs/support/lab-stack';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

const lab = withStack(snsFanoutLab, SnsFanoutLabStack);
const template = labTemplate(lab);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const idOf = (type: string, prefix: string) => Object.keys(resources).find((id) => resources[id].Type === type && id.startsWith(prefix))!;
const ordersTopic = { Ref: idOf('AWS::SNS::Topic', 'OrdersTopic') };
const fifoTopic = { Ref: idOf('AWS::SNS::Topic', 'OrdersFifoTopic') };
const queueArn = (prefix: string) => ({ 'Fn::GetAtt': [idOf('AWS::SQS::Queue', prefix), 'Arn'] });

function synthWith(context: Record<string, unknown>): Template {
  const app = testApp(context, { builtinCloudFormationValidation: false });
  return Template.fromStack(new lab.stack(app, { lab }));
}

test('the orders topic fans out to 3 filtered queues, the Lambda function and the broken Warehouse queue', () => {
  const subscription = (endpoint: object, properties: object) =>
    template.hasResourceProperties('AWS::SNS::Subscription', { TopicArn: ordersTopic, Endpoint: endpoint, ...properties });
  subscription(queueArn('OrdersAllOrdersQueue'), { FilterPolicy: Match.absent(), RawMessageDelivery: Match.absent() });
  subscription(queueArn('OrdersHighValueQueue'), {
    FilterPolicy: SNS_FANOUT_POLICIES.highValue,
    FilterPolicyScope: 'MessageAttributes',
    RawMessageDelivery: true,
  });
  subscription(queueArn('OrdersExpressQueue'), {
    FilterPolicy: SNS_FANOUT_POLICIES.express,
    FilterPolicyScope: 'MessageBody',
    RawMessageDelivery: true,
  });
  subscription({ 'Fn::GetAtt': [idOf('AWS::Lambda::Function', 'Audit'), 'Arn'] }, { Protocol: 'lambda', FilterPolicy: SNS_FANOUT_POLICIES.audit });
  subscription(queueArn('OrdersWarehouseQueue'), { FilterPolicy: SNS_FANOUT_POLICIES.warehouse });
  template.resourcePropertiesCountIs('AWS::SNS::Subscription', { TopicArn: ordersTopic }, 5);
});

test('every subscription of both topics has a dead-letter queue of its own', () => {
  const subscriptions = Object.values(resources).filter((r) => r.Type === 'AWS::SNS::Subscription');
  const dlqs = subscriptions.map((s) => JSON.stringify((s.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn));
  expect(subscriptions).toHaveLength(7);
  expect(new Set(dlqs).size).toBe(7);
});

test('the Warehouse queue\'s policy denies SNS, so SNS moves its messages to the subscription DLQ', () => {
  template.hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: [{ Ref: idOf('AWS::SQS::Queue', 'OrdersWarehouseQueue') }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage' }),
      ]),
    },
  });
  template.hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: [{ Ref: idOf('AWS::SQS::Queue', 'OrdersWarehouseSubscriptionDlq') }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': ordersTopic } } }),
      ]),
    },
  });
});

test('the Audit function reports outcomes to destinations, without async retries, and may be invoked by the topic only', () => {
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    MaximumRetryAttempts: SNS_FANOUT_LAB.auditRetryAttempts,
    DestinationConfig: { OnSuccess: { Destination: queueArn('AuditSucceededQueue') }, OnFailure: { Destination: queueArn('AuditFailedQueue') } },
  });
  template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'sns.amazonaws.com', SourceArn: ordersTopic });
});

test('the FIFO topic delivers raw to two FIFO queues; both topics use the AWS managed SNS key', () => {
  template.resourcePropertiesCountIs('AWS::SNS::Subscription', { TopicArn: fifoTopic, RawMessageDelivery: true }, 2);
  template.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: true, ContentBasedDeduplication: true, KmsMasterKeyId: 'alias/aws/sns' });
  template.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: Match.absent(), KmsMasterKeyId: 'alias/aws/sns' });
  template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 6);
});

test('outputs what the exercise reads; no key, no email subscription and nothing billed while idle by default', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'AllOrdersQueueUrl',
    'AuditFailedQueueUrl',
    'AuditFunctionName',
    'AuditSubscriptionDlqUrl',
    'AuditSucceededQueueUrl',
    'BillingQueueUrl',
    'ExpressQueueUrl',
    'FifoTopicArn',
    'HighValueQueueUrl',
    'OrdersTopicArn',
    'ShippingQueueUrl',
    'WarehouseQueueUrl',
    'WarehouseSubscriptionDlqUrl',
  ]);
  template.resourceCountIs('AWS::KMS::Key', 0);
  template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'email' }, 0);
});

test(`-c sns-fanout:cmk=true encrypts the orders queues with a key SNS may use; -c ${EMAIL_CONTEXT_KEY}=... adds a filtered email subscriber`, () => {
  const withBoth = synthWith({ 'sns-fanout:cmk': true, [EMAIL_CONTEXT_KEY]: 'ops@example.com' });
  const key = { 'Fn::GetAtt': [Match.stringLikeRegexp('^QueueKey'), 'Arn'] };
  // 4 orders queues + their DLQs + 6 subscription DLQs (Manager's included); the FIFO and destination queues keep SSE-SQS.
  withBoth.resourcePropertiesCountIs('AWS::SQS::Queue', { KmsMasterKeyId: key }, 14);
  withBoth.hasResourceProperties('AWS::KMS::Key', {
    EnableKeyRotation: true,
    KeyPolicy: {
      Statement: Match.arrayWith([
        Match.objectLike({ Principal: { Service: 'sns.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('^OrdersTopic') } } } }),
      ]),
    },
  });
  withBoth.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email',
    Endpoint: 'ops@example.com',
    FilterPolicy: SNS_FANOUT_POLICIES.email,
    RedrivePolicy: Match.anyValue(),
  });
});

test(`${EMAIL_CONTEXT_KEY} must be an email address`, () => {
  expect(() => synthWith({ [EMAIL_CONTEXT_KEY]: 42 })).toThrow(new LabConfigError(`context ${EMAIL_CONTEXT_KEY} must be an email address, got 42`));
  expect(() => synthWith({ [EMAIL_CONTEXT_KEY]: 'ops' })).toThrow(new LabConfigError(`context ${EMAIL_CONTEXT_KEY} must be an email address, got "ops"`));
});
