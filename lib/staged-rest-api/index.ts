import { Aws, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from '../core/logs';
import { ConstructUsageError, PropsValidator } from '../core/validation';

/** API Gateway limits these props are checked against (API Gateway developer guide: quotas, stage variables, caching). */
export const REST_API_LIMITS = {
  stageNamePattern: /^[A-Za-z0-9_-]{1,128}$/,
  variableNamePattern: /^[A-Za-z0-9_]{1,64}$/,
  variableValuePattern: /^[A-Za-z0-9\-._~:/?#&=,]{1,512}$/,
  cacheSizesGb: ['0.5', '1.6', '6.1', '13.5', '28.4', '58.2', '118', '237'],
  maxCacheTtlSeconds: 3600,
  /** A cached method: `/<resource path>/<HTTP method>`. */
  cachedMethodPattern: /^\/.*\/(GET|HEAD|OPTIONS|POST|PUT|PATCH|DELETE|ANY)$/,
  /** Share of a stage's requests a canary may take, in percent. */
  maxCanaryPercent: 100,
  /**
   * Default account-level throttle per Region (requests per second / burst): a stage or usage plan above it is capped
   * there unless the account's quota was raised (warning `ThrottleAboveAccountLimit`).
   */
  accountRateLimit: 10_000,
  accountBurstLimit: 5_000,
} as const;

/** Steady-state requests per second and the bucket size for bursts. */
export interface ThrottleLimits {
  /** Steady-state requests per second (≥ 0). */
  readonly rateLimit: number;
  /** Requests the token bucket holds for bursts (a whole number ≥ 0). */
  readonly burstLimit: number;
}

/** A stage's cache cluster: billed per hour while it exists, from $0.02/hour for 0.5 GB (us-east-1). */
export interface StageCacheOptions {
  /** Cache size in GB: '0.5', '1.6', '6.1', '13.5', '28.4', '58.2', '118' or '237'. @default '0.5' */
  readonly sizeGb?: string;
  /**
   * Methods to cache, as `/<resource path>/<HTTP method>` (e.g. `/hello/GET`). Declare the request parameters that
   * distinguish responses as `cacheKeyParameters` on their integrations, or every caller gets the first response.
   */
  readonly methods: string[];
  /** How long a response stays cached (0–3600 s, a whole number of seconds). @default Duration.minutes(5) */
  readonly ttl?: Duration;
}

/**
 * A canary on a stage: `percentTraffic` of the stage's requests use the same deployment with `variableOverrides`
 * applied, e.g. another Lambda alias.
 */
export interface StageCanaryOptions {
  /** Share of the stage's requests the canary takes, in percent (0–100). */
  readonly percentTraffic: number;
  /** Stage variables the canary's requests see instead of the stage's. @default - none */
  readonly variableOverrides?: Record<string, string>;
}

/** Settings of one stage of a `StagedRestApi`. */
export interface StageOptions {
  /** Stage variables, readable as `${stageVariables.<name>}` in integrations and `$stageVariables` in templates. @default - none */
  readonly variables?: Record<string, string>;
  /** Default throttling of every method of the stage. @default - the account's 10,000 rps / 5,000 burst */
  readonly throttle?: ThrottleLimits;
  /** Execution log level (needs the account's CloudWatch Logs role). @default apigw.MethodLoggingLevel.ERROR */
  readonly loggingLevel?: apigw.MethodLoggingLevel;
  /** Log full requests and responses in the execution log: never on stages that carry personal data. @default false */
  readonly dataTrace?: boolean;
  /** A canary on this stage. @default - no canary */
  readonly canary?: StageCanaryOptions;
  /** A cache cluster on this stage (billed hourly). @default - no cache */
  readonly cache?: StageCacheOptions;
}

/**
 * API Gateway's account-level CloudWatch Logs role (AWS::ApiGateway::Account), created and set by the construct.
 * It replaces any role set before in this account and Region, and the setting outlives the stack.
 */
export interface AccountLogsRoleOptions {
  /** Description of the role. @default 'Lets API Gateway write execution and access logs of every REST API in this account and Region' */
  readonly description?: string;
}

export interface StagedRestApiProps {
  /** Name of the API in the console (names need not be unique). @default - `<stack name>-<construct id>` */
  readonly restApiName?: string;
  /** Description of the API in the console. @default - none */
  readonly description?: string;
  /** Stages by name, all on the same deployment; the first is the API's `deploymentStage`. At least one. */
  readonly stages: Record<string, StageOptions>;
  /** CORS preflight (OPTIONS) for every resource. @default - none */
  readonly cors?: apigw.CorsOptions;
  /**
   * Create the role API Gateway needs to write logs and make it this Region's account-wide setting
   * (AWS::ApiGateway::Account): `{}` for the defaults. It replaces any role set before, and the setting outlives the
   * stack. @default - none: the account must already have one (`aws apigateway get-account`)
   */
  readonly accountLogsRole?: AccountLogsRoleOptions;
  /** Settings of the access and execution log groups of every stage. @default retention of one month */
  readonly logGroupProps?: CreatedLogGroupProps;
}

/** The fields of every access log line (JSON, one object per request). */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationLatency: '$context.integrationLatency',
  stage: '$context.stage',
  canary: '$context.isCanaryRequest',
  apiKeyId: '$context.identity.apiKeyId',
  user: '$context.authorizer.claims.sub',
  error: '$context.error.message',
  xrayTraceId: '$context.xrayTraceId',
} as const;

/**
 * A REST API deployed to one or more stages, each with X-Ray tracing, JSON access logs, execution logs and
 * metrics, optional throttling, stage variables, a canary and a cache, plus request validation ready to use
 * (`bodyValidator`). Execution log groups are created with a retention instead of being left to API Gateway.
 */
export class StagedRestApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly stages: Record<string, apigw.Stage> = {};
  /** Access log group of each stage, by stage name. */
  public readonly accessLogGroups: Record<string, logs.ILogGroup> = {};
  /** Execution log group of each stage, by stage name. */
  public readonly executionLogGroups: Record<string, logs.ILogGroup> = {};
  /** Validates request bodies against the method's model and required parameters: attach it to methods. */
  public readonly bodyValidator: apigw.RequestValidator;
  /** The account-level CloudWatch Logs role; undefined unless `accountLogsRole`. */
  public readonly accountLogsRole?: iam.IRole;
  /** The account setting naming `accountLogsRole`; undefined unless `accountLogsRole` is set. */
  public readonly accountSetting?: apigw.CfnAccount;

  constructor(scope: Construct, id: string, props: StagedRestApiProps) {
    super(scope, id);
    const cacheTtls = validate(this, props);
    const retention = props.logGroupProps?.retention ?? DEFAULT_LOG_RETENTION;
    const [firstName, ...otherNames] = Object.keys(props.stages);

    const accessLog = (name: string) => {
      const group = new logs.LogGroup(this, `AccessLogs${name}`, { retention, removalPolicy: RemovalPolicy.RETAIN });
      this.accessLogGroups[name] = group;
      return group;
    };
    const stageOptions = (name: string): apigw.StageOptions => {
      const settings = props.stages[name];
      const methodOptions: Record<string, apigw.MethodDeploymentOptions> = {};
      for (const method of settings.cache?.methods ?? []) {
        methodOptions[method] = { cachingEnabled: true, cacheTtl: cacheTtls[name], cacheDataEncrypted: true };
      }
      return {
        stageName: name,
        variables: settings.variables,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: settings.loggingLevel ?? apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: settings.dataTrace ?? false,
        throttlingRateLimit: settings.throttle?.rateLimit,
        throttlingBurstLimit: settings.throttle?.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLog(name)),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        cacheClusterEnabled: settings.cache ? true : undefined,
        cacheClusterSize: settings.cache ? (settings.cache.sizeGb ?? DEFAULT_CACHE_SIZE_GB) : undefined,
        methodOptions: Object.keys(methodOptions).length > 0 ? methodOptions : undefined,
      };
    };

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: props.restApiName ?? `${Aws.STACK_NAME}-${id}`,
      description: props.description,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: false,
      deploy: true,
      deployOptions: stageOptions(firstName),
      defaultCorsPreflightOptions: props.cors,
    });
    this.stages[firstName] = this.api.deploymentStage;
    for (const name of otherNames) {
      this.stages[name] = new apigw.Stage(this, `Stage${name}`, { deployment: this.api.latestDeployment!, ...stageOptions(name) });
    }
    for (const [name, stage] of Object.entries(this.stages)) {
      const canary = props.stages[name].canary;
      if (canary) {
        (stage.node.defaultChild as apigw.CfnStage).canarySetting = {
          deploymentId: this.api.latestDeployment!.deploymentId,
          percentTraffic: canary.percentTraffic,
          stageVariableOverrides: canary.variableOverrides,
          useStageCache: false,
        };
      }
      // API Gateway would create this group itself on the first request, without retention and outside the stack.
      this.executionLogGroups[name] = new logs.LogGroup(this, `ExecutionLogs${name}`, {
        logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${name}`,
        retention,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    this.bodyValidator = this.api.addRequestValidator('BodyValidator', { validateRequestBody: true, validateRequestParameters: true });

    if (props.accountLogsRole) {
      const role = new iam.Role(this, 'AccountLogsRole', {
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        description:
          props.accountLogsRole.description ??
          'Lets API Gateway write execution and access logs of every REST API in this account and Region',
      });
      this.accountLogsRole = role;
      const logGroups = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`;
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'logs:CreateLogGroup',
            'logs:CreateLogStream',
            'logs:DescribeLogGroups',
            'logs:DescribeLogStreams',
            'logs:PutLogEvents',
            'logs:GetLogEvents',
            'logs:FilterLogEvents',
          ],
          resources: [logGroups],
        }),
      );
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]',
        reason:
          'The role is an account-wide setting of API Gateway: it writes the logs of every REST API in this account and ' +
          'Region, whose log group names are not known here. It is scoped to log groups of this account and Region, ' +
          'and to the actions of the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs.',
      });
      this.accountSetting = new apigw.CfnAccount(this, 'Account', { cloudWatchRoleArn: role.roleArn });
      for (const stage of Object.values(this.stages)) stage.node.addDependency(this.accountSetting);
    }
  }

  /** The URL of a stage; a name that is not one of `stages` is a `StagedRestApi.UnknownStage` usage error. */
  urlOf(stageName: string): string {
    const stage = Object.prototype.hasOwnProperty.call(this.stages, stageName) ? this.stages[stageName] : undefined;
    if (stage === undefined) {
      throw new ConstructUsageError(
        this.node.path,
        'StagedRestApi.UnknownStage',
        `urlOf("${stageName}"): the API has no such stage; its stages are ${Object.keys(this.stages).join(', ')}`,
      );
    }
    return stage.urlForPath('/');
  }
}

