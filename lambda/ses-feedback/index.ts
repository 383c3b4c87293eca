import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';

const logger = new Logger({ serviceName: 'ses-feedback' });
const dynamodb = new DynamoDBClient({});

/** The `mail` object every SES event carries: the message the event is about. */
export interface SesMail {
  messageId: string;
  source: string;
  destination: string[];
  timestamp: string;
}

/** A bounce as SES publishes it (event publishing: `eventType`; identity notifications: `notificationType`). */
export interface SesBounce {
  bounceType: 'Permanent' | 'Transient' | 'Undetermined';
  bounceSubType: string;
  bouncedRecipients: { emailAddress: string; status?: string; diagnosticCode?: string }[];
  timestamp: string;
  feedbackId: string;
}

export interface SesComplaint {
  complainedRecipients: { emailAddress: string }[];
  complaintFeedbackType?: string;
  timestamp: string;
  feedbackId: string;
}

/** One SES sending event, the body of one SNS message. */
export interface SesEvent {
  eventType?: string;
  notificationType?: string;
  mail: SesMail;
  bounce?: SesBounce;
  complaint?: SesComplaint;
}

/** An address the application must stop mailing, as the handler stores it (key: `address`, lower case). */
export interface SuppressedAddress {
  address: string;
  reason: 'permanent-bounce' | 'complaint';
  /** bounceSubType (NoEmail, General, Suppressed ...) or complaintFeedbackType (abuse ...). */
  detail: string;
  messageId: string;
  feedbackId: string;
  at: string;
}

/** What one invocation did, per address. */
export interface FeedbackResult {
  suppressed: string[];
  /** Transient or undetermined bounces: SES already retried; the address may work later, so it is not suppressed. */
  softBounced: string[];
  /** Other events (Delivery, Send, Reject, DeliveryDelay ...): logged only. */
  ignored: number;
}

/**
 * The SNS message is not an SES event: thrown so that Lambda retries it, then hands it to the function's on-failure
 * destination (SNS invokes asynchronously), where it is seen rather than dropped.
 */
export class FeedbackRejected extends Error {
  constructor(messageId: string, reason: string) {
    super(`SNS message ${messageId} is not an SES event: ${reason}`);
    this.name = 'FeedbackRejected';
  }
}

/** What SES publishes once to a topic when an event destination is created: not an event, nothing to record. */
export const DESTINATION_VALIDATION_MESSAGE = 'Successfully validated SNS topic for Amazon SES event publishing.';

export function parseSesEvent(record: SNSEventRecord): SesEvent {
  const { MessageId, Message } = record.Sns;
  let body: unknown;
  try {
    body = JSON.parse(Message);
  } catch {
    throw new FeedbackRejected(MessageId, 'the message is not JSON');
  }
  const event = body as Partial<SesEvent>;
  if (typeof (event.eventType ?? event.notificationType) !== 'string' || typeof event.mail?.messageId !== 'string') {
    throw new FeedbackRejected(MessageId, 'it needs eventType (or notificationType) and mail.messageId');
  }
  return event as SesEvent;
}

/**
 * The addresses an event says to stop mailing. Permanent bounces (the mailbox does not exist, or SES suppressed it)
 * and complaints: sending again hurts the sender's reputation. Transient and undetermined bounces are not.
 */
export function suppressionsOf(event: SesEvent): { suppress: SuppressedAddress[]; softBounced: string[] } {
  const type = event.eventType ?? event.notificationType;
  const base = { messageId: event.mail.messageId };
  if (type === 'Bounce' && event.bounce) {
    const { bounce } = event;
    const addresses = bounce.bouncedRecipients.map((r) => r.emailAddress.toLowerCase());
    if (bounce.bounceType !== 'Permanent') return { suppress: [], softBounced: addresses };
    return {
      suppress: addresses.map((address) => ({
        ...base,
        address,
        reason: 'permanent-bounce',
        detail: bounce.bounceSubType,
        feedbackId: bounce.feedbackId,
        at: bounce.timestamp,
      })),
      softBounced: [],
    };
  }
  if (type === 'Complaint' && event.complaint) {
    const { complaint } = event;
    return {
      suppress: complaint.complainedRecipients.map((r) => ({
        ...base,
        address: r.emailAddress.toLowerCase(),
        reason: 'complaint',
        detail: complaint.complaintFeedbackType ?? 'not given',
        feedbackId: complaint.feedbackId,
        at: complaint.timestamp,
      })),
      softBounced: [],
    };
  }
  return { suppress: [], softBounced: [] };
}

/**
 * Records the addresses to stop mailing in the application's table (SUPPRESSION_TABLE), which the application reads
 * before it sends. SES's account-level suppression list already refuses them for this account; the table keeps the
 * reason next to the application's own data, also for mail sent through other accounts or providers.
 */
export async function handler(event: SNSEvent, context: Context): Promise<FeedbackResult> {
  logger.addContext(context);
  const tableName = process.env.SUPPRESSION_TABLE;
  const result: FeedbackResult = { suppressed: [], softBounced: [], ignored: 0 };
  for (const record of event.Records) {
    if (record.Sns.Message.trim() === DESTINATION_VALIDATION_MESSAGE) {
      result.ignored += 1;
      continue;
    }
    const sesEvent = parseSesEvent(record);
    const { suppress, softBounced } = suppressionsOf(sesEvent);
    for (const entry of suppress) {
      await dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: Object.fromEntries(Object.entries(entry).map(([key, value]) => [key, { S: value }])),
        }),
      );
      logger.info('address suppressed', { ...entry });
      result.suppressed.push(entry.address);
    }
    for (const address of softBounced) logger.warn('transient bounce: not suppressed', { address, messageId: sesEvent.mail.messageId });
    result.softBounced.push(...softBounced);
    if (suppress.length === 0 && softBounced.length === 0) {
      result.ignored += 1;
      logger.info('event', { eventType: sesEvent.eventType ?? sesEvent.notificationType, messageId: sesEvent.mail.messageId });
    }
  }
  return result;
}
