import { Logger } from '@aws-lambda-powertools/logger';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

const logger = new Logger({ serviceName: 'sfn-approval-endpoint' });
let client: SFNClient | undefined;
const sfn = () => (client ??= new SFNClient({}));

export const DECISIONS = { approve: 'approved', reject: 'rejected' } as const;
export type Action = keyof typeof DECISIONS;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(statusCode: number, title: string, body: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
  };
}

const problem = (statusCode: number, message: string) => page(statusCode, 'Cannot record this decision', `<p>${escapeHtml(message)}</p>`);

/** Reads `action` and `token` from the query string (GET) or a form body (POST). */
function parameters(event: APIGatewayProxyEvent): Record<string, string | undefined> {
  if (event.httpMethod === 'POST') {
    const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    return Object.fromEntries(new URLSearchParams(raw));
  }
  return event.queryStringParameters ?? {};
}

/** What is wrong with the request, or undefined: the token must look like a task token, the action be known. */
export function checkDecision(params: Record<string, string | undefined>): string | undefined {
  const { token, action } = params;
  if (!token) return 'the link has no token';
  if (token.length > 2048 || /\s/.test(token)) return 'the token is malformed';
  if (!action) return 'the link has no action';
  if (!(action in DECISIONS)) return `unknown decision "${action}": use approve or reject`;
  return undefined;
}

/** SendTaskSuccess errors a person can cause by clicking late or twice; anything else is the service's. */
const ANSWERS: Record<string, [number, string]> = {
  TaskTimedOut: [410, 'this approval request has expired or was already answered'],
  TaskDoesNotExist: [410, 'this approval request has expired or was already answered'],
  InvalidToken: [400, 'the token is not a valid task token'],
};

/**
 * The approval page behind API Gateway. GET (the emailed link) answers with a confirmation form, so that mail scanners
 * that follow links cannot decide; POST (the form) records the decision with SendTaskSuccess. Bad input is a 400 with
 * a message, an expired request a 410: never an unhandled error.
 */
export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const params = parameters(event);
  const invalid = checkDecision(params);
  if (invalid) return problem(400, invalid);
  const action = params.action as Action;
  const token = params.token as string;

  if (event.httpMethod !== 'POST') {
    return page(
      200,
      `Confirm: ${action}`,
      `<form method="post"><input type="hidden" name="action" value="${escapeHtml(action)}">` +
        `<input type="hidden" name="token" value="${escapeHtml(token)}">` +
        `<button type="submit">${action === 'approve' ? 'Approve' : 'Reject'} the request</button></form>`,
    );
  }

  try {
    await sfn().send(
      new SendTaskSuccessCommand({
        taskToken: token,
        output: JSON.stringify({ decision: DECISIONS[action], decidedAt: new Date().toISOString() }),
      }),
    );
  } catch (error) {
    const name = (error as Error).name;
    const known = ANSWERS[name];
    if (known) return problem(known[0], known[1]);
    logger.error('SendTaskSuccess failed', { error: name });
    return problem(502, 'the decision could not be recorded; try again in a minute');
  }
  logger.info('decision recorded', { decision: DECISIONS[action] });
  return page(200, `Recorded: ${DECISIONS[action]}`, '<p>The workflow goes on. You can close this page.</p>');
}