/**
 * An AWS_PROXY (or AWS) integration with the Lambda alias named by a stage variable: each stage calls
 * `<function>:${stageVariables.<variable>}`. Grant each alias with `allowStageToInvoke`.
 */
export function aliasFromStageVariable(
  fn: lambda.IFunction,
  variable: string,
  options: apigw.IntegrationOptions & { readonly proxy?: boolean } = {},
): apigw.Integration {
  const { proxy = true, ...integrationOptions } = options;
  return new apigw.Integration({
    type: proxy ? apigw.IntegrationType.AWS_PROXY : apigw.IntegrationType.AWS,
    integrationHttpMethod: 'POST',
    uri: `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}:lambda:path/2015-03-31/functions/${fn.functionArn}:\${stageVariables.${variable}}/invocations`,
    options: integrationOptions,
  });
}

/** Lets one stage of an API invoke a Lambda alias (a resource-based policy statement scoped to that stage). */
export function allowStageToInvoke(alias: lambda.IAlias, api: apigw.IRestApi, stageName: string): void {
  alias.addPermission(`InvokeFrom${api.node.id}${stageName}`, {
    principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    sourceArn: api.arnForExecuteApi('*', '/*', stageName),
  });
}

/** How many requests each API key of a usage plan may make per period. */
export interface QuotaOptions {
  /** Requests per period: a whole number of at least 1. */
  readonly limit: number;
  /** The period the limit applies to (DAY, WEEK or MONTH). */
  readonly period: apigw.Period;
}

