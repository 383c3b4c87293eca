import { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

const logger = new Logger({ serviceName: 'sfn-approval-notifier' });
let client: SNSClient | undefined;
const sns = () => (client ??= new SNSClient({}));

/** What the approval task sends (Lambda invoked with .waitForTaskToken). */
export interface ApprovalRequest {
  taskToken: string;
  /** The API Gateway URL that records a decision. */
  decisionUrl: string;
  /** What is to be approved: shown in the email. */
  request: unknown;
}

export class InvalidApprovalRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidApprovalRequestError';
  }
}

/** The approve and reject links of a request: the token is URL-encoded (it may contain + / =). */
export function decisionLinks(decisionUrl: string, taskToken: string): { approve: string; reject: string } {
  const link = (action: string) => `${decisionUrl}?action=${action}&token=${encodeURIComponent(taskToken)}`;
  return { approve: link('approve'), reject: link('reject') };
}

/**
 * Emails the approver (through the SNS topic's subscriptions) a link to approve and one to reject. The execution
 * waits for the token, not for this function's result; a bad request fails the task at once.
 */
export async function handler(event: Partial<ApprovalRequest>): Promise<{ notified: true }> {
  const topicArn = process.env.TOPIC_ARN;
  if (!topicArn) throw new InvalidApprovalRequestError('TOPIC_ARN is not set');
  if (typeof event?.taskToken !== 'string' || event.taskToken.length === 0) {
    throw new InvalidApprovalRequestError('taskToken is missing');
  }
  if (typeof event.decisionUrl !== 'string' || !/^https?:\/\//.test(event.decisionUrl)) {
    throw new InvalidApprovalRequestError('decisionUrl must be an http(s) URL');
  }
  const links = decisionLinks(event.decisionUrl, event.taskToken);
  const message = [
    'A workflow needs your decision on this request:',
    '',
    JSON.stringify(event.request ?? {}, null, 2),
    '',
    `Approve: ${links.approve}`,
    '',
    `Reject:  ${links.reject}`,
    '',
    'Each link opens a page that asks you to confirm; the request expires when the workflow stops waiting.',
  ].join('\n');
  await sns().send(new PublishCommand({ TopicArn: topicArn, Subject: 'Approval needed', Message: message }));
  logger.info('approval request sent');
  return { notified: true };
}
