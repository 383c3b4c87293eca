import { Match } from 'aws-cdk-lib/assertions';
import { APIGATEWAY_LAB } from '../../../labs/apigateway/constants';
import {
  BAD_REQUEST_BODY_TEMPLATE,
  ORDER_ERROR_PATTERNS,
  ORDER_ERROR_TEMPLATE,
  ORDER_REQUEST_SCHEMA,
  ORDER_REQUEST_TEMPLATE,
  ORDER_RESPONSE_TEMPLATE,
} from '../../../labs/apigateway/templates';
import { apigatewayLab } from '../../../labs/apigateway/lab';
import { featureTemplate, labTemplate } from '../../support/lab-template';

const lab = apigatewayLab;
const template = labTemplate(lab);
type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
const resources = template.toJSON().Resources as Record<string, Resource>;
const idOf = (type: string, match: (r: Resource) => boolean) => Object.entries(resources).find(([, r]) => r.Type === type && match(r))?.[0];
const stageId = (name: string) => idOf('AWS::ApiGateway::Stage', (r) => r.Properties.StageName === name)!;
const resourceId = (pathPart: string) => idOf('AWS::ApiGateway::Resource', (r) => r.Properties.PathPart === pathPart)!;
const method = (pathPart: string, httpMethod: string) =>
  Object.values(resources).find(
    (r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.HttpMethod === httpMethod && (r.Properties.ResourceId as { Ref: string }).Ref === resourceId(pathPart),
  )!.Properties;
const stageVariableUri = Match.objectLike({
  'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ProxyFunction'), 'Arn'] }, ':${stageVariables.lambdaAlias}/invocations'])],
});

describe('stages', () => {
  test('prod and dev share one deployment; each stage variable names the Lambda alias it calls', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'prod', Variables: { lambdaAlias: 'live' } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'dev', Variables: { lambdaAlias: 'dev' } });
    const deployments = new Set(
      ['prod', 'dev'].map((s) => (resources[stageId(s)].Properties.DeploymentId as { Ref: string }).Ref),
    );
    expect(deployments.size).toBe(1);
  });

  test('prod has a canary: 10 % of requests use the dev alias, without the stage cache', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      CanarySetting: {
        DeploymentId: { Ref: Match.stringLikeRegexp('^RestApiDeployment') },
        PercentTraffic: 10,
        StageVariableOverrides: { lambdaAlias: 'dev' },
        UseStageCache: false,
      },
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'dev', CanarySetting: Match.absent() });
  });

  test('every stage traces with X-Ray, writes JSON access logs and execution logs, and is throttled', () => {
    for (const [name, settings] of Object.entries(APIGATEWAY_LAB.stages)) {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: name,
        TracingEnabled: true,
        AccessLogSetting: {
          DestinationArn: Match.anyValue(),
          Format: Match.serializedJson(Match.objectLike({ requestId: '$context.requestId', status: '$context.status', canary: '$context.isCanaryRequest' })),
        },
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            LoggingLevel: name === 'dev' ? 'INFO' : 'ERROR',
            DataTraceEnabled: name === 'dev',
            MetricsEnabled: true,
            ThrottlingRateLimit: settings.throttle.rateLimit,
            ThrottlingBurstLimit: settings.throttle.burstLimit,
          }),
        ]),
      });
    }
  });

  test('no cache cluster unless asked (it bills hourly)', () => {
    template.resourcePropertiesCountIs('AWS::ApiGateway::Stage', { CacheClusterEnabled: true }, 0);
  });

  test('-c apigateway:cache=true adds a 0.5 GB encrypted cache on prod for GET /hello, keyed by name', () => {
    const cached = featureTemplate(lab, 'cache');
    cached.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      CacheClusterEnabled: true,
      CacheClusterSize: '0.5',
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ResourcePath: '/~1hello', HttpMethod: 'GET', CachingEnabled: true, CacheTtlInSeconds: 60, CacheDataEncrypted: true }),
      ]),
    });
    cached.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'dev', CacheClusterEnabled: Match.absent() });
  });
});

