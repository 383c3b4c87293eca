import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ConstructUsageError } from '../../lib/core/validation';
import { aliasFromStageVariable, allowStageToInvoke, ApiUsagePlan, ApiUsagePlanProps, StagedRestApi, StagedRestApiProps } from '../../lib/staged-rest-api';
import { testApp } from '../support/synth';
import { validationErrorOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

function withMethod(api: StagedRestApi): void {
  api.api.root.addMethod('GET', new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode":200}' } }));
}

const errorOf = (build: (stack: Stack) => void) => validationErrorOf(() => build(newStack()));

describe('StagedRestApi defaults', () => {
  const stack = newStack();
  const rest = new StagedRestApi(stack, 'Rest', { stages: { v1: {} } });
  withMethod(rest);
  const template = Template.fromStack(stack);

  test('a regional API named after the stack, deployed to its one stage with X-Ray, metrics and ERROR execution logs', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-Rest']] },
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR', DataTraceEnabled: false, MetricsEnabled: true, ResourcePath: '/*', HttpMethod: '*' })],
    });
  });

  test('access logs are JSON lines in a log group with a retention, kept on delete (production-safe)', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: { Format: Match.serializedJson(Match.objectLike({ requestId: '$context.requestId', user: '$context.authorizer.claims.sub' })) },
    });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Retain' });
  });

  test('does not touch the account-wide CloudWatch role unless asked', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(rest.accountLogsRole).toBeUndefined();
  });

  test('offers a validator that checks both bodies and required parameters', () => {
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
  });
});

test('aliasFromStageVariable and allowStageToInvoke wire a stage variable to a Lambda alias, one stage at a time', () => {
  const stack = newStack();
  const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: { variables: { alias: 'live' } } } });
  const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
  rest.api.root.addMethod('GET', aliasFromStageVariable(fn, 'alias'));
  allowStageToInvoke(alias, rest.api, 'prod');
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::ApiGateway::Method', {
    Integration: { Type: 'AWS_PROXY', Uri: { 'Fn::Join': ['', Match.arrayWith([':${stageVariables.alias}/invocations'])] } },
  });
  template.hasResourceProperties('AWS::Lambda::Permission', {
    FunctionName: { Ref: Match.stringLikeRegexp('^Live') },
    Principal: 'apigateway.amazonaws.com',
    SourceArn: { 'Fn::Join': ['', Match.arrayWith(['/prod/*/*'])] },
  });
});

describe('StagedRestApi validation', () => {
  const build = (props: Partial<StagedRestApiProps>) => (stack: Stack) => new StagedRestApi(stack, 'Rest', { stages: { prod: {} }, ...props });

  test.each([
    ['no stage', { stages: {} }, 'StagedRestApi.NoStage', 'stages needs at least one stage'],
    ['a stage name with a space', { stages: { 'my stage': {} } }, 'StagedRestApi.StageName', 'stage name "my stage" must be 1–128 letters, digits, "-" or "_"'],
    ['a variable name with a dash', { stages: { prod: { variables: { 'lambda-alias': 'live' } } } }, 'StagedRestApi.StageVariableName', 'stage prod: variable name "lambda-alias" must be 1–64 letters, digits or "_"'],
    ['a variable value with a space', { stages: { prod: { variables: { alias: 'my alias' } } } }, 'StagedRestApi.StageVariableValue', 'stage prod: the value of alias must be 1–512 characters'],
    ['a negative rate', { stages: { prod: { throttle: { rateLimit: -1, burstLimit: 5 } } } }, 'StagedRestApi.ThrottleRange', 'stage prod: throttle rateLimit must be ≥ 0 and burstLimit a whole number ≥ 0, got -1/5'],
    ['a negative burst', { stages: { prod: { throttle: { rateLimit: 1, burstLimit: -1 } } } }, 'StagedRestApi.ThrottleRange', 'stage prod: throttle rateLimit must be ≥ 0 and burstLimit a whole number ≥ 0, got 1/-1'],
    ['a canary above 100 %', { stages: { prod: { canary: { percentTraffic: 150 } } } }, 'StagedRestApi.CanaryPercentRange', 'stage prod: canary.percentTraffic must be between 0 and 100, got 150'],
    ['a 2 GB cache', { stages: { prod: { cache: { sizeGb: '2', methods: ['/a/GET'] } } } }, 'StagedRestApi.CacheSize', 'stage prod: cache.sizeGb must be one of 0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237, got "2"'],
    ['a 2 h cache TTL', { stages: { prod: { cache: { sizeGb: '0.5', ttl: Duration.hours(2), methods: ['/a/GET'] } } } }, 'StagedRestApi.CacheTtlRange', 'stage prod: cache.ttl must be between 0 and 3600 seconds, got 7200'],
    ['a cache without methods', { stages: { prod: { cache: { sizeGb: '0.5', methods: [] } } } }, 'StagedRestApi.CacheWithoutMethods', 'stage prod: cache.methods lists no method to cache'],
    ['a cached method without a verb', { stages: { prod: { cache: { sizeGb: '0.5', methods: ['/hello'] } } } }, 'StagedRestApi.CacheMethodPath', 'stage prod: cached method "/hello" must look like /<resource path>/<HTTP method>, e.g. /hello/GET'],
    ['CORS without origins', { cors: { allowOrigins: [] } }, 'StagedRestApi.CorsNoOrigins', 'cors.allowOrigins needs at least one origin'],
    ['a cache TTL of 1.5 s', { stages: { prod: { cache: { ttl: Duration.millis(1500), methods: ['/a/GET'] } } } }, 'StagedRestApi.NotWholeSeconds', 'stage prod: cache.ttl must be a whole number of seconds, got 1.5 s'],
  ])('%s is refused', (_name, props, code, message) => {
    const error = errorOf(build(props as Partial<StagedRestApiProps>));
    expect(error.problems.map((p) => p.code)).toEqual([code]);
    expect(error.message).toContain(message);
  });

  test('lists every problem at once', () => {
    const error = errorOf(
      build({ stages: { 'a b': { variables: { 'x-y': 'v w' }, canary: { percentTraffic: -5 }, throttle: { rateLimit: 1, burstLimit: 1.5 } } } }),
    );
    expect(error.problems.map((p) => p.code)).toEqual([
      'StagedRestApi.StageName',
      'StagedRestApi.StageVariableName',
      'StagedRestApi.StageVariableValue',
      'StagedRestApi.ThrottleRange',
      'StagedRestApi.CanaryPercentRange',
    ]);
  });

  test('warns when a canary overrides a variable of a stage without variables', () => {
    const stack = newStack();
    withMethod(new StagedRestApi(stack, 'Rest', { stages: { prod: { canary: { percentTraffic: 5, variableOverrides: { b: '2' } } } } }));
    expect(() => Template.fromStack(stack)).toThrow(/the canary overrides b, which the stage does not define/);
  });

  test('warns when a canary overrides a variable the stage does not define; strict synth fails until acknowledged', () => {
    const stack = newStack();
    const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: { variables: { a: '1' }, canary: { percentTraffic: 5, variableOverrides: { b: '2' } } } } });
    withMethod(rest);
    expect(() => Template.fromStack(stack)).toThrow(/the canary overrides b, which the stage does not define/);
    Validations.of(rest).acknowledge({ id: 'Annotation::StagedRestApi.CanaryOverridesUnknownVariable', reason: 'test' });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('StagedRestApi throttles above the account default', () => {
  test('a stage throttle above 10,000 rps / 5,000 burst warns; strict synth fails until acknowledged', () => {
    const stack = newStack();
    const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: { throttle: { rateLimit: 20_000, burstLimit: 5_000 } } } });
    withMethod(rest);
    expect(() => Template.fromStack(stack)).toThrow(
      "stage prod: throttle 20000/5000 is above the account's default limit of 10000 requests per second and a burst of 5000 per Region: " +
        "API Gateway caps requests there unless the account's quota was raised",
    );
    Validations.of(rest).acknowledge({ id: 'Annotation::StagedRestApi.ThrottleAboveAccountLimit', reason: 'the account quota was raised' });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('a throttle at the account default does not warn', () => {
    const stack = newStack();
    const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: { throttle: { rateLimit: 10_000, burstLimit: 5_000 } } } });
    withMethod(rest);
    new ApiUsagePlan(stack, 'Plan', { stages: [rest.stages.prod], throttle: { rateLimit: 5_000, burstLimit: 5_000 } });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('StagedRestApi.urlOf', () => {
  const stack = newStack();
  const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: {}, dev: {} } });
  withMethod(rest);

  test('is the URL of a stage', () => {
    expect(JSON.stringify(stack.resolve(rest.urlOf('dev')))).toContain('{"Ref":"AWS::URLSuffix"},"/",{"Ref":"RestStagedevF9690B46"},"/"');
  });

  test.each(['unknown', 'toString'])('a stage the API does not have (%s) is a usage error listing its stages', (name) => {
    let error: unknown;
    try {
      rest.urlOf(name);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConstructUsageError);
    expect((error as ConstructUsageError).code).toBe('StagedRestApi.UnknownStage');
    expect((error as ConstructUsageError).message).toBe(
      `Test/Rest: [StagedRestApi.UnknownStage] urlOf("${name}"): the API has no such stage; its stages are prod, dev`,
    );
  });
});

