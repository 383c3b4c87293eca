import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { renderMappingTemplate } from './vtl';

/**
 * A stand-in for an API Gateway REST API, built from a synthesized template, for exercises (there is no local API
 * Gateway engine). It serves `/<stage>/<path>` on loopback and models what the lab's exercise observes: stages and
 * stage variables, a canary's share and overrides, API keys of usage plans with their token-bucket throttling,
 * a Cognito user pool authorizer (through a claims callback), body validation against a model (a JSON-schema subset:
 * type, required, additionalProperties, min/max length and value), MOCK, AWS (non-proxy: VTL templates rendered with
 * velocityjs, errors chosen by selection pattern) and AWS_PROXY integrations to in-process handlers, and gateway
 * responses. It also answers API Gateway's management calls GetApiKey and GetStage (SigV4 header checked for presence
 * and scope).
 * Not modelled: caching, execution logs, authorizer result caching, integration timeouts, binary media.
 */
type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json };
type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalRestApiOptions {
  /** The template's Resources. */
  readonly resources: Record<string, Resource>;
  /** Handlers by the logical id of their AWS::Lambda::Function. */
  readonly handlers: Record<string, Handler>;
  /** Version each alias name points at (`$LATEST` or a number). */
  readonly aliasVersions: Record<string, string>;
  /** Claims of a valid token of the authorizer's user pool; undefined for an invalid one. */
  readonly claimsOf: (token: string) => Json | undefined;
  /** The value of each API key, by the key's logical id. */
  readonly apiKeyValues: Record<string, string>;
  readonly random?: () => number;
  /** How much faster than real time the throttling buckets refill (tests shorten the exercise's pauses alike). @default 1 */
  readonly timeScale?: number;
}

export interface LocalRestApi {
  readonly endpoint: string;
  /** The id GetStage takes (the RestApiId output of a deployed lab). */
  readonly restApiId: string;
  url(stage: string): string;
  /** Key id (as GetApiKey takes it) of each API key logical id. */
  readonly apiKeyIds: Record<string, string>;
  /** Every request to a stage, in the order they were answered; `receivedAt` is Date.now() when its body had arrived. */
  readonly requests: { stage: string; method: string; path: string; status: number; receivedAt: number }[];
  stop(): Promise<void>;
}

const refOf = (value: unknown): string | undefined =>
  (value as { Ref?: string })?.Ref ?? (value as { 'Fn::GetAtt'?: string[] })?.['Fn::GetAtt']?.[0];

function validate(schema: Json, value: unknown, path = ''): string[] {
  const type = schema.type as string | undefined;
  const typeOk =
    type === undefined ||
    (type === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'integer' && Number.isInteger(value)) ||
    (type === 'number' && typeof value === 'number');
  if (!typeOk) return [`${path || 'body'}: instance type does not match ${type}`];
  const problems: string[] = [];
  if (type === 'object') {
    const object = value as Json;
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) problems.push(`object has missing required properties (["${key}"])`);
    const properties = (schema.properties as Record<string, Json> | undefined) ?? {};
    if (schema.additionalProperties === false) {
      const extra = Object.keys(object).filter((k) => !(k in properties));
      if (extra.length > 0) problems.push(`object instance has properties which are not allowed by the schema: ${JSON.stringify(extra)}`);
    }
    for (const [key, sub] of Object.entries(properties)) if (key in object) problems.push(...validate(sub, object[key], `/${key}`));
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < Number(schema.minLength)) problems.push(`${path}: string is too short`);
    if (schema.maxLength !== undefined && value.length > Number(schema.maxLength)) problems.push(`${path}: string is too long`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < Number(schema.minimum)) problems.push(`${path}: numeric instance is lower than the required minimum (minimum: ${schema.minimum}, found: ${value})`);
    if (schema.maximum !== undefined && value > Number(schema.maximum)) problems.push(`${path}: numeric instance is greater than the required maximum (maximum: ${schema.maximum}, found: ${value})`);
  }
  return problems;
}

const unquote = (value: unknown) => String(value).replace(/^'(.*)'$/, '$1');