describe('integrations', () => {
  test('GET /hello, GET /me and POST /feedback are Lambda proxy integrations with the alias the stage variable names', () => {
    for (const [path, verb] of [['hello', 'GET'], ['me', 'GET'], ['feedback', 'POST']]) {
      expect(method(path, verb).Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      expect(JSON.stringify(method(path, verb).Integration)).toContain(':${stageVariables.lambdaAlias}/invocations');
    }
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', Integration: Match.objectLike({ Uri: stageVariableUri }) });
  });

  test('GET /hello keys its cache on the name query string', () => {
    expect(method('hello', 'GET')).toMatchObject({
      RequestParameters: { 'method.request.querystring.name': false },
      Integration: { CacheKeyParameters: ['method.request.querystring.name'] },
    });
  });

  test('GET /health is a mock integration: the request template picks the response, no backend', () => {
    expect(method('health', 'GET').Integration).toMatchObject({
      Type: 'MOCK',
      PassthroughBehavior: 'NEVER',
      RequestTemplates: { 'application/json': '{ "statusCode": 200 }' },
      IntegrationResponses: [{ StatusCode: '200', ResponseTemplates: { 'application/json': expect.stringContaining('"status": "ok"') } }],
    });
  });

  test('POST /orders is a non-proxy integration with request and response mapping templates and error selection patterns', () => {
    const integration = method('orders', 'POST').Integration as Record<string, unknown>;
    expect(integration).toMatchObject({
      Type: 'AWS',
      PassthroughBehavior: 'NEVER',
      RequestTemplates: { 'application/json': ORDER_REQUEST_TEMPLATE },
    });
    expect(integration.IntegrationResponses).toEqual([
      expect.objectContaining({ StatusCode: '200', ResponseTemplates: { 'application/json': ORDER_RESPONSE_TEMPLATE } }),
      expect.objectContaining({ StatusCode: '400', SelectionPattern: ORDER_ERROR_PATTERNS.badRequest, ResponseTemplates: { 'application/json': ORDER_ERROR_TEMPLATE } }),
      expect.objectContaining({ StatusCode: '409', SelectionPattern: ORDER_ERROR_PATTERNS.conflict }),
      expect.objectContaining({ StatusCode: '500', SelectionPattern: ORDER_ERROR_PATTERNS.other }),
    ]);
    expect(JSON.stringify(integration.Uri)).toContain('OrdersFunction');
  });

  test('POST /orders validates its body against the OrderRequest model before the backend runs', () => {
    const validatorId = idOf('AWS::ApiGateway::RequestValidator', (r) => r.Properties.ValidateRequestBody === true)!;
    expect(resources[validatorId].Properties).toMatchObject({ ValidateRequestBody: true, ValidateRequestParameters: true });
    const modelId = idOf('AWS::ApiGateway::Model', () => true)!;
    expect(resources[modelId].Properties.Schema).toEqual({ ...ORDER_REQUEST_SCHEMA, $schema: 'http://json-schema.org/draft-04/schema#' });
    expect(method('orders', 'POST')).toMatchObject({
      RequestValidatorId: { Ref: validatorId },
      RequestModels: { 'application/json': { Ref: modelId } },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      ResponseTemplates: { 'application/json': BAD_REQUEST_BODY_TEMPLATE },
    });
  });
});

describe('authorization', () => {
  test('the Cognito user pool authorizer protects /me, /feedback and /orders', () => {
    const authorizerId = idOf('AWS::ApiGateway::Authorizer', (r) => r.Properties.Type === 'COGNITO_USER_POOLS')!;
    expect(resources[authorizerId].Properties).toMatchObject({
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [expect.stringMatching(/^UsersUserPool/), 'Arn'] }],
    });
    for (const [path, verb] of [['me', 'GET'], ['feedback', 'POST'], ['orders', 'POST']]) {
      expect(method(path, verb)).toMatchObject({ AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: { Ref: authorizerId } });
    }
  });

  test('/health and /hello are public on purpose; /hello needs an API key', () => {
    expect(method('health', 'GET')).toMatchObject({ AuthorizationType: 'NONE' });
    expect(method('hello', 'GET')).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: true });
  });

  test('the usage plan throttles each key to 5 rps (burst 10), allows 1,000 calls a day, on both stages', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 5, BurstLimit: 10 },
      Quota: { Limit: 1000, Period: 'DAY' },
      ApiStages: [
        Match.objectLike({ Stage: { Ref: stageId('prod') } }),
        Match.objectLike({ Stage: { Ref: stageId('dev') } }),
      ],
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyType: 'API_KEY', KeyId: { Ref: Match.stringLikeRegexp('^UsagePlanKey') } });
  });

  test('each alias may be invoked by the stages that use it, and no other', () => {
    const permissions = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName).includes('Alias'))
      .map((r) => `${(r.Properties.FunctionName as { Ref: string }).Ref.replace(/[0-9A-F]{8}$/, '')} ← ${JSON.stringify(r.Properties.SourceArn).match(/\/(\w+)\/\*\/\*/)?.[1]}`)
      .sort();
    expect(permissions).toEqual(['DevAlias ← dev', 'DevAlias ← prod', 'LiveAlias ← prod']);
  });

  test('the aliases point live at a published version and dev at $LATEST', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('CurrentVersion'), 'Version'] } });
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'dev', FunctionVersion: '$LATEST' });
  });
});

