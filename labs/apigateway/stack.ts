import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { aliasFromStageVariable, allowStageToInvoke, ApiUsagePlan, StagedRestApi } from '../../lib/staged-rest-api';
import { SecureUserPool } from '../../lib/secure-user-pool';
import { keepOnDestroy, LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { apigatewayLab } from './lab';
import { APIGATEWAY_LAB as APIGATEWAY_LAB_SPEC } from './constants';
import {
  BAD_REQUEST_BODY_TEMPLATE,
  HEALTH_REQUEST_TEMPLATE,
  HEALTH_RESPONSE_TEMPLATE,
  ORDER_ERROR_PATTERNS,
  ORDER_ERROR_TEMPLATE,
  ORDER_REQUEST_SCHEMA,
  ORDER_REQUEST_TEMPLATE,
  ORDER_RESPONSE_TEMPLATE,
} from './templates';

/** The shared constants (./constants.ts) with CDK durations. */
const APIGATEWAY_LAB = withCdkDurations(APIGATEWAY_LAB_SPEC);

const JSON_TYPE = 'application/json';

/** A method with no authorizer, on purpose; cdk-nag's two authorization rules are acknowledged next to it. */
function acknowledgePublic(method: IConstruct, why: string): void {
  for (const id of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) Validations.of(method).acknowledge({ id, reason: why });
}

/**
 * API Gateway lab: a REST API with two stages whose stage variable picks the Lambda alias, a canary on prod, a
 * Lambda proxy integration, a non-proxy integration with mapping templates and a model-validated body, a mock
 * integration, a Cognito user pool authorizer, a usage plan with an API key, CORS and access logs. The stage cache
 * is an optional, billed part.
 */
export class ApigatewayLabStack extends LabStack<typeof apigatewayLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const lab = APIGATEWAY_LAB;
    const cache = this.feature('cache');

    const users = new SecureUserPool(this, 'Users', {
      deletionProtection: false,
      appClient: { callbackUrls: [`${lab.allowedOrigin}/callback`], adminPasswordAuth: true },
    });

    const proxyFn = new SafeNodejsFunction(this, 'ProxyFunction', {
      entry: path.join(__dirname, '../../lambda/api-proxy/index.ts'),
      description: 'Lambda proxy integration of the API Gateway lab',
      environment: { ALLOWED_ORIGIN: lab.allowedOrigin },
    });
    const live = new lambda.Alias(this, 'LiveAlias', { aliasName: lab.stages.prod.lambdaAlias, version: proxyFn.currentVersion });
    const dev = new lambda.Alias(this, 'DevAlias', { aliasName: lab.stages.dev.lambdaAlias, version: proxyFn.latestVersion });
    const ordersFn = new SafeNodejsFunction(this, 'OrdersFunction', {
      entry: path.join(__dirname, '../../lambda/api-orders/index.ts'),
      description: 'Backend of the non-proxy integration of the API Gateway lab',
    });

    const rest = new StagedRestApi(this, 'Rest', {
      description: 'API Gateway lab: proxy, non-proxy, mock, validation, stages, usage plan, Cognito authorizer',
      accountLogsRole: {},
      cors: {
        allowOrigins: [lab.allowedOrigin],
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'Authorization', 'X-Api-Key'],
        maxAge: Duration.minutes(10),
      },
      stages: {
        prod: {
          variables: { [lab.stageVariable]: lab.stages.prod.lambdaAlias },
          throttle: lab.stages.prod.throttle,
          canary: { percentTraffic: lab.canaryPercent, variableOverrides: { [lab.stageVariable]: lab.stages.dev.lambdaAlias } },
          cache: cache ? { sizeGb: lab.cache.sizeGb, ttl: lab.cache.ttl, methods: ['/hello/GET'] } : undefined,
        },
        dev: {
          variables: { [lab.stageVariable]: lab.stages.dev.lambdaAlias },
          throttle: lab.stages.dev.throttle,
          loggingLevel: apigw.MethodLoggingLevel.INFO,
          dataTrace: true,
        },
      },
    });
    // The account's API Gateway logging role is shared by every REST API in this account and Region: deleting it
    // with the lab would leave the account setting naming a deleted role, and every API there unable to log.
    keepOnDestroy(rest.accountLogsRole!, 'account-wide API Gateway CloudWatch Logs role, used by every REST API in this Region');
    keepOnDestroy(rest.accountSetting!, 'account-wide API Gateway setting naming the CloudWatch Logs role');
    const api = rest.api;
    // prod (and its canary) may call both aliases; dev only the dev alias.
    allowStageToInvoke(live, api, 'prod');
    allowStageToInvoke(dev, api, 'prod');
    allowStageToInvoke(dev, api, 'dev');

    const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [users.userPool],
      resultsCacheTtl: Duration.minutes(5),
    });
    const withCognito = { authorizationType: apigw.AuthorizationType.COGNITO, authorizer };

    // Mock integration: API Gateway answers from templates, no backend.
    const health = api.root.addResource('health').addMethod(
      'GET',
      new apigw.MockIntegration({
        requestTemplates: { [JSON_TYPE]: HEALTH_REQUEST_TEMPLATE },
        integrationResponses: [{ statusCode: '200', responseTemplates: { [JSON_TYPE]: HEALTH_RESPONSE_TEMPLATE } }],
        passthroughBehavior: apigw.PassthroughBehavior.NEVER,
      }),
      { methodResponses: [{ statusCode: '200' }] },
    );
    acknowledgePublic(health, 'A health probe: the mock integration answers from a template and reaches no backend or data.');

    // Lambda proxy integration through the stage's alias; API key and usage plan, no authorizer.
    const hello = api.root.addResource('hello').addMethod(
      'GET',
      aliasFromStageVariable(proxyFn, lab.stageVariable, { cacheKeyParameters: ['method.request.querystring.name'] }),
      { apiKeyRequired: true, requestParameters: { 'method.request.querystring.name': false } },
    );
    acknowledgePublic(
      hello,
      'Public on purpose: it returns a greeting. The lab uses it to show that an API key identifies a caller for a ' +
        'usage plan (throttling, quota) without authorizing anyone; /me, /feedback and /orders use the Cognito authorizer.',
    );

    api.root.addResource('me').addMethod('GET', aliasFromStageVariable(proxyFn, lab.stageVariable), withCognito);
    api.root.addResource('feedback').addMethod('POST', aliasFromStageVariable(proxyFn, lab.stageVariable), withCognito);

    // Non-proxy integration: model validation, request and response mapping templates, errors by selection pattern.
    const orderModel = api.addModel('OrderRequest', {
      contentType: JSON_TYPE,
      // The plain JSON schema of templates.ts; its "type" strings are the values of apigw.JsonSchemaType.
      schema: { ...ORDER_REQUEST_SCHEMA, schema: apigw.JsonSchemaVersion.DRAFT4 } as unknown as apigw.JsonSchema,
    });
    const cors = { 'method.response.header.Access-Control-Allow-Origin': `'${lab.allowedOrigin}'` };
    const errorResponse = (statusCode: string, selectionPattern: string): apigw.IntegrationResponse => ({
      statusCode,
      selectionPattern,
      responseTemplates: { [JSON_TYPE]: ORDER_ERROR_TEMPLATE },
      responseParameters: cors,
    });
    api.root.addResource('orders').addMethod(
      'POST',
      new apigw.LambdaIntegration(ordersFn, {
        proxy: false,
        passthroughBehavior: apigw.PassthroughBehavior.NEVER,
        requestTemplates: { [JSON_TYPE]: ORDER_REQUEST_TEMPLATE },
        integrationResponses: [
          { statusCode: '200', responseTemplates: { [JSON_TYPE]: ORDER_RESPONSE_TEMPLATE }, responseParameters: cors },
          errorResponse('400', ORDER_ERROR_PATTERNS.badRequest),
          errorResponse('409', ORDER_ERROR_PATTERNS.conflict),
          errorResponse('500', ORDER_ERROR_PATTERNS.other),
        ],
      }),
      {
        ...withCognito,
        requestValidator: rest.bodyValidator,
        requestModels: { [JSON_TYPE]: orderModel },
        methodResponses: ['200', '400', '409', '500'].map((statusCode) => ({
          statusCode,
          responseParameters: { 'method.response.header.Access-Control-Allow-Origin': true },
        })),
      },
    );

    // LambdaIntegration lets the API's deployment stage (prod) invoke the backend; dev needs its own permission.
    ordersFn.addPermission('InvokeFromDevOrders', {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: api.arnForExecuteApi('POST', '/orders', 'dev'),
    });

    // Errors produced by API Gateway itself carry CORS headers too, so a browser app can read them.
    const corsHeaders = { 'Access-Control-Allow-Origin': `'${lab.allowedOrigin}'` };
    api.addGatewayResponse('BadRequestBody', {
      type: apigw.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: { [JSON_TYPE]: BAD_REQUEST_BODY_TEMPLATE },
      responseHeaders: corsHeaders,
    });
    api.addGatewayResponse('Default4xx', { type: apigw.ResponseType.DEFAULT_4XX, responseHeaders: corsHeaders });
    api.addGatewayResponse('Default5xx', { type: apigw.ResponseType.DEFAULT_5XX, responseHeaders: corsHeaders });

    const plan = new ApiUsagePlan(this, 'UsagePlan', {
      description: 'API Gateway lab: per-key throttling and a daily quota',
      stages: [rest.stages.prod, rest.stages.dev],
      throttle: lab.usagePlan.throttle,
      quota: { limit: lab.usagePlan.quotaPerDay, period: apigw.Period.DAY },
    });

    for (const stage of Object.values(rest.stages)) {
      Validations.of(stage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'An AWS WAF web ACL costs $5/month plus $1 per rule while idle, and this lab is $0 while idle. Stage and ' +
          'usage-plan throttling bound what a caller can spend.',
      });
    }

    const outputs: Record<string, string> = {
      ProdUrl: rest.stages.prod.urlForPath('/'),
      DevUrl: rest.stages.dev.urlForPath('/'),
      RestApiId: api.restApiId,
      ApiKeyId: plan.apiKey.keyId,
      UserPoolId: users.userPool.userPoolId,
      UserPoolClientId: users.appClient!.userPoolClientId,
      ProxyFunctionName: proxyFn.functionName,
      ProdAccessLogGroup: rest.accessLogGroups.prod.logGroupName,
      DevExecutionLogGroup: rest.executionLogGroups.dev.logGroupName,
      AllowedOrigin: lab.allowedOrigin,
    };
    this.addOutputs(outputs);
  }
}
