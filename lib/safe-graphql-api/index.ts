import { existsSync } from 'node:fs';
import { Aws, Duration, Expiration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as appsync from 'aws-cdk-lib/aws-appsync';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { buildSync, BuildFailure } from 'esbuild';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from '../core/logs';
import { ConstructUsageError, PropsValidator } from '../core/validation';

/**
 * AppSync's limits this construct checks (AppSync API reference: CreateApiKey, LambdaAuthorizerConfig; developer
 * guide, "Configuring authorization and authentication": one Lambda authorizer per API, API_KEY and AWS_IAM once
 * each, and no user pool or OIDC provider both in the default mode and in an additional one).
 */
export const APPSYNC_LIMITS = {
  /** An API key must expire at least 1 day and at most 365 days after it is created (or updated). */
  minApiKeyExpiryDays: 1,
  maxApiKeyExpiryDays: 365,
  /** authorizerResultTtlInSeconds: 0 (no caching) to 3,600. */
  minAuthorizerResultTtlSeconds: 0,
  maxAuthorizerResultTtlSeconds: 3600,
  /** AWS_LAMBDA authorizers per API. */
  maxLambdaAuthorizers: 1,
} as const;

/** The modes an API may name once only (each has nothing to tell two of them apart). */
const MODES_ONCE = [appsync.AuthorizationType.API_KEY, appsync.AuthorizationType.IAM] as const;

/** What an authorization mode tells the API about itself, to check it and to render it. */
interface AuthorizationSpec {
  readonly mode: appsync.AuthorizationMode;
  /** Checks the mode's settings, recording problems on the API's validator. */
  readonly check: (check: PropsValidator) => void;
}

/** An API key's settings. */
export interface ApiKeyOptions {
  /** When the key expires, 1–365 days from now. @default AppSync's default: 7 days after creation */
  readonly expires?: Expiration;
  /** What the key is for. @default none */
  readonly description?: string;
}

/** An OpenID Connect provider's settings. */
export interface OidcOptions {
  /** The issuer: AppSync reads `<issuer>/.well-known/openid-configuration` and checks the token's `iss`. */
  readonly issuer: string;
  /** Accept only tokens whose `aud` (ID token) is this client id. @default any client of the issuer */
  readonly clientId?: string;
}

/** A Lambda authorizer's settings. */
export interface LambdaAuthorizerOptions {
  /** How long AppSync caches the function's answer per token, 0–3,600 s (0: call it every time). @default Duration.seconds(0) */
  readonly resultsCacheTtl?: Duration;
  /** Tokens that do not match this regular expression are refused without calling the function. @default any token */
  readonly validationRegex?: string;
}

/**
 * One of AppSync's five authorization modes, for `defaultAuthorization` or `additionalAuthorization`. In the schema,
 * `@aws_api_key`, `@aws_cognito_user_pools`, `@aws_iam`, `@aws_oidc` and `@aws_lambda` name the modes a type or
 * field allows; a field without any is open to the default mode only.
 */
export class GraphqlAuthorization {
  /** `API_KEY`: a shared key in the `x-api-key` header, for public, throttled access; it expires. */
  static apiKey(options: ApiKeyOptions = {}): GraphqlAuthorization {
    return new GraphqlAuthorization({
      mode: {
        authorizationType: appsync.AuthorizationType.API_KEY,
        apiKeyConfig: { expires: options.expires, description: options.description },
      },
      check: (check) => {
        const expires = options.expires;
        if (expires === undefined) return;
        check.require(
          !expires.isBefore(Duration.days(APPSYNC_LIMITS.minApiKeyExpiryDays)) &&
            !expires.isAfter(Duration.days(APPSYNC_LIMITS.maxApiKeyExpiryDays)),
          'ApiKeyExpiryRange',
          `the API key must expire ${APPSYNC_LIMITS.minApiKeyExpiryDays}–${APPSYNC_LIMITS.maxApiKeyExpiryDays} days from now, ` +
            `got ${new Date(expires.date).toISOString()}`,
        );
      },
    });
  }

  /** `AMAZON_COGNITO_USER_POOLS`: a user pool's ID or access token; `cognito_groups` in the directives restrict by group. */
  static userPool(userPool: cognito.IUserPool, options: { appIdClientRegex?: string } = {}): GraphqlAuthorization {
    return new GraphqlAuthorization({
      mode: {
        authorizationType: appsync.AuthorizationType.USER_POOL,
        userPoolConfig: { userPool, appIdClientRegex: options.appIdClientRegex },
      },
      check: () => undefined,
    });
  }

  /** `AWS_IAM`: requests signed with SigV4; the caller's policy must allow `appsync:GraphQL` on the fields. */
  static iam(): GraphqlAuthorization {
    return new GraphqlAuthorization({ mode: { authorizationType: appsync.AuthorizationType.IAM }, check: () => undefined });
  }

  /** `OPENID_CONNECT`: a JWT from any OIDC provider, checked against its published keys. */
  static oidc(options: OidcOptions): GraphqlAuthorization {
    return new GraphqlAuthorization({
      mode: {
        authorizationType: appsync.AuthorizationType.OIDC,
        openIdConnectConfig: { oidcProvider: options.issuer, clientId: options.clientId },
      },
      check: (check) => {
        if (Token.isUnresolved(options.issuer)) return;
        check.require(
          options.issuer.startsWith('https://'),
          'OidcIssuerNotHttps',
          `the OIDC issuer must be an https URL (AppSync reads its /.well-known/openid-configuration), got ${options.issuer}`,
        );
      },
    });
  }

  /** `AWS_LAMBDA`: a function decides from the `Authorization` header; it may deny fields and pass a context on. */
  static lambda(handler: lambda.IFunction, options: LambdaAuthorizerOptions = {}): GraphqlAuthorization {
    return new GraphqlAuthorization({
      mode: {
        authorizationType: appsync.AuthorizationType.LAMBDA,
        lambdaAuthorizerConfig: { handler, resultsCacheTtl: options.resultsCacheTtl, validationRegex: options.validationRegex },
      },
      check: (check) => {
        const ttl = check.seconds(options.resultsCacheTtl, 'resultsCacheTtl');
        check.inRange(
          ttl,
          { min: APPSYNC_LIMITS.minAuthorizerResultTtlSeconds, max: APPSYNC_LIMITS.maxAuthorizerResultTtlSeconds },
          'AuthorizerTtlRange',
          `the Lambda authorizer's resultsCacheTtl must be ${APPSYNC_LIMITS.minAuthorizerResultTtlSeconds}–` +
            `${APPSYNC_LIMITS.maxAuthorizerResultTtlSeconds} s, got ${ttl} s`,
        );
      },
    });
  }

  private constructor(private readonly spec: AuthorizationSpec) {}

  /** @internal */
  _check(check: PropsValidator): void {
    this.spec.check(check);
  }

  /** @internal */
  get _mode(): appsync.AuthorizationMode {
    return this.spec.mode;
  }
}

export interface SafeGraphqlApiProps {
  /** The API's name. @default the stack's name and the construct's path in it, joined with `-` */
  readonly name?: string;
  /** Path of the schema file (SDL, with AppSync's scalars and directives). */
  readonly schemaFile: string;
  /** The mode of fields without an auth directive. */
  readonly defaultAuthorization: GraphqlAuthorization;
  /** Further modes, allowed where the schema's directives name them. @default none */
  readonly additionalAuthorization?: GraphqlAuthorization[];
  /**
   * Which fields AppSync logs: ERROR logs failed fields only, ALL every field with its resolver's request and
   * response (verbose: arguments and results land in the logs). @default appsync.FieldLogLevel.ERROR
   */
  readonly fieldLogLevel?: appsync.FieldLogLevel;
  /** Settings of the log group `/aws/appsync/apis/<api id>`, which the construct creates. @default retention of one month */
  readonly logGroupProps?: CreatedLogGroupProps;
}

/** A resolver or function's APPSYNC_JS code file: an ES module exporting `request` and `response`. */
export interface JsResolverOptions {
  readonly typeName: string;
  readonly fieldName: string;
  /** Where the resolver's request goes. @default a NONE data source (local resolver) */
  readonly dataSource?: appsync.BaseDataSource;
  /** Path of the code file. */
  readonly code: string;
}

export interface JsFunctionOptions {
  /** The function's name (letters, digits and underscores). */
  readonly name: string;
  readonly dataSource: appsync.BaseDataSource;
  /** Path of the code file. */
  readonly code: string;
}

export interface PipelineResolverOptions {
  readonly typeName: string;
  readonly fieldName: string;
  /** The functions, run in this order; each sees the previous one's result as `ctx.prev.result`. */
  readonly functions: appsync.IAppsyncFunction[];
  /** Path of the code file of the before and after steps. */
  readonly code: string;
}

/** What an APPSYNC_JS code file must export. */
const RESOLVER_EXPORTS = ['request', 'response'] as const;

/**
 * An AppSync GraphQL API with the defaults this library wants: field-level logs in a log group with retention
 * (written through a role limited to it, no AWS managed policy), X-Ray tracing, API keys that expire within AppSync's
 * 1–365 days, a Lambda authorizer cache TTL within 0–3,600 s, and APPSYNC_JS resolver code checked at synth: a
 * file that does not export `request` and `response` fails the synth, not the deployment.
 */
export class SafeGraphqlApi extends Construct {
  public readonly api: appsync.GraphqlApi;
  public readonly logGroup: logs.ILogGroup;
  /** The role AppSync writes the API's logs with. */
  public readonly loggingRole: iam.IRole;
  private noneDataSource?: appsync.NoneDataSource;

  constructor(scope: Construct, id: string, props: SafeGraphqlApiProps) {
    super(scope, id);
    const check = new PropsValidator(this, 'SafeGraphqlApi');
    check.require(existsSync(props.schemaFile), 'SchemaFileNotFound', `schemaFile ${props.schemaFile} does not exist`);
    const modes = [props.defaultAuthorization, ...(props.additionalAuthorization ?? [])];
    for (const mode of modes) mode._check(check);
    checkModesTogether(check, modes.map((mode) => mode._mode));
    check.throwIfInvalid();

    this.api = new appsync.GraphqlApi(this, 'Api', {
      // The deployed stack's name (a token, so two deployments of one app under other names do not share a name).
      name: props.name ?? [Aws.STACK_NAME, ...this.node.path.split('/').slice(1)].join('-'),
      definition: appsync.Definition.fromFile(props.schemaFile),
      authorizationConfig: {
        defaultAuthorization: props.defaultAuthorization._mode,
        additionalAuthorizationModes: props.additionalAuthorization?.map((mode) => mode._mode),
      },
      xrayEnabled: true,
    });

    // GraphqlApi's own logConfig creates a LogRetention custom resource and a role with an AWS managed policy on
    // every log group; a log group of our own under the name AppSync writes to, and a role limited to it, do neither.
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/appsync/apis/${this.api.apiId}`,
      retention: props.logGroupProps?.retention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, 'LoggingRole', {
      assumedBy: new iam.ServicePrincipal('appsync.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Writes the logs of the AppSync API ${this.node.path}`,
    });
    logGroup.grantWrite(role);
    const cfnApi = this.api.node.defaultChild as appsync.CfnGraphQLApi;
    cfnApi.logConfig = {
      cloudWatchLogsRoleArn: role.roleArn,
      fieldLogLevel: props.fieldLogLevel ?? appsync.FieldLogLevel.ERROR,
      // Request-level logs (cdk-nag AwsSolutions-ASC3): each logged field with its request headers, context and the
      // evaluated resolver code, which is what a failed field needs to be understood.
      excludeVerboseContent: false,
    };
    this.logGroup = logGroup;
    this.loggingRole = role;
  }

  /** A unit resolver whose APPSYNC_JS code is `options.code`, checked at synth (see `checkResolverCode`). */
  addJsResolver(id: string, options: JsResolverOptions): appsync.Resolver {
    return new appsync.Resolver(this, id, {
      api: this.api,
      typeName: options.typeName,
      fieldName: options.fieldName,
      dataSource: options.dataSource ?? this.localDataSource(),
      code: this.checkedCode(options.code),
      runtime: appsync.FunctionRuntime.JS_1_0_0,
    });
  }

  /** A pipeline function whose APPSYNC_JS code is `options.code`, checked at synth. */
  addJsFunction(id: string, options: JsFunctionOptions): appsync.AppsyncFunction {
    return new appsync.AppsyncFunction(this, id, {
      api: this.api,
      name: options.name,
      dataSource: options.dataSource,
      code: this.checkedCode(options.code),
      runtime: appsync.FunctionRuntime.JS_1_0_0,
    });
  }

  /** A pipeline resolver running `options.functions` in order, between the before and after steps of `options.code`. */
  addPipelineResolver(id: string, options: PipelineResolverOptions): appsync.Resolver {
    return new appsync.Resolver(this, id, {
      api: this.api,
      typeName: options.typeName,
      fieldName: options.fieldName,
      pipelineConfig: options.functions,
      code: this.checkedCode(options.code),
      runtime: appsync.FunctionRuntime.JS_1_0_0,
    });
  }

  /** The NONE data source of local resolvers (no data source call: the code's result is the field's). */
  localDataSource(): appsync.NoneDataSource {
    this.noneDataSource ??= this.api.addNoneDataSource('Local', { description: 'Local resolvers: no data source call' });
    return this.noneDataSource;
  }

  private checkedCode(file: string): appsync.Code {
    const exported = resolverCodeExports(this.node.path, file);
    const missing = RESOLVER_EXPORTS.filter((name) => !exported.includes(name));
    if (missing.length > 0) {
      throw new ConstructUsageError(
        this.node.path,
        'SafeGraphqlApi.ResolverCodeWithoutHandlers',
        `${file} must export the functions ${RESOLVER_EXPORTS.join(' and ')}; it does not export ${missing.join(', ')}` +
          ` (it exports: ${exported.join(', ') || 'nothing'})`,
      );
    }
    return appsync.Code.fromAsset(file);
  }
}

