import { APIGatewayClient, GetApiKeyCommand, GetStageCommand } from '@aws-sdk/client-api-gateway';
import { LabUser, signIn, withLabUser } from '../support/cognito-session';
import { check, ExerciseContext, ExerciseStep, defineTiming, requireOutput } from '../support/exercise';
import { APIGATEWAY_LAB } from './constants';

export const timing = defineTiming(APIGATEWAY_LAB.exerciseTiming);

interface HttpResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function http(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: parseBody(text), text };
}

function parseBody(text: string): Record<string, unknown> {
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return { raw: text };
  }
}

const regionOf = (apiUrl: string) => /execute-api\.([a-z0-9-]+)\./.exec(apiUrl)?.[1] ?? process.env.AWS_REGION ?? 'us-east-1';

/** Runs `call` with a client of API Gateway's management API in the API's Region. */
async function withManagementApi<T>(outputs: ExerciseContext['outputs'], call: (client: APIGatewayClient, region: string) => Promise<T>): Promise<T> {
  const region = regionOf(requireOutput(outputs, 'ProdUrl'));
  const client = new APIGatewayClient({ region });
  try {
    return await call(client, region);
  } finally {
    client.destroy();
  }
}

/** The API key's value, from API Gateway's management API in the API's Region (GetApiKey with includeValue). */
export async function apiKeyValue(outputs: ExerciseContext['outputs']): Promise<string> {
  return withManagementApi(outputs, async (client, region) => {
    const key = await client.send(new GetApiKeyCommand({ apiKey: requireOutput(outputs, 'ApiKeyId'), includeValue: true }));
    check(key.value !== undefined, `GetApiKey returned no value for the key in ${region}`);
    return key.value;
  });
}

/**
 * A user of this run, signed in (MFA included), deleted again when `use` is done, passed or failed. Created by
 * AdminCreateUser with MessageAction SUPPRESS: no email is sent.
 */
async function withUser<T>(context: ExerciseContext, use: (idToken: string, user: LabUser) => Promise<T>): Promise<T> {
  const { outputs } = context;
  const userPoolId = requireOutput(outputs, 'UserPoolId');
  return withLabUser(context, userPoolId, `${context.runId}-${Math.random().toString(36).slice(2, 6)}@example.com`, async (user) => {
    const { tokens } = await signIn(context, userPoolId, requireOutput(outputs, 'UserPoolClientId'), user);
    return use(tokens.IdToken, user);
  });
}

async function mockHealth(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const result = await http(`${requireOutput(outputs, 'ProdUrl')}health`);
  log(`GET /health → ${result.status} ${result.text.replace(/\s+/g, ' ')}`);
  check(result.status === 200, `expected 200 from the mock integration, got ${result.status}`);
  check(result.body.status === 'ok' && result.body.stage === 'prod', 'the mock response template was not applied');
  check(typeof result.body.requestId === 'string', 'the template should fill requestId from $context');
  log('no backend ran: the mock integration chose its response from the request template\'s statusCode');
}

async function apiKey(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const url = `${requireOutput(outputs, 'ProdUrl')}hello?name=key`;
  const without = await http(url);
  log(`GET /hello without x-api-key → ${without.status} ${without.text}`);
  check(without.status === 403, `a method with apiKeyRequired should answer 403 without a key, got ${without.status}`);
  const key = await apiKeyValue(outputs);
  const withKey = await http(url, { headers: { 'x-api-key': key } });
  log(`GET /hello with the usage plan's key → ${withKey.status} ${withKey.text}`);
  check(withKey.status === 200 && withKey.body.message === 'Hello, key!', `expected the greeting, got ${withKey.status} ${withKey.text}`);
  log('the key identified the caller for the usage plan; it authorized nothing (anyone holding it gets in)');
}

/** Calls to the prod stage in the stages step: with a 10 % canary, all 60 miss it with probability 0.9^60 ≈ 0.2 %. */
const PROD_CALLS = 60;

