import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { claimsOf, handler, parseFeedback, RequestError } from '../../lambda/api-proxy';
import { loggedLines } from '../support/logged-lines';

const context = (alias = 'live', version = '3') =>
  ({
    functionName: 'proxy',
    functionVersion: version,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:proxy:${alias}`,
    awsRequestId: 'lambda-req-1',
  }) as Context;

function event(method: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    resource,
    path: resource,
    body: null,
    isBase64Encoded: false,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: { lambdaAlias: 'live' },
    requestContext: { stage: 'prod', requestId: 'api-req-1', authorizer: { claims: { sub: 'u-1', email: 'ada@example.com', token_use: 'id' } } } as never,
    ...extra,
  };
}

const bodyOf = (result: { body: string }) => JSON.parse(result.body);

beforeAll(() => (process.env.ALLOWED_ORIGIN = 'http://localhost:5173'));

test('GET /hello greets and says which alias, version and stage answered, with the CORS header', async () => {
  const result = await handler(event('GET', '/hello', { queryStringParameters: { name: 'Ada' } }), context());
  expect(result.statusCode).toBe(200);
  // Vary: the answer depends on the request's Origin, so a cache must not serve one origin's answer to another.
  expect(result.headers).toEqual({ 'Access-Control-Allow-Origin': 'http://localhost:5173', 'Content-Type': 'application/json', Vary: 'Origin' });
  expect(bodyOf(result)).toEqual({ message: 'Hello, Ada!', version: '3', alias: 'live', stage: 'prod', lambdaAlias: 'live' });
});

test('without ALLOWED_ORIGIN any origin may read the answer', async () => {
  delete process.env.ALLOWED_ORIGIN;
  try {
    expect((await handler(event('GET', '/hello'), context())).headers).toMatchObject({ 'Access-Control-Allow-Origin': '*' });
  } finally {
    process.env.ALLOWED_ORIGIN = 'http://localhost:5173';
  }
});

test('a console test event (no request context, stage variables or query, an unqualified ARN) still gets answers', async () => {
  const bare = { ...event('GET', '/hello'), requestContext: undefined, stageVariables: null } as unknown as APIGatewayProxyEvent;
  const unqualified = { ...context(), invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:proxy' } as Context;
  expect(bodyOf(await handler(bare, unqualified))).toEqual({ message: 'Hello, world!', version: '3' });
  expect(bodyOf(await handler(bare, {} as Context))).toEqual({ message: 'Hello, world!' });
  const feedback = await handler({ ...bare, httpMethod: 'POST', resource: '/feedback', body: JSON.stringify({ rating: 3, message: 'ok' }) }, context());
  expect(bodyOf(feedback)).toEqual({ received: { rating: 3, message: 'ok' }, from: 'anonymous' });
});

test('GET /hello takes a name of 50 characters', async () => {
  const result = await handler(event('GET', '/hello', { queryStringParameters: { name: 'x'.repeat(50) } }), context());
  expect(bodyOf(result).message).toBe(`Hello, ${'x'.repeat(50)}!`);
});

test('GET /hello refuses a name over 50 characters with a 400', async () => {
  const result = await handler(event('GET', '/hello', { queryStringParameters: { name: 'x'.repeat(51) } }), context());
  expect(result.statusCode).toBe(400);
  expect(bodyOf(result)).toEqual({ message: 'name must be at most 50 characters' });
});

test('GET /me returns the claims the authorizer verified (REST API and HTTP API JWT shapes)', async () => {
  const rest = await handler(event('GET', '/me'), context());
  expect(bodyOf(rest)).toEqual({ sub: 'u-1', email: 'ada@example.com', groups: null, tokenUse: 'id' });
  const httpApi = event('GET', '/me', { requestContext: { authorizer: { jwt: { claims: { sub: 'u-2', 'cognito:groups': '[editors]' } } } } as never });
  expect(claimsOf(httpApi)).toEqual({ sub: 'u-2', 'cognito:groups': '[editors]' });
  expect(bodyOf(await handler(httpApi, context()))).toMatchObject({ sub: 'u-2', groups: '[editors]' });
});

test('GET /me without claims is a 401, not a crash', async () => {
  for (const requestContext of [{}, { authorizer: { principalId: 'from-a-lambda-authorizer' } }]) {
    const result = await handler(event('GET', '/me', { requestContext: requestContext as never }), context());
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toEqual({ message: 'no verified token claims: the method needs an authorizer' });
  }
});

describe('POST /feedback validates its JSON body itself (proxy integration: no model in front)', () => {
  const post = (body: string | null, extra: Partial<APIGatewayProxyEvent> = {}) =>
    handler(event('POST', '/feedback', { body, ...extra }), context());

  test('accepts a valid body', async () => {
    const result = await post(JSON.stringify({ rating: 5, message: 'great' }));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ received: { rating: 5, message: 'great' }, from: 'ada@example.com', requestId: 'api-req-1' });
  });

  test('decodes a base64-encoded body', async () => {
    const body = Buffer.from(JSON.stringify({ rating: 4, message: 'ok' })).toString('base64');
    expect((await post(body, { isBase64Encoded: true })).statusCode).toBe(200);
  });

  test.each([
    ['{"rating": 5, "message": ', /^body is not valid JSON: /],
    ['not json at all', /^body is not valid JSON: /],
    ['', /^the request needs a JSON body$/],
    ['[1,2]', /^body must be a JSON object with rating and message$/],
    ['"text"', /^body must be a JSON object with rating and message$/],
    ['null', /^body must be a JSON object with rating and message$/],
    ['{"rating": 9, "message": "x"}', /^rating must be a whole number from 1 to 5$/],
    ['{"rating": 0, "message": "x"}', /^rating must be a whole number from 1 to 5$/],
    ['{"rating": 6, "message": "x"}', /^rating must be a whole number from 1 to 5$/],
    ['{"rating": 3, "message": "   "}', /^message must be a non-empty string of at most 500 characters$/],
    [JSON.stringify({ rating: 3, message: 'x'.repeat(501) }), /^message must be a non-empty string of at most 500 characters$/],
    ['{"rating": 2.5, "message": "x"}', /^rating must be a whole number from 1 to 5$/],
    ['{"rating": 3, "message": ""}', /^message must be a non-empty string of at most 500 characters$/],
    ['{"rating": "5"}', /^rating must be a whole number from 1 to 5; message must be/],
  ])('answers %j with a 400 and a message, never a 500', async (body, message) => {
    const result = await post(body);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result).message).toMatch(message);
    expect(result.headers).toMatchObject({ 'Access-Control-Allow-Origin': 'http://localhost:5173' });
  });

  test('accepts the limits: rating 1, a message of 500 characters', async () => {
    const result = await post(JSON.stringify({ rating: 1, message: 'x'.repeat(500) }));
    expect(result.statusCode).toBe(200);
  });

  test('a missing body (null, or absent from a hand-made event) is a 400 too', async () => {
    for (const body of [null, undefined]) {
      const result = await handler(event('POST', '/feedback', { body: body as string | null }), context());
      expect([result.statusCode, bodyOf(result)]).toEqual([400, { message: 'the request needs a JSON body' }]);
    }
  });
});

test('an unknown route is a 404', async () => {
  const result = await handler(event('DELETE', '/hello'), context());
  expect(result.statusCode).toBe(404);
  expect(bodyOf(result)).toEqual({ message: 'no route for DELETE /hello' });
});

test('an unexpected failure is a 500 that reveals nothing but the request id', async () => {
  const broken = event('GET', '/hello');
  Object.defineProperty(broken, 'queryStringParameters', { get: () => { throw new TypeError('boom'); } });
  const result = await handler(broken, context());
  expect(result.statusCode).toBe(500);
  expect(bodyOf(result)).toEqual({ message: 'internal error', requestId: 'lambda-req-1' });
});

test('parseFeedback reports every problem at once', () => {
  expect(() => parseFeedback({})).toThrow(
    new RequestError(400, 'rating must be a whole number from 1 to 5; message must be a non-empty string of at most 500 characters'),
  );
  expect(() => parseFeedback({})).toThrow(expect.objectContaining({ name: 'RequestError', statusCode: 400 }));
});

test('logs each refused request with its reason, and each unexpected error, with the invocation\'s context', async () => {
  const broken = event('GET', '/hello');
  Object.defineProperty(broken, 'queryStringParameters', { get: () => { throw new TypeError('boom'); } });
  const { lines } = await loggedLines(async () => {
    const proxy = await import('../../lambda/api-proxy');
    await proxy.handler(event('GET', '/me', { requestContext: {} as never }), context());
    await proxy.handler(broken, context());
  });
  expect(lines).toEqual([
    expect.objectContaining({
      level: 'INFO',
      message: 'request refused',
      service: 'api-proxy',
      function_request_id: 'lambda-req-1',
      route: 'GET /me',
      statusCode: 401,
      reason: 'no verified token claims: the method needs an authorizer',
    }),
    expect.objectContaining({ level: 'ERROR', message: 'unexpected error', service: 'api-proxy', error: expect.objectContaining({ name: 'TypeError', message: 'boom' }) }),
  ]);
});
