import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { handler as ordersHandler } from '../../../lambda/api-orders';
import { handler as proxyHandler } from '../../../lambda/api-proxy';
import { steps, timing } from '../../../labs/apigateway/exercise';
import { APIGATEWAY_LAB } from '../../../labs/apigateway/constants';
import { apigatewayLab } from '../../../labs/apigateway/lab';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalUserPool, startLocalUserPool } from '../../support/local-cognito';
import { LocalRestApi, startLocalRestApi } from '../../support/local-rest-api';
import { labTemplate } from '../../support/lab-template';

jest.setTimeout(30_000);
// Time runs 10× faster in the stand-in's throttling buckets, and the exercise's pauses are 10× shorter: same behaviour.
const TIME_SCALE = 10;
const { batchPauseMs, refillPauseMs } = APIGATEWAY_LAB.exerciseTiming;

type Resource = { Type: string; Properties: Record<string, unknown> };
const lab = apigatewayLab;
const template = labTemplate(lab).toJSON().Resources as Record<string, Resource>;
const idStarting = (prefix: string, type: string) => Object.keys(template).find((id) => id.startsWith(prefix) && template[id].Type === type)!;
const API_KEY_VALUE = 'local-api-key-value-0123456789abcdef';

let pool: LocalUserPool;
const lines: string[] = [];
/** What each step printed, for tests that look at a step's output afterwards. */
const printed: Record<string, string[]> = {};
/** The requests each step made to the stand-in's stages. */
const requested: Record<string, LocalRestApi['requests']> = {};
/** When each step returned (Date.now()). */
const finishedAt: Record<string, number> = {};