describe('StagedRestApi with every option, at the limits', () => {
  const stack = newStack();
  const rest = new StagedRestApi(stack, 'Rest', {
    restApiName: 'orders',
    description: 'Orders API',
    cors: { allowOrigins: ['https://app.example.com'] },
    stages: {
      prod: {
        variables: { alias: 'live' },
        throttle: { rateLimit: 0, burstLimit: 0 },
        canary: { percentTraffic: 100, variableOverrides: { alias: 'next' } },
        cache: { sizeGb: '1.6', ttl: Duration.hours(1), methods: ['/orders/GET'] },
      },
      dev: { loggingLevel: apigw.MethodLoggingLevel.INFO, dataTrace: true, canary: { percentTraffic: 0 }, cache: { ttl: Duration.seconds(0), methods: ['/orders/GET'] } },
    },
    accountLogsRole: { description: 'API Gateway logs' },
  });
  const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
  rest.api.root.addResource('orders').addMethod('GET', aliasFromStageVariable(fn, 'alias', { proxy: false }));
  new ApiUsagePlan(stack, 'Plan', { stages: [rest.stages.prod], throttle: { rateLimit: 0, burstLimit: 0 }, quota: { limit: 1, period: apigw.Period.DAY }, description: 'Partners' });
  const template = Template.fromStack(stack);
  const stage = (name: string) => Object.values(template.findResources('AWS::ApiGateway::Stage')).find((s) => s.Properties.StageName === name)!.Properties;

  test('the API has its name, description and CORS preflight', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'orders', Description: 'Orders API' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: Match.objectLike({ IntegrationResponses: [Match.objectLike({ ResponseParameters: Match.objectLike({ 'method.response.header.Access-Control-Allow-Origin': "'https://app.example.com'" }) })] }),
    });
  });

  test('a stage takes its variables, throttle (0 is a limit too), canary (all its traffic, with overrides) and cache of one method', () => {
    const prod = stage('prod');
    expect(prod.Variables).toEqual({ alias: 'live' });
    expect(prod.CanarySetting).toEqual({ DeploymentId: prod.DeploymentId, PercentTraffic: 100, StageVariableOverrides: { alias: 'next' }, UseStageCache: false });
    expect([prod.CacheClusterEnabled, prod.CacheClusterSize]).toEqual([true, '1.6']);
    expect(prod.MethodSettings).toEqual([
      { ResourcePath: '/*', HttpMethod: '*', LoggingLevel: 'ERROR', DataTraceEnabled: false, MetricsEnabled: true, ThrottlingRateLimit: 0, ThrottlingBurstLimit: 0 },
      { ResourcePath: '/~1orders', HttpMethod: 'GET', CachingEnabled: true, CacheTtlInSeconds: 3600, CacheDataEncrypted: true, DataTraceEnabled: false },
    ]);
  });

  test('another stage: its log level and data trace, a canary of no traffic, a cache that keeps nothing', () => {
    const dev = stage('dev');
    expect(dev.CanarySetting).toEqual({ DeploymentId: dev.DeploymentId, PercentTraffic: 0, UseStageCache: false });
    expect(dev.MethodSettings).toEqual([
      { ResourcePath: '/*', HttpMethod: '*', LoggingLevel: 'INFO', DataTraceEnabled: true, MetricsEnabled: true },
      { ResourcePath: '/~1orders', HttpMethod: 'GET', CachingEnabled: true, CacheTtlInSeconds: 0, CacheDataEncrypted: true, DataTraceEnabled: false },
    ]);
  });

  test("each stage's execution log group is the one API Gateway writes to, with a retention, kept on delete", () => {
    for (const name of ['prod', 'dev']) {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: Match.stringLikeRegexp('^RestApi') }, `/${name}`]] }, RetentionInDays: 30 },
        DeletionPolicy: 'Retain',
      });
    }
    expect(Object.keys(rest.executionLogGroups)).toEqual(['prod', 'dev']);
    expect(Object.keys(rest.accessLogGroups)).toEqual(['prod', 'dev']);
  });

  test('the account logs role: its description, the logging actions on log groups of this account and Region, acknowledged for cdk-nag', () => {
    template.hasResourceProperties('AWS::IAM::Role', { Description: 'API Gateway logs' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams', 'logs:FilterLogEvents', 'logs:GetLogEvents', 'logs:PutLogEvents'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']] },
          },
        ],
      },
    });
    const acknowledged = rest.accountLogsRole!.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
    expect(acknowledged).toEqual([
      {
        'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]':
          'The role is an account-wide setting of API Gateway: it writes the logs of every REST API in this account and ' +
          'Region, whose log group names are not known here. It is scoped to log groups of this account and Region, ' +
          'and to the actions of the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs.',
      },
    ]);
  });

  test('aliasFromStageVariable without proxy is an AWS integration POSTing to the alias the stage names', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      Integration: {
        Type: 'AWS',
        IntegrationHttpMethod: 'POST',
        Uri: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, ':lambda:path/2015-03-31/functions/', { 'Fn::GetAtt': [Match.stringLikeRegexp('^Fn'), 'Arn'] }, ':${stageVariables.alias}/invocations'],
          ],
        },
      },
    });
  });

  test('a usage plan with a limit of 0 requests per second, one request a day, its description, and a key that says whose it is', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Description: 'Partners', Throttle: { RateLimit: 0, BurstLimit: 0 }, Quota: { Limit: 1, Period: 'DAY' } });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Description: 'API key of Test/Plan' });
  });
});

