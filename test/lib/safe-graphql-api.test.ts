import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duration, Expiration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as appsync from 'aws-cdk-lib/aws-appsync';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ConstructUsageError } from '../../lib/core/validation';
import { APPSYNC_LIMITS, GraphqlAuthorization, resolverCodeExports, SafeGraphqlApi } from '../../lib/safe-graphql-api';
import { testApp } from '../support/synth';
import { problemCodesOf, problemMessagesOf } from '../support/validation';

const dir = mkdtempSync(path.join(tmpdir(), 'safe-graphql-api-'));
const file = (name: string, content: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
};
const schemaFile = file('schema.graphql', 'type Query { hello: String @aws_api_key @aws_iam }\n');
const good = file('good.js', "import { util } from '@aws-appsync/utils';\nexport function request() { return { payload: util ? 1 : 0 }; }\nexport function response(ctx) { return ctx.result; }\n");
const onlyRequest = file('only-request.js', '// exports response one day\nexport function request() { return {}; }\nconst response = "export function response";\n');
const reexported = file('reexported.js', 'function request() { return {}; }\nconst response = (ctx) => ctx.result;\nexport { request, response };\n');
const broken = file('broken.js', 'export function request( { return {}; }\n');
const helpersOnly = file('helpers.js', 'export function helper() { return {}; }\nexport const other = 1;\n');
const noExports = file('empty.js', '// the resolver is yet to be written\n');
const unresolved = file('unresolved.js', "import a from './missing-a.js';\nimport b from './missing-b.js';\nexport function request() { return a; }\nexport function response() { return b; }\n");

// Template assertions only: CloudFormation validation is the catalogue test's job (test/labs/catalogue-checks.ts).
const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Stack');
function authorizer(stack: Stack): lambda.IFunction {
  return new lambda.Function(stack, 'Authorizer', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ isAuthorized: false });'),
  });
}

describe('props are checked at synth, every problem at once', () => {
  test('an API key expiring beyond 365 days and an authorizer TTL above 3,600 s are both reported', () => {
    const stack = newStack();
    const handler = authorizer(stack);
    let attempt = 0;
    const build = () =>
      new SafeGraphqlApi(stack, `Api${(attempt += 1)}`, {
        schemaFile,
        defaultAuthorization: GraphqlAuthorization.apiKey({ expires: Expiration.after(Duration.days(400)) }),
        additionalAuthorization: [GraphqlAuthorization.lambda(handler, { resultsCacheTtl: Duration.seconds(3601) })],
      });
    expect(problemCodesOf(build)).toEqual(['SafeGraphqlApi.ApiKeyExpiryRange', 'SafeGraphqlApi.AuthorizerTtlRange']);
    expect(problemMessagesOf(build)).toEqual([
      expect.stringMatching(/^SafeGraphqlApi.ApiKeyExpiryRange: the API key must expire 1–365 days from now, got \d{4}-/),
      "SafeGraphqlApi.AuthorizerTtlRange: the Lambda authorizer's resultsCacheTtl must be 0–3600 s, got 3601 s",
    ]);
  });

  test('366 days is refused, 365 days is accepted', () => {
    const stack = newStack();
    const withKey = (id: string, days: number) => () =>
      new SafeGraphqlApi(stack, id, { schemaFile, defaultAuthorization: GraphqlAuthorization.apiKey({ expires: Expiration.after(Duration.days(days)) }) });
    expect(problemCodesOf(withKey('Api366', APPSYNC_LIMITS.maxApiKeyExpiryDays + 1))).toEqual(['SafeGraphqlApi.ApiKeyExpiryRange']);
    expect(withKey('Api365', APPSYNC_LIMITS.maxApiKeyExpiryDays)).not.toThrow();
  });

  test('an API key expiring in less than a day is refused too', () => {
    const stack = newStack();
    expect(
      problemCodesOf(() => new SafeGraphqlApi(stack, 'Api', { schemaFile, defaultAuthorization: GraphqlAuthorization.apiKey({ expires: Expiration.after(Duration.hours(12)) }) })),
    ).toEqual(['SafeGraphqlApi.ApiKeyExpiryRange']);
  });

  test('the limits themselves are accepted: 365 days, a TTL of 0 and of 3,600 s; the key has its expiry and description', () => {
    for (const ttl of [APPSYNC_LIMITS.minAuthorizerResultTtlSeconds, APPSYNC_LIMITS.maxAuthorizerResultTtlSeconds]) {
      const stack = newStack();
      const expires = Expiration.after(Duration.days(APPSYNC_LIMITS.maxApiKeyExpiryDays));
      new SafeGraphqlApi(stack, 'Api', {
        schemaFile,
        defaultAuthorization: GraphqlAuthorization.apiKey({ expires, description: 'Public catalogue' }),
        additionalAuthorization: [GraphqlAuthorization.lambda(authorizer(stack), { resultsCacheTtl: Duration.seconds(ttl) })],
      });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::AppSync::GraphQLApi', {
        AdditionalAuthenticationProviders: [Match.objectLike({ LambdaAuthorizerConfig: Match.objectLike({ AuthorizerResultTtlInSeconds: ttl }) })],
      });
      template.hasResourceProperties('AWS::AppSync::ApiKey', { Expires: expires.toEpoch(), Description: 'Public catalogue' });
    }
  });

  test('a TTL that is not whole seconds, and a schema file that does not exist', () => {
    const stack = newStack();
    expect(
      problemMessagesOf(
        () =>
          new SafeGraphqlApi(stack, 'Api', {
            schemaFile: path.join(dir, 'missing.graphql'),
            defaultAuthorization: GraphqlAuthorization.lambda(authorizer(stack), { resultsCacheTtl: Duration.millis(1500) }),
          }),
      ),
    ).toEqual([
      `SafeGraphqlApi.SchemaFileNotFound: schemaFile ${path.join(dir, 'missing.graphql')} does not exist`,
      'SafeGraphqlApi.NotWholeSeconds: resultsCacheTtl must be a whole number of seconds, got 1.5 s',
    ]);
  });
});

