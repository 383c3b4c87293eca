import { Resource, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';
import { QueueWithDlq, QueueWithDlqProps } from '../queue-with-dlq';
import { FilterPolicy, FilterPolicyScope } from './filter-policy';

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
export interface QueueSubscriberOptions extends SubscriberOptions {
  /** Deliver the published message as is, with its attributes as SQS attributes, instead of SNS's JSON envelope. @default false */
  readonly rawMessageDelivery?: boolean;
  /** An existing queue; its policy and key must let SNS deliver (the construct adds both when it can). @default - a QueueWithDlq is created */
  readonly queue?: sqs.IQueue;
  /** Props of the `QueueWithDlq` created when `queue` is not given. @default - QueueWithDlq defaults, FIFO when the topic is, `queueEncryptionKey` */
  readonly queueProps?: QueueWithDlqProps;
}

/** An HTTPS endpoint's settings. */
export interface HttpsSubscriberOptions extends SubscriberOptions {
  /** POST the published message as is instead of SNS's JSON envelope. @default false */
  readonly rawMessageDelivery?: boolean;
  /** Retries and throttling for this endpoint. @default - SNS's: 3 retries, 20 seconds apart */
  readonly deliveryPolicy?: sns.DeliveryPolicy;
}

/** An email subscriber's settings. */
export interface EmailSubscriberOptions extends SubscriberOptions {
  /** Send the JSON envelope (`email-json`) instead of the message text. @default false */
  readonly json?: boolean;
}

/** What a subscriber is, in error messages and in `FanOutSubscription.kind`. */
export type SubscriberKind = 'queue' | 'lambda' | 'https' | 'email';

/** What `FanOut` needs from the topic to subscribe one subscriber. */
export interface SubscribeContext {
  readonly scope: Construct;
  readonly id: string;
  readonly topic: sns.ITopic;
  readonly fifo: boolean;
  readonly deadLetterQueue: sqs.IQueue;
  readonly queueEncryptionKey?: kms.IKey;
}

/** What subscribing made. */
export interface SubscribeResult {
  readonly subscription: sns.Subscription;
  readonly queue?: sqs.IQueue;
  readonly queueWithDlq?: QueueWithDlq;
}

/** What validation knows besides the subscriber: the problems list, whom to name, the topic type, the queue keys seen. */
export interface SubscriberCheckContext {
  readonly check: PropsValidator;
  /** `subscriber <id>`, to start each message with. */
  readonly who: string;
  readonly fifo: boolean;
  /** Keys of the queues this topic delivers to: one of them must not be the topic's key. */
  readonly queueKeys: Set<kms.IKey>;
}

/**
 * One subscriber of a `FanOut`: `Subscriber.queue({...})`, `Subscriber.lambda(fn, {...})`, `Subscriber.https(url, {...})`
 * or `Subscriber.email(address, {...})`.
 */
export abstract class Subscriber {
  /** An SQS queue: a `QueueWithDlq` created for it (`queueProps`), or an existing one (`queue`). */
  static queue(options: QueueSubscriberOptions = {}): Subscriber {
    return new QueueSubscriber(options);
  }

  /** A Lambda function. SNS invokes it asynchronously: failures of the function go to its own retries and destinations. */
  static lambda(handler: lambda.IFunction, options: SubscriberOptions = {}): Subscriber {
    return new LambdaSubscriber(handler, options);
  }

  /** An `https://` endpoint; SNS sends it a confirmation request first, and delivers only once it is confirmed. */
  static https(url: string, options: HttpsSubscriberOptions = {}): Subscriber {
    return new HttpsSubscriber(url, options);
  }

  /** An email address; SNS mails a confirmation link first, and delivers only once it is followed. */
  static email(address: string, options: EmailSubscriberOptions = {}): Subscriber {
    return new EmailSubscriber(address, options);
  }

  abstract readonly kind: SubscriberKind;
  /** The options every subscriber has (filter policy, its scope, the subscription DLQ). */
  abstract readonly options: SubscriberOptions;

  /** Records this subscriber's own problems (called by `FanOut` while it validates its props). */
  abstract checkProps(context: SubscriberCheckContext): void;

  /** Subscribes to the topic (called once by `FanOut`). */
  abstract subscribe(context: SubscribeContext): SubscribeResult;
}

class QueueSubscriber extends Subscriber {
  readonly kind = 'queue';
  constructor(readonly options: QueueSubscriberOptions) {
    super();
  }

  checkProps({ check, who, fifo, queueKeys }: SubscriberCheckContext): void {
    const { queue, queueProps } = this.options;
    check.existingOrProps(queue, queueProps, { existing: 'queue', props: 'queueProps', who });
    const queueFifo = queue ? queue.fifo : (queueProps?.fifo ?? fifo);
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
    if (queue) {
      check.require(
        !usesAwsManagedSqsKey(queue),
        'AwsManagedQueueKey',
        `${who}: the queue is encrypted with the AWS managed SQS key (${AWS_MANAGED_SQS_KEY}), which SNS cannot use: ` +
          'every message would be dropped. Use SSE-SQS or a customer managed key that lets SNS use it.',
      );
      check.warnUnless(
        Resource.isOwnedResource(queue),
        'ImportedQueuePolicy',
        `${who}: the queue is imported, so this stack cannot add SNS to its queue policy: make sure it lets ` +
          'sns.amazonaws.com call sqs:SendMessage for this topic.',
      );
      check.warnUnless(
        !isImportedKey(queue.encryptionMasterKey),
        'ImportedKeyPolicy',
        `${who}: the queue's KMS key is imported, so this stack cannot add SNS to its key policy: make sure it lets ` +
          'sns.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or SNS drops every message.',
      );
      if (queue.encryptionMasterKey) queueKeys.add(queue.encryptionMasterKey);
    } else {
      check.require(
        !isAwsManagedSqsKey(queueProps?.encryptionKey),
        'AwsManagedQueueKey',
        `${who}: queueProps.encryptionKey is the AWS managed SQS key (${AWS_MANAGED_SQS_KEY}), which SNS cannot use: ` +
          'every message would be dropped. Leave it unset (SSE-SQS) or use a customer managed key.',
      );
      if (queueProps?.encryptionKey) queueKeys.add(queueProps.encryptionKey);
    }
  }

  subscribe({ scope, id, topic, fifo, deadLetterQueue, queueEncryptionKey }: SubscribeContext): SubscribeResult {
    const queueWithDlq = this.options.queue
      ? undefined
      : new QueueWithDlq(scope, id, { fifo, encryptionKey: queueEncryptionKey, ...this.options.queueProps });
    const queue = this.options.queue ?? queueWithDlq!.queue;
    // Adds the queue policy statement for this topic, and the key policy statement when the queue has a key.
    const subscription = topic.addSubscription(
      new subs.SqsSubscription(queue, { rawMessageDelivery: this.options.rawMessageDelivery, deadLetterQueue }),
    );
    return { subscription, queue, queueWithDlq };
  }
}

/** Lambda, HTTPS and email: what SNS FIFO topics cannot deliver to. */
abstract class NonQueueSubscriber extends Subscriber {
  checkProps({ check, who, fifo }: SubscriberCheckContext): void {
    if (fifo) {
      check.require(
        false,
        'FifoTopicProtocol',
        `${who}: a FIFO topic delivers to SQS queues only, not to ${this.kind} (SNS refuses the subscription); ` +
          'subscribe a FIFO queue and consume it with Lambda instead',
      );
    }
  }
}

class LambdaSubscriber extends NonQueueSubscriber {
  readonly kind = 'lambda';
  constructor(
    private readonly handler: lambda.IFunction,
    readonly options: SubscriberOptions,
  ) {
    super();
  }

  subscribe({ topic, deadLetterQueue }: SubscribeContext): SubscribeResult {
    return { subscription: topic.addSubscription(new subs.LambdaSubscription(this.handler, { deadLetterQueue })) };
  }
}

class HttpsSubscriber extends NonQueueSubscriber {
  readonly kind = 'https';
  constructor(
    private readonly url: string,
    readonly options: HttpsSubscriberOptions,
  ) {
    super();
  }

  checkProps(context: SubscriberCheckContext): void {
    super.checkProps(context);
    context.check.require(looksLikeHttps(this.url), 'HttpsUrl', `${context.who}: url must start with https://, got ${this.url}`);
  }

  subscribe({ topic, deadLetterQueue }: SubscribeContext): SubscribeResult {
    const subscription = topic.addSubscription(
      new subs.UrlSubscription(this.url, {
        protocol: sns.SubscriptionProtocol.HTTPS,
        rawMessageDelivery: this.options.rawMessageDelivery,
        deliveryPolicy: this.options.deliveryPolicy,
        deadLetterQueue,
      }),
    );
    return { subscription };
  }
}

class EmailSubscriber extends NonQueueSubscriber {
  readonly kind = 'email';
  constructor(
    private readonly address: string,
    readonly options: EmailSubscriberOptions,
  ) {
    super();
  }

  checkProps(context: SubscriberCheckContext): void {
    super.checkProps(context);
    context.check.require(
      looksLikeEmail(this.address),
      'EmailAddress',
      `${context.who}: ${JSON.stringify(this.address)} is not an email address`,
    );
  }

  subscribe({ topic, deadLetterQueue }: SubscribeContext): SubscribeResult {
    return { subscription: topic.addSubscription(new subs.EmailSubscription(this.address, { json: this.options.json, deadLetterQueue })) };
  }
}

export function isAwsManagedSqsKey(key: kms.IKey | undefined): boolean {
  if (!key) return false;
  const alias = (key as Partial<kms.IAlias>).aliasName;
  const arn = Token.isUnresolved(key.keyArn) ? '' : key.keyArn;
  return alias === AWS_MANAGED_SQS_KEY || arn.endsWith(`:${AWS_MANAGED_SQS_KEY}`);
}

export function usesAwsManagedSqsKey(queue: sqs.IQueue): boolean {
  return queue.encryptionType === sqs.QueueEncryption.KMS_MANAGED || isAwsManagedSqsKey(queue.encryptionMasterKey);
}

/** A customer managed key this stack cannot add SNS to (imported), so its policy must already allow SNS. */
export function isImportedKey(key: kms.IKey | undefined): boolean {
  return key !== undefined && !Resource.isOwnedResource(key) && !isAwsManagedSqsKey(key);
}

const looksLikeEmail = (address: string) => Token.isUnresolved(address) || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address);
const looksLikeHttps = (url: string) => Token.isUnresolved(url) || /^https:\/\/[^\s/]+/.test(url);