async function deployLocally(
  resources: Record<string, Resource> = template,
  random?: () => number,
): Promise<{ api: LocalRestApi; outputs: Record<string, string> }> {
  let calls = 0;
  const api = await startLocalRestApi({
    resources,
    handlers: {
      [idStarting('ProxyFunction', 'AWS::Lambda::Function')]: proxyHandler as never,
      [idStarting('OrdersFunction', 'AWS::Lambda::Function')]: ordersHandler as never,
    },
    aliasVersions: { live: '1', dev: '$LATEST' },
    claimsOf: (token) => pool.claimsOf(token),
    apiKeyValues: { [idStarting('UsagePlanKey', 'AWS::ApiGateway::ApiKey')]: API_KEY_VALUE },
    // Every tenth request takes the canary: 10 %, as the prod stage declares.
    random: random ?? (() => ((calls++ % 10) + 0.5) / 10),
    timeScale: TIME_SCALE,
  });
  process.env.AWS_ENDPOINT_URL_API_GATEWAY = api.endpoint;
  const outputs = {
    ProdUrl: api.url('prod'),
    DevUrl: api.url('dev'),
    RestApiId: api.restApiId,
    ApiKeyId: api.apiKeyIds[idStarting('UsagePlanKey', 'AWS::ApiGateway::ApiKey')],
    UserPoolId: pool.userPoolId,
    UserPoolClientId: pool.clientId,
    AllowedOrigin: APIGATEWAY_LAB.allowedOrigin,
  };
  return { api, outputs };
}
const contextOf = (outputs: Record<string, string>, runId?: string): ExerciseRunOptions => ({
  outputs,
  runId,
  log: (line) => lines.push(line),
  provide: [provide(timing, { batchPauseMs: batchPauseMs / TIME_SCALE, refillPauseMs: refillPauseMs / TIME_SCALE })],
});
const clone = () => JSON.parse(JSON.stringify(template)) as Record<string, Resource>;
const methodOf = (resources: Record<string, Resource>, pathPart: string, verb: string) => {
  const resourceId = Object.keys(resources).find((id) => resources[id].Properties.PathPart === pathPart);
  return Object.values(resources).find(
    (r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.HttpMethod === verb && (r.Properties.ResourceId as { Ref: string }).Ref === resourceId,
  )!;
};

beforeAll(() => {
  pool = startLocalUserPool();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1', ALLOWED_ORIGIN: APIGATEWAY_LAB.allowedOrigin });
});
afterAll(() => {
  pool.stop();
  delete process.env.AWS_ENDPOINT_URL_API_GATEWAY;
});
beforeEach(() => (lines.length = 0));

describe('against a local stand-in built from the lab\'s template', () => {
  let deployed: { api: LocalRestApi; outputs: Record<string, string> };
  beforeAll(async () => (deployed = await deployLocally()));
  afterAll(() => deployed.api.stop());

  const matching = (pattern: RegExp) => expect.stringMatching(pattern);
  const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
  /** What the learner reads for each step of run `run-t` (ids, times, counts and the users' random suffixes vary). */
  const transcripts: Record<string, (string | ReturnType<typeof matching>)[]> = {
    health: [
      '\n== 1/1 health: mock integration: a response built from templates, no backend',
      matching(new RegExp(`^GET /health → 200 \\{ "status": "ok", "stage": "prod", "requestId": "${UUID}", "requestTime": "[\\d-]+T[\\d:.]+Z" \\}$`)),
      'no backend ran: the mock integration chose its response from the request template\'s statusCode',
    ],
    'api-key': [
      '\n== 1/1 api-key: API key required: 403 without it, 200 with it',
      'GET /hello without x-api-key → 403 {"message":"Forbidden"}',
      'GET /hello with the usage plan\'s key → 200 {"message":"Hello, key!","version":"1","alias":"live","stage":"prod","lambdaAlias":"live"}',
      'the key identified the caller for the usage plan; it authorized nothing (anyone holding it gets in)',
    ],
    stages: [
      '\n== 1/1 stages: stage variables pick the Lambda alias; prod\'s canary sends some calls to dev',
      'dev stage → alias dev, version $LATEST, stage variable lambdaAlias=dev',
      'GetStage prod → variables {"lambdaAlias":"live"}, canary 10 % with overrides {"lambdaAlias":"dev"}',
      matching(/^60 calls to the prod stage, by alias: \{"live":\d+,"dev":\d+\}$/),
      'prod\'s canary sent about 10 % of requests with lambdaAlias=dev: those ran $LATEST, the rest the published version',
    ],
    throttle: [
      '\n== 1/1 throttle: usage plan throttling: a burst beyond the key\'s limit gets 429',
      matching(/^40 simultaneous calls with one key \(usage plan: 5 requests\/s, burst 10\) → \{"200":\d+,"429":\d+\}$/),
      'a throttled call: 429 {"message":"Too Many Requests"}; clients should retry with backoff',
    ],
    authorizer: [
      '\n== 1/1 authorizer: Cognito user pool authorizer: 401 without a valid token, claims with one',
      'GET /me without a token → 401 {"message":"Unauthorized"}',
      'GET /me with an unsigned token → 401 {"message":"Unauthorized"}',
      matching(new RegExp(`^GET /me with the ID token of (run-t-\\w+@example\\.com) → 200 \\{"sub":"${UUID}","email":"\\1","groups":null,"tokenUse":"id"\\}$`)),
      'API Gateway verified the token\'s signature, issuer and expiry; the function only read the claims it passed on',
    ],
    orders: [
      '\n== 1/1 orders: non-proxy: model validation, request/response mapping templates, errors by selection pattern',
      'POST /orders {"item":"coffee","quantity":0} → 400 { "message": "[/quantity: numeric instance is lower than the required minimum (minimum: 1, found: 0)]" }',
      'POST /orders {"item":"coffee"} → 400 { "message": "[object has missing required properties ([\\"quantity\\"])]" }',
      'POST /orders {"item":"coffee","quantity":1,"discount":50} → 400 { "message": "[object instance has properties which are not allowed by the schema: [\\"discount\\"]]" }',
      'the model (JSON schema) refused those before any Lambda ran',
      matching(new RegExp(`^POST /orders \\{"item":"coffee","quantity":2\\} → 200 \\{ "orderId": "(${UUID})", "item": "coffee", "quantity": 2, "totalCents": 700, "customer": "run-t-\\w+@example\\.com", "links": \\{ "self": "/orders/\\1" \\} \\}$`)),
      'POST /orders unobtainium → 409 { "message": "OutOfStock: unobtainium is sold out" }',
      'POST /orders caviar → 400 { "message": "UnknownItem: we do not sell caviar" }',
    ],
    feedback: [
      '\n== 1/1 feedback: proxy: the function answers 400 for malformed JSON, never 500',
      'POST /feedback with malformed JSON → 400 {"message":"body is not valid JSON: Unexpected end of JSON input"}',
      'POST /feedback {"rating":9,"message":""} → 400 {"message":"rating must be a whole number from 1 to 5; message must be a non-empty string of at most 500 characters"}',
      matching(new RegExp(`^POST /feedback \\{"rating":5,\\.\\.\\.\\} → 200 \\{"received":\\{"rating":5,"message":"great lab"\\},"from":"run-t-\\w+@example\\.com","requestId":"${UUID}"\\}$`)),
      'with a proxy integration the function validates and chooses every status code itself',
    ],
    cors: [
      '\n== 1/1 cors: CORS: preflight from a mock, headers on real and gateway responses',
      'OPTIONS /hello (preflight) → 204, Access-Control-Allow-Origin: http://localhost:5173, -Methods: GET,POST,OPTIONS',
      'GET /hello → Access-Control-Allow-Origin: http://localhost:5173 (set by the function)',
      'an error made by API Gateway itself (403, missing key) carries the header too: the DEFAULT_4XX gateway response adds it',
    ],
  };
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks and prints what it saw', async (_id, step) => {
    const before = deployed.api.requests.length;
    await runExercise([step], contextOf(deployed.outputs, 'run-t'));
    finishedAt[step.id] = Date.now();
    printed[step.id] = [...lines];
    requested[step.id] = deployed.api.requests.slice(before);
    expect(lines).toEqual(transcripts[step.id]);
  });

  test('the throttle step saw the usage plan\'s burst: what the bucket held (10) plus its refill got through, the rest 429', () => {
    const line = printed.throttle.find((l) => l.startsWith('40 simultaneous calls'))!;
    const counts = JSON.parse(line.split('→ ')[1]) as Record<string, number>;
    expect(counts['200'] + counts['429']).toBe(40);
    expect(counts['200']).toBeGreaterThanOrEqual(5);
    // The bucket refills at 5 tokens/s × TIME_SCALE while the 40 calls arrive: how long that took depends on the load
    // of the machine, so the bound is computed from the arrival times the stand-in recorded.
    const burst = requested.throttle.filter((r) => r.path === '/hello');
    const seconds = (Math.max(...burst.map((r) => r.receivedAt)) - Math.min(...burst.map((r) => r.receivedAt))) / 1000;
    expect(burst).toHaveLength(40);
    expect(counts['200']).toBeLessThanOrEqual(10 + Math.ceil(5 * TIME_SCALE * seconds) + 1);
    expect(counts['429']).toBeGreaterThan(0);
    // Then the step leaves the bucket time to refill before the next step calls /hello again.
    expect(finishedAt.throttle - Math.max(...burst.map((r) => r.receivedAt))).toBeGreaterThanOrEqual(refillPauseMs / TIME_SCALE - 1);
  });

  test('every user the steps created was deleted again, and no email was sent', () => {
    expect(pool.users.size).toBe(0);
    expect(pool.emailsSent).toEqual([]);
  });

  test('the stages step read the canary with GetStage and saw its share of 60 prod calls reach dev', () => {
    expect(printed.stages).toContain('GetStage prod → variables {"lambdaAlias":"live"}, canary 10 % with overrides {"lambdaAlias":"dev"}');
    expect(printed.stages).toContain('60 calls to the prod stage, by alias: {"live":54,"dev":6}');
  });
});

