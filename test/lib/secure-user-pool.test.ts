import { CfnParameter, Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ConstructUsageError } from '../../lib/core/validation';
import { SecureUserPool, SecureUserPoolProps } from '../../lib/secure-user-pool';
import { testApp } from '../support/synth';
import { validationErrorOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

function usageErrorOf(build: () => unknown): ConstructUsageError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConstructUsageError) return error;
    throw error;
  }
  throw new Error('expected a ConstructUsageError');
}

const errorOf = (build: (stack: Stack) => void) => validationErrorOf(() => build(newStack()));
const oidc = { name: 'Corp', issuerUrl: 'https://idp.example.com', clientId: 'abc', clientSecret: SecretValue.unsafePlainText('s') };
const client = { callbackUrls: ['https://app.example.com/cb'] };

describe('SecureUserPool defaults', () => {
  const stack = newStack();
  const pool = new SecureUserPool(stack, 'Users');
  const template = Template.fromStack(stack);

  test('admin-created users only, TOTP MFA required, strong passwords, deletion protection on, no app client or domain', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
      DeletionProtection: 'ACTIVE',
      UserPoolTier: 'ESSENTIALS',
    });
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
    expect(pool.appClient).toBeUndefined();
    const error = usageErrorOf(() => pool.signInUrl('https://x'));
    expect(error.code).toBe('SecureUserPool.SignInUrlWithoutAppClient');
    expect(error.message).toBe(
      'Test/Users: [SecureUserPool.SignInUrlWithoutAppClient] signInUrl needs the appClient prop: without an app client the pool has no managed login domain to sign in on',
    );
  });

  test('sign-in by email, case-insensitive, verified with a code; every character class; recovery by verified email only; a new email counts once verified', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      UsernameConfiguration: { CaseSensitive: false },
      AutoVerifiedAttributes: ['email'],
      UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
      VerificationMessageTemplate: Match.objectLike({
        DefaultEmailOption: 'CONFIRM_WITH_CODE',
        EmailSubject: 'Your verification code',
        EmailMessage: 'Your verification code is {####}. It expires in 24 hours.',
      }),
      Schema: [{ Name: 'email', Required: true, Mutable: true }],
      Policies: {
        PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true, TemporaryPasswordValidityDays: 3 },
      },
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
    });
  });

  test("without threat protection, cdk-nag's AwsSolutions-COG8 is acknowledged with the reason: the Plus plan's price", () => {
    const acknowledged = pool.userPool.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
    expect(acknowledged).toEqual([
      {
        'Annotation::AwsSolutions-COG8':
          'The Plus feature plan bills $0.02 per monthly active user with no free tier; threat protection is the opt-in ' +
          '`threatProtection` prop. MFA is required and passwords are strong either way.',
      },
    ]);
  });
});

describe('appClient defaults, with an OIDC provider', () => {
  const stack = newStack();
  const pool = new SecureUserPool(stack, 'Users', { appClient: { ...client, oidcProviders: [oidc] } });
  const template = Template.fromStack(stack);

  test('a public client for the code grant with PKCE: no secret, SRP, openid/email/profile, no user-existence errors, revocable tokens of an hour', () => {
    const [resource] = Object.values(template.findResources('AWS::Cognito::UserPoolClient'));
    expect(resource.Properties).toEqual({
      UserPoolId: { Ref: expect.stringMatching(/^UsersUserPool/) },
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: ['https://app.example.com/cb'],
      LogoutURLs: ['https://app.example.com/cb'],
      SupportedIdentityProviders: ['COGNITO', { Ref: expect.stringMatching(/^UsersOidcCorp/) }],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      IdTokenValidity: 60,
      AccessTokenValidity: 60,
      RefreshTokenValidity: 43_200,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' },
      AuthSessionValidity: 3,
    });
    // The client names the provider, which must exist first.
    expect(resource.DependsOn).toEqual([expect.stringMatching(/^UsersOidcCorp/)]);
  });

  test('the OIDC provider asks for openid, email and profile, maps email, and keeps its client secret', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'Corp',
      AttributeMapping: { email: 'email' },
      ProviderDetails: Match.objectLike({ client_id: 'abc', client_secret: 's', authorize_scopes: 'openid email profile', oidc_issuer: 'https://idp.example.com' }),
    });
  });

  test("the managed login domain is login-<the stack id's last hex group>, with the newer pages and Cognito's branding", () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['-', ['login', { 'Fn::Select': [4, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }] }]] },
      ManagedLoginVersion: 2,
    });
    const [branding] = Object.values(template.findResources('AWS::Cognito::ManagedLoginBranding'));
    expect(branding.Properties).toMatchObject({ ClientId: { Ref: expect.stringMatching(/^UsersUserPoolAppClient/) }, UseCognitoProvidedValues: true });
    expect(branding.DependsOn).toEqual([expect.stringMatching(/^UsersUserPoolDomain/)]);
  });

  test('signInUrl is the authorize endpoint of the domain for the app client', () => {
    const url = stack.resolve(pool.signInUrl('https://app.example.com/cb'))['Fn::Join'][1];
    expect(url).toEqual([
      'https://',
      { Ref: expect.stringMatching(/^UsersUserPoolDomain/) },
      '.auth.',
      { Ref: 'AWS::Region' },
      '.amazoncognito.com/oauth2/authorize?client_id=',
      { Ref: expect.stringMatching(/^UsersUserPoolAppClient/) },
      '&response_type=code&redirect_uri=https://app.example.com/cb',
    ]);
  });
});