export interface ApiUsagePlanProps {
  /**
   * The stages the plan applies to; at least one, all of one API. (The class, not `IStage`: CDK's usage plan takes
   * `apigw.Stage`.)
   */
  readonly stages: apigw.Stage[];
  /** Steady-state requests per second and burst of each API key. */
  readonly throttle: ThrottleLimits;
  /** Requests each key may make per period. @default - no quota */
  readonly quota?: QuotaOptions;
  /** An existing key to associate. @default - a key is created, its value generated by API Gateway */
  readonly apiKey?: apigw.IApiKey;
  /** Description of the usage plan in the console. @default - none */
  readonly description?: string;
}

/**
 * A usage plan with an API key: callers of methods with `apiKeyRequired` send the key in `x-api-key`, and the plan
 * throttles and counts their requests. API keys identify callers; they do not authorize them.
 */
export class ApiUsagePlan extends Construct {
  public readonly plan: apigw.UsagePlan;
  public readonly apiKey: apigw.IApiKey;

  constructor(scope: Construct, id: string, props: ApiUsagePlanProps) {
    super(scope, id);
    validateUsagePlan(this, props);
    this.apiKey = props.apiKey ?? new apigw.ApiKey(this, 'Key', { description: `API key of ${this.node.path}` });
    this.plan = new apigw.UsagePlan(this, 'Plan', {
      description: props.description,
      throttle: props.throttle,
      quota: props.quota,
      apiStages: props.stages.map((stage) => ({ api: stage.restApi, stage })),
    });
    this.plan.addApiKey(this.apiKey);
  }
}