describe('StagedRestApi options', () => {
  test('accountLogsRole: {} creates the account-wide logging role, sets it, and deploys the stages after it', () => {
    const stack = newStack();
    const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: {}, dev: {} }, accountLogsRole: {} });
    withMethod(rest);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    template.hasResourceProperties('AWS::ApiGateway::Account', { CloudWatchRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RestAccountLogsRole'), 'Arn'] } });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })] },
      Description: 'Lets API Gateway write execution and access logs of every REST API in this account and Region',
    });
    for (const stage of Object.values(template.findResources('AWS::ApiGateway::Stage'))) {
      expect(stage.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^RestAccount/)]));
    }
    expect(rest.accountLogsRole).toBeDefined();
    expect(rest.accountSetting).toBeDefined();
  });

  test('logGroupProps sets the retention of the access and execution log groups of every stage', () => {
    const stack = newStack();
    const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: {}, dev: {} }, logGroupProps: { retention: logs.RetentionDays.ONE_WEEK } });
    withMethod(rest);
    const groups = Template.fromStack(stack).findResources('AWS::Logs::LogGroup');
    expect(Object.values(groups).map((g) => g.Properties.RetentionInDays)).toEqual([7, 7, 7, 7]);
  });

  test('a cache without a size is the smallest, 0.5 GB, with a 5-minute TTL on its methods', () => {
    const stack = newStack();
    const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: { cache: { methods: ['/*/GET'] } } } });
    withMethod(rest);
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Stage', {
      CacheClusterEnabled: true,
      CacheClusterSize: '0.5',
      MethodSettings: Match.arrayWith([Match.objectLike({ CachingEnabled: true, CacheTtlInSeconds: 300, CacheDataEncrypted: true })]),
    });
  });
});