export async function startLocalRestApi(options: LocalRestApiOptions): Promise<LocalRestApi> {
  const { resources } = options;
  const random = options.random ?? Math.random;
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const restApiId = of('AWS::ApiGateway::RestApi')[0][0];

  // Resource paths from the PathPart/ParentId tree.
  const pathOf = (id: string | undefined): string => {
    if (!id || id === restApiId) return '';
    const resource = resources[id];
    return `${pathOf(refOf(resource.Properties.ParentId))}/${resource.Properties.PathPart}`;
  };
  const methods: (Json & { path: string })[] = of('AWS::ApiGateway::Method').map(([, r]) => ({
    ...r.Properties,
    path: pathOf(refOf(r.Properties.ResourceId)) || '/',
  }));
  const stages: Record<string, Json & { id: string }> = Object.fromEntries(
    of('AWS::ApiGateway::Stage').map(([id, r]) => [String(r.Properties.StageName), { id, ...r.Properties }]),
  );
  const gatewayResponses = Object.fromEntries(of('AWS::ApiGateway::GatewayResponse').map(([, r]) => [String(r.Properties.ResponseType), r.Properties]));
  const models = Object.fromEntries(of('AWS::ApiGateway::Model').map(([id, r]) => [id, r.Properties.Schema as Json]));
  const validators = Object.fromEntries(of('AWS::ApiGateway::RequestValidator').map(([id, r]) => [id, r.Properties]));
  const apiKeyIds = Object.fromEntries(of('AWS::ApiGateway::ApiKey').map(([id]) => [id, `key-${id.toLowerCase().slice(0, 10)}`]));
  const keyByValue = new Map(Object.entries(options.apiKeyValues).map(([id, value]) => [value, id]));
  const plans = of('AWS::ApiGateway::UsagePlan').map(([id, r]) => ({
    id,
    stageIds: ((r.Properties.ApiStages as Json[]) ?? []).map((s) => refOf(s.Stage)),
    throttle: r.Properties.Throttle as { RateLimit?: number; BurstLimit?: number } | undefined,
    keys: of('AWS::ApiGateway::UsagePlanKey').filter(([, k]) => refOf(k.Properties.UsagePlanId) === id).map(([, k]) => refOf(k.Properties.KeyId)),
  }));
  const buckets = new Map<string, { tokens: number; at: number }>();
  const requests: LocalRestApi['requests'] = [];

  const takeToken = (key: string, rate: number, burst: number): boolean => {
    const now = Date.now();
    const bucket = buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate * (options.timeScale ?? 1));
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  interface Reply {
    status: number;
    headers: Record<string, string>;
    body: string;
  }
  const gatewayResponse = (type: string, status: number, message: string, context: Json = {}): Reply => {
    const specific = gatewayResponses[type];
    const family = gatewayResponses[status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX'];
    const chosen = specific ?? family;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [key, value] of Object.entries((chosen?.ResponseParameters as Json) ?? {})) headers[key.replace('gatewayresponse.header.', '').toLowerCase()] = unquote(value);
    const template = (chosen?.ResponseTemplates as Json | undefined)?.['application/json'] as string | undefined;
    const body = template ? renderMappingTemplate(template, { context }) : JSON.stringify({ message });
    return { status: Number(chosen?.StatusCode ?? status), headers, body };
  };

  const functionOf = (uri: unknown): { fnId: string; variable?: string } => {
    const parts = ((uri as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? []) as unknown[];
    const fnId = parts.map(refOf).find((id) => id && resources[id]?.Type === 'AWS::Lambda::Function');
    const variable = parts.map((p) => (typeof p === 'string' ? /\$\{stageVariables\.(\w+)\}/.exec(p)?.[1] : undefined)).find(Boolean);
    if (!fnId) throw new Error(`integration URI names no function: ${JSON.stringify(uri)}`);
    return { fnId, variable };
  };
  const invoke = async (fnId: string, alias: string | undefined, event: unknown, requestId: string) => {
    const handler = options.handlers[fnId];
    if (!handler) throw new Error(`no local handler for ${fnId}`);
    const version = alias ? options.aliasVersions[alias] : '$LATEST';
    if (version === undefined) throw new Error(`alias ${alias} of ${fnId} does not exist`);
    const arn = `arn:aws:lambda:us-east-1:123456789012:function:${fnId}${alias ? `:${alias}` : ''}`;
    return handler(event, { functionName: fnId, functionVersion: version, invokedFunctionArn: arn, awsRequestId: requestId } as Context);
  };

  async function handle(req: IncomingMessage, body: string): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://local');
    const [, stageName, ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}`.replace(/\/$/, '') || '/';
    const method = req.method ?? 'GET';
    const requestId = randomUUID();
    const stage = stages[stageName];
    const context: Json = { requestId, stage: stageName, requestTime: new Date().toISOString(), identity: { sourceIp: '127.0.0.1' } };
    if (!stage) return gatewayResponse('MISSING_AUTHENTICATION_TOKEN', 403, 'Forbidden', context);
    const canary = stage.CanarySetting as { PercentTraffic?: number; StageVariableOverrides?: Record<string, string> } | undefined;
    const isCanary = canary?.PercentTraffic !== undefined && random() * 100 < canary.PercentTraffic;
    const variables = { ...(stage.Variables as Record<string, string>), ...(isCanary ? canary?.StageVariableOverrides : {}) };
    const target = methods.find((m) => m.path === path && m.HttpMethod === method);
    if (!target) return gatewayResponse('MISSING_AUTHENTICATION_TOKEN', 403, 'Missing Authentication Token', context);
    const header = (name: string) => req.headers[name.toLowerCase()] as string | undefined;

    if (target.ApiKeyRequired) {
      const keyId = keyByValue.get(header('x-api-key') ?? '');
      const plan = plans.find((p) => keyId && p.keys.includes(keyId) && p.stageIds.includes(stage.id));
      if (!keyId || !plan) return gatewayResponse('INVALID_API_KEY', 403, 'Forbidden', context);
      context.identity = { ...(context.identity as Json), apiKeyId: apiKeyIds[keyId] };
      if (plan.throttle && !takeToken(`${plan.id}/${keyId}`, plan.throttle.RateLimit ?? Infinity, plan.throttle.BurstLimit ?? Infinity)) {
        return gatewayResponse('THROTTLED', 429, 'Too Many Requests', context);
      }
    }
    let claims: Json | undefined;
    if (target.AuthorizationType === 'COGNITO_USER_POOLS') {
      const token = header('authorization');
      claims = token ? options.claimsOf(token) : undefined;
      if (!claims || claims.token_use !== 'id') return gatewayResponse('UNAUTHORIZED', 401, 'Unauthorized', context);
      context.authorizer = { claims };
    }
    const validator = validators[refOf(target.RequestValidatorId) ?? ''];
    const model = models[refOf((target.RequestModels as Json | undefined)?.['application/json']) ?? ''];
    if (validator?.ValidateRequestBody && model) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
      const problems = parsed === undefined ? ['body is not JSON'] : validate(model, parsed);
      if (problems.length > 0) {
        return gatewayResponse('BAD_REQUEST_BODY', 400, 'Invalid request body', { ...context, error: { validationErrorString: `[${problems.join(', ')}]` } });
      }
    }

    const integration = target.Integration as Json;
    const respondFrom = (chosen: Json, input: string): Reply => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const [key, value] of Object.entries((chosen.ResponseParameters as Json) ?? {})) headers[key.replace('method.response.header.', '').toLowerCase()] = unquote(value);
      const template = (chosen.ResponseTemplates as Json | undefined)?.['application/json'] as string | undefined;
      return { status: Number(chosen.StatusCode), headers, body: template ? renderMappingTemplate(template, { body: input, context }) : input };
    };
    const responses = (integration.IntegrationResponses as Json[] | undefined) ?? [];
    if (integration.Type === 'MOCK') {
      const template = (integration.RequestTemplates as Json)['application/json'] as string;
      // The request template only chooses the integration response (CDK's preflight template is not even JSON).
      const statusCode = /statusCode"?\s*:\s*(\d+)/.exec(renderMappingTemplate(template, { context }))?.[1];
      return respondFrom(responses.find((r) => r.StatusCode === statusCode) ?? responses[0], '');
    }
    const { fnId, variable } = functionOf(integration.Uri);
    const alias = variable ? variables[variable] : undefined;
    if (integration.Type === 'AWS_PROXY') {
      const event = {
        resource: path,
        path,
        httpMethod: method,
        headers: req.headers,
        queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
        body: body === '' ? null : body,
        isBase64Encoded: false,
        stageVariables: variables,
        requestContext: { stage: stageName, requestId, authorizer: claims ? { claims } : undefined },
      };
      const result = (await invoke(fnId, alias, event, requestId)) as { statusCode: number; headers?: Record<string, string>; body?: string };
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      return { status: result.statusCode, headers, body: result.body ?? '' };
    }
    // AWS (non-proxy): request template → backend → integration response chosen by selection pattern.
    const requestTemplate = (integration.RequestTemplates as Json)['application/json'] as string;
    const backendEvent = JSON.parse(renderMappingTemplate(requestTemplate, { body, context, stageVariables: variables }));
    try {
      const result = await invoke(fnId, alias, backendEvent, requestId);
      return respondFrom(responses.find((r) => r.SelectionPattern === undefined) ?? responses[0], JSON.stringify(result));
    } catch (error) {
      const errorMessage = (error as Error).message;
      const chosen = responses.find((r) => r.SelectionPattern !== undefined && new RegExp(`^(?:${r.SelectionPattern})$`).test(errorMessage));
      const payload = JSON.stringify({ errorType: (error as Error).name, errorMessage });
      return respondFrom(chosen ?? responses.find((r) => r.SelectionPattern === undefined) ?? responses[0], payload);
    }
  }

  const restApiIdValue = `api-${restApiId.toLowerCase().slice(0, 10)}`;
  const json = (status: number, value: unknown): Reply => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
  const getApiKey = (id: string): Reply => {
    const keyId = Object.entries(apiKeyIds).find(([, value]) => value === id)?.[0];
    if (!keyId) return json(404, { message: 'Invalid API Key identifier specified' });
    return json(200, { id, value: options.apiKeyValues[keyId], enabled: true });
  };
  const getStage = (apiId: string, stageName: string): Reply => {
    const stage = stages[stageName];
    if (apiId !== restApiIdValue || !stage) return json(404, { message: 'Invalid stage identifier specified' });
    const canary = stage.CanarySetting as { PercentTraffic?: number; StageVariableOverrides?: Record<string, string>; UseStageCache?: boolean } | undefined;
    return json(200, {
      stageName: stage.StageName,
      variables: stage.Variables,
      canarySettings: canary && {
        percentTraffic: canary.PercentTraffic,
        stageVariableOverrides: canary.StageVariableOverrides,
        useStageCache: canary.UseStageCache ?? false,
      },
    });
  };
  const managementCall = (req: IncomingMessage): Reply | undefined => {
    const keyMatch = /^\/apikeys\/([^/?]+)\?includeValue=true$/.exec(req.url ?? '');
    const stageMatch = /^\/restapis\/([^/?]+)\/stages\/([^/?]+)$/.exec(req.url ?? '');
    if (!keyMatch && !stageMatch) return undefined;
    const authorization = String(req.headers.authorization ?? '');
    if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/apigateway\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/.test(authorization)) {
      return json(403, { message: 'Missing Authentication Token' });
    }
    return keyMatch ? getApiKey(keyMatch[1]) : getStage(stageMatch![1], decodeURIComponent(stageMatch![2]));
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receivedAt = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const management = managementCall(req);
      (management ? Promise.resolve(management) : handle(req, body))
        .catch((error: unknown): Reply => ({ status: 500, headers: {}, body: JSON.stringify({ message: `local stand-in: ${(error as Error).message}` }) }))
        .then((reply) => {
          const [, stage = '', ...rest] = new URL(req.url ?? '/', 'http://local').pathname.split('/');
          if (!management) requests.push({ stage, method: req.method ?? '', path: `/${rest.join('/')}`, status: reply.status, receivedAt });
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    restApiId: restApiIdValue,
    url: (stage) => `${endpoint}/${stage}/`,
    apiKeyIds,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
