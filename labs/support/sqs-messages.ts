import { DeleteMessageCommand, Message, MessageSystemAttributeName, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { check, ExerciseContext } from './exercise';

/** What the helpers below need of the exercise context: its clients. */
type Clients = Pick<ExerciseContext, 'client'>;

/** The run's SQS client (see serviceEndpoint for why the endpoint is explicit). */
export const sqsOf = (context: Clients): SQSClient => context.client(SQSClient, 'SQS');

/** One ReceiveMessage call: up to 10 messages with all their message attributes and the system attributes asked for. */
export async function receiveMessages(
  context: Clients,
  queueUrl: string,
  waitTimeSeconds: number,
  systemAttributes: MessageSystemAttributeName[] = ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId'],
): Promise<Message[]> {
  const { Messages } = await sqsOf(context).send(
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

export async function deleteMessage(context: Clients, queueUrl: string, message: Message): Promise<void> {
  await sqsOf(context).send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
}

/** Seconds to wait in the next long poll so as not to pass `deadline` (1–20, SQS's range). */
export const nextWaitSeconds = (deadline: number) => Math.max(1, Math.min(20, Math.floor((deadline - Date.now()) / 1000)));

/** Long-polls until a message matching `wanted` arrives or `timeoutSeconds` pass; other messages are left alone (not deleted). */
export async function receiveUntil(
  context: Clients,
  queueUrl: string,
  wanted: (message: Message) => boolean,
  timeoutSeconds: number,
): Promise<Message | undefined> {
  return (await receiveAllUntil(context, queueUrl, wanted, timeoutSeconds))[0];
}

/**
 * Long-polls until a receive holds messages matching `wanted`, and returns all of them (one receive returns up to 10,
 * and those not returned stay in flight, unseen by the next receive until their visibility timeout ends); [] when
 * `timeoutSeconds` pass first. Other messages are left alone (not deleted).
 */
export async function receiveAllUntil(
  context: Clients,
  queueUrl: string,
  wanted: (message: Message) => boolean,
  timeoutSeconds: number,
): Promise<Message[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    const matches = (await receiveMessages(context, queueUrl, nextWaitSeconds(deadline))).filter(wanted);
    if (matches.length > 0) return matches;
  }
  return [];
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

/** What FIFO_DEMO_SENDS must deliver per group: each order once, in sending order (the duplicate a1 dropped). */
const FIFO_DEMO_EXPECTED: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  [...new Set(FIFO_DEMO_SENDS.map(([group]) => group))].map((group) => [
    group,
    [...new Set(FIFO_DEMO_SENDS.filter(([g]) => g === group).map(([, orderId]) => orderId))],
  ]),
);

/**
 * Receives the FIFO demonstration from `queueUrl` and checks every group arrived once, in order. Deletes every
 * message it receives: a leftover of an earlier run would hold back its message group. `orderIdOfOurs` gives the
 * order id of a message of this run, undefined for any other message.
 */
export async function checkFifoDemoArrival(
  context: Pick<ExerciseContext, 'client' | 'log'>,
  queueUrl: string,
  orderIdOfOurs: (message: Message) => string | undefined,
  label = 'received',
): Promise<void> {
  const expectedTotal = Object.values(FIFO_DEMO_EXPECTED).flat().length;
  const byGroup: Record<string, string[]> = {};
  const deadline = Date.now() + 30_000;
  let total = 0;
  while (total < expectedTotal && Date.now() < deadline) {
    // One receive returns messages of unlocked groups only; deleting them unlocks the next of each group.
    for (const message of await receiveMessages(context, queueUrl, 5)) {
      const orderId = orderIdOfOurs(message);
      if (orderId !== undefined) {
        (byGroup[message.Attributes?.MessageGroupId ?? '?'] ??= []).push(orderId);
        total += 1;
      }
      await deleteMessage(context, queueUrl, message);
    }
  }
  context.log(`${label} per group: ${JSON.stringify(byGroup)}`);
  for (const [group, expected] of Object.entries(FIFO_DEMO_EXPECTED)) {
    check(
      JSON.stringify(byGroup[group]) === JSON.stringify(expected),
      `${label}: group ${group} arrived as ${JSON.stringify(byGroup[group])}, expected ${expected.join(', ')} once each, in order`,
    );
  }
}