describe('ApiUsagePlan', () => {
  const fixture = (stack: Stack) => {
    const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: {}, dev: {} } });
    withMethod(rest);
    return rest;
  };

  test('creates a key and a plan with throttling and quota on the given stages', () => {
    const stack = newStack();
    const rest = fixture(stack);
    const plan = new ApiUsagePlan(stack, 'Plan', {
      stages: [rest.stages.prod],
      throttle: { rateLimit: 2, burstLimit: 4 },
      quota: { limit: 100, period: apigw.Period.WEEK },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 2, BurstLimit: 4 },
      Quota: { Limit: 100, Period: 'WEEK' },
      ApiStages: [Match.objectLike({ Stage: { Ref: Match.stringLikeRegexp('DeploymentStageprod') } })],
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    expect(plan.apiKey).toBeDefined();
  });

  const build = (props: (rest: StagedRestApi, other: StagedRestApi) => Partial<ApiUsagePlanProps>) => (stack: Stack) => {
    const rest = fixture(stack);
    const other = new StagedRestApi(stack, 'Other', { stages: { prod: {} } });
    withMethod(other);
    new ApiUsagePlan(stack, 'Plan', { stages: [rest.stages.prod], throttle: { rateLimit: 1, burstLimit: 2 }, ...props(rest, other) });
  };

  test('a usage plan without a stage is refused', () => {
    expect(errorOf(build(() => ({ stages: [] }))).problems).toEqual([
      {
        code: 'ApiUsagePlan.NoStage',
        message: 'stages needs at least one stage: a usage plan without a stage throttles nothing and its keys work nowhere',
      },
    ]);
  });

  test('lists every problem at once: no stage, bad throttle, zero quota', () => {
    const error = errorOf(build(() => ({ stages: [], throttle: { rateLimit: -2, burstLimit: 0.5 }, quota: { limit: 0, period: apigw.Period.DAY } })));
    expect(error.problems.map((p) => p.code)).toEqual(['ApiUsagePlan.NoStage', 'ApiUsagePlan.ThrottleRange', 'ApiUsagePlan.QuotaLimitRange']);
    expect(error.message).toContain('quota.limit must be a whole number of at least 1, got 0');
    expect(error.problems[1]).toEqual({
      code: 'ApiUsagePlan.ThrottleRange',
      message: 'throttle rateLimit must be ≥ 0 and burstLimit a whole number ≥ 0, got -2/0.5',
    });
  });

  test('stages of two APIs are refused', () => {
    expect(errorOf(build((rest, other) => ({ stages: [rest.stages.prod, other.stages.prod] }))).problems).toEqual([
      { code: 'ApiUsagePlan.StagesOfSeveralApis', message: 'stages must all belong to one REST API' },
    ]);
  });

  test('warns when the burst is below the rate', () => {
    const stack = newStack();
    build(() => ({ throttle: { rateLimit: 10, burstLimit: 2 } }))(stack);
    expect(() => Template.fromStack(stack)).toThrow(/burstLimit 2 is below rateLimit 10: the token bucket never holds a full second of requests.*\n.*\n.*Annotation::ApiUsagePlan.BurstBelowRate/);
  });

  test('warns when the throttle is above the account default; strict synth fails until acknowledged', () => {
    const stack = newStack();
    build(() => ({ throttle: { rateLimit: 100, burstLimit: 6_000 } }))(stack);
    expect(() => Template.fromStack(stack)).toThrow(
      /^WARNING throttle 100\/6000 is above the account's default limit of 10000 requests per second and a burst of 5000 per Region.*\n.*\n.*Annotation::ApiUsagePlan.ThrottleAboveAccountLimit/,
    );
    Validations.of(stack.node.findChild('Plan')).acknowledge({ id: 'Annotation::ApiUsagePlan.ThrottleAboveAccountLimit', reason: 'quota raised' });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});