describe('the exercise fails when the deployed API misbehaves', () => {
  const failureOf = async (step: string, change: (resources: Record<string, Resource>) => void, random?: () => number) => {
    const resources = clone();
    change(resources);
    const { api, outputs } = await deployLocally(resources, random);
    try {
      const error = await runExercise(steps.filter((s) => s.id === step), contextOf(outputs)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExerciseCheckFailed);
      return (error as Error).message;
    } finally {
      await api.stop();
    }
  };

  test('api-key: a method that does not require the key', async () => {
    expect(await failureOf('api-key', (r) => (methodOf(r, 'hello', 'GET').Properties.ApiKeyRequired = false))).toBe(
      'a method with apiKeyRequired should answer 403 without a key, got 200',
    );
  });

  const prodStage = (r: Record<string, Resource>) => Object.values(r).find((x) => x.Type === 'AWS::ApiGateway::Stage' && x.Properties.StageName === 'prod')!;

  test('stages: a prod stage without its canary', async () => {
    expect(await failureOf('stages', (r) => delete prodStage(r).Properties.CanarySetting)).toBe(
      'the prod stage has no canary: nothing sends a share of its calls to the dev alias',
    );
    expect(lines).toContain('GetStage prod → variables {"lambdaAlias":"live"}, canary none');
  });

  test('stages: a canary that does not override the alias', async () => {
    expect(
      await failureOf('stages', (r) => ((prodStage(r).Properties.CanarySetting as Record<string, unknown>).StageVariableOverrides = { lambdaAlias: 'live' })),
    ).toBe('the prod canary should override lambdaAlias with dev, got {"lambdaAlias":"live"}');
  });

  test('stages: a canary configured, but none of the 60 calls reached the dev alias', async () => {
    expect(await failureOf('stages', () => undefined, () => 0.99)).toBe(
      'none of 60 prod calls reached the dev alias: the 10 % canary should have taken some (all missing it has probability 0.18 %)',
    );
  });

  test('orders: a body model that accepts anything (the backend\'s own guard still refuses quantity 0)', async () => {
    const message = await failureOf('orders', (r) => {
      const model = Object.values(r).find((x) => x.Type === 'AWS::ApiGateway::Model')!;
      model.Properties.Schema = { type: 'object' };
    });
    expect(message).toBe('the model should refuse {"item":"coffee","quantity":1,"discount":50}, got 200');
  });

  test('orders: an integration without the 409 selection pattern', async () => {
    const message = await failureOf('orders', (r) => {
      const integration = methodOf(r, 'orders', 'POST').Properties.Integration as { IntegrationResponses: { StatusCode: string }[] };
      integration.IntegrationResponses = integration.IntegrationResponses.filter((x) => x.StatusCode !== '409');
    });
    expect(message).toBe('the OutOfStock selection pattern should map to 409');
  });

  test('authorizer: a method left without the Cognito authorizer', async () => {
    const message = await failureOf('authorizer', (r) => (methodOf(r, 'me', 'GET').Properties.AuthorizationType = 'NONE'));
    expect(message).toBe('expected the user\'s claims, got 401 {"message":"no verified token claims: the method needs an authorizer"}');
  });

  test('cors: gateway responses without the CORS header', async () => {
    const message = await failureOf('cors', (r) => {
      for (const x of Object.values(r)) if (x.Type === 'AWS::ApiGateway::GatewayResponse') x.Properties.ResponseParameters = {};
    });
    expect(message).toBe('gateway responses (403 here) should carry the CORS header too');
  });
});

