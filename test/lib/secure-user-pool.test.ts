import { Duration, SecretValue, Stack } from 'aws-cdk-lib';
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
    });
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
    ['a domain prefix with "cognito"', { appClient: { ...client, domainPrefix: 'my-cognito-app' } }, 'SecureUserPool.DomainPrefix', 'appClient.domainPrefix "my-cognito-app" must be 1–63 lower-case letters'],
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