test('tuned: self sign-up, no deletion protection, admin password auth, fewer scopes, own logout URLs, 5-minute tokens', () => {
  const stack = newStack();
  new SecureUserPool(stack, 'Users', {
    selfSignUp: true,
    deletionProtection: false,
    temporaryPasswordValidity: Duration.days(1),
    appClient: {
      callbackUrls: ['http://localhost:3000/cb'],
      logoutUrls: ['https://app.example.com/bye'],
      scopes: [cognito.OAuthScope.OPENID],
      adminPasswordAuth: true,
      tokenValidity: Duration.minutes(5),
      oidcProviders: [{ ...oidc, name: 'Corp-SSO', scopes: ['openid'] }],
    },
  });
  const template = Template.fromStack(stack);
  // The construct id keeps the name's letters and digits only.
  expect(Object.keys(template.findResources('AWS::Cognito::UserPoolIdentityProvider'))).toEqual([expect.stringMatching(/^UsersOidcCorpSSO[0-9A-F]{8}$/)]);
  template.hasResourceProperties('AWS::Cognito::UserPool', {
    AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
    DeletionProtection: 'INACTIVE',
    Policies: { PasswordPolicy: Match.objectLike({ TemporaryPasswordValidityDays: 1 }) },
  });
  template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    AllowedOAuthScopes: ['openid'],
    CallbackURLs: ['http://localhost:3000/cb'],
    LogoutURLs: ['https://app.example.com/bye'],
    IdTokenValidity: 5,
    AccessTokenValidity: 5,
  });
  template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', { ProviderDetails: Match.objectLike({ authorize_scopes: 'openid' }) });
});

describe('threatProtection', () => {
  test('{} turns on the Plus plan, enforced, and blocks compromised credentials on every event', () => {
    const stack = newStack();
    const pool = new SecureUserPool(stack, 'Users', { threatProtection: {} });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolTier: 'PLUS', UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' } });
    template.hasResourceProperties('AWS::Cognito::UserPoolRiskConfigurationAttachment', {
      ClientId: 'ALL',
      CompromisedCredentialsRiskConfiguration: { EventFilter: ['SIGN_IN', 'SIGN_UP', 'PASSWORD_CHANGE'], Actions: { EventAction: 'BLOCK' } },
      AccountTakeoverRiskConfiguration: {
        Actions: {
          HighAction: { EventAction: 'BLOCK', Notify: false },
          MediumAction: { EventAction: 'MFA_REQUIRED', Notify: false },
          LowAction: { EventAction: 'NO_ACTION', Notify: false },
        },
      },
    });
    expect(pool.userPool.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)).toEqual([]);
    expect(pool.riskConfiguration).toBeDefined();
  });

  test('compromisedCredentialsEvents narrows the events checked', () => {
    const stack = newStack();
    new SecureUserPool(stack, 'Users', { threatProtection: { compromisedCredentialsEvents: ['SIGN_IN'] } });
    Template.fromStack(stack).hasResourceProperties('AWS::Cognito::UserPoolRiskConfigurationAttachment', {
      CompromisedCredentialsRiskConfiguration: Match.objectLike({ EventFilter: ['SIGN_IN'] }),
    });
  });

  test('absent: the Essentials plan, no risk configuration', () => {
    const stack = newStack();
    const pool = new SecureUserPool(stack, 'Users');
    Template.fromStack(stack).resourceCountIs('AWS::Cognito::UserPoolRiskConfigurationAttachment', 0);
    expect(pool.riskConfiguration).toBeUndefined();
  });
});