async function stages(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { batchPauseMs } = await context.use(timing);
  const key = await apiKeyValue(outputs);
  const headers = { 'x-api-key': key };
  const dev = await http(`${requireOutput(outputs, 'DevUrl')}hello?name=dev`, { headers });
  log(`dev stage → alias ${dev.body.alias}, version ${dev.body.version}, stage variable lambdaAlias=${dev.body.lambdaAlias}`);
  check(dev.status === 200, `dev /hello answered ${dev.status}: ${dev.text}`);
  check(dev.body.alias === 'dev' && dev.body.version === '$LATEST', 'the dev stage should call the dev alias, which points at $LATEST');

  const prod = await withManagementApi(outputs, (client) =>
    client.send(new GetStageCommand({ restApiId: requireOutput(outputs, 'RestApiId'), stageName: 'prod' })),
  );
  const canary = prod.canarySettings;
  log(
    `GetStage prod → variables ${JSON.stringify(prod.variables ?? {})}, canary ${canary ? `${canary.percentTraffic} % ` : 'none'}` +
      `${canary ? `with overrides ${JSON.stringify(canary.stageVariableOverrides ?? {})}` : ''}`,
  );
  check(prod.variables?.lambdaAlias === 'live', `the prod stage's lambdaAlias should be live, got ${prod.variables?.lambdaAlias}`);
  check(canary !== undefined, 'the prod stage has no canary: nothing sends a share of its calls to the dev alias');
  const percent = canary.percentTraffic ?? 0;
  check(percent > 0 && percent < 50, `the prod canary should take a small share of the calls, not ${percent} %`);
  check(
    canary.stageVariableOverrides?.lambdaAlias === 'dev',
    `the prod canary should override lambdaAlias with dev, got ${JSON.stringify(canary.stageVariableOverrides ?? {})}`,
  );

  const counts: Record<string, number> = {};
  for (let batch = 0; batch < PROD_CALLS / 5; batch += 1) {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => http(`${requireOutput(outputs, 'ProdUrl')}hello?name=prod`, { headers })),
    );
    for (const result of results) {
      check(result.status === 200, `prod /hello answered ${result.status}: ${result.text}`);
      const alias = String(result.body.alias);
      check(result.body.lambdaAlias === alias, `the stage variable said ${result.body.lambdaAlias} but alias ${alias} ran`);
      check(
        alias === 'live' ? /^\d+$/.test(String(result.body.version)) : result.body.version === '$LATEST',
        `alias ${alias} ran version ${result.body.version}`,
      );
      counts[alias] = (counts[alias] ?? 0) + 1;
    }
    await new Promise((resolve) => setTimeout(resolve, batchPauseMs)); // stay under the usage plan's 5 requests per second
  }
  log(`${PROD_CALLS} calls to the prod stage, by alias: ${JSON.stringify(counts)}`);
  check(Object.keys(counts).every((a) => a === 'live' || a === 'dev'), `unexpected aliases ${Object.keys(counts).join(', ')}`);
  check(
    (counts.dev ?? 0) > 0,
    `none of ${PROD_CALLS} prod calls reached the dev alias: the ${percent} % canary should have taken some ` +
      `(all missing it has probability ${(((100 - percent) / 100) ** PROD_CALLS * 100).toFixed(2)} %)`,
  );
  check((counts.live ?? 0) > (counts.dev ?? 0), 'most prod calls should reach the live alias');
  log(`prod's canary sent about ${percent} % of requests with lambdaAlias=dev: those ran $LATEST, the rest the published version`);
}

async function throttling(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { refillPauseMs } = await context.use(timing);
  const key = await apiKeyValue(outputs);
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => http(`${requireOutput(outputs, 'ProdUrl')}hello?name=burst${i}`, { headers: { 'x-api-key': key } })),
  );
  const byStatus: Record<number, number> = {};
  for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  log(`40 simultaneous calls with one key (usage plan: 5 requests/s, burst 10) → ${JSON.stringify(byStatus)}`);
  check((byStatus[429] ?? 0) > 0, 'no call was throttled (429): the usage plan\'s burst limit is not applied');
  check(Object.keys(byStatus).every((s) => s === '200' || s === '429'), `unexpected statuses ${JSON.stringify(byStatus)}`);
  const throttled = results.find((r) => r.status === 429);
  log(`a throttled call: ${throttled?.status} ${throttled?.text}; clients should retry with backoff`);
  await new Promise((resolve) => setTimeout(resolve, refillPauseMs)); // let the bucket refill for the next step
}

