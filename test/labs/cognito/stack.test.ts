import { Match, Template } from 'aws-cdk-lib/assertions';
import { cognitoLab } from '../../../labs/cognito/lab';
import { withStack } from '../../../labs/support/app';
import { CognitoLabStack } from '../../../labs/cognito/stack';
import { COGNITO_LAB, OIDC_PARAMETERS } from '../../../labs/cognito/constants';

const OIDC_CONTEXT = Object.fromEntries(
  Object.entries(OIDC_PARAMETERS).map(([field, parameter]) => [field, `cognito:${parameter}`]),
) as Record<keyof typeof OIDC_PARAMETERS, string>;
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

const lab = withStack(cognitoLab, CognitoLabStack);
const template = labTemplate(lab);
type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = template.toJSON().Resources as Record<string, Resource>;
const templateWith = (context: Record<string, unknown>) =>
  Template.fromStack(new lab.stack(testApp(context, { builtinCloudFormationValidation: false }), { lab }));

const roleIds = () => Object.keys(template.findResources('AWS::IAM::Role'));
const roleId = (match: RegExp) => roleIds().find((id) => match.test(id))!;
const policiesOf = (id: string) =>
  Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${id}"`));
const statementsOf = (id: string) =>
  policiesOf(id).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);

describe('user pool', () => {
  test('strong password policy: 12+ characters of every class, temporary passwords valid 3 days', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          TemporaryPasswordValidityDays: 3,
        },
      },
    });
  });

  test('MFA is required, by authenticator app (TOTP) only', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
  });

  test('self sign-up with email as the user name, verified by an emailed code; recovery by email only', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      UsernameAttributes: ['email'],
      UsernameConfiguration: { CaseSensitive: false },
      AutoVerifiedAttributes: ['email'],
      VerificationMessageTemplate: Match.objectLike({ DefaultEmailOption: 'CONFIRM_WITH_CODE', EmailMessage: Match.stringLikeRegexp('\\{####\\}') }),
      UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
  });

  test('Essentials plan without threat protection by default, and deletable by the lab', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'ESSENTIALS',
      UserPoolAddOns: Match.absent(),
      DeletionProtection: 'INACTIVE',
    });
    template.resourceCountIs('AWS::Cognito::UserPoolRiskConfigurationAttachment', 0);
  });

  test('-c cognito:threat-protection=true: Plus plan, enforced, compromised credentials blocked on sign-in, sign-up, password change', () => {
    const plus = templateWith({ 'cognito:threat-protection': true });
    plus.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolTier: 'PLUS', UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' } });
    plus.hasResourceProperties('AWS::Cognito::UserPoolRiskConfigurationAttachment', {
      ClientId: 'ALL',
      CompromisedCredentialsRiskConfiguration: { EventFilter: ['SIGN_IN', 'SIGN_UP', 'PASSWORD_CHANGE'], Actions: { EventAction: 'BLOCK' } },
      AccountTakeoverRiskConfiguration: { Actions: Match.objectLike({ HighAction: { EventAction: 'BLOCK', Notify: false } }) },
    });
  });

  test('the app client: public (no secret), authorization code grant only, PKCE-ready, no user-existence leaks, revocable tokens', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: ['http://localhost:5173/callback'],
      ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      IdTokenValidity: 60,
      AccessTokenValidity: 60,
      RefreshTokenValidity: 43_200,
      SupportedIdentityProviders: ['COGNITO'],
    });
  });

  test('a managed login domain (newer managed login) with default branding, its prefix unique per stack', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      ManagedLoginVersion: 2,
      Domain: { 'Fn::Join': ['-', ['login', Match.objectLike({ 'Fn::Select': [4, Match.anyValue()] })]] },
    });
    template.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', { UseCognitoProvidedValues: true, ClientId: { Ref: Match.stringLikeRegexp('AppClient') } });
  });

  test('groups carry IAM roles; editors (precedence 1) win over viewers (2) for cognito:preferred_role', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
      GroupName: 'editors',
      Precedence: 1,
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IdentitiesEditorsRole'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
      GroupName: 'viewers',
      Precedence: 2,
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IdentitiesViewersRole'), 'Arn'] },
    });
  });
});