describe('each check of the steps fails when the one answer it checks is changed', () => {
  let deployed: { api: LocalRestApi; outputs: Record<string, string> };
  beforeAll(async () => (deployed = await deployLocally()));
  afterAll(() => deployed.api.stop());
  afterEach(() => jest.restoreAllMocks());

  interface Answer {
    status: number;
    headers: Record<string, string>;
    body: Record<string, unknown>;
  }
  /** The stand-in's answers, except those to requests `which` picks, which `edit` rewrites (status, headers, JSON body). */
  function answers(which: (url: URL, init: RequestInit) => boolean, edit: (answer: Answer) => Partial<Answer>) {
    const realFetch = globalThis.fetch;
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init = {}) => {
      const response = await realFetch(input, init);
      if (!which(new URL(String(input)), init)) return response;
      const text = await response.text();
      const original: Answer = { status: response.status, headers: Object.fromEntries(response.headers), body: text ? JSON.parse(text) : {} };
      const changed = { ...original, ...edit(original) };
      const bodyless = [204, 304].includes(changed.status);
      return new Response(bodyless ? null : JSON.stringify(changed.body), { status: changed.status, headers: changed.headers });
    });
  }
  const path = (p: string, query?: string) => (url: URL) => url.pathname.endsWith(p) && (query === undefined || url.search.includes(query));
  const header = (init: RequestInit, name: string) => (init.headers as Record<string, string> | undefined)?.[name];
  const body = (init: RequestInit) => String(init.body ?? '');
  /** The stand-in's answers, except those to requests `which` picks, answered with `status` and the plain text `text`. */
  function plainAnswers(which: (url: URL) => boolean, status: number, text: string) {
    const realFetch = globalThis.fetch;
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init = {}) =>
      which(new URL(String(input))) ? new Response(text, { status, headers: { 'content-type': 'text/plain' } }) : realFetch(input, init),
    );
  }
  /** The management API as the stand-in answers, except `name` calls, whose answer `edit` rewrites. */
  function managementAnswers(name: string, edit: (answer: Record<string, unknown>) => Record<string, unknown>) {
    const send = APIGatewayClient.prototype.send as unknown as (...args: unknown[]) => Promise<Record<string, unknown>>;
    jest.spyOn(APIGatewayClient.prototype, 'send').mockImplementation(async function (this: APIGatewayClient, command: { constructor: { name: string } }, ...rest: unknown[]) {
      const answer = await send.call(this, command, ...rest);
      return command.constructor.name === `${name}Command` ? edit(answer) : answer;
    } as never);
  }

  /** Stages cases that fail before the 60 prod calls: one call to dev, which needs no refilled bucket. */
  const BEFORE_PROD_CALLS = [
    'a dev stage answering 502',
    'a dev stage calling another alias',
    'a dev alias pointing at a published version',
    'a prod stage calling the dev alias',
    'a prod stage without stage variables',
    'a canary taking half the calls',
    'a canary without its share',
    'a canary without stage variable overrides',
  ];
  test.each<[string, string, () => void, string, string?]>([
    ['api-key', 'an API key without its value', () => managementAnswers('GetApiKey', (a) => ({ ...a, value: undefined })), 'GetApiKey returned no value for the key in us-east-1'],
    ['health', 'a mock answering 500', () => answers(path('/health'), () => ({ status: 500 })), 'expected 200 from the mock integration, got 500'],
    ['health', 'a response template not applied', () => answers(path('/health'), (a) => ({ body: { ...a.body, stage: '$context.stage' } })), 'the mock response template was not applied'],
    ['health', 'a status other than ok', () => answers(path('/health'), (a) => ({ body: { ...a.body, status: 'degraded' } })), 'the mock response template was not applied'],
    ['health', 'a response template that does not render JSON', () => plainAnswers(path('/health'), 200, 'status: ok\n  stage: prod'), 'the mock response template was not applied', 'GET /health → 200 status: ok stage: prod'],
    ['health', 'no request id from $context', () => answers(path('/health'), (a) => ({ body: { ...a.body, requestId: undefined } })), 'the template should fill requestId from $context'],
    ['api-key', 'a refused key', () => answers((url, init) => path('/hello', 'name=key')(url) && header(init, 'x-api-key') !== undefined, () => ({ status: 403, body: { message: 'Forbidden' } })), 'expected the greeting, got 403 {"message":"Forbidden"}'],
    ['api-key', 'a greeting answered 500', () => answers((url, init) => path('/hello', 'name=key')(url) && header(init, 'x-api-key') !== undefined, () => ({ status: 500 })), 'expected the greeting, got 500 {"message":"Hello, key!",'],
    ['api-key', 'a greeting for another name', () => answers((url, init) => path('/hello', 'name=key')(url) && header(init, 'x-api-key') !== undefined, (a) => ({ body: { ...a.body, message: 'Hello, stranger!' } })), 'expected the greeting, got 200 {"message":"Hello, stranger!",'],
    ['stages', 'a dev stage answering 502', () => answers((url) => url.pathname.includes('/dev/'), () => ({ status: 502, body: { message: 'Internal server error' } })), 'dev /hello answered 502'],
    ['stages', 'a dev stage calling another alias', () => answers((url) => url.pathname.includes('/dev/'), (a) => ({ body: { ...a.body, alias: 'beta' } })), 'the dev stage should call the dev alias, which points at $LATEST'],
    ['stages', 'a dev alias pointing at a published version', () => answers((url) => url.pathname.includes('/dev/'), (a) => ({ body: { ...a.body, version: '3' } })), 'the dev stage should call the dev alias, which points at $LATEST', 'dev stage → alias dev, version 3, stage variable lambdaAlias=dev'],
    ['stages', 'a prod stage calling the dev alias', () => managementAnswers('GetStage', (a) => ({ ...a, variables: { lambdaAlias: 'dev' } })), "the prod stage's lambdaAlias should be live, got dev"],
    ['stages', 'a canary taking half the calls', () => managementAnswers('GetStage', (a) => ({ ...a, canarySettings: { ...(a.canarySettings as object), percentTraffic: 50 } })), 'the prod canary should take a small share of the calls, not 50 %'],
    ['stages', 'a prod stage without stage variables', () => managementAnswers('GetStage', (a) => ({ ...a, variables: undefined })), "the prod stage's lambdaAlias should be live, got undefined", 'GetStage prod → variables {}, canary 10 % with overrides {"lambdaAlias":"dev"}'],
    ['stages', 'a canary without its share', () => managementAnswers('GetStage', (a) => ({ ...a, canarySettings: { ...(a.canarySettings as object), percentTraffic: undefined } })), 'the prod canary should take a small share of the calls, not 0 %', 'GetStage prod → variables {"lambdaAlias":"live"}, canary undefined % with overrides {"lambdaAlias":"dev"}'],
    ['stages', 'a canary without stage variable overrides', () => managementAnswers('GetStage', (a) => ({ ...a, canarySettings: { ...(a.canarySettings as object), stageVariableOverrides: undefined } })), 'the prod canary should override lambdaAlias with dev, got {}', 'GetStage prod → variables {"lambdaAlias":"live"}, canary 10 % with overrides {}'],
    ['stages', 'a prod call answering 502', () => answers(path('/hello', 'name=prod'), () => ({ status: 502, body: {} })), 'prod /hello answered 502'],
    ['stages', 'a stage variable another alias than the one that ran', () => answers(path('/hello', 'name=prod'), (a) => ({ body: { ...a.body, lambdaAlias: 'dev', alias: 'live' } })), 'the stage variable said dev but alias live ran'],
    ['stages', 'the live alias running $LATEST', () => answers(path('/hello', 'name=prod'), (a) => ({ body: { ...a.body, ...(a.body.alias === 'live' ? { version: '$LATEST' } : {}) } })), 'alias live ran version $LATEST'],
    ['stages', 'the canary\'s dev alias running a published version', () => answers(path('/hello', 'name=prod'), (a) => ({ body: { ...a.body, ...(a.body.alias === 'dev' ? { version: '7' } : {}) } })), 'alias dev ran version 7'],
    ['stages', 'an alias that is neither live nor dev', () => answers(path('/hello', 'name=prod'), (a) => ({ body: { ...a.body, ...(a.body.alias === 'dev' ? { alias: 'beta', lambdaAlias: 'beta' } : {}) } })), 'unexpected aliases live, beta'],
    ['stages', 'every prod call on the canary', () => answers(path('/hello', 'name=prod'), (a) => ({ body: { ...a.body, alias: 'dev', lambdaAlias: 'dev', version: '$LATEST' } })), 'most prod calls should reach the live alias'],
    ['throttle', 'no throttling', () => answers(path('/hello', 'name=burst'), (a) => (a.status === 429 ? { status: 200 } : {})), "no call was throttled (429): the usage plan's burst limit is not applied"],
    ['throttle', 'a throttled call answered 503', () => {
      let throttled = 0;
      answers(path('/hello', 'name=burst'), (a) => (a.status === 429 && ++throttled === 1 ? { status: 503 } : {}));
    }, '"503":1}'],
    ['authorizer', 'an anonymous call let through', () => answers((url, init) => path('/me')(url) && header(init, 'Authorization') === undefined, () => ({ status: 200, body: {} })), 'expected 401 without a token, got 200'],
    ['authorizer', 'an unsigned token accepted', () => answers((url, init) => path('/me')(url) && String(header(init, 'Authorization')).startsWith('eyJhbGciOiJub25lIn0'), () => ({ status: 200, body: {} })), 'an unsigned token must be refused, got 200'],
    ['authorizer', 'claims of an access token', () => answers((url, init) => path('/me')(url) && header(init, 'Authorization') !== undefined, (a) => ({ body: { ...a.body, tokenUse: 'access' } })), 'the Cognito authorizer without scopes expects an ID token'],
    ['authorizer', 'the user\'s claims answered 500', () => answers((url, init) => path('/me')(url) && header(init, 'Authorization') !== undefined, (a) => (a.status === 200 ? { status: 500 } : {})), 'expected the user\'s claims, got 500 {"sub":"'],
    ['authorizer', 'claims of another user', () => answers((url, init) => path('/me')(url) && header(init, 'Authorization') !== undefined, (a) => (a.status === 200 ? { body: { ...a.body, email: 'someone-else@example.com' } } : {})), 'expected the user\'s claims, got 200 {"sub":"'],
    ['orders', 'a refusal that does not say why', () => answers(path('/orders'), (a) => (a.status === 400 ? { body: {} } : {})), 'the BAD_REQUEST_BODY gateway response should say what is wrong'],
    ['orders', 'a good order answered 502', () => answers((url, init) => path('/orders')(url) && body(init).includes('"quantity":2'), () => ({ status: 502, body: { message: 'Internal server error' } })), 'expected 200, got 502'],
    ['orders', 'a total the template did not compute', () => answers((url, init) => path('/orders')(url) && body(init).includes('"quantity":2'), (a) => ({ body: { ...a.body, totalCents: 0 } })), "the request template did not pass the body and the caller's email"],
    ['orders', 'an order for another item', () => answers((url, init) => path('/orders')(url) && body(init).includes('"quantity":2'), (a) => ({ body: { ...a.body, item: 'tea' } })), "the request template did not pass the body and the caller's email"],
    ['orders', 'an order of another quantity', () => answers((url, init) => path('/orders')(url) && body(init).includes('"quantity":2'), (a) => ({ body: { ...a.body, quantity: 3 } })), "the request template did not pass the body and the caller's email"],
    ['orders', 'an order for another customer', () => answers((url, init) => path('/orders')(url) && body(init).includes('"quantity":2'), (a) => ({ body: { ...a.body, customer: 'someone-else@example.com' } })), "the request template did not pass the body and the caller's email"],
    ['orders', 'a field the response template drops', () => answers((url, init) => path('/orders')(url) && body(init).includes('"quantity":2'), (a) => ({ body: { ...a.body, unitPriceCents: 350 } })), 'fields the template drops leaked through'],
    ['orders', 'an order without its link', () => answers((url, init) => path('/orders')(url) && body(init).includes('"quantity":2'), (a) => ({ body: { ...a.body, links: undefined } })), 'fields the template drops leaked through'],
    ['orders', 'a sold-out item answered 200', () => answers((url, init) => path('/orders')(url) && body(init).includes('unobtainium'), () => ({ status: 200 })), 'the OutOfStock selection pattern should map to 409'],
    ['orders', 'a sold-out item refused with another message', () => answers((url, init) => path('/orders')(url) && body(init).includes('unobtainium'), () => ({ status: 409, body: { message: 'Conflict' } })), 'the OutOfStock selection pattern should map to 409'],
    ['orders', 'an unknown item refused with another message', () => answers((url, init) => path('/orders')(url) && body(init).includes('caviar'), () => ({ status: 400, body: { message: 'Bad Request' } })), 'UnknownItem should map to 400'],
    ['orders', 'an unknown item answered 500', () => answers((url, init) => path('/orders')(url) && body(init).includes('caviar'), () => ({ status: 500, body: { message: 'UnknownItem: caviar' } })), 'UnknownItem should map to 400'],
    ['feedback', 'malformed JSON answered 500', () => answers((url, init) => path('/feedback')(url) && !body(init).trim().endsWith('}'), () => ({ status: 500, body: { message: 'Internal server error' } })), 'malformed JSON should be a 400 from the function'],
    ['feedback', 'malformed JSON refused with 422', () => answers((url, init) => path('/feedback')(url) && !body(init).trim().endsWith('}'), () => ({ status: 422 })), 'malformed JSON should be a 400 from the function'],
    ['feedback', 'malformed JSON refused with another message', () => answers((url, init) => path('/feedback')(url) && !body(init).trim().endsWith('}'), () => ({ status: 400, body: { message: 'Bad Request' } })), 'malformed JSON should be a 400 from the function'],
    ['feedback', 'an invalid body accepted', () => answers((url, init) => path('/feedback')(url) && body(init).includes('"rating": 9'), () => ({ status: 200, body: {} })), 'an invalid body should be a 400, got 200'],
    ['feedback', 'good feedback refused', () => answers((url, init) => path('/feedback')(url) && body(init).includes('great lab'), () => ({ status: 400, body: {} })), 'expected 200, got 400'],
    ['cors', 'a preflight for any origin', () => answers((url, init) => path('/hello')(url) && init.method === 'OPTIONS', (a) => ({ headers: { ...a.headers, 'access-control-allow-origin': '*' } })), 'the preflight should allow the lab origin'],
    ['cors', 'a preflight answered 200', () => answers((url, init) => path('/hello')(url) && init.method === 'OPTIONS', () => ({ status: 200 })), 'the preflight should allow the lab origin'],
    ['cors', 'a real response without the header', () => answers((url, init) => path('/hello', 'name=cors')(url) && header(init, 'x-api-key') !== undefined, (a) => ({ headers: Object.fromEntries(Object.entries(a.headers).filter(([name]) => name !== 'access-control-allow-origin')) })), 'the proxy function must add the CORS header to real responses'],
  ])('%s fails on %s', async (id, name, breakIt, message, ...printedLine) => {
    // The usage plan's bucket refills between tests that call /hello many times, as between the steps of a run.
    if (id === 'throttle' || (id === 'stages' && !BEFORE_PROD_CALLS.includes(name))) await new Promise((resolve) => setTimeout(resolve, refillPauseMs / TIME_SCALE));
    breakIt();
    const error = await runExercise(steps.filter((s) => s.id === id), contextOf(deployed.outputs)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toContain(message);
    // A rest parameter: with a fifth one, jest would pass the rows without a printed line a done callback.
    for (const line of printedLine) if (line !== undefined) expect(lines).toContain(line);
  });

  test('authorizer passes when API Gateway refuses the unsigned token with 403 rather than 401', async () => {
    answers((url, init) => path('/me')(url) && String(header(init, 'Authorization')).startsWith('eyJhbGciOiJub25lIn0'), () => ({ status: 403, body: { message: 'Forbidden' } }));
    await runExercise(steps.filter((s) => s.id === 'authorizer'), contextOf(deployed.outputs));
    expect(lines).toContain('GET /me with an unsigned token → 403 {"message":"Forbidden"}');
  });

  describe('the management API is called in the API\'s Region: its URL\'s, else AWS_REGION, else us-east-1', () => {
    const region = process.env.AWS_REGION;
    afterEach(() => (process.env.AWS_REGION = region));
    const API_HOST = 'https://a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com/prod/';
    test.each<[string, string | undefined, boolean, string]>([
      ['the Region in the URL', 'us-east-1', true, 'eu-west-2'],
      ['AWS_REGION when the URL names none', 'eu-central-1', false, 'eu-central-1'],
      ['us-east-1 without either', undefined, false, 'us-east-1'],
    ])('%s', async (_name, awsRegion, onAws, expected) => {
      if (awsRegion === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = awsRegion;
      const realFetch = globalThis.fetch;
      // The API's URL on AWS, served by the stand-in.
      jest.spyOn(globalThis, 'fetch').mockImplementation((input, init) => realFetch(String(input).replace(API_HOST, deployed.outputs.ProdUrl), init));
      // GetApiKey, the step's one management call, answers without the value; its client's Region is recorded.
      const signedFor: string[] = [];
      const send = APIGatewayClient.prototype.send as unknown as (...args: unknown[]) => Promise<Record<string, unknown>>;
      jest.spyOn(APIGatewayClient.prototype, 'send').mockImplementation(async function (this: APIGatewayClient, ...args: unknown[]) {
        signedFor.push(await this.config.region());
        return { ...(await send.apply(this, args)), value: undefined };
      } as never);
      const outputs = onAws ? { ...deployed.outputs, ProdUrl: API_HOST } : deployed.outputs;
      const error = await runExercise(steps.filter((s) => s.id === 'api-key'), contextOf(outputs)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExerciseCheckFailed);
      expect((error as Error).message).toBe(`GetApiKey returned no value for the key in ${expected}`);
      expect(signedFor).toEqual([expected]);
    });
  });

  test('each client of the management API is destroyed after its call', async () => {
    const destroy = jest.spyOn(APIGatewayClient.prototype, 'destroy');
    await runExercise(steps.filter((s) => s.id === 'api-key'), contextOf(deployed.outputs));
    expect(destroy).toHaveBeenCalledTimes(1);
  });
});
