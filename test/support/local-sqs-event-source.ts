import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  Message,
  MessageAttributeValue,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes } from 'aws-lambda';

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface LocalEventSourceProps {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: SqsHandler;
  readonly batchSize?: number;
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

/**
 * Does locally what Lambda's SQS event source mapping does with ReportBatchItemFailures: receive a batch,
 * invoke the handler, delete the records it did not report as failed. One difference, to keep tests fast:
 * failed records are made visible again at once instead of after the queue's visibility timeout.
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
          MaxNumberOfMessages: props.batchSize ?? 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) continue;
      const event: SQSEvent = { Records: Messages.map((m) => toRecord(m, props.queueArn)) };
      invocations.push(event);
      const response = await props.handler(event, context);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
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
