import { Aws, Fn, Names, Resource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createFailureQueue } from '../core/queues';
import { ConstructUsageError, PropsValidator } from '../core/validation';
import { QueueWithDlq } from '../queue-with-dlq';
import { checkFilterPolicy, SNS_FILTER_POLICY_LIMITS } from './filter-policy';
import {
  AWS_MANAGED_SNS_KEY,
  AWS_MANAGED_SQS_KEY,
  isAwsManagedSqsKey,
  isImportedKey,
  Subscriber,
  SubscriberKind,
  usesAwsManagedSqsKey,
} from './subscriber';

export * from './filter-policy';
export * from './subscriber';


export interface FanOutProps {
  /** A FIFO topic: ordered per message group, deduplicated; only SQS queues can subscribe. @default false */
  readonly fifo?: boolean;
  /** FIFO only: deduplicate on a SHA-256 of the body instead of a MessageDeduplicationId. @default false */
  readonly contentBasedDeduplication?: boolean;
  /**
   * FIFO only: `MessageGroup` turns on high-throughput mode (deduplication per message group, throughput per group);
   * it cannot be switched back to `Topic`. @default - SNS's default, Topic
   */
  readonly fifoThroughputScope?: sns.FifoThroughputScope;
  /**
   * Customer managed key for the topic. The AWS managed key suits publishers in your account; AWS services that
   * publish (CloudWatch alarms, S3 events, EventBridge) need a customer managed key whose policy lets them.
   * Must not be `queueEncryptionKey`: its SNS statement names the topic, which names the key (a cycle).
   * @default - the AWS managed key alias/aws/sns ($0/month; KMS requests billed)
   */
  readonly topicEncryptionKey?: kms.IKey;
  /**
   * Customer managed key for every queue this construct creates (subscriber queues, their DLQs, subscription
   * DLQs); SNS is added to its key policy for this topic. @default - SSE-SQS (SQS-owned keys, no KMS charges)
   */
  readonly queueEncryptionKey?: kms.IKey;
  /** Shown as the sender of email and SMS notifications. @default - none */
  readonly displayName?: string;
  /**
   * The subscribers, by id (also their construct id). At least one: `Subscriber.queue()`, `Subscriber.lambda(fn)`,
   * `Subscriber.https(url)`, `Subscriber.email(address)`.
   */
  readonly subscribers: Readonly<Record<string, Subscriber>>;
}

/** What the construct made for one subscriber. */
export interface FanOutSubscription {
  readonly kind: SubscriberKind;
  readonly subscription: sns.Subscription;
  /** Where SNS puts messages it could not deliver to this subscriber. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The subscribed queue (queue subscribers). */
  readonly queue?: sqs.IQueue;
  /** The queue and its consumer DLQ, when the construct created them. */
  readonly queueWithDlq?: QueueWithDlq;
}

/**
 * One SNS topic (standard or FIFO) fanned out to SQS queues, Lambda functions, HTTPS endpoints and email addresses,
 * each subscription with its filter policy, raw delivery setting and its own dead-letter queue. Encrypted end to
 * end without dropping messages: the topic uses alias/aws/sns (or your key), queues SSE-SQS (or a customer managed
 * key whose policy lets this topic's SNS use it); the AWS managed SQS key, which SNS cannot use, is refused.
 */
export class FanOut extends Construct {
  public readonly topic: sns.ITopic;
  public readonly fifo: boolean;
  public readonly subscriptions: Readonly<Record<string, FanOutSubscription>>;

  constructor(scope: Construct, id: string, props: FanOutProps) {
    super(scope, id);
    this.fifo = props.fifo ?? false;
    validate(this, props, this.fifo);

    const topic = new sns.Topic(this, 'Topic', {
      fifo: this.fifo || undefined,
      contentBasedDeduplication: props.contentBasedDeduplication,
      fifoThroughputScope: props.fifoThroughputScope,
      displayName: props.displayName,
      masterKey: props.topicEncryptionKey,
      enforceSSL: true,
      // CloudFormation does not name FIFO topics and SNS needs the .fifo suffix: CDK's default name is a fixed string;
      // this one ends with the stack's UUID, so two deployments never collide. CDK appends ".fifo".
      topicName: this.fifo
        ? Fn.join('-', [
            Names.uniqueResourceName(this, { maxLength: 180, separator: '-' }),
            Fn.select(2, Fn.split('/', Aws.STACK_ID)),
          ])
        : undefined,
    });
    if (!props.topicEncryptionKey) (topic.node.defaultChild as sns.CfnTopic).kmsMasterKeyId = AWS_MANAGED_SNS_KEY;
    this.topic = topic;

    const made: Record<string, FanOutSubscription> = {};
    for (const [subscriberId, subscriber] of Object.entries(props.subscribers)) {
      made[subscriberId] = this.subscribe(subscriberId, subscriber, props.queueEncryptionKey);
    }
    this.subscriptions = made;
  }

