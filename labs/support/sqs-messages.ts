import { DeleteMessageCommand, Message, MessageSystemAttributeName, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { lazyClient } from './exercise';

/** The SQS client of every exercise (see lazyClient for why the endpoint is explicit). */
export const sqs = lazyClient((config) => new SQSClient(config), 'SQS');

/** One ReceiveMessage call: up to 10 messages with all their message attributes and the system attributes asked for. */
export async function receiveMessages(
  queueUrl: string,
  waitTimeSeconds: number,
  systemAttributes: MessageSystemAttributeName[] = ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId'],
): Promise<Message[]> {
  const { Messages } = await sqs().send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitTimeSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: systemAttributes,
    }),
  );
  return Messages ?? [];
}

export async function deleteMessage(queueUrl: string, message: Message): Promise<void> {
  await sqs().send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
}

/** Seconds to wait in the next long poll so as not to pass `deadline` (1–20, SQS's range). */
export const nextWaitSeconds = (deadline: number) => Math.max(1, Math.min(20, Math.floor((deadline - Date.now()) / 1000)));

/** Long-polls until a message matching `wanted` arrives or `timeoutSeconds` pass; other messages are left alone (not deleted). */
export async function receiveUntil(
  queueUrl: string,
  wanted: (message: Message) => boolean,
  timeoutSeconds: number,
): Promise<Message | undefined> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    const match = (await receiveMessages(queueUrl, nextWaitSeconds(deadline))).find(wanted);
    if (match) return match;
  }
  return undefined;
}

/**
 * The FIFO demonstration of the sqs and sns-fanout labs: [message group, order id] in sending order, interleaving two
 * groups, and a1 sent twice with the same body so content-based deduplication drops the second.
 */
export const FIFO_DEMO_SENDS = [
  ['customer-a', 'a1'],
  ['customer-b', 'b1'],
  ['customer-a', 'a2'],
  ['customer-b', 'b2'],
  ['customer-a', 'a3'],
  ['customer-a', 'a1'],
] as const;
