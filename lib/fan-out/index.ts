import { Aws, Duration, Fn, Names, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';
import { QueueWithDlq, QueueWithDlqProps } from '../queue-with-dlq';
import { checkFilterPolicy, FilterPolicy, FilterPolicyScope, SNS_FILTER_POLICY_LIMITS } from './filter-policy';

export * from './filter-policy';

/** The AWS managed key SNS encrypts topics with when no customer managed key is given (no monthly fee). */
export const AWS_MANAGED_SNS_KEY = 'alias/aws/sns';
/** The AWS managed SQS key: its policy cannot let SNS use it, so SNS cannot deliver to queues encrypted with it. */
export const AWS_MANAGED_SQS_KEY = 'alias/aws/sqs';

/** What every subscriber can set. */
export interface SubscriberOptions {
  /**
   * Which messages this subscriber gets, as the JSON SNS documents: `{ total: [{ numeric: ['>=', 100] }] }`.
   * Checked at synth against SNS's rules (5 keys, 150 combinations, 256 KB, operator shapes).
   * @default - every message
   */
  readonly filterPolicy?: FilterPolicy;
  /** What `filterPolicy` applies to: message attributes, or the JSON message body. @default 'MessageAttributes' */
  readonly filterPolicyScope?: FilterPolicyScope;
  /**
   * Where SNS puts the messages it could not deliver to this subscriber (a client-side error, or retries used up).
   * Standard for a standard topic, FIFO for a FIFO topic.
   * @default - a queue is created, with the topic's type, SSE-SQS (or `queueEncryptionKey`) and 14 days' retention
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/** An SQS queue subscriber: a `QueueWithDlq` created for it, or a queue you bring. */
export interface QueueSubscriber extends SubscriberOptions {
  readonly kind: 'queue';
  /** Deliver the published message as is, with its attributes as SQS attributes, instead of SNS's JSON envelope. @default false */
  readonly rawMessageDelivery?: boolean;
  /** An existing queue; its policy and key must let SNS deliver (the construct adds both when it can). @default - a QueueWithDlq is created */
  readonly queue?: sqs.IQueue;
  /** Props of the `QueueWithDlq` created for this subscriber. @default - QueueWithDlq defaults, FIFO when the topic is, `queueEncryptionKey` */
  readonly queueProps?: QueueWithDlqProps;
}

/** A Lambda subscriber. SNS invokes it asynchronously: failures of the function go to its own retries and destinations. */
export interface LambdaSubscriber extends SubscriberOptions {
  readonly kind: 'lambda';
  readonly function: lambda.IFunction;
}

/** An HTTPS endpoint; SNS sends it a confirmation request first, and delivers only once it is confirmed. */
export interface HttpsSubscriber extends SubscriberOptions {
  readonly kind: 'https';
  /** `https://` URL. */
  readonly url: string;
  /** POST the published message as is instead of SNS's JSON envelope. @default false */
  readonly rawMessageDelivery?: boolean;
  /** Retries and throttling for this endpoint. @default - SNS's: 3 retries, 20 seconds apart */
  readonly deliveryPolicy?: sns.DeliveryPolicy;
}

/** An email address; SNS mails a confirmation link first, and delivers only once it is followed. */
export interface EmailSubscriber extends SubscriberOptions {
  readonly kind: 'email';
  readonly address: string;
  /** Send the JSON envelope (`email-json`) instead of the message text. @default false */
  readonly json?: boolean;
}

export type FanOutSubscriber = QueueSubscriber | LambdaSubscriber | HttpsSubscriber | EmailSubscriber;

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
  readonly topicKey?: kms.IKey;
  /**
   * Customer managed key for every queue this construct creates (subscriber queues, their DLQs, subscription
   * DLQs); SNS is added to its key policy for this topic. @default - SSE-SQS (SQS-owned keys, no KMS charges)
   */
  readonly queueEncryptionKey?: kms.IKey;
  /** Shown as the sender of email and SMS notifications. @default - none */
  readonly displayName?: string;
  /** The subscribers, by id (also their construct id). At least one. */
  readonly subscribers: Readonly<Record<string, FanOutSubscriber>>;
}

/** What the construct made for one subscriber. */
export interface FanOutSubscription {
  readonly kind: FanOutSubscriber['kind'];
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
      masterKey: props.topicKey,
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
    if (!props.topicKey) (topic.node.defaultChild as sns.CfnTopic).kmsMasterKeyId = AWS_MANAGED_SNS_KEY;
    this.topic = topic;

    const made: Record<string, FanOutSubscription> = {};
    for (const [subscriberId, subscriber] of Object.entries(props.subscribers)) {
      made[subscriberId] = this.subscribe(subscriberId, subscriber, props.queueEncryptionKey);
    }
    this.subscriptions = made;
  }

  /** The queue of a queue subscriber. */
  queue(subscriberId: string): sqs.IQueue {
    const queue = this.subscription(subscriberId).queue;
    if (!queue) throw new Error(`${this.node.path}: subscriber ${subscriberId} is not a queue`);
    return queue;
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
    if (!found) throw new Error(`${this.node.path} has no subscriber ${subscriberId}`);
    return found;
  }

  private subscribe(id: string, subscriber: FanOutSubscriber, queueKey: kms.IKey | undefined): FanOutSubscription {
    const deadLetterQueue = subscriber.deadLetterQueue ?? this.subscriptionDlq(id, queueKey);
    letSnsUseKey(deadLetterQueue.encryptionMasterKey, this.topic);
    let subscription: sns.Subscription;
    let queue: sqs.IQueue | undefined;
    let queueWithDlq: QueueWithDlq | undefined;
    switch (subscriber.kind) {
      case 'queue':
        queueWithDlq = subscriber.queue
          ? undefined
          : new QueueWithDlq(this, id, { fifo: this.fifo, encryptionKey: queueKey, ...subscriber.queueProps });
        queue = subscriber.queue ?? queueWithDlq!.queue;
        // Adds the queue policy statement for this topic, and the key policy statement when the queue has a key.
        subscription = this.topic.addSubscription(
          new subs.SqsSubscription(queue, { rawMessageDelivery: subscriber.rawMessageDelivery, deadLetterQueue }),
        );
        break;
      case 'lambda':
        subscription = this.topic.addSubscription(new subs.LambdaSubscription(subscriber.function, { deadLetterQueue }));
        break;
      case 'https':
        subscription = this.topic.addSubscription(
          new subs.UrlSubscription(subscriber.url, {
            protocol: sns.SubscriptionProtocol.HTTPS,
            rawMessageDelivery: subscriber.rawMessageDelivery,
            deliveryPolicy: subscriber.deliveryPolicy,
            deadLetterQueue,
          }),
        );
        break;
      case 'email':
        subscription = this.topic.addSubscription(
          new subs.EmailSubscription(subscriber.address, { json: subscriber.json, deadLetterQueue }),
        );
        break;
    }
    if (subscriber.filterPolicy) {
      const cfn = subscription.node.defaultChild as sns.CfnSubscription;
      cfn.filterPolicy = subscriber.filterPolicy;
      cfn.filterPolicyScope = subscriber.filterPolicyScope ?? 'MessageAttributes';
    }
    return { kind: subscriber.kind, subscription, deadLetterQueue, queue, queueWithDlq };
  }

  private subscriptionDlq(id: string, queueKey: kms.IKey | undefined): sqs.Queue {
    const queue = new sqs.Queue(this, `${id}SubscriptionDlq`, {
      fifo: this.fifo || undefined,
      ...(queueKey
        ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: queueKey }
        : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of an SNS subscription (its RedrivePolicy); cdk-nag SQS3 only recognises ' +
        'DLQs named in SQS redrive policies and Lambda dead-letter configs.',
    });
    return queue;
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

function isAwsManagedSqsKey(key: kms.IKey | undefined): boolean {
  if (!key) return false;
  const alias = (key as Partial<kms.IAlias>).aliasName;
  const arn = Token.isUnresolved(key.keyArn) ? '' : key.keyArn;
  return alias === AWS_MANAGED_SQS_KEY || arn.endsWith(`:${AWS_MANAGED_SQS_KEY}`);
}

function usesAwsManagedSqsKey(queue: sqs.IQueue): boolean {
  return queue.encryptionType === sqs.QueueEncryption.KMS_MANAGED || isAwsManagedSqsKey(queue.encryptionMasterKey);
}

/** A customer managed key this stack cannot add SNS to (imported), so its policy must already allow SNS. */
function isImportedKey(key: kms.IKey | undefined): boolean {
  return key !== undefined && !(key instanceof kms.Key) && !isAwsManagedSqsKey(key);
}

const looksLikeEmail = (address: string) => Token.isUnresolved(address) || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address);
const looksLikeHttps = (url: string) => Token.isUnresolved(url) || /^https:\/\/[^\s/]+/.test(url);

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

  const withPolicy = entries.filter(([, s]) => s.filterPolicy).length;
  check.require(
    withPolicy <= SNS_FILTER_POLICY_LIMITS.maxFilterPoliciesPerTopic,
    'FilterPoliciesPerTopic',
    `${withPolicy} subscribers have a filter policy; SNS allows ${SNS_FILTER_POLICY_LIMITS.maxFilterPoliciesPerTopic} per topic by default`,
  );

  for (const [id, subscriber] of entries) {
    const who = `subscriber ${id}`;
    if (subscriber.filterPolicy) {
      for (const problem of checkFilterPolicy(subscriber.filterPolicy, subscriber.filterPolicyScope ?? 'MessageAttributes')) {
        check.require(false, problem.code, `${who}: filter policy: ${problem.message}`);
      }
    } else {
      check.require(
        subscriber.filterPolicyScope === undefined,
        'FilterPolicyScopeWithoutPolicy',
        `${who}: filterPolicyScope is set but there is no filterPolicy to apply it to`,
      );
    }
    if (fifo && subscriber.kind !== 'queue') {
      check.require(
        false,
        'FifoTopicProtocol',
        `${who}: a FIFO topic delivers to SQS queues only, not to ${subscriber.kind} (SNS refuses the subscription); ` +
          'subscribe a FIFO queue and consume it with Lambda instead',
      );
    }
    if (subscriber.kind === 'https') {
      check.require(looksLikeHttps(subscriber.url), 'HttpsUrl', `${who}: url must start with https://, got ${subscriber.url}`);
    }
    if (subscriber.kind === 'email') {
      check.require(looksLikeEmail(subscriber.address), 'EmailAddress', `${who}: ${JSON.stringify(subscriber.address)} is not an email address`);
    }
    if (subscriber.kind === 'queue') {
      check.require(
        !(subscriber.queue && subscriber.queueProps),
        'QueueAndQueueProps',
        `${who}: give either queue (an existing queue) or queueProps (for the queue to create), not both`,
      );
      const queueFifo = subscriber.queue ? subscriber.queue.fifo : (subscriber.queueProps?.fifo ?? fifo);
      check.require(
        fifo || !queueFifo,
        'StandardTopicFifoQueue',
        `${who}: a standard topic cannot deliver to a FIFO queue (SNS refuses the subscription); make the topic FIFO or the queue standard`,
      );
      check.warnUnless(
        !fifo || queueFifo,
        'FifoTopicStandardQueue',
        `${who}: a standard queue on a FIFO topic (allowed since September 2023) loses the topic's ordering and ` +
          'deduplication: it gets messages at least once, in best-effort order. Use a FIFO queue unless that is intended.',
      );
      if (subscriber.queue) {
        check.require(
          !usesAwsManagedSqsKey(subscriber.queue),
          'AwsManagedQueueKey',
          `${who}: the queue is encrypted with the AWS managed SQS key (${AWS_MANAGED_SQS_KEY}), which SNS cannot use: ` +
            'every message would be dropped. Use SSE-SQS or a customer managed key that lets SNS use it.',
        );
        check.warnUnless(
          subscriber.queue instanceof sqs.Queue,
          'ImportedQueuePolicy',
          `${who}: the queue is imported, so this stack cannot add SNS to its queue policy: make sure it lets ` +
            'sns.amazonaws.com call sqs:SendMessage for this topic.',
        );
        check.warnUnless(
          !isImportedKey(subscriber.queue.encryptionMasterKey),
          'ImportedKeyPolicy',
          `${who}: the queue's KMS key is imported, so this stack cannot add SNS to its key policy: make sure it lets ` +
            'sns.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or SNS drops every message.',
        );
        if (subscriber.queue.encryptionMasterKey) queueKeys.add(subscriber.queue.encryptionMasterKey);
      } else {
        check.require(
          !isAwsManagedSqsKey(subscriber.queueProps?.encryptionKey),
          'AwsManagedQueueKey',
          `${who}: queueProps.encryptionKey is the AWS managed SQS key (${AWS_MANAGED_SQS_KEY}), which SNS cannot use: ` +
            'every message would be dropped. Leave it unset (SSE-SQS) or use a customer managed key.',
        );
        if (subscriber.queueProps?.encryptionKey) queueKeys.add(subscriber.queueProps.encryptionKey);
      }
    }
    const dlq = subscriber.deadLetterQueue;
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
        dlq instanceof sqs.Queue,
        'ImportedQueuePolicy',
        `${who}: deadLetterQueue is imported, so this stack cannot add SNS to its queue policy: make sure it lets ` +
          'sns.amazonaws.com call sqs:SendMessage for this topic.',
      );
      if (dlq.encryptionMasterKey) queueKeys.add(dlq.encryptionMasterKey);
    }
  }
  check.require(
    !props.topicKey || !queueKeys.has(props.topicKey),
    'SharedTopicAndQueueKey',
    'topicKey also encrypts a subscribed queue: its key policy statement for SNS names the topic (aws:SourceArn) while ' +
      'the topic names the key, a circular dependency CloudFormation refuses. Use separate keys, or SSE-SQS on the queues.',
  );
  check.throwIfInvalid();
}
