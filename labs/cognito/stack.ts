import * as path from 'node:path';
import { Aws, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { IDENTITY_ID, UserPoolIdentityPool } from '../../lib/user-pool-identity-pool';
import { OidcProviderOptions, SecureUserPool } from '../../lib/secure-user-pool';
import { LabConfigError, LabStack, LabStackProps } from '../support/lab-stack';
import type { ParameterName } from '../support/define-lab';
import type { cognitoLab } from './lab';
import { COGNITO_LAB, OIDC_PARAMETERS } from './constants';

function oidcProviders(read: (parameter: ParameterName<typeof cognitoLab>) => string | undefined): OidcProviderOptions[] {
  const issuerUrl = read(OIDC_PARAMETERS.issuerUrl);
  const clientId = read(OIDC_PARAMETERS.clientId);
  const secretName = read(OIDC_PARAMETERS.clientSecretName);
  const given = [issuerUrl, clientId, secretName].filter((v) => v !== undefined).length;
  if (given === 0) return [];
  if (given < 3) {
    const missing = [OIDC_PARAMETERS.issuerUrl, OIDC_PARAMETERS.clientId, OIDC_PARAMETERS.clientSecretName]
      .filter((parameter) => read(parameter) === undefined)
      .map((parameter) => `cognito:${parameter}`);
    throw new LabConfigError(`an OIDC provider needs all of its context keys; missing: ${missing.join(', ')}`);
  }
  return [
    {
      name: read(OIDC_PARAMETERS.name) ?? 'Corporate',
      issuerUrl: issuerUrl!,
      clientId: clientId!,
      clientSecret: SecretValue.secretsManager(secretName!),
    },
  ];
}

/**
 * Cognito lab: a user pool (password policy, TOTP MFA, email verification, groups mapped to IAM roles, managed login
 * with the authorization code grant and PKCE), an identity pool that hands out AWS credentials by group, a table
 * the credentials are scoped to, and an HTTP API with a JWT authorizer. Threat protection (Plus plan) is optional.
 */
export class CognitoLabStack extends LabStack<typeof cognitoLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const lab = COGNITO_LAB;

    const users = new SecureUserPool(this, 'Users', {
      selfSignUp: true,
      deletionProtection: false,
      threatProtection: this.feature('threat-protection') ? {} : undefined,
      appClient: {
        callbackUrls: [lab.callbackUrl],
        adminPasswordAuth: true,
        oidcProviders: oidcProviders((parameter) => this.parameter(parameter)),
      },
    });
    const client = users.appClient!;

    const identities = new UserPoolIdentityPool(this, 'Identities', {
      userPool: users.userPool,
      userPoolClient: client,
      allowGuests: true,
      roleFromToken: { withoutPreferredRole: 'AuthenticatedRole' },
    });

    // Each identity may touch only the items whose partition key is its own identity id.
    const notes = new dynamodb.TableV2(this, 'Notes', {
      partitionKey: { name: 'ownerId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'noteId', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const ownItemsOnly = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [IDENTITY_ID] } };
    const editors = identities.newRole('EditorsRole', 'Role of the editors group: read and write own notes');
    editors.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [notes.tableArn],
        conditions: ownItemsOnly,
      }),
    );
    const viewers = identities.newRole('ViewersRole', 'Role of the viewers group: read own notes');
    viewers.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [notes.tableArn], conditions: ownItemsOnly }),
    );
    users.addGroup('editors', { ...lab.groups.editors, role: editors });
    users.addGroup('viewers', { ...lab.groups.viewers, role: viewers });

    // An HTTP API whose JWT authorizer checks the user pool's tokens: signature, issuer, expiry, audience (the client).
    const meFn = new SafeNodejsFunction(this, 'MeFunction', {
      entry: path.join(__dirname, '../../lambda/api-proxy/index.ts'),
      description: 'Returns the verified token claims API Gateway passes on (Cognito lab)',
      environment: { ALLOWED_ORIGIN: new URL(lab.callbackUrl).origin },
    });
    const httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `${Aws.STACK_NAME}-HttpApi`,
      description: 'Cognito lab: a JWT authorizer in front of one route',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'HttpApiAccessLogs', { retention: logs.RetentionDays.ONE_WEEK });
    const stage = new apigwv2.HttpStage(this, 'HttpApiStage', {
      httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 10, burstLimit: 20 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            routeKey: '$context.routeKey',
            status: '$context.status',
            sub: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    httpApi.addRoutes({
      path: '/me',
      methods: [apigwv2.HttpMethod.GET],
      integration: new HttpLambdaIntegration('Me', meFn, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_1_0 }),
      authorizer: new HttpUserPoolAuthorizer('UserPoolAuthorizer', users.userPool, { userPoolClients: [client] }),
    });

    const outputs: Record<string, string> = {
      Region: Aws.REGION,
      UserPoolId: users.userPool.userPoolId,
      UserPoolClientId: client.userPoolClientId,
      IdentityPoolId: identities.identityPool.identityPoolId,
      LoginProvider: identities.loginProvider,
      ManagedLoginUrl: users.domain!.baseUrl(),
      SignInUrl: users.signInUrl(lab.callbackUrl),
      ApiUrl: stage.url,
      NotesTableName: notes.tableName,
      EditorsRoleArn: editors.roleArn,
      ViewersRoleArn: viewers.roleArn,
      GuestRoleArn: identities.guestRole.roleArn,
    };
    this.addOutputs(outputs);
  }
}