test('MFA can be optional; the pool keeps its other defaults', () => {
  const stack = newStack();
  new SecureUserPool(stack, 'Users', { mfa: cognito.Mfa.OPTIONAL, minPasswordLength: 16 });
  Template.fromStack(stack).hasResourceProperties('AWS::Cognito::UserPool', {
    MfaConfiguration: 'OPTIONAL',
    Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 16 }) },
  });
});

test('addGroup creates a named group with its role and precedence, next to (not inside) the user pool', () => {
  const stack = newStack();
  const pool = new SecureUserPool(stack, 'Users');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const group = pool.addGroup('admins', { precedence: 0, role, description: 'Admins' });
  expect(group.node.scope).toBe(pool);
  // The construct id keeps the name's letters and digits only.
  expect(pool.addGroup('team-leads', { precedence: 1 }).node.id).toBe('Groupteamleads');
  Template.fromStack(stack).hasResourceProperties('AWS::Cognito::UserPoolGroup', {
    GroupName: 'admins',
    Precedence: 0,
    RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Role'), 'Arn'] },
    Description: 'Admins',
  });
});

describe('addGroup', () => {
  const fixture = () => {
    const pool = new SecureUserPool(newStack(), 'Users');
    pool.addGroup('a', { precedence: 1 });
    return pool;
  };

  test('a precedence another group has is a usage error (a misuse of the method, not a problem in props)', () => {
    const pool = fixture();
    expect(() => pool.addGroup('b', { precedence: 1 })).toThrow(
      "[SecureUserPool.GroupPrecedenceTaken] group b: precedence 1 is already group a's; with equal precedence neither role becomes cognito:preferred_role",
    );
    const error = usageErrorOf(() => pool.addGroup('b', { precedence: 1 }));
    expect(error.code).toBe('SecureUserPool.GroupPrecedenceTaken');
    expect(error.message).toBe(
      "Test/Users: [SecureUserPool.GroupPrecedenceTaken] group b: precedence 1 is already group a's; with equal precedence neither role becomes cognito:preferred_role",
    );
  });

  test('a name another group has is a usage error, reported before any problem in its settings', () => {
    const pool = fixture();
    for (const precedence of [2, -1]) {
      const error = usageErrorOf(() => pool.addGroup('a', { precedence }));
      expect(error.code).toBe('SecureUserPool.GroupExists');
      expect(error.message).toBe('Test/Users: [SecureUserPool.GroupExists] group a already exists');
    }
  });

  test('a precedence that is not a whole number ≥ 0 is a problem in its settings', () => {
    const pool = fixture();
    expect(validationErrorOf(() => pool.addGroup('c', { precedence: -1 })).problems).toEqual([
      { code: 'SecureUserPool.GroupPrecedenceRange', message: 'group c: precedence must be a whole number of at least 0, got -1' },
    ]);
    expect(Object.keys(pool.groups)).toEqual(['a']);
  });
});

