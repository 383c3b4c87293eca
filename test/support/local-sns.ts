import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SNSEvent, SNSMessageAttributes } from 'aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import type { LocallyDeployedQueues } from './local-sqs';

/*
 * fauxqs (started by local-sqs.ts, which serves SNS on the same endpoint) implements topics, SQS subscriptions,
 * filter policies on attributes and on the body, raw delivery and FIFO topics. It does not deliver to Lambda, does
 * not enforce queue policies and does not implement subscription dead-letter queues. Two stand-ins fill the gaps,
 * both derived from the synthesized template:
 *  - a Lambda subscription becomes an SQS subscription (same filter policy) to a hidden queue, which
 *    startLocalLambdaSubscriber polls to invoke the handler asynchronously and write Lambda's destination records;
 *  - an SQS subscription whose queue policy denies sns.amazonaws.com sqs:SendMessage delivers to the
 *    subscription's dead-letter queue instead: what SNS does after such a client-side error.
 */

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

type Ref = { Ref?: string; 'Fn::GetAtt'?: [string, string] };
const refId = (value: unknown): string => {
  const ref = value as Ref;
  return ref?.Ref ?? ref?.['Fn::GetAtt']?.[0] ?? '';
};

/** A Lambda subscription, deployed as a stand-in queue, with what Lambda would do with the function's result. */
export interface LocalLambdaSubscription {
  readonly subscriptionId: string;
  readonly functionId: string;
  readonly subscriptionArn: string;
  /** The hidden queue fauxqs delivers the subscription's (filtered, enveloped) messages to. */
  readonly queueUrl: string;
  /** Lambda's async retries of a failed invocation (EventInvokeConfig, default 2). */
  readonly retryAttempts: number;
  readonly onSuccessQueueUrl?: string;
  readonly onFailureQueueUrl?: string;
}

export interface LocallyDeployedTopics {
  /** Topic ARN per logical id. */
  readonly topics: Record<string, string>;
  readonly lambdaSubscriptions: LocalLambdaSubscription[];
  /** Subscriptions delivered to their DLQ instead of their queue, because the queue's policy denies SNS. */
  readonly deniedSubscriptions: string[];
  /** Protocols fauxqs cannot deliver to and no stand-in covers (email, https), by subscription logical id. */
  readonly skipped: Record<string, string>;
  /** The stack's outputs that resolve to topic ARNs or function names. */
  readonly outputs: Record<string, string>;
}

function queuesDenyingSns(resources: Record<string, CfnResource>): Set<string> {
  const denied = new Set<string>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::SQS::QueuePolicy') continue;
    const statements = (resource.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    const deniesSns = statements.some((s) => {
      const actions = ([] as unknown[]).concat(s.Action);
      const service = ([] as unknown[]).concat((s.Principal as { Service?: unknown })?.Service ?? []);
      return s.Effect === 'Deny' && service.includes('sns.amazonaws.com') && actions.some((a) => a === 'sqs:SendMessage' || a === 'sqs:*');
    });
    if (deniesSns) for (const queue of resource.Properties?.Queues as unknown[]) denied.add(refId(queue));
  }
  return denied;
}

/**
 * "Deploys" the topics and subscriptions of a synthesized template to fauxqs, after deployQueuesLocally created
 * its queues: topic attributes (FIFO, content-based deduplication), raw delivery, filter policy and scope. Topics and
 * stand-in queues are named after their logical id and `nameSuffix`, as deployQueuesLocally names the queues.
 */