describe('the modes of one API are checked together', () => {
  test('API key and IAM twice, two Lambda authorizers, a user pool and an OIDC issuer in two modes, an http issuer: all reported', () => {
    const stack = newStack();
    const pool = new cognito.UserPool(stack, 'Pool');
    const issuer = 'https://login.example.com';
    const first = authorizer(stack);
    const second = lambda.Function.fromFunctionName(stack, 'Other', 'other');
    let attempt = 0;
    const build = () =>
      new SafeGraphqlApi(stack, `Api${(attempt += 1)}`, {
        schemaFile,
        defaultAuthorization: GraphqlAuthorization.userPool(pool),
        additionalAuthorization: [
          GraphqlAuthorization.apiKey(),
          GraphqlAuthorization.apiKey(),
          GraphqlAuthorization.iam(),
          GraphqlAuthorization.iam(),
          GraphqlAuthorization.lambda(first),
          GraphqlAuthorization.lambda(second),
          GraphqlAuthorization.userPool(pool),
          GraphqlAuthorization.oidc({ issuer }),
          GraphqlAuthorization.oidc({ issuer, clientId: 'other-client' }),
          GraphqlAuthorization.oidc({ issuer: 'http://insecure.example.com' }),
        ],
      });
    expect(problemCodesOf(build)).toEqual([
      'SafeGraphqlApi.OidcIssuerNotHttps',
      'SafeGraphqlApi.DuplicateMode',
      'SafeGraphqlApi.DuplicateMode',
      'SafeGraphqlApi.MoreThanOneLambdaAuthorizer',
      'SafeGraphqlApi.DuplicateUserPool',
      'SafeGraphqlApi.DuplicateOidcIssuer',
    ]);
    expect(problemMessagesOf(build)).toEqual([
      'SafeGraphqlApi.OidcIssuerNotHttps: the OIDC issuer must be an https URL (AppSync reads its /.well-known/openid-configuration), got http://insecure.example.com',
      'SafeGraphqlApi.DuplicateMode: API_KEY is given 2 times; an API has it once at most',
      'SafeGraphqlApi.DuplicateMode: AWS_IAM is given 2 times; an API has it once at most',
      'SafeGraphqlApi.MoreThanOneLambdaAuthorizer: 2 Lambda authorizers are given; an API has 1 at most',
      expect.stringContaining('SafeGraphqlApi.DuplicateUserPool: the same user pool is given to more than one mode'),
      expect.stringContaining(`SafeGraphqlApi.DuplicateOidcIssuer: the OIDC issuer ${issuer} is given to more than one mode`),
    ]);
  });

  test('two different pools, one as the OIDC issuer of the other mode, are accepted', () => {
    const stack = newStack();
    const users = new cognito.UserPool(stack, 'Users');
    const issuerPool = new cognito.UserPool(stack, 'Issuer');
    new SafeGraphqlApi(stack, 'Api', {
      schemaFile,
      defaultAuthorization: GraphqlAuthorization.userPool(users),
      additionalAuthorization: [GraphqlAuthorization.oidc({ issuer: issuerPool.userPoolProviderUrl }), GraphqlAuthorization.apiKey()],
    });
    Template.fromStack(stack).resourceCountIs('AWS::AppSync::GraphQLApi', 1);
  });
});