  /** The queue of a queue subscriber. Throws `FanOut.NotAQueue` for another kind, `FanOut.UnknownSubscriber` for an unknown id. */
  queue(subscriberId: string): sqs.IQueue {
    const queue = this.subscription(subscriberId).queue;
    if (!queue) throw new ConstructUsageError(this.node.path, 'FanOut.NotAQueue', `subscriber ${subscriberId} is not a queue`);
    return queue;
  }

  /**
   * The `QueueWithDlq` created for a queue subscriber (to hand to a `QueueConsumer`). Throws `FanOut.NotAQueue` for
   * another kind, `FanOut.QueueNotCreated` when the subscriber brought its own queue, `FanOut.UnknownSubscriber`.
   */
  queueWithDlq(subscriberId: string): QueueWithDlq {
    const found = this.subscription(subscriberId);
    if (!found.queue) throw new ConstructUsageError(this.node.path, 'FanOut.NotAQueue', `subscriber ${subscriberId} is not a queue`);
    if (!found.queueWithDlq) {
      throw new ConstructUsageError(
        this.node.path,
        'FanOut.QueueNotCreated',
        `subscriber ${subscriberId} brought its own queue: use queue('${subscriberId}'), there is no QueueWithDlq`,
      );
    }
    return found.queueWithDlq;
  }

  /** The dead-letter queue of a subscription: where SNS puts what it could not deliver. */
  subscriptionDeadLetterQueue(subscriberId: string): sqs.IQueue {
    return this.subscription(subscriberId).deadLetterQueue;
  }

  grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.topic.grantPublish(grantee);
  }

  private subscription(subscriberId: string): FanOutSubscription {
    const found = this.subscriptions[subscriberId];
    if (!found) {
      const known = Object.keys(this.subscriptions).join(', ');
      throw new ConstructUsageError(this.node.path, 'FanOut.UnknownSubscriber', `no subscriber ${subscriberId} (subscribers: ${known})`);
    }
    return found;
  }

  private subscribe(id: string, subscriber: Subscriber, queueEncryptionKey: kms.IKey | undefined): FanOutSubscription {
    const { options } = subscriber;
    const deadLetterQueue = options.deadLetterQueue ?? this.subscriptionDlq(id, queueEncryptionKey);
    letSnsUseKey(deadLetterQueue.encryptionMasterKey, this.topic);
    const { subscription, queue, queueWithDlq } = subscriber.subscribe({
      scope: this,
      id,
      topic: this.topic,
      fifo: this.fifo,
      deadLetterQueue,
      queueEncryptionKey,
    });
    if (options.filterPolicy) {
      const cfn = subscription.node.defaultChild as sns.CfnSubscription;
      cfn.filterPolicy = options.filterPolicy;
      cfn.filterPolicyScope = options.filterPolicyScope ?? 'MessageAttributes';
    }
    return { kind: subscriber.kind, subscription, deadLetterQueue, queue, queueWithDlq };
  }

  private subscriptionDlq(id: string, queueEncryptionKey: kms.IKey | undefined): sqs.Queue {
    return createFailureQueue(this, `${id}SubscriptionDlq`, {
      encryptionKey: queueEncryptionKey,
      fifo: this.fifo,
      endOfFailurePath:
        `SNS moves here the messages it could not deliver to subscriber ${id} (this queue is the RedrivePolicy of its ` +
        'subscription): the end of that failure path. cdk-nag SQS3 only recognises DLQs named in SQS redrive ' +
        'policies and Lambda dead-letter configs.',
    });
  }
}

/** Lets SNS encrypt into queues under `key`, for this topic only. No-op for keys this stack cannot change. */
function letSnsUseKey(key: kms.IKey | undefined, topic: sns.ITopic): void {
  key?.addToResourcePolicy(
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
      resources: ['*'],
      conditions: { ArnEquals: { 'aws:SourceArn': topic.topicArn } },
    }),
  );
}