export async function deployTopicsLocally(
  template: Template,
  clients: { sns: SNSClient; sqs: SQSClient },
  queues: LocallyDeployedQueues,
  nameSuffix = '',
): Promise<LocallyDeployedTopics> {
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const queueArn = (value: unknown) => {
    const queue = queues.queues[refId(value)];
    if (!queue) throw new Error(`cannot resolve ${JSON.stringify(value)} to a locally deployed queue`);
    return queue.arn;
  };

  const topics: Record<string, string> = {};
  for (const [id, { Properties = {} }] of byType('AWS::SNS::Topic')) {
    const fifo = Properties.FifoTopic === true;
    const Attributes: Record<string, string> = {};
    if (fifo) Attributes.FifoTopic = 'true';
    if (Properties.ContentBasedDeduplication !== undefined) Attributes.ContentBasedDeduplication = String(Properties.ContentBasedDeduplication);
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: `${id.slice(0, 200)}${nameSuffix}${fifo ? '.fifo' : ''}`, Attributes }));
    topics[id] = TopicArn ?? '';
  }

  const invokeConfigs = new Map(
    byType('AWS::Lambda::EventInvokeConfig').map(([, r]) => [refId(r.Properties?.FunctionName), r.Properties ?? {}] as const),
  );
  const denied = queuesDenyingSns(resources);
  const lambdaSubscriptions: LocalLambdaSubscription[] = [];
  const deniedSubscriptions: string[] = [];
  const skipped: Record<string, string> = {};

  for (const [id, { Properties = {} }] of byType('AWS::SNS::Subscription')) {
    const TopicArn = topics[refId(Properties.TopicArn)];
    const Attributes: Record<string, string> = {};
    if (Properties.RawMessageDelivery !== undefined) Attributes.RawMessageDelivery = String(Properties.RawMessageDelivery);
    if (Properties.FilterPolicy) Attributes.FilterPolicy = JSON.stringify(Properties.FilterPolicy);
    if (Properties.FilterPolicyScope) Attributes.FilterPolicyScope = String(Properties.FilterPolicyScope);
    const redrive = Properties.RedrivePolicy as { deadLetterTargetArn: unknown } | undefined;
    if (redrive) Attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: queueArn(redrive.deadLetterTargetArn) });

    if (Properties.Protocol === 'sqs') {
      const blocked = denied.has(refId(Properties.Endpoint));
      if (blocked && !redrive) throw new Error(`${id}: its queue denies SNS and it has no DLQ: SNS would drop every message`);
      if (blocked) deniedSubscriptions.push(id);
      const Endpoint = blocked ? queueArn(redrive!.deadLetterTargetArn) : queueArn(Properties.Endpoint);
      await clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint, Attributes }));
    } else if (Properties.Protocol === 'lambda') {
      const functionId = refId(Properties.Endpoint);
      const { QueueUrl = '' } = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${id.slice(0, 60)}${nameSuffix}-lambda` }));
      const { Attributes: standIn } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      const { SubscriptionArn = '' } = await clients.sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: standIn?.QueueArn,
          Attributes: { ...Attributes, RawMessageDelivery: 'false' },
        }),
      );
      const config = (invokeConfigs.get(functionId) ?? {}) as {
        MaximumRetryAttempts?: number;
        DestinationConfig?: { OnSuccess?: { Destination: unknown }; OnFailure?: { Destination: unknown } };
      };
      const destinationUrl = (destination: unknown) =>
        destination === undefined ? undefined : queues.queues[refId(destination)]?.url;
      lambdaSubscriptions.push({
        subscriptionId: id,
        functionId,
        subscriptionArn: SubscriptionArn,
        queueUrl: QueueUrl,
        retryAttempts: config.MaximumRetryAttempts ?? 2,
        onSuccessQueueUrl: destinationUrl(config.DestinationConfig?.OnSuccess?.Destination),
        onFailureQueueUrl: destinationUrl(config.DestinationConfig?.OnFailure?.Destination),
      });
    } else {
      skipped[id] = String(Properties.Protocol);
    }
  }

  const functions = new Set(byType('AWS::Lambda::Function').map(([id]) => id));
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.toJSON().Outputs ?? {}) as [string, { Value: unknown }][]) {
    const ref = (output.Value as Ref).Ref;
    if (ref && topics[ref]) outputs[name] = topics[ref];
    else if (ref && functions.has(ref)) outputs[name] = ref;
  }
  return { topics, lambdaSubscriptions, deniedSubscriptions, skipped, outputs };
}

type SnsHandler = (event: SNSEvent, context: Context) => Promise<unknown>;

export interface LocalLambdaSubscriber {
  /** Events handed to the handler, one per invocation (retries included). */
  readonly invocations: SNSEvent[];
  stop(): Promise<void>;
}

interface Envelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string | null;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL: string;
  MessageAttributes?: SNSMessageAttributes;
}

/**
 * Does locally what SNS and Lambda do for a Lambda subscription: invoke the handler asynchronously with an SNS
 * event, retry a failed invocation `retryAttempts` times (at once, to keep tests fast), then send Lambda's
 * invocation record to the on-success or on-failure destination queue.
 */
export function startLocalLambdaSubscriber(
  sqs: SQSClient,
  subscription: LocalLambdaSubscription,
  handler: SnsHandler,
): LocalLambdaSubscriber {
  const invocations: SNSEvent[] = [];
  let running = true;
  const functionArn = `arn:aws:lambda:us-east-1:000000000000:function:${subscription.functionId}:$LATEST`;

  const record = (event: SNSEvent, attempts: number, outcome: { result: unknown } | { error: Error }) => ({
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: `local-${invocations.length}`,
      functionArn,
      condition: 'result' in outcome ? 'Success' : 'RetriesExhausted',
      approximateInvokeCount: attempts,
    },
    requestPayload: event,
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      ...('error' in outcome ? { functionError: 'Unhandled' } : {}),
    },
    responsePayload:
      'result' in outcome ? outcome.result : { errorType: outcome.error.name, errorMessage: outcome.error.message, trace: [] },
  });

  const poll = async () => {
    while (running) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: subscription.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
      );
      for (const message of Messages) {
        const envelope = JSON.parse(message.Body ?? '{}') as Envelope;
        const event: SNSEvent = {
          Records: [
            {
              EventSource: 'aws:sns',
              EventVersion: '1.0',
              EventSubscriptionArn: subscription.subscriptionArn,
              Sns: {
                Type: envelope.Type,
                MessageId: envelope.MessageId,
                TopicArn: envelope.TopicArn,
                Subject: envelope.Subject ?? undefined,
                Message: envelope.Message,
                Timestamp: envelope.Timestamp,
                SignatureVersion: envelope.SignatureVersion,
                Signature: envelope.Signature,
                SigningCertUrl: envelope.SigningCertURL,
                UnsubscribeUrl: envelope.UnsubscribeURL,
                MessageAttributes: envelope.MessageAttributes ?? {},
              },
            },
          ],
        };
        let outcome: { result: unknown } | { error: Error } = { error: new Error('not invoked') };
        let attempts = 0;
        while (attempts <= subscription.retryAttempts) {
          attempts += 1;
          invocations.push(event);
          try {
            outcome = { result: await handler(event, { functionName: subscription.functionId, awsRequestId: `local-${attempts}` } as Context) };
            break;
          } catch (error) {
            outcome = { error: error as Error };
          }
        }
        const destination = 'result' in outcome ? subscription.onSuccessQueueUrl : subscription.onFailureQueueUrl;
        if (destination) {
          await sqs.send(new SendMessageCommand({ QueueUrl: destination, MessageBody: JSON.stringify(record(event, attempts, outcome)) }));
        }
        await sqs.send(new DeleteMessageCommand({ QueueUrl: subscription.queueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
  };
  const loop = poll();
  return {
    invocations,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
