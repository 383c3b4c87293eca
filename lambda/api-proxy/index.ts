import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

const logger = new Logger({ serviceName: 'api-proxy' });

/**
 * The handler behind Lambda proxy integrations (REST API, and HTTP API with payload format 1.0): API Gateway passes
 * the whole request and returns whatever status, headers and body the function builds. So the function owns input
 * validation and error mapping: bad input is a 4xx with a message, never a 500.
 */
export type ProxyEvent = APIGatewayProxyEvent;

/** A caller's mistake, answered with its status code and message. */
export class RequestError extends Error {
  constructor(
    public readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export const FEEDBACK_LIMITS = { maxMessageLength: 500, minRating: 1, maxRating: 5 } as const;

interface Feedback {
  rating: number;
  message: string;
}

function respond(statusCode: number, body: unknown, env: NodeJS.ProcessEnv = process.env): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      'Content-Type': 'application/json',
      // A proxy integration must add CORS headers itself: the OPTIONS preflight only covers the preflight.
      'Access-Control-Allow-Origin': env.ALLOWED_ORIGIN ?? '*',
      Vary: 'Origin',
    },
    body: JSON.stringify(body),
  };
}

/** The function alias that ran, from the ARN the caller invoked (`...:function:name:alias`). */
function aliasOf(context: Context): string | undefined {
  const parts = context.invokedFunctionArn?.split(':') ?? [];
  return parts.length === 8 ? parts[7] : undefined;
}

type Claims = Record<string, string | undefined>;

/** Token claims put in the event by a Cognito user pool authorizer (REST) or a JWT authorizer (HTTP API). */
export function claimsOf(event: ProxyEvent): Claims | undefined {
  const authorizer = event.requestContext?.authorizer as
    | { claims?: Claims; jwt?: { claims?: Claims } }
    | null
    | undefined;
  return authorizer?.claims ?? authorizer?.jwt?.claims;
}

export function parseJsonBody(event: ProxyEvent): unknown {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new RequestError(400, 'the request needs a JSON body');
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RequestError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
}

export function parseFeedback(body: unknown): Feedback {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestError(400, 'body must be a JSON object with rating and message');
  }
  const { rating, message } = body as Record<string, unknown>;
  const problems: string[] = [];
  if (!Number.isInteger(rating) || (rating as number) < FEEDBACK_LIMITS.minRating || (rating as number) > FEEDBACK_LIMITS.maxRating) {
    problems.push('rating must be a whole number from 1 to 5');
  }
  if (typeof message !== 'string' || message.trim().length === 0 || message.length > FEEDBACK_LIMITS.maxMessageLength) {
    problems.push(`message must be a non-empty string of at most ${FEEDBACK_LIMITS.maxMessageLength} characters`);
  }
  if (problems.length > 0) throw new RequestError(400, problems.join('; '));
  return { rating: rating as number, message: message as string };
}

function hello(event: ProxyEvent, context: Context) {
  const name = event.queryStringParameters?.name ?? 'world';
  if (name.length > 50) throw new RequestError(400, 'name must be at most 50 characters');
  return {
    message: `Hello, ${name}!`,
    version: context.functionVersion,
    alias: aliasOf(context),
    stage: event.requestContext?.stage,
    lambdaAlias: event.stageVariables?.lambdaAlias,
  };
}

function me(event: ProxyEvent) {
  const claims = claimsOf(event);
  if (!claims?.sub) throw new RequestError(401, 'no verified token claims: the method needs an authorizer');
  return {
    sub: claims.sub,
    email: claims.email,
    groups: claims['cognito:groups'] ?? null,
    tokenUse: claims.token_use,
  };
}

function feedback(event: ProxyEvent) {
  const claims = claimsOf(event);
  const received = parseFeedback(parseJsonBody(event));
  return { received, from: claims?.email ?? 'anonymous', requestId: event.requestContext?.requestId };
}

const ROUTES: Record<string, (event: ProxyEvent, context: Context) => unknown> = {
  'GET /hello': hello,
  'GET /me': me,
  'POST /feedback': feedback,
};

export async function handler(event: ProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  const route = `${event.httpMethod} ${event.resource}`;
  try {
    const action = ROUTES[route];
    if (!action) return respond(404, { message: `no route for ${route}` });
    return respond(200, action(event, context));
  } catch (error) {
    if (error instanceof RequestError) {
      logger.info('request refused', { route, statusCode: error.statusCode, reason: error.message });
      return respond(error.statusCode, { message: error.message });
    }
    logger.error('unexpected error', error as Error);
    return respond(500, { message: 'internal error', requestId: context.awsRequestId });
  }
}