function validate(scope: Construct, props: FanOutProps, fifo: boolean): void {
  const check = new PropsValidator(scope, 'FanOut');
  const entries = Object.entries(props.subscribers);
  check.require(entries.length > 0, 'NoSubscribers', 'subscribers is empty: a fan-out needs at least one subscriber');
  check.require(
    !props.contentBasedDeduplication || fifo,
    'ContentBasedDeduplicationNeedsFifo',
    'contentBasedDeduplication applies to FIFO topics only: set fifo: true or drop it',
  );
  check.require(
    props.fifoThroughputScope === undefined || fifo,
    'FifoThroughputScopeNeedsFifo',
    'fifoThroughputScope applies to FIFO topics only: set fifo: true or drop it',
  );
  check.require(
    !isAwsManagedSqsKey(props.queueEncryptionKey),
    'AwsManagedQueueKey',
    `queueEncryptionKey is the AWS managed SQS key (${AWS_MANAGED_SQS_KEY}): its key policy cannot let SNS use it, so ` +
      'SNS would drop every message. Leave it unset (SSE-SQS) or pass a customer managed key.',
  );
  check.warnUnless(
    !isImportedKey(props.queueEncryptionKey),
    'ImportedKeyPolicy',
    'queueEncryptionKey is imported, so this stack cannot add SNS to its key policy: make sure the policy lets ' +
      'sns.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or SNS drops every message.',
  );
  const queueKeys = new Set<kms.IKey>();
  if (props.queueEncryptionKey) queueKeys.add(props.queueEncryptionKey);

  const withPolicy = entries.filter(([, s]) => s.options.filterPolicy).length;
  check.require(
    withPolicy <= SNS_FILTER_POLICY_LIMITS.maxFilterPoliciesPerTopic,
    'FilterPoliciesPerTopic',
    `${withPolicy} subscribers have a filter policy; SNS allows ${SNS_FILTER_POLICY_LIMITS.maxFilterPoliciesPerTopic} per topic by default`,
  );

  for (const [id, subscriber] of entries) {
    const who = `subscriber ${id}`;
    const { options } = subscriber;
    if (options.filterPolicy) {
      for (const problem of checkFilterPolicy(options.filterPolicy, options.filterPolicyScope ?? 'MessageAttributes')) {
        check.require(false, problem.code, `${who}: filter policy: ${problem.message}`);
      }
    } else {
      check.require(
        options.filterPolicyScope === undefined,
        'FilterPolicyScopeWithoutPolicy',
        `${who}: filterPolicyScope is set but there is no filterPolicy to apply it to`,
      );
    }
    subscriber.checkProps({ check, who, fifo, queueKeys });
    const dlq = options.deadLetterQueue;
    if (dlq) {
      check.require(
        dlq.fifo === fifo,
        'SubscriptionDlqType',
        `${who}: a ${fifo ? 'FIFO' : 'standard'} topic's subscription needs a ${fifo ? 'FIFO' : 'standard'} dead-letter ` +
          `queue, but deadLetterQueue is ${dlq.fifo ? 'FIFO' : 'standard'}`,
      );
      check.require(
        !usesAwsManagedSqsKey(dlq),
        'AwsManagedQueueKey',
        `${who}: deadLetterQueue is encrypted with the AWS managed SQS key (${AWS_MANAGED_SQS_KEY}), which SNS cannot use: ` +
          'undeliverable messages would be lost too.',
      );
      check.warnUnless(
        Resource.isOwnedResource(dlq),
        'ImportedQueuePolicy',
        `${who}: deadLetterQueue is imported, so this stack cannot add SNS to its queue policy: make sure it lets ` +
          'sns.amazonaws.com call sqs:SendMessage for this topic.',
      );
      if (dlq.encryptionMasterKey) queueKeys.add(dlq.encryptionMasterKey);
    }
  }
  check.require(
    !props.topicEncryptionKey || !queueKeys.has(props.topicEncryptionKey),
    'SharedTopicAndQueueKey',
    'topicEncryptionKey also encrypts a subscribed queue: its key policy statement for SNS names the topic (aws:SourceArn) while ' +
      'the topic names the key, a circular dependency CloudFormation refuses. Use separate keys, or SSE-SQS on the queues.',
  );
  check.throwIfInvalid();
}