describe('identity pool', () => {
  test('enhanced flow only, guests allowed, the user pool client as provider with server-side token check', () => {
    template.hasResourceProperties('AWS::Cognito::IdentityPool', {
      AllowClassicFlow: false,
      AllowUnauthenticatedIdentities: true,
      CognitoIdentityProviders: [Match.objectLike({ ClientId: { Ref: Match.stringLikeRegexp('AppClient') }, ServerSideTokenCheck: true })],
    });
  });

  test('the role comes from the token (cognito:preferred_role); without one, the authenticated role', () => {
    template.hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', {
      RoleMappings: { userpool: Match.objectLike({ Type: 'Token', AmbiguousRoleResolution: 'AuthenticatedRole' }) },
      Roles: {
        authenticated: { 'Fn::GetAtt': [Match.stringLikeRegexp('AuthenticatedRole'), 'Arn'] },
        unauthenticated: { 'Fn::GetAtt': [Match.stringLikeRegexp('UnauthenticatedRole'), 'Arn'] },
      },
    });
  });

  test.each([
    ['EditorsRole', 'authenticated'],
    ['ViewersRole', 'authenticated'],
    ['PoolAuthenticatedRole', 'authenticated'],
    ['PoolUnauthenticatedRole', 'unauthenticated'],
  ])('%s trusts only this identity pool (aud) and only %s identities (amr)', (name, amr) => {
    expect(resources[roleId(new RegExp(name))].Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: 'cognito-identity.amazonaws.com' },
          Condition: {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': expect.objectContaining({ Ref: expect.stringMatching(/^IdentitiesPool/) }) },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': amr },
          },
        },
      ],
    });
  });

  const ownItems = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['${cognito-identity.amazonaws.com:sub}'] } };
  const tableArn = { 'Fn::GetAtt': [expect.stringMatching(/^Notes/), 'Arn'] };

  test('editors may read and write only the items whose partition key is their identity id', () => {
    expect(statementsOf(roleId(/EditorsRole/))).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: tableArn,
        Condition: ownItems,
      },
    ]);
  });

  test('viewers may only read their own items', () => {
    expect(statementsOf(roleId(/ViewersRole/))).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: tableArn, Condition: ownItems },
    ]);
  });

  test('the default authenticated role and the guest role grant nothing', () => {
    expect(statementsOf(roleId(/PoolAuthenticatedRole/))).toEqual([]);
    expect(statementsOf(roleId(/PoolUnauthenticatedRole/))).toEqual([]);
    for (const id of [roleId(/PoolAuthenticatedRole/), roleId(/PoolUnauthenticatedRole/)]) {
      expect(resources[id].Properties.ManagedPolicyArns).toBeUndefined();
      expect(resources[id].Properties.Policies).toBeUndefined();
    }
  });

  test('the notes table bills per request and keeps point-in-time backups', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'ownerId', KeyType: 'HASH' }, { AttributeName: 'noteId', KeyType: 'RANGE' }],
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });
});

describe('HTTP API', () => {
  test('GET /me sits behind a JWT authorizer that accepts this pool\'s tokens for this client only', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /me', AuthorizationType: 'JWT', AuthorizerId: Match.anyValue() });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: Match.stringLikeRegexp('AppClient') }],
        Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: Match.stringLikeRegexp('^UsersUserPool') }]] },
      },
    });
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { AuthorizationType: 'NONE' }, 0);
  });

  test('its stage is throttled and writes access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.serializedJson(Match.objectLike({ status: '$context.status' })) },
    });
  });

  test('the integration uses payload format 1.0, the shape the proxy handler reads', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '1.0' });
  });

  test('the function allows the origin of the app client\'s callback URL (one constant, no second copy)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Cognito lab'),
      Environment: { Variables: Match.objectLike({ ALLOWED_ORIGIN: new URL(COGNITO_LAB.callbackUrl).origin }) },
    });
    expect(new URL(COGNITO_LAB.callbackUrl).origin).toBe('http://localhost:5173');
  });
});

describe('OIDC provider from context', () => {
  const full = {
    [OIDC_CONTEXT.issuerUrl]: 'https://idp.example.com',
    [OIDC_CONTEXT.clientId]: 'cognito-lab',
    [OIDC_CONTEXT.clientSecretName]: 'cognito-lab/oidc-secret',
  };

  test('is off by default', () => {
    template.resourceCountIs('AWS::Cognito::UserPoolIdentityProvider', 0);
  });

  test('with all keys: an OIDC provider whose secret is a Secrets Manager dynamic reference, offered by the app client', () => {
    const withOidc = templateWith(full);
    withOidc.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'Corporate',
      ProviderType: 'OIDC',
      ProviderDetails: Match.objectLike({
        client_id: 'cognito-lab',
        oidc_issuer: 'https://idp.example.com',
        authorize_scopes: 'openid email profile',
        client_secret: '{{resolve:secretsmanager:cognito-lab/oidc-secret:SecretString:::}}',
      }),
    });
    withOidc.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      SupportedIdentityProviders: ['COGNITO', { Ref: Match.stringLikeRegexp('^UsersOidcCorporate') }],
    });
  });

  test('refuses a partial set of keys, naming the missing ones', () => {
    expect(() => templateWith({ [OIDC_CONTEXT.issuerUrl]: 'https://idp.example.com' })).toThrow(
      `an OIDC provider needs all of its context keys; missing: ${OIDC_CONTEXT.clientId}, ${OIDC_CONTEXT.clientSecretName}`,
    );
  });

  test('an http issuer is refused by the construct', () => {
    expect(() => templateWith({ ...full, [OIDC_CONTEXT.issuerUrl]: 'http://idp.example.com' })).toThrow('[SecureUserPool.OidcIssuerNotHttps]');
  });
});

test('outputs what the exercise needs', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'ApiUrl',
    'EditorsRoleArn',
    'GuestRoleArn',
    'IdentityPoolId',
    'LoginProvider',
    'ManagedLoginUrl',
    'NotesTableName',
    'Region',
    'SignInUrl',
    'UserPoolClientId',
    'UserPoolId',
    'ViewersRoleArn',
  ]);
});