describe('resolver code is checked when it is added', () => {
  const api = () => new SafeGraphqlApi(newStack(), 'Api', { schemaFile, defaultAuthorization: GraphqlAuthorization.iam() });

  test('a file without response (mentioned in a comment and a string only) is refused, naming what it exports', () => {
    expect(() => api().addJsResolver('Hello', { typeName: 'Query', fieldName: 'hello', code: onlyRequest })).toThrow(
      expect.objectContaining({
        name: 'ConstructUsageError',
        code: 'SafeGraphqlApi.ResolverCodeWithoutHandlers',
        message: expect.stringContaining('does not export response (it exports: request)'),
      }),
    );
  });

  test('a file with other exports only, or none, is refused, naming both handlers and what it exports', () => {
    const graphql = api();
    expect(() => graphql.addJsResolver('Helpers', { typeName: 'Query', fieldName: 'hello', code: helpersOnly })).toThrow(
      `Stack/Api: [SafeGraphqlApi.ResolverCodeWithoutHandlers] ${helpersOnly} must export the functions request and response; it does not export request, response (it exports: helper, other)`,
    );
    expect(() => graphql.addJsResolver('Empty', { typeName: 'Query', fieldName: 'hello', code: noExports })).toThrow(
      `${noExports} must export the functions request and response; it does not export request, response (it exports: nothing)`,
    );
  });

  test('a missing file and a file that does not parse have codes of their own', () => {
    const graphql = api();
    const missing = path.join(dir, 'nope.js');
    expect(() => graphql.addJsFunction('F', { name: 'f', dataSource: graphql.localDataSource(), code: missing })).toThrow(
      expect.objectContaining({ code: 'SafeGraphqlApi.ResolverCodeNotFound', message: `Stack/Api: [SafeGraphqlApi.ResolverCodeNotFound] resolver code ${missing} does not exist` }),
    );
    expect(() => graphql.addJsResolver('Broken', { typeName: 'Query', fieldName: 'hello', code: broken })).toThrow(
      expect.objectContaining({ code: 'SafeGraphqlApi.ResolverCodeDoesNotCompile', message: expect.stringContaining('broken.js:1') }),
    );
  });

  test('every problem esbuild finds is in the message', () => {
    expect(() => resolverCodeExports('Stack/Api', unresolved)).toThrow(/\[SafeGraphqlApi.ResolverCodeDoesNotCompile\] \S*unresolved\.js:1: Could not resolve "\.\/missing-a\.js"; \S*unresolved\.js:2: Could not resolve "\.\/missing-b\.js"$/);
  });

  test('export statements of any form count', () => {
    expect(resolverCodeExports('test', reexported).sort()).toEqual(['request', 'response']);
    expect(resolverCodeExports('test', good).sort()).toEqual(['request', 'response']);
  });

  test('unit, function and pipeline resolvers run APPSYNC_JS; the pipeline lists its functions in order; a unit resolver reads the one NONE data source unless given another', () => {
    const graphql = api();
    const first = graphql.addJsFunction('First', { name: 'first', dataSource: graphql.localDataSource(), code: good });
    const second = graphql.addJsFunction('Second', { name: 'second', dataSource: graphql.localDataSource(), code: reexported });
    graphql.addPipelineResolver('Hello', { typeName: 'Query', fieldName: 'hello', functions: [first, second], code: good });
    graphql.addJsResolver('Local', { typeName: 'Query', fieldName: 'local', code: good });
    graphql.addJsResolver('Given', { typeName: 'Query', fieldName: 'given', code: good, dataSource: graphql.api.addNoneDataSource('Other') });
    const template = Template.fromStack(Stack.of(graphql));
    template.resourcePropertiesCountIs('AWS::AppSync::FunctionConfiguration', { Runtime: { Name: 'APPSYNC_JS', RuntimeVersion: '1.0.0' } }, 2);
    template.hasResourceProperties('AWS::AppSync::Resolver', {
      Kind: 'PIPELINE',
      Runtime: { Name: 'APPSYNC_JS', RuntimeVersion: '1.0.0' },
      PipelineConfig: { Functions: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiFirst'), 'FunctionId'] }, { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiSecond'), 'FunctionId'] }] },
    });
    // Local and the one given: the functions and the unit resolver share Local.
    template.resourceCountIs('AWS::AppSync::DataSource', 2);
    template.hasResourceProperties('AWS::AppSync::DataSource', { Type: 'NONE', Name: 'Local', Description: 'Local resolvers: no data source call' });
    template.hasResourceProperties('AWS::AppSync::Resolver', { FieldName: 'local', Kind: 'UNIT', DataSourceName: 'Local' });
    template.hasResourceProperties('AWS::AppSync::Resolver', { FieldName: 'given', Kind: 'UNIT', DataSourceName: 'Other' });
  });
});