async function authorizer(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const url = `${requireOutput(outputs, 'ProdUrl')}me`;
  const anonymous = await http(url);
  log(`GET /me without a token → ${anonymous.status} ${anonymous.text}`);
  check(anonymous.status === 401, `expected 401 without a token, got ${anonymous.status}`);
  const forged = await http(url, { headers: { Authorization: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' } });
  log(`GET /me with an unsigned token → ${forged.status} ${forged.text}`);
  check(forged.status === 401 || forged.status === 403, `an unsigned token must be refused, got ${forged.status}`);
  await withUser(context, async (idToken, user) => {
    const me = await http(url, { headers: { Authorization: idToken } });
    log(`GET /me with the ID token of ${user.email} → ${me.status} ${me.text}`);
    check(me.status === 200 && me.body.email === user.email, `expected the user's claims, got ${me.status} ${me.text}`);
    check(me.body.tokenUse === 'id', 'the Cognito authorizer without scopes expects an ID token');
  });
  log('API Gateway verified the token\'s signature, issuer and expiry; the function only read the claims it passed on');
}

async function validationAndMapping(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const url = `${requireOutput(outputs, 'ProdUrl')}orders`;
  await withUser(context, async (idToken, user) => {
    const post = (body: unknown) =>
      http(url, { method: 'POST', headers: { Authorization: idToken, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

    for (const bad of [{ item: 'coffee', quantity: 0 }, { item: 'coffee' }, { item: 'coffee', quantity: 1, discount: 50 }]) {
      const refused = await post(bad);
      log(`POST /orders ${JSON.stringify(bad)} → ${refused.status} ${refused.text}`);
      check(refused.status === 400, `the model should refuse ${JSON.stringify(bad)}, got ${refused.status}`);
      check(String(refused.body.message ?? '').length > 0, 'the BAD_REQUEST_BODY gateway response should say what is wrong');
    }
    log('the model (JSON schema) refused those before any Lambda ran');

    const ok = await post({ item: 'coffee', quantity: 2 });
    log(`POST /orders {"item":"coffee","quantity":2} → ${ok.status} ${ok.text.replace(/\s+/g, ' ')}`);
    check(ok.status === 200, `expected 200, got ${ok.status} ${ok.text}`);
    check(
      ok.body.item === 'coffee' && ok.body.quantity === 2 && ok.body.totalCents === 700 && ok.body.customer === user.email,
      'the request template did not pass the body and the caller\'s email, or the response template did not copy them',
    );
    check(ok.body.unitPriceCents === undefined && typeof (ok.body.links as { self?: string })?.self === 'string', 'fields the template drops leaked through');

    const soldOut = await post({ item: 'unobtainium', quantity: 1 });
    log(`POST /orders unobtainium → ${soldOut.status} ${soldOut.text}`);
    check(soldOut.status === 409 && soldOut.body.message === 'OutOfStock: unobtainium is sold out', 'the OutOfStock selection pattern should map to 409');
    const unknown = await post({ item: 'caviar', quantity: 1 });
    log(`POST /orders caviar → ${unknown.status} ${unknown.text}`);
    check(unknown.status === 400 && String(unknown.body.message).startsWith('UnknownItem:'), 'UnknownItem should map to 400');
  });
}

async function proxyErrors(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const url = `${requireOutput(outputs, 'ProdUrl')}feedback`;
  await withUser(context, async (idToken) => {
    const send = (body: string) => http(url, { method: 'POST', headers: { Authorization: idToken, 'Content-Type': 'application/json' }, body });
    const malformed = await send('{"rating": 5, "message": ');
    log(`POST /feedback with malformed JSON → ${malformed.status} ${malformed.text}`);
    check(malformed.status === 400 && String(malformed.body.message).startsWith('body is not valid JSON'), 'malformed JSON should be a 400 from the function');
    const invalid = await send('{"rating": 9, "message": ""}');
    log(`POST /feedback {"rating":9,"message":""} → ${invalid.status} ${invalid.text}`);
    check(invalid.status === 400, `an invalid body should be a 400, got ${invalid.status}`);
    const good = await send('{"rating": 5, "message": "great lab"}');
    log(`POST /feedback {"rating":5,...} → ${good.status} ${good.text}`);
    check(good.status === 200, `expected 200, got ${good.status}`);
  });
  log('with a proxy integration the function validates and chooses every status code itself');
}

async function cors(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const origin = requireOutput(outputs, 'AllowedOrigin');
  const url = `${requireOutput(outputs, 'ProdUrl')}hello`;
  const preflight = await http(url, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-api-key' },
  });
  const allowOrigin = preflight.headers.get('access-control-allow-origin');
  log(`OPTIONS /hello (preflight) → ${preflight.status}, Access-Control-Allow-Origin: ${allowOrigin}, -Methods: ${preflight.headers.get('access-control-allow-methods')}`);
  check(preflight.status === 204 && allowOrigin === origin, 'the preflight should allow the lab origin');
  const actual = await http(`${url}?name=cors`, { headers: { Origin: origin, 'x-api-key': await apiKeyValue(outputs) } });
  log(`GET /hello → Access-Control-Allow-Origin: ${actual.headers.get('access-control-allow-origin')} (set by the function)`);
  check(actual.headers.get('access-control-allow-origin') === origin, 'the proxy function must add the CORS header to real responses');
  const denied = await http(`${url}?name=cors`);
  check(denied.headers.get('access-control-allow-origin') === origin, 'gateway responses (403 here) should carry the CORS header too');
  log('an error made by API Gateway itself (403, missing key) carries the header too: the DEFAULT_4XX gateway response adds it');
}

export const steps: readonly ExerciseStep[] = [
  { id: 'health', title: 'mock integration: a response built from templates, no backend', run: mockHealth },
  { id: 'api-key', title: 'API key required: 403 without it, 200 with it', run: apiKey },
  { id: 'stages', title: 'stage variables pick the Lambda alias; prod\'s canary sends some calls to dev', run: stages },
  { id: 'throttle', title: 'usage plan throttling: a burst beyond the key\'s limit gets 429', run: throttling },
  { id: 'authorizer', title: 'Cognito user pool authorizer: 401 without a valid token, claims with one', run: authorizer },
  { id: 'orders', title: 'non-proxy: model validation, request/response mapping templates, errors by selection pattern', run: validationAndMapping },
  { id: 'feedback', title: 'proxy: the function answers 400 for malformed JSON, never 500', run: proxyErrors },
  { id: 'cors', title: 'CORS: preflight from a mock, headers on real and gateway responses', run: cors },
];