/** The modes of one API together: each of API_KEY and AWS_IAM once, one Lambda authorizer, no user pool or issuer twice. */
function checkModesTogether(check: PropsValidator, modes: readonly appsync.AuthorizationMode[]): void {
  const count = (type: appsync.AuthorizationType) => modes.filter((mode) => mode.authorizationType === type).length;
  for (const type of MODES_ONCE) {
    check.require(count(type) <= 1, 'DuplicateMode', `${type} is given ${count(type)} times; an API has it once at most`);
  }
  const lambdas = count(appsync.AuthorizationType.LAMBDA);
  check.require(
    lambdas <= APPSYNC_LIMITS.maxLambdaAuthorizers,
    'MoreThanOneLambdaAuthorizer',
    `${lambdas} Lambda authorizers are given; an API has ${APPSYNC_LIMITS.maxLambdaAuthorizers} at most`,
  );
  const repeated = (values: (string | undefined)[]) => values.filter((value, n) => value !== undefined && values.indexOf(value) !== n);
  const pools = repeated(modes.map((mode) => mode.userPoolConfig?.userPool.userPoolId));
  check.require(
    pools.length === 0,
    'DuplicateUserPool',
    'the same user pool is given to more than one mode; AppSync refuses a user pool used twice (default and additional modes)',
  );
  const issuers = repeated(modes.map((mode) => mode.openIdConnectConfig?.oidcProvider));
  check.require(
    issuers.length === 0,
    'DuplicateOidcIssuer',
    `the OIDC issuer ${issuers[0] ?? ''} is given to more than one mode; AppSync refuses an OIDC provider used twice (default and additional modes)`,
  );
}

/**
 * The names an APPSYNC_JS code file exports, as esbuild reads them: the file is parsed as the ES module AppSync
 * runs (`@aws-appsync/utils` left to the runtime), so `export function request`, `export { request }` and
 * `export const request = ...` all count, and a comment or a string that merely mentions them does not.
 */
export function resolverCodeExports(constructPath: string, file: string): string[] {
  if (!existsSync(file)) {
    throw new ConstructUsageError(constructPath, 'SafeGraphqlApi.ResolverCodeNotFound', `resolver code ${file} does not exist`);
  }
  try {
    const { metafile } = buildSync({
      entryPoints: [file],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      external: ['@aws-appsync/utils', '@aws-appsync/utils/*'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return Object.values(metafile.outputs).flatMap((output) => output.exports);
  } catch (error) {
    const failure = error as Partial<BuildFailure>;
    if (!Array.isArray(failure.errors)) throw error;
    const messages = failure.errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text));
    throw new ConstructUsageError(constructPath, 'SafeGraphqlApi.ResolverCodeDoesNotCompile', messages.join('; '));
  }
}
