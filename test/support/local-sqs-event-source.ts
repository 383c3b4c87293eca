import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  Message,
  MessageAttributeValue,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Template } from 'aws-cdk-lib/assertions';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes } from 'aws-lambda';

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** The settings of an SQS event source mapping that shape what the local one does. */
export interface SqsMappingSettings {
  readonly batchSize: number;
  /** `FunctionResponseTypes` holds `ReportBatchItemFailures`: without it Lambda ignores a returned `batchItemFailures`. */
  readonly reportBatchItemFailures: boolean;
}

/** The settings of the event source mapping that reads the queue `queueLogicalId` in a synthesized template. */
export function sqsMappingSettings(template: Template, queueLogicalId: string): SqsMappingSettings {
  const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as { Properties: Record<string, unknown> }[];
  const reading = mappings.filter((m) => JSON.stringify(m.Properties.EventSourceArn).includes(`"${queueLogicalId}"`));
  if (reading.length !== 1) throw new Error(`expected one event source mapping on ${queueLogicalId}, found ${reading.length}`);
  const p = reading[0].Properties;
  return {
    batchSize: (p.BatchSize as number | undefined) ?? 10,
    reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
  };
}

export interface LocalEventSourceProps extends SqsMappingSettings {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: SqsHandler;
}

export interface LocalEventSource {
  /** Batches handed to the handler so far. */
  readonly invocations: SQSEvent[];
  stop(): Promise<void>;
}

function toLambdaAttributes(attributes: Record<string, MessageAttributeValue> = {}): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      { dataType: value.DataType ?? 'String', stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
    ]),
  );
}

function toRecord(message: Message, queueArn: string): SQSEvent['Records'][number] {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '0',
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '0',
      MessageGroupId: attributes.MessageGroupId,
    },
    messageAttributes: toLambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** The message ids Lambda returns to the queue after one invocation, as the mapping's settings decide. */
async function failedRecords(settings: SqsMappingSettings & { handler: SqsHandler }, event: SQSEvent, context: Context): Promise<Set<string>> {
  const everyRecord = new Set(event.Records.map((r) => r.messageId));
  let response: SQSBatchResponse | void;
  try {
    response = await settings.handler(event, context);
  } catch {
    return everyRecord;
  }
  if (!settings.reportBatchItemFailures) return new Set();
  return new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
}

/**
 * Does locally what Lambda's SQS event source mapping does with the deployed settings: receive a batch of `batchSize`,
 * invoke the handler; with ReportBatchItemFailures, delete the records it did not report as failed; without it, delete
 * the whole batch when the handler returns (whatever it returns) and none when it throws. One difference, to keep
 * tests fast: failed records are made visible again at once instead of after the queue's visibility timeout.
 */
export function startLocalSqsEventSource(props: LocalEventSourceProps): LocalEventSource {
  const invocations: SQSEvent[] = [];
  let running = true;
  const context = { functionName: 'local', awsRequestId: 'local' } as Context;

  const poll = async () => {
    while (running) {
      const { Messages = [] } = await props.client.send(
        new ReceiveMessageCommand({
          QueueUrl: props.queueUrl,
          MaxNumberOfMessages: Math.min(props.batchSize, 10),
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) continue;
      const event: SQSEvent = { Records: Messages.map((m) => toRecord(m, props.queueArn)) };
      invocations.push(event);
      const failed = await failedRecords(props, event, context);
      for (const { MessageId, ReceiptHandle } of Messages) {
        const target = { QueueUrl: props.queueUrl, ReceiptHandle };
        if (failed.has(MessageId ?? '')) {
          await props.client.send(new ChangeMessageVisibilityCommand({ ...target, VisibilityTimeout: 0 }));
        } else {
          await props.client.send(new DeleteMessageCommand(target));
        }
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