/** Cache size of a stage whose `cache` names none, in GB: the smallest, from $0.02/hour (us-east-1). */
const DEFAULT_CACHE_SIZE_GB = '0.5';
/** How long a response stays cached when `cache.ttl` is not given. */
const DEFAULT_CACHE_TTL = Duration.minutes(5);

function validThrottle(t: ThrottleLimits): boolean {
  return t.rateLimit >= 0 && Number.isInteger(t.burstLimit) && t.burstLimit >= 0;
}

/**
 * Warns (`<prefix>.ThrottleAboveAccountLimit`) when a throttle is above the account's default Region-wide limit:
 * API Gateway caps requests there unless the account's quota was raised, so the setting promises more than it gives.
 */
function warnAboveAccountLimit(check: PropsValidator, t: ThrottleLimits, who: string): void {
  const { accountRateLimit: rate, accountBurstLimit: burst } = REST_API_LIMITS;
  check.warnUnless(
    t.rateLimit <= rate && t.burstLimit <= burst,
    'ThrottleAboveAccountLimit',
    `${who}throttle ${t.rateLimit}/${t.burstLimit} is above the account's default limit of ${rate} requests per second ` +
      `and a burst of ${burst} per Region: API Gateway caps requests there unless the account's quota was raised`,
  );
}

