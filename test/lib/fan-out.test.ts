import { Stack, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FanOut, FanOutProps, Subscriber } from '../../lib/fan-out';
import { ConstructUsageError } from '../../lib/core/validation';
import { testApp } from '../support/synth';
import { problemCodesOf, validationErrorOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
const fn = (stack: Stack, id = 'Fn') =>
  new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
const sourceArnIsTopic = { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('^FanTopic') } } };
const snsMaySend = Match.objectLike({
  Effect: 'Allow',
  Action: 'sqs:SendMessage',
  Principal: { Service: 'sns.amazonaws.com' },
  Condition: sourceArnIsTopic,
});

const problemsOf = (build: (stack: Stack) => void) => problemCodesOf(() => build(newStack()));
/** The synth warnings a construct added, as CDK records them: message, then `[ack: <id>]`. */
const warningsOf = (construct: FanOut) =>
  construct.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning').map((entry) => String(entry.data));

describe('a standard topic fanned out to every kind of subscriber', () => {
  // With CloudFormation's own validation on: it would report a circular dependency between keys and topic (F3004).
  const app = testApp();
  const stack = new Stack(app, 'Test');
  const topicEncryptionKey = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true });
  const queueKey = new kms.Key(stack, 'QueueKey', { enableKeyRotation: true });
  const fanOut = new FanOut(stack, 'Fan', {
    topicEncryptionKey,
    queueEncryptionKey: queueKey,
    subscribers: {
      All: Subscriber.queue(),
      Big: Subscriber.queue({ rawMessageDelivery: true, filterPolicy: { total: [{ numeric: ['>=', 100] }] } }),
      Express: Subscriber.queue({ filterPolicy: { shipping: { method: ['express'] } }, filterPolicyScope: 'MessageBody' }),
      Audit: Subscriber.lambda(fn(stack), { filterPolicy: { eventType: [{ prefix: 'order.' }] } }),
      Partner: Subscriber.https('https://partner.example.com/orders', { rawMessageDelivery: true }),
      Ops: Subscriber.email('ops@example.com', { filterPolicy: { total: [{ numeric: ['>=', 1000] }] } }),
    },
  });
  const template = Template.fromStack(stack);
  const subscriptionDlq = (id: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^Fan${id}SubscriptionDlq`), 'Arn'] });

  test('the topic refuses publishers without TLS and is encrypted with its own key', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TopicKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  test('each subscription has its filter policy and scope, raw delivery as asked and its own DLQ', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 6);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      FilterPolicy: Match.absent(),
      RawMessageDelivery: Match.absent(),
      RedrivePolicy: { deadLetterTargetArn: subscriptionDlq('All') },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      FilterPolicy: { total: [{ numeric: ['>=', 100] }] },
      FilterPolicyScope: 'MessageAttributes',
      RawMessageDelivery: true,
      RedrivePolicy: { deadLetterTargetArn: subscriptionDlq('Big') },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      FilterPolicy: { shipping: { method: ['express'] } },
      FilterPolicyScope: 'MessageBody',
      RedrivePolicy: { deadLetterTargetArn: subscriptionDlq('Express') },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      FilterPolicy: { eventType: [{ prefix: 'order.' }] },
      RedrivePolicy: { deadLetterTargetArn: subscriptionDlq('Audit') },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://partner.example.com/orders',
      RawMessageDelivery: true,
      RedrivePolicy: { deadLetterTargetArn: subscriptionDlq('Partner') },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      RedrivePolicy: { deadLetterTargetArn: subscriptionDlq('Ops') },
    });
  });

  test('SNS may write to every subscribed queue and every subscription DLQ, for this topic only', () => {
    // 3 subscribed queues + 6 subscription DLQs; the queues' own consumer DLQs get no SNS statement.
    template.resourcePropertiesCountIs('AWS::SQS::QueuePolicy', { PolicyDocument: { Statement: Match.arrayWith([snsMaySend]) } }, 9);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: Match.stringLikeRegexp('^FanTopic') },
    });
  });

  test('every created queue uses the queue key, whose policy lets SNS use it for this topic only', () => {
    // 3 queues + their 3 DLQs + 6 subscription DLQs.
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^QueueKey'), 'Arn'] } }, 12);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: sourceArnIsTopic,
          }),
        ]),
      },
    });
  });

  test('a subscription without a filter policy gets no filter policy scope either', () => {
    for (const id of ['All', 'Partner']) {
      const cfn = fanOut.subscriptions[id].subscription.node.defaultChild as sns.CfnSubscription;
      expect([cfn.filterPolicy, cfn.filterPolicyScope]).toEqual([undefined, undefined]);
    }
  });

  test('each subscription DLQ is acknowledged as the end of its failure path, naming its subscriber', () => {
    const acknowledged = (fanOut.subscriptionDeadLetterQueue('Audit') as sqs.Queue).node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .map((entry) => entry.data);
    expect(acknowledged).toEqual([
      {
        'Annotation::AwsSolutions-SQS3':
          'SNS moves here the messages it could not deliver to subscriber Audit (this queue is the RedrivePolicy of its subscription): the end of that failure path. cdk-nag SQS3 only recognises DLQs named in SQS redrive policies and Lambda dead-letter configs.',
      },
    ]);
  });

  test('subscription DLQs keep messages 14 days and refuse requests without TLS', () => {
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600, RedrivePolicy: Match.absent() }, 9);
  });

  test('exposes the topic, each subscription, its queue and its DLQ', () => {
    expect(Object.keys(fanOut.subscriptions)).toEqual(['All', 'Big', 'Express', 'Audit', 'Partner', 'Ops']);
    expect(fanOut.queue('Big')).toBe(fanOut.subscriptions.Big.queueWithDlq!.queue);
    expect(fanOut.queueWithDlq('Big')).toBe(fanOut.subscriptions.Big.queueWithDlq);
    expect(() => fanOut.queueWithDlq('Partner')).toThrow('Test/Fan: [FanOut.NotAQueue] subscriber Partner is not a queue');
    expect(fanOut.subscriptionDeadLetterQueue('Audit')).toBe(fanOut.subscriptions.Audit.deadLetterQueue);
    expect(() => fanOut.queue('Audit')).toThrow(
      new ConstructUsageError('Test/Fan', 'FanOut.NotAQueue', 'subscriber Audit is not a queue'),
    );
    expect(() => fanOut.queue('Nope')).toThrow(
      new ConstructUsageError('Test/Fan', 'FanOut.UnknownSubscriber', 'no subscriber Nope (subscribers: All, Big, Express, Audit, Partner, Ops)'),
    );
    expect(() => fanOut.subscriptionDeadLetterQueue('Nope')).toThrow('Test/Fan: [FanOut.UnknownSubscriber] no subscriber Nope');
  });
});

describe('defaults and options', () => {
  test('by default the topic uses the AWS managed SNS key and the queues SSE-SQS', () => {
    const stack = newStack();
    new FanOut(stack, 'Fan', { subscribers: { All: Subscriber.queue() } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: 'alias/aws/sns', FifoTopic: Match.absent() });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 3);
  });

  test('a FIFO topic gets a name ending with the stack\'s UUID and .fifo, FIFO queues and FIFO subscription DLQs', () => {
    const stack = newStack();
    new FanOut(stack, 'Fan', {
      fifo: true,
      contentBasedDeduplication: true,
      fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP,
      subscribers: { A: Subscriber.queue(), B: Subscriber.queue() },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Topic', {
      FifoTopic: true,
      ContentBasedDeduplication: true,
      FifoThroughputScope: 'MessageGroup',
      TopicName: {
        'Fn::Join': ['', [{ 'Fn::Join': ['-', [Match.stringLikeRegexp('^Test-Fan-'), { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]] }, '.fifo']],
      },
    });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 6);
  });

  test('the queue key lets SNS use it for subscription DLQs even when no subscribed queue uses it', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'QueueKey');
    new FanOut(stack, 'Fan', { queueEncryptionKey: key, subscribers: { Ops: Subscriber.email('ops@example.com') } });
    const [keyResource] = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'));
    expect(keyResource.Properties.KeyPolicy.Statement).toContainEqual({
      Effect: 'Allow',
      Principal: { Service: 'sns.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: { ArnEquals: { 'aws:SourceArn': { Ref: expect.stringMatching(/^FanTopic/) } } },
    });
  });

  test('a queue you bring is subscribed as is, and gets the SNS statement in its policy', () => {
    const stack = newStack();
    const queue = new sqs.Queue(stack, 'Mine');
    const dlq = new sqs.Queue(stack, 'MyDlq');
    const fanOut = new FanOut(stack, 'Fan', { subscribers: { Mine: Subscriber.queue({ queue, deadLetterQueue: dlq }) } });
    expect(fanOut.queue('Mine')).toBe(queue);
    expect(fanOut.subscriptions.Mine.queueWithDlq).toBeUndefined();
    expect(() => fanOut.queueWithDlq('Mine')).toThrow(
      new ConstructUsageError('Test/Fan', 'FanOut.QueueNotCreated', "subscriber Mine brought its own queue: use queue('Mine'), there is no QueueWithDlq"),
    );
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourcePropertiesCountIs('AWS::SQS::QueuePolicy', { PolicyDocument: { Statement: Match.arrayWith([snsMaySend]) } }, 2);
  });

  test('grantPublish lets a principal publish to the topic, and only that', () => {
    const stack = newStack();
    const fanOut = new FanOut(stack, 'Fan', { subscribers: { All: Subscriber.queue() } });
    const publisher = new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(fanOut.grantPublish(publisher).success).toBe(true);
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: expect.stringMatching(/^FanTopic/) } },
    ]);
  });
});

describe('FanOut validation', () => {
  test('lists every problem of one construct in one error naming the construct path', () => {
    const stack = newStack();
    const awsManaged = new sqs.Queue(stack, 'AwsManaged', { encryption: sqs.QueueEncryption.KMS_MANAGED });
    const key = new kms.Key(stack, 'Shared');
    const props: FanOutProps = {
      fifo: true,
      topicEncryptionKey: key,
      queueEncryptionKey: key,
      subscribers: {
        Fn: Subscriber.lambda(fn(stack)),
        Legacy: Subscriber.queue({ queue: awsManaged, deadLetterQueue: new sqs.Queue(stack, 'StdDlq') }),
        Greedy: Subscriber.queue({
          queueProps: { fifo: true },
          filterPolicy: { a: ['1', '2', '3', '4', '5', '6'], b: ['1', '2', '3', '4', '5'], c: ['1', '2', '3', '4', '5', '6'], d: ['x'], e: ['x'], f: ['x'] },
        }),
      },
    };
    expect(() => new FanOut(stack, 'Bad', props)).toThrow(
      [
        'Test/Bad: 6 problems in props:',
        '  - [FanOut.FifoTopicProtocol] subscriber Fn: a FIFO topic delivers to SQS queues only, not to lambda (SNS refuses the subscription); subscribe a FIFO queue and consume it with Lambda instead',
        '  - [FanOut.AwsManagedQueueKey] subscriber Legacy: the queue is encrypted with the AWS managed SQS key (alias/aws/sqs), which SNS cannot use: every message would be dropped. Use SSE-SQS or a customer managed key that lets SNS use it.',
        "  - [FanOut.SubscriptionDlqType] subscriber Legacy: a FIFO topic's subscription needs a FIFO dead-letter queue, but deadLetterQueue is standard",
        '  - [FanOut.FilterPolicyKeys] subscriber Greedy: filter policy: 6 keys (a, b, c, d, e, f); SNS allows at most 5',
        '  - [FanOut.FilterPolicyCombinations] subscriber Greedy: filter policy: 180 value combinations; SNS allows at most 150 (the product of the array lengths, summed over $or alternatives)',
        '  - [FanOut.SharedTopicAndQueueKey] topicEncryptionKey also encrypts a subscribed queue: its key policy statement for SNS names the topic (aws:SourceArn) while the topic names the key, a circular dependency CloudFormation refuses. Use separate keys, or SSE-SQS on the queues.',
      ].join('\n'),
    );
  });

  test('refuses the AWS managed SQS key however it is given', () => {
    const awsSqsKey = (stack: Stack) => kms.Alias.fromAliasName(stack, 'AwsSqs', 'alias/aws/sqs');
    expect(problemsOf((stack) => new FanOut(stack, 'F', { queueEncryptionKey: awsSqsKey(stack), subscribers: { Q: Subscriber.queue() } }))).toEqual([
      'FanOut.AwsManagedQueueKey',
    ]);
    expect(
      problemsOf((stack) => new FanOut(stack, 'F', { subscribers: { Q: Subscriber.queue({ queueProps: { encryptionKey: awsSqsKey(stack) } }) } })),
    ).toEqual(['FanOut.AwsManagedQueueKey']);
    const importedDlq = (stack: Stack) =>
      sqs.Queue.fromQueueAttributes(stack, 'Dlq', {
        queueArn: 'arn:aws:sqs:us-east-1:123456789012:dlq',
        keyArn: 'arn:aws:kms:us-east-1:123456789012:alias/aws/sqs',
      });
    expect(problemsOf((stack) => new FanOut(stack, 'F', { subscribers: { Q: Subscriber.queue({ deadLetterQueue: importedDlq(stack) }) } }))).toEqual([
      'FanOut.AwsManagedQueueKey',
    ]);
  });

  test('a standard topic refuses a FIFO queue; bad endpoints and stray options are refused', () => {
    expect(
      problemsOf(
        (s) =>
          new FanOut(s, 'F', {
            contentBasedDeduplication: true,
            fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP,
            subscribers: {
              Fifo: Subscriber.queue({ queueProps: { fifo: true }, queue: new sqs.Queue(s, 'Q', { fifo: true }) }),
              Web: Subscriber.https('http://example.com'),
              Mail: Subscriber.email('not-an-address', { filterPolicyScope: 'MessageBody' }),
            },
          }),
      ),
    ).toEqual([
      'FanOut.ContentBasedDeduplicationNeedsFifo',
      'FanOut.FifoThroughputScopeNeedsFifo',
      'FanOut.QueueAndQueueProps',
      'FanOut.StandardTopicFifoQueue',
      'FanOut.HttpsUrl',
      'FanOut.FilterPolicyScopeWithoutPolicy',
      'FanOut.EmailAddress',
    ]);
    expect(problemsOf((s) => new FanOut(s, 'F', { subscribers: {} }))).toEqual(['FanOut.NoSubscribers']);
  });

  test('the contradictory and malformed props, each by code and message', () => {
    const stack = newStack();
    const error = validationErrorOf(
      () =>
        new FanOut(stack, 'F', {
          contentBasedDeduplication: true,
          fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP,
          subscribers: {
            Fifo: Subscriber.queue({ queue: new sqs.Queue(stack, 'Q', { fifo: true }) }),
            Web: Subscriber.https('http://example.com'),
            Mail: Subscriber.email('not-an-address', { filterPolicyScope: 'MessageBody' }),
          },
        }),
    );
    expect(error.problems).toEqual([
      { code: 'FanOut.ContentBasedDeduplicationNeedsFifo', message: 'contentBasedDeduplication applies to FIFO topics only: set fifo: true or drop it' },
      { code: 'FanOut.FifoThroughputScopeNeedsFifo', message: 'fifoThroughputScope applies to FIFO topics only: set fifo: true or drop it' },
      {
        code: 'FanOut.StandardTopicFifoQueue',
        message: 'subscriber Fifo: a standard topic cannot deliver to a FIFO queue (SNS refuses the subscription); make the topic FIFO or the queue standard',
      },
      { code: 'FanOut.HttpsUrl', message: 'subscriber Web: url must start with https://, got http://example.com' },
      {
        code: 'FanOut.FilterPolicyScopeWithoutPolicy',
        message: 'subscriber Mail: filterPolicyScope is set but there is no filterPolicy to apply it to',
      },
      { code: 'FanOut.EmailAddress', message: 'subscriber Mail: "not-an-address" is not an email address' },
    ]);
    expect(validationErrorOf(() => new FanOut(newStack(), 'F', { subscribers: {} })).problems).toEqual([
      { code: 'FanOut.NoSubscribers', message: 'subscribers is empty: a fan-out needs at least one subscriber' },
    ]);
  });

  test('at most 200 filter policies per topic', () => {
    const subscribers = Object.fromEntries(
      Array.from({ length: 201 }, (_, i) => [`Hook${i}`, Subscriber.https(`https://example.com/${i}`, { filterPolicy: { n: [i] } })]),
    );
    expect(validationErrorOf(() => new FanOut(newStack(), 'F', { subscribers })).problems).toEqual([
      { code: 'FanOut.FilterPoliciesPerTopic', message: '201 subscribers have a filter policy; SNS allows 200 per topic by default' },
    ]);
  });

  test('a queue and queueProps for the same subscriber exclude each other, by code and message', () => {
    const stack = newStack();
    expect(() =>
      new FanOut(stack, 'F', { subscribers: { Both: Subscriber.queue({ queue: new sqs.Queue(stack, 'Q'), queueProps: {} }) } }),
    ).toThrow(
      'Test/F: 1 problem in props:\n' +
        '  - [FanOut.QueueAndQueueProps] subscriber Both: give either queue (an existing resource) or queueProps (for the one to create), not both',
    );
  });

  test('each subscription says which factory made it', () => {
    const stack = newStack();
    const fanOut = new FanOut(stack, 'F', {
      subscribers: {
        Q: Subscriber.queue(),
        L: Subscriber.lambda(fn(stack)),
        H: Subscriber.https('https://example.com/hook'),
        E: Subscriber.email('ops@example.com', { json: true }),
      },
    });
    expect(Object.values(fanOut.subscriptions).map((s) => s.kind)).toEqual(['queue', 'lambda', 'https', 'email']);
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email-json', Endpoint: 'ops@example.com' });
  });

  test('a standard queue on a FIFO topic is a warning: strict synth fails until it is acknowledged', () => {
    const stack = newStack();
    const fanOut = new FanOut(stack, 'Fan', { fifo: true, subscribers: { Analytics: Subscriber.queue({ queueProps: { fifo: false } }) } });
    expect(() => Template.fromStack(stack)).toThrow(/loses the topic's ordering and deduplication/);
    Validations.of(fanOut).acknowledge({ id: 'Annotation::FanOut.FifoTopicStandardQueue', reason: 'analytics tolerates duplicates' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: Match.absent(), RedrivePolicy: Match.anyValue() });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 1);
  });

  test('at most 200 filter policies per topic: 200 is accepted', () => {
    // A second, unrelated problem makes validation throw before 200 subscriptions are built.
    // 201 subscribers, 200 of them with a policy: only those count.
    const subscribers = {
      ...Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`Hook${i}`, Subscriber.https(`https://example.com/${i}`, { filterPolicy: { n: [i] } })]),
      ),
      Everything: Subscriber.https('https://example.com/all'),
    };
    expect(problemsOf((s) => new FanOut(s, 'F', { contentBasedDeduplication: true, subscribers }))).toEqual([
      'FanOut.ContentBasedDeduplicationNeedsFifo',
    ]);
  });

  test('a subscription DLQ of the wrong type, or encrypted with the AWS managed key, by message', () => {
    const stack = newStack();
    const fifoDlq = new sqs.Queue(stack, 'FifoDlq', { fifo: true });
    const managedDlq = new sqs.Queue(stack, 'ManagedDlq', { encryption: sqs.QueueEncryption.KMS_MANAGED });
    expect(
      validationErrorOf(
        () =>
          new FanOut(stack, 'F', {
            subscribers: { A: Subscriber.queue({ deadLetterQueue: fifoDlq }), B: Subscriber.queue({ deadLetterQueue: managedDlq }) },
          }),
      ).problems,
    ).toEqual([
      {
        code: 'FanOut.SubscriptionDlqType',
        message: "subscriber A: a standard topic's subscription needs a standard dead-letter queue, but deadLetterQueue is FIFO",
      },
      {
        code: 'FanOut.AwsManagedQueueKey',
        message:
          'subscriber B: deadLetterQueue is encrypted with the AWS managed SQS key (alias/aws/sqs), which SNS cannot use: undeliverable messages would be lost too.',
      },
    ]);
  });

  test('the AWS managed SQS key as queueEncryptionKey or queueProps.encryptionKey, by message', () => {
    const stack = newStack();
    const awsSqsKey = kms.Alias.fromAliasName(stack, 'AwsSqs', 'alias/aws/sqs');
    expect(
      validationErrorOf(
        () => new FanOut(stack, 'F', { queueEncryptionKey: awsSqsKey, subscribers: { Q: Subscriber.queue({ queueProps: { encryptionKey: awsSqsKey } }) } }),
      ).problems,
    ).toEqual([
      {
        code: 'FanOut.AwsManagedQueueKey',
        message:
          'queueEncryptionKey is the AWS managed SQS key (alias/aws/sqs): its key policy cannot let SNS use it, so SNS would drop every message. Leave it unset (SSE-SQS) or pass a customer managed key.',
      },
      {
        code: 'FanOut.AwsManagedQueueKey',
        message:
          'subscriber Q: queueProps.encryptionKey is the AWS managed SQS key (alias/aws/sqs), which SNS cannot use: every message would be dropped. Leave it unset (SSE-SQS) or use a customer managed key.',
      },
    ]);
  });

  test('the topic key may not encrypt any subscribed queue: brought, created from queueProps, or a subscription DLQ', () => {
    const shared = (subscriber: (stack: Stack, key: kms.Key) => Subscriber) =>
      problemsOf((stack) => {
        const key = new kms.Key(stack, 'Shared');
        new FanOut(stack, 'F', { topicEncryptionKey: key, subscribers: { S: subscriber(stack, key) } });
      });
    expect(shared((stack, key) => Subscriber.queue({ queue: new sqs.Queue(stack, 'Q', { encryptionMasterKey: key }) }))).toEqual([
      'FanOut.SharedTopicAndQueueKey',
    ]);
    expect(shared((_, key) => Subscriber.queue({ queueProps: { encryptionKey: key } }))).toEqual(['FanOut.SharedTopicAndQueueKey']);
    expect(shared((stack, key) => Subscriber.email('ops@example.com', { deadLetterQueue: new sqs.Queue(stack, 'D', { encryptionMasterKey: key }) }))).toEqual([
      'FanOut.SharedTopicAndQueueKey',
    ]);
    expect(shared((stack) => Subscriber.queue({ queue: new sqs.Queue(stack, 'Q', { encryptionMasterKey: new kms.Key(stack, 'Other') }) }))).toEqual([]);
  });

  test('a filter policy is checked against the attribute rules unless its scope says MessageBody', () => {
    expect(problemsOf((s) => new FanOut(s, 'F', { subscribers: { Q: Subscriber.queue({ filterPolicy: { order: { status: ['placed'] } } }) } }))).toEqual([
      'FanOut.FilterPolicyNested',
    ]);
  });

  test('an imported queueEncryptionKey is a warning, by message', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(warningsOf(new FanOut(stack, 'Fan', { queueEncryptionKey: key, subscribers: { Hook: Subscriber.https('https://example.com/hook') } }))).toEqual([
      'queueEncryptionKey is imported, so this stack cannot add SNS to its key policy: make sure the policy lets sns.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or SNS drops every message. [ack: FanOut.ImportedKeyPolicy]',
    ]);
  });

  test('a FIFO topic refuses HTTPS and email too, naming the protocol', () => {
    expect(
      validationErrorOf(
        () =>
          new FanOut(newStack(), 'F', {
            fifo: true,
            subscribers: { Web: Subscriber.https('https://example.com/hook'), Mail: Subscriber.email('ops@example.com') },
          }),
      ).problems.map((p) => p.message),
    ).toEqual([
      'subscriber Web: a FIFO topic delivers to SQS queues only, not to https (SNS refuses the subscription); subscribe a FIFO queue and consume it with Lambda instead',
      'subscriber Mail: a FIFO topic delivers to SQS queues only, not to email (SNS refuses the subscription); subscribe a FIFO queue and consume it with Lambda instead',
    ]);
  });

  test('URLs and addresses: https with a host, one @ and a dotted domain; tokens are trusted', () => {
    const codes = (subscriber: Subscriber) => problemsOf((stack) => new FanOut(stack, 'F', { subscribers: { S: subscriber } }));
    for (const url of ['https://', 'x https://example.com', 'HTTP://example.com', 'https:// example.com']) {
      expect(codes(Subscriber.https(url))).toEqual(['FanOut.HttpsUrl']);
    }
    for (const address of ['ops@example', 'a@b@example.com', 'ops @example.com', '@example.com', 'ops@example.com ', ' ops@example.com']) {
      expect(codes(Subscriber.email(address))).toEqual(['FanOut.EmailAddress']);
    }
    expect(codes(Subscriber.email('ops@example.com'))).toEqual([]);
    expect(codes(Subscriber.https('https://example.com'))).toEqual([]);
    const token = Token.asString({ Ref: 'Endpoint' });
    expect(codes(Subscriber.email(token))).toEqual([]);
    expect(codes(Subscriber.https(token))).toEqual([]);
  });

  test('a FIFO topic with a FIFO queue given, or queueProps not saying otherwise, gets no warning', () => {
    const stack = newStack();
    const fanOut = new FanOut(stack, 'Fan', {
      fifo: true,
      subscribers: { Mine: Subscriber.queue({ queue: new sqs.Queue(stack, 'Q', { fifo: true }) }), Made: Subscriber.queue({ queueProps: {} }) },
    });
    expect(warningsOf(fanOut)).toEqual([]);
  });

  test('each warning about imported queues and keys, by message', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const queue = sqs.Queue.fromQueueAttributes(stack, 'Imported', { queueArn: 'arn:aws:sqs:us-east-1:123456789012:orders', keyArn: key.keyArn });
    const dlq = sqs.Queue.fromQueueArn(stack, 'ImportedDlq', 'arn:aws:sqs:us-east-1:123456789012:dlq');
    const fanOut = new FanOut(stack, 'Fan', { subscribers: { Orders: Subscriber.queue({ queue, deadLetterQueue: dlq }) } });
    expect(warningsOf(fanOut)).toEqual([
      'subscriber Orders: the queue is imported, so this stack cannot add SNS to its queue policy: make sure it lets sns.amazonaws.com call sqs:SendMessage for this topic. [ack: FanOut.ImportedQueuePolicy]',
      "subscriber Orders: the queue's KMS key is imported, so this stack cannot add SNS to its key policy: make sure it lets sns.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or SNS drops every message. [ack: FanOut.ImportedKeyPolicy]",
      'subscriber Orders: deadLetterQueue is imported, so this stack cannot add SNS to its queue policy: make sure it lets sns.amazonaws.com call sqs:SendMessage for this topic. [ack: FanOut.ImportedQueuePolicy]',
    ]);
    const own = newStack();
    const ownKey = new kms.Key(own, 'Key');
    const quiet = new FanOut(own, 'Fan', {
      queueEncryptionKey: ownKey,
      subscribers: { Orders: Subscriber.queue({ queue: new sqs.Queue(own, 'Q', { encryptionMasterKey: ownKey }), deadLetterQueue: new sqs.Queue(own, 'D') }) },
    });
    expect(warningsOf(quiet)).toEqual([]);
  });

  test('imported queues and keys are warnings: the stack cannot give SNS access to them', () => {
    const stack = newStack();
    const queue = sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:us-east-1:123456789012:orders');
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    new FanOut(stack, 'Fan', { queueEncryptionKey: key, subscribers: { Orders: Subscriber.queue({ queue }) } });
    expect(() => Template.fromStack(stack)).toThrow(
      /queueEncryptionKey is imported, so this stack cannot add SNS to its key policy[^]*FanOut.ImportedKeyPolicy[^]*subscriber Orders: the queue is imported, so this stack cannot add SNS to its queue policy[^]*FanOut.ImportedQueuePolicy/,
    );
  });
});