describe('CORS and logging', () => {
  test('preflight answers 204 for the one allowed origin; API Gateway\'s own errors carry the header too', () => {
    expect(method('hello', 'OPTIONS').Integration).toMatchObject({
      Type: 'MOCK',
      IntegrationResponses: [
        expect.objectContaining({
          StatusCode: '204',
          ResponseParameters: expect.objectContaining({ 'method.response.header.Access-Control-Allow-Origin': `'${APIGATEWAY_LAB.allowedOrigin}'` }),
        }),
      ],
    });
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX', 'BAD_REQUEST_BODY']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': `'${APIGATEWAY_LAB.allowedOrigin}'` },
      });
    }
  });

  test('the account\'s CloudWatch Logs role is created and set before the stages log', () => {
    const accountId = idOf('AWS::ApiGateway::Account', () => true)!;
    const roleId = (resources[accountId].Properties.CloudWatchRoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    expect(resources[roleId].Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [expect.objectContaining({ Principal: { Service: 'apigateway.amazonaws.com' } })],
    });
    for (const stage of ['prod', 'dev']) expect(resources[stageId(stage)].DependsOn).toContain(accountId);
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))!;
    const statement = (policy.Properties.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement[0];
    expect(statement.Action).toContain('logs:PutLogEvents');
    expect(JSON.stringify(statement.Resource)).toContain(':log-group:*');
  });

  test('execution log groups are created with a retention, named as API Gateway names them', () => {
    for (const stage of ['prod', 'dev']) {
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: Match.stringLikeRegexp('^RestApi') }, `/${stage}`]] },
        RetentionInDays: Match.anyValue(),
      });
    }
  });
});

test('outputs what the exercise needs (plus the endpoint output RestApi always adds)', () => {
  const outputs = Object.keys(template.toJSON().Outputs);
  expect(outputs.filter((o) => o.startsWith('RestApiEndpoint'))).toHaveLength(1);
  expect(outputs.filter((o) => !o.startsWith('RestApiEndpoint')).sort()).toEqual([
    'AllowedOrigin',
    'ApiKeyId',
    'DevExecutionLogGroup',
    'DevUrl',
    'ProdAccessLogGroup',
    'ProdUrl',
    'ProxyFunctionName',
    'RestApiId',
    'UserPoolClientId',
    'UserPoolId',
  ]);
});
