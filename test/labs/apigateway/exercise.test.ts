import { handler as ordersHandler } from '../../../lambda/api-orders';
import { handler as proxyHandler } from '../../../lambda/api-proxy';
import { steps, timing } from '../../../labs/apigateway/exercise';
import { ApigatewayLabStack } from '../../../labs/apigateway/stack';
import { APIGATEWAY_LAB } from '../../../labs/apigateway/constants';
import { apigatewayLab } from '../../../labs/apigateway/lab';
import { withStack } from '../../../labs/support/app';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalUserPool, startLocalUserPool } from '../../support/local-cognito';
import { LocalRestApi, startLocalRestApi } from '../../support/local-rest-api';
import { labTemplate } from '../../support/synth';

jest.setTimeout(30_000);
// Time runs 10× faster in the stand-in's throttling buckets, and the exercise's pauses are 10× shorter: same behaviour.
const TIME_SCALE = 10;
const { batchPauseMs, refillPauseMs } = APIGATEWAY_LAB.exerciseTiming;

type Resource = { Type: string; Properties: Record<string, unknown> };
const lab = withStack(apigatewayLab, ApigatewayLabStack);
const template = labTemplate(lab).toJSON().Resources as Record<string, Resource>;
const idStarting = (prefix: string, type: string) => Object.keys(template).find((id) => id.startsWith(prefix) && template[id].Type === type)!;
const API_KEY_VALUE = 'local-api-key-value-0123456789abcdef';

let pool: LocalUserPool;
const lines: string[] = [];
/** What each step printed, for tests that look at a step's output afterwards. */
const printed: Record<string, string[]> = {};
/** The requests each step made to the stand-in's stages. */
const requested: Record<string, LocalRestApi['requests']> = {};

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
const contextOf = (outputs: Record<string, string>): ExerciseRunOptions => ({
  outputs,
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

  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (_id, step) => {
    const before = deployed.api.requests.length;
    await runExercise([step], contextOf(deployed.outputs));
    printed[step.id] = [...lines];
    requested[step.id] = deployed.api.requests.slice(before);
    expect(lines.length).toBeGreaterThan(2);
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
