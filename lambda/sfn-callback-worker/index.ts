import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

const logger = new Logger({ serviceName: 'sfn-callback-worker' });
let client: SFNClient | undefined;
const sfn = () => (client ??= new SFNClient({}));

/** What the callback task sends: the token to answer with, the workflow's input, and the heartbeat it expects. */
export interface CallbackMessage {
  taskToken: string;
  input: { orderId?: string; warehouse?: { decision?: 'accept' | 'reject'; workSeconds?: number } };
  heartbeatSeconds?: number;
}

/** A message that can never be answered (no usable token): it goes to the DLQ, not back to the workflow. */
export class UnanswerableMessageError extends Error {
  constructor(messageId: string, reason: string) {
    super(`message ${messageId} cannot be answered: ${reason}`);
    this.name = 'UnanswerableMessageError';
  }
}

/** A task token is an opaque string of 1–2,048 characters without whitespace (SendTaskSuccess API). */
export function isTaskToken(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= 2048 && !/\s/.test(value);
}

export function parseCallbackMessage(record: SQSRecord): CallbackMessage {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new UnanswerableMessageError(record.messageId, 'body is not JSON');
  }
  const message = body as Partial<CallbackMessage> | null;
  if (!message || typeof message !== 'object') throw new UnanswerableMessageError(record.messageId, 'body is not an object');
  if (message.taskToken === undefined) throw new UnanswerableMessageError(record.messageId, 'taskToken is missing');
  if (!isTaskToken(message.taskToken)) throw new UnanswerableMessageError(record.messageId, 'taskToken is malformed');
  const input = typeof message.input === 'object' && message.input !== null ? message.input : {};
  const heartbeatSeconds = typeof message.heartbeatSeconds === 'number' ? message.heartbeatSeconds : undefined;
  return { taskToken: message.taskToken, input, heartbeatSeconds };
}

/** SendTask* errors meaning the execution no longer waits for this token: answering again cannot help. */
const DEAD_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Works for `workSeconds`, sending a heartbeat at half the interval the task expects. */
async function work(message: CallbackMessage): Promise<void> {
  const workMs = Math.min(Math.max(message.input.warehouse?.workSeconds ?? 0, 0), 600) * 1000;
  const everyMs = message.heartbeatSeconds ? (message.heartbeatSeconds * 1000) / 2 : workMs;
  for (let done = 0; done < workMs; done += everyMs) {
    await sleep(Math.min(everyMs, workMs - done));
    if (message.heartbeatSeconds) await sfn().send(new SendTaskHeartbeatCommand({ taskToken: message.taskToken }));
  }
}

async function answer(record: SQSRecord): Promise<void> {
  const message = parseCallbackMessage(record);
  const orderId = message.input.orderId;
  try {
    await work(message);
    if (message.input.warehouse?.decision === 'reject') {
      await sfn().send(
        new SendTaskFailureCommand({
          taskToken: message.taskToken,
          error: 'WarehouseRejected',
          cause: `the warehouse cannot fulfil order ${orderId ?? '(no orderId)'}`,
        }),
      );
      logger.info('answered SendTaskFailure', { orderId });
      return;
    }
    await sfn().send(
      new SendTaskSuccessCommand({
        taskToken: message.taskToken,
        output: JSON.stringify({ orderId, warehouse: 'LAB-1', reserved: true }),
      }),
    );
    logger.info('answered SendTaskSuccess', { orderId });
  } catch (error) {
    const name = (error as Error).name;
    if (DEAD_TOKEN_ERRORS.has(name)) {
      logger.warn('the execution no longer waits for this token; dropping the message', { orderId, error: name });
      return;
    }
    throw error;
  }
}

const processor = new BatchProcessor(EventType.SQS);

/**
 * The callback worker: answers each message's task token with SendTaskSuccess, or SendTaskFailure when the order is
 * rejected, sending heartbeats while it works. Messages without a usable token are reported as failed (to the DLQ).
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, answer, processor, { context, throwOnFullBatchFailure: false });
}