/** Validates the props; returns the cache TTL of each stage with a cache, checked. */
function validate(scope: Construct, props: StagedRestApiProps): Record<string, Duration> {
  const check = new PropsValidator(scope, 'StagedRestApi');
  const cacheTtls: Record<string, Duration> = {};
  const names = Object.keys(props.stages);
  check.require(names.length > 0, 'NoStage', 'stages needs at least one stage');
  for (const [name, settings] of Object.entries(props.stages)) {
    check.require(
      REST_API_LIMITS.stageNamePattern.test(name),
      'StageName',
      `stage name "${name}" must be 1–128 letters, digits, "-" or "_"`,
    );
    const variables = { ...settings.variables, ...settings.canary?.variableOverrides };
    for (const [variable, value] of Object.entries(variables)) {
      check.require(
        REST_API_LIMITS.variableNamePattern.test(variable),
        'StageVariableName',
        `stage ${name}: variable name "${variable}" must be 1–64 letters, digits or "_"`,
      );
      check.require(
        Token.isUnresolved(value) || REST_API_LIMITS.variableValuePattern.test(value),
        'StageVariableValue',
        `stage ${name}: the value of ${variable} must be 1–512 characters of A-Z a-z 0-9 - . _ ~ : / ? # & = ,`,
      );
    }
    for (const variable of Object.keys(settings.canary?.variableOverrides ?? {})) {
      check.warnUnless(
        settings.variables?.[variable] !== undefined,
        'CanaryOverridesUnknownVariable',
        `stage ${name}: the canary overrides ${variable}, which the stage does not define`,
      );
    }
    if (settings.throttle) {
      check.require(
        validThrottle(settings.throttle),
        'ThrottleRange',
        `stage ${name}: throttle rateLimit must be ≥ 0 and burstLimit a whole number ≥ 0, got ${settings.throttle.rateLimit}/${settings.throttle.burstLimit}`,
      );
      warnAboveAccountLimit(check, settings.throttle, `stage ${name}: `);
    }
    if (settings.canary) {
      const percent = settings.canary.percentTraffic;
      check.inRange(
        percent,
        { min: 0, max: REST_API_LIMITS.maxCanaryPercent },
        'CanaryPercentRange',
        `stage ${name}: canary.percentTraffic must be between 0 and ${REST_API_LIMITS.maxCanaryPercent}, got ${percent}`,
      );
    }
    if (settings.cache) {
      const sizeGb = settings.cache.sizeGb ?? DEFAULT_CACHE_SIZE_GB;
      check.require(
        (REST_API_LIMITS.cacheSizesGb as readonly string[]).includes(sizeGb),
        'CacheSize',
        `stage ${name}: cache.sizeGb must be one of ${REST_API_LIMITS.cacheSizesGb.join(', ')}, got "${sizeGb}"`,
      );
      const ttlDuration = settings.cache.ttl ?? DEFAULT_CACHE_TTL;
      cacheTtls[name] = ttlDuration;
      const ttl = check.seconds(ttlDuration, `stage ${name}: cache.ttl`);
      if (ttl !== undefined) {
        check.inRange(
          ttl,
          { min: 0, max: REST_API_LIMITS.maxCacheTtlSeconds },
          'CacheTtlRange',
          `stage ${name}: cache.ttl must be between 0 and ${REST_API_LIMITS.maxCacheTtlSeconds} seconds, got ${ttl}`,
        );
      }
      check.require(settings.cache.methods.length > 0, 'CacheWithoutMethods', `stage ${name}: cache.methods lists no method to cache`);
      for (const method of settings.cache.methods) {
        check.require(
          REST_API_LIMITS.cachedMethodPattern.test(method),
          'CacheMethodPath',
          `stage ${name}: cached method "${method}" must look like /<resource path>/<HTTP method>, e.g. /hello/GET`,
        );
      }
    }
  }
  if (props.cors) {
    check.require(props.cors.allowOrigins.length > 0, 'CorsNoOrigins', 'cors.allowOrigins needs at least one origin');
  }
  check.throwIfInvalid();
  return cacheTtls;
}

function validateUsagePlan(scope: Construct, props: ApiUsagePlanProps): void {
  const check = new PropsValidator(scope, 'ApiUsagePlan');
  check.require(
    props.stages.length > 0,
    'NoStage',
    'stages needs at least one stage: a usage plan without a stage throttles nothing and its keys work nowhere',
  );
  const apis = new Set(props.stages.map((s) => s.restApi));
  check.require(apis.size <= 1, 'StagesOfSeveralApis', 'stages must all belong to one REST API');
  check.require(
    validThrottle(props.throttle),
    'ThrottleRange',
    `throttle rateLimit must be ≥ 0 and burstLimit a whole number ≥ 0, got ${props.throttle.rateLimit}/${props.throttle.burstLimit}`,
  );
  check.warnUnless(
    props.throttle.burstLimit >= props.throttle.rateLimit,
    'BurstBelowRate',
    `throttle burstLimit ${props.throttle.burstLimit} is below rateLimit ${props.throttle.rateLimit}: the token bucket ` +
      'never holds a full second of requests',
  );
  warnAboveAccountLimit(check, props.throttle, '');
  if (props.quota) {
    check.require(
      Number.isInteger(props.quota.limit) && props.quota.limit >= 1,
      'QuotaLimitRange',
      `quota.limit must be a whole number of at least 1, got ${props.quota.limit}`,
    );
  }
  check.throwIfInvalid();
}