describe('SecureUserPool validation', () => {
  const build = (props: SecureUserPoolProps) => (stack: Stack) => new SecureUserPool(stack, 'Users', props);

  test.each([
    ['a 6-character minimum', { minPasswordLength: 6 }, 'SecureUserPool.PasswordLengthRange', 'minPasswordLength must be a whole number from 8 to 99, got 6'],
    ['temporary passwords for 400 days', { temporaryPasswordValidity: Duration.days(400) }, 'SecureUserPool.TemporaryPasswordValidityRange', 'temporaryPasswordValidity must be a whole number of days from 1 to 365, got 400'],
    ['an app client without callback URL', { appClient: { callbackUrls: [] } }, 'SecureUserPool.NoCallbackUrl', 'appClient.callbackUrls needs at least one URL'],
    ['an http callback that is not localhost', { appClient: { callbackUrls: ['http://app.example.com/cb'] } }, 'SecureUserPool.RedirectUrlNotHttps', 'redirect URL http://app.example.com/cb must use https (http is allowed for localhost only)'],
    ['tokens valid 5,430 s', { appClient: { ...client, tokenValidity: Duration.seconds(5430) } }, 'SecureUserPool.TokenValidityNotWholeMinutes', 'appClient.tokenValidity must be a whole number of minutes (Cognito counts token lifetimes in minutes), got 90.5'],
    ['temporary passwords for 36 hours', { temporaryPasswordValidity: Duration.hours(36) }, 'SecureUserPool.TemporaryPasswordValidityRange', 'temporaryPasswordValidity must be a whole number of days from 1 to 365, got 1.5'],
    ['tokens valid 2 days', { appClient: { ...client, tokenValidity: Duration.days(2) } }, 'SecureUserPool.TokenValidityRange', 'appClient.tokenValidity must be between 5 minutes and 1 day, got 2880 minutes'],
    [
      'a domain prefix with "cognito"',
      { appClient: { ...client, domainPrefix: 'my-cognito-app' } },
      'SecureUserPool.DomainPrefix',
      'appClient.domainPrefix "my-cognito-app" must be 1–63 lower-case letters, digits or hyphens, not start or end with a hyphen, and not contain aws, amazon or cognito',
    ],
    ['a 64-character domain prefix', { appClient: { ...client, domainPrefix: 'a'.repeat(64) } }, 'SecureUserPool.DomainPrefix', `domainPrefix "${'a'.repeat(64)}"`],
    ['a minimum of 12.5 characters', { minPasswordLength: 12.5 }, 'SecureUserPool.PasswordLengthRange', 'minPasswordLength must be a whole number from 8 to 99, got 12.5'],
    ['a minimum of 100 characters', { minPasswordLength: 100 }, 'SecureUserPool.PasswordLengthRange', 'minPasswordLength must be a whole number from 8 to 99, got 100'],
    ['a callback that is not a URL', { appClient: { callbackUrls: ['app.example.com/cb'] } }, 'SecureUserPool.RedirectUrlNotHttps', 'redirect URL app.example.com/cb must use https'],
    ['a localhost callback of another protocol', { appClient: { callbackUrls: ['ftp://localhost/cb'] } }, 'SecureUserPool.RedirectUrlNotHttps', 'redirect URL ftp://localhost/cb must use https'],
    ['an http logout URL', { appClient: { ...client, logoutUrls: ['http://app.example.com/bye'] } }, 'SecureUserPool.RedirectUrlNotHttps', 'redirect URL http://app.example.com/bye must use https'],
    ['tokens valid 4 minutes', { appClient: { ...client, tokenValidity: Duration.minutes(4) } }, 'SecureUserPool.TokenValidityRange', 'appClient.tokenValidity must be between 5 minutes and 1 day, got 4 minutes'],
    // Fractions of a second are converted, not refused: only the whole minutes or days matter.
    ['tokens valid 5 minutes and half a second', { appClient: { ...client, tokenValidity: Duration.millis(300_500) } }, 'SecureUserPool.TokenValidityNotWholeMinutes', 'got 5.008333333333334'],
    ['temporary passwords for a day and half a second', { temporaryPasswordValidity: Duration.millis(86_400_500) }, 'SecureUserPool.TemporaryPasswordValidityRange', 'got 1.0000057870370371'],
    ['an upper-case domain prefix', { appClient: { ...client, domainPrefix: 'MyApp' } }, 'SecureUserPool.DomainPrefix', 'domainPrefix "MyApp"'],
    ['an http OIDC issuer', { appClient: { ...client, oidcProviders: [{ ...oidc, issuerUrl: 'http://idp.example.com' }] } }, 'SecureUserPool.OidcIssuerNotHttps', 'OIDC provider "Corp": issuerUrl must be an https URL, got "http://idp.example.com"'],
    ['an OIDC provider named Cognito…', { appClient: { ...client, oidcProviders: [{ ...oidc, name: 'CognitoCorp' }] } }, 'SecureUserPool.OidcProviderName', 'OIDC provider name "CognitoCorp" must be 3–32 characters and not start with "Cognito"'],
    ['an OIDC provider without client id', { appClient: { ...client, oidcProviders: [{ ...oidc, clientId: '' }] } }, 'SecureUserPool.OidcClientIdMissing', 'OIDC provider "Corp": clientId is empty'],
    ['the same OIDC provider twice', { appClient: { ...client, oidcProviders: [oidc, oidc] } }, 'SecureUserPool.OidcProviderDuplicate', 'OIDC provider "Corp" is listed twice'],
  ] satisfies [string, SecureUserPoolProps, string, string][])('%s is refused', (_name, props, code, message) => {
    const error = errorOf(build(props));
    expect(error.problems.map((p) => p.code)).toEqual([code]);
    expect(error.message).toContain(message);
  });

  test('accepted at the limits: 8 and 99 characters, 365 days, tokens of a day, a 63-character domain prefix', () => {
    for (const minPasswordLength of [8, 99]) expect(() => new SecureUserPool(newStack(), 'Users', { minPasswordLength })).not.toThrow();
    const stack = newStack();
    new SecureUserPool(stack, 'Users', {
      temporaryPasswordValidity: Duration.days(365),
      appClient: { ...client, tokenValidity: Duration.days(1), domainPrefix: 'a'.repeat(63) },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Cognito::UserPool', { Policies: { PasswordPolicy: Match.objectLike({ TemporaryPasswordValidityDays: 365 }) } });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { IdTokenValidity: 1440, AccessTokenValidity: 1440 });
  });

  test('durations from tokens in another unit than seconds are refused, naming the prop', () => {
    const stack = newStack();
    const days = new CfnParameter(stack, 'Days', { type: 'Number' }).valueAsNumber;
    const error = validationErrorOf(() => new SecureUserPool(stack, 'Users', { temporaryPasswordValidity: Duration.days(days), appClient: { ...client, tokenValidity: Duration.minutes(days) } }));
    expect(error.problems).toEqual([
      { code: 'SecureUserPool.TokenNotInSeconds', message: 'temporaryPasswordValidity is a token in days, which cannot be converted at synth: give it as Duration.seconds(token)' },
      { code: 'SecureUserPool.TokenNotInSeconds', message: 'appClient.tokenValidity is a token in minutes, which cannot be converted at synth: give it as Duration.seconds(token)' },
    ]);
  });

  test('lists every problem at once', () => {
    const error = errorOf(
      build({ minPasswordLength: 200, appClient: { callbackUrls: ['ftp://x'], tokenValidity: Duration.minutes(1), domainPrefix: '-bad-' } }),
    );
    expect(error.problems.map((p) => p.code)).toEqual([
      'SecureUserPool.PasswordLengthRange',
      'SecureUserPool.RedirectUrlNotHttps',
      'SecureUserPool.TokenValidityRange',
      'SecureUserPool.DomainPrefix',
    ]);
  });
});

describe('domainPrefix and oidcProviders are options of appClient', () => {
  test('without an app client they have no spelling (were DomainPrefixWithoutAppClient and OidcWithoutAppClient)', () => {
    // @ts-expect-error a domain prefix needs the app client it is created with
    const withPrefix: SecureUserPoolProps = { domainPrefix: 'my-app' };
    // @ts-expect-error OIDC providers need the app client whose managed login page offers them
    const withOidc: SecureUserPoolProps = { oidcProviders: [oidc] };
    expect([withPrefix, withOidc]).toHaveLength(2);
  });

  test('with the app client: the domain has the prefix, and the client offers the providers', () => {
    const stack = newStack();
    const pool = new SecureUserPool(stack, 'Users', { appClient: { ...client, domainPrefix: 'my-app', oidcProviders: [oidc] } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'my-app' });
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', { ProviderName: 'Corp', ProviderType: 'OIDC' });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { SupportedIdentityProviders: ['COGNITO', { Ref: Match.stringLikeRegexp('^UsersOidcCorp') }] });
    expect(pool.identityProviders).toHaveLength(1);
  });
});