describe('defaults', () => {
  test('X-Ray on, errors logged with request-level content to /aws/appsync/apis/<id> kept a month, through a role without managed policies', () => {
    const stack = newStack();
    new SafeGraphqlApi(stack, 'Api', { schemaFile, defaultAuthorization: GraphqlAuthorization.apiKey() });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AppSync::GraphQLApi', {
      // Named after the deployed stack, not a literal: two deployments of the app under other names get other names.
      Name: { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-Api']] },
      XrayEnabled: true,
      LogConfig: { FieldLogLevel: 'ERROR', ExcludeVerboseContent: false, CloudWatchLogsRoleArn: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30, LogGroupName: Match.objectLike({ 'Fn::Join': ['', ['/aws/appsync/apis/', Match.anyValue()]] }) });
    template.hasResourceProperties('AWS::IAM::Role', {
      // Only AppSync on behalf of this account may take the role (the confused-deputy guard).
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'appsync.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })],
      }),
      Description: 'Writes the logs of the AppSync API Stack/Api',
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ApiLoggingRole') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiLogs'), 'Arn'] } })] },
    });
    template.hasResourceProperties('AWS::AppSync::ApiKey', { Expires: Match.absent() });
    template.resourceCountIs('Custom::LogRetention', 0);
  });

  test('fieldLogLevel ALL and another retention when asked', () => {
    const stack = newStack();
    new SafeGraphqlApi(stack, 'Api', {
      schemaFile,
      defaultAuthorization: GraphqlAuthorization.iam(),
      fieldLogLevel: appsync.FieldLogLevel.ALL,
      logGroupProps: { retention: 7 },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AppSync::GraphQLApi', { LogConfig: Match.objectLike({ FieldLogLevel: 'ALL' }) });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('ConstructUsageError is what resolver problems throw', () => {
    expect(() => resolverCodeExports('Stack/Api', path.join(dir, 'nope.js'))).toThrow(ConstructUsageError);
  });
});
