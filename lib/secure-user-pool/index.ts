import { Duration, Fn, SecretValue, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ConstructUsageError, PropsValidator } from '../core/validation';

/** Cognito limits these props are checked against (Cognito API reference: CreateUserPool, CreateUserPoolDomain). */
export const USER_POOL_LIMITS = {
  minPasswordLength: 8,
  maxPasswordLength: 99,
  minTemporaryPasswordDays: 1,
  maxTemporaryPasswordDays: 365,
  /** ID and access token lifetime of an app client, in minutes (5 minutes – 1 day). */
  minTokenValidityMinutes: 5,
  maxTokenValidityMinutes: 1_440,
  /** Lower-case letters, digits and hyphens, not starting or ending with a hyphen, 1–63 characters. */
  domainPrefixPattern: /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
  /** Words Cognito refuses in a domain prefix. */
  reservedDomainWords: ['aws', 'amazon', 'cognito'],
  /** Identity provider names: 3–32 characters, not starting with "Cognito" (reserved). */
  providerNamePattern: /^[^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]{1,30}$/u,
  /** Prefix Cognito reserves in identity provider names (any case). */
  reservedProviderNamePrefix: /^cognito/i,
} as const;

/** An OpenID Connect provider users may sign in with, federated through the user pool. */
export interface OidcProviderOptions {
  /** Name shown on the managed login page and used as `identity_provider` (3–32 characters). */
  readonly name: string;
  /** The provider's issuer (an https URL whose `/.well-known/openid-configuration` Cognito reads). */
  readonly issuerUrl: string;
  /** The client id Cognito uses at the provider. */
  readonly clientId: string;
  /** The client secret, e.g. `SecretValue.secretsManager('oidc/client-secret')`: kept out of the template as a dynamic reference. */
  readonly clientSecret: SecretValue;
  /** Scopes requested from the provider. @default ['openid', 'email', 'profile'] */
  readonly scopes?: string[];
}

/** The app client used by browser or mobile apps: authorization code grant with PKCE, no client secret. */
export interface AppClientOptions {
  /** Where the managed login page may redirect with the authorization code: https, or http://localhost for development. */
  readonly callbackUrls: string[];
  /** Where the managed login page may redirect after sign-out. @default - the callback URLs */
  readonly logoutUrls?: string[];
  /** OAuth scopes the client may request. @default openid, email, profile */
  readonly scopes?: cognito.OAuthScope[];
  /**
   * Also allow `ADMIN_USER_PASSWORD_AUTH` (AdminInitiateAuth with IAM credentials), for trusted server-side scripts
   * such as a lab exercise. Browsers should use the managed login page instead. @default false
   */
  readonly adminPasswordAuth?: boolean;
  /** ID and access token lifetime (5 min – 1 day, a whole number of minutes). @default Duration.hours(1) */
  readonly tokenValidity?: Duration;
  /**
   * Prefix of the managed login domain `https://<prefix>.auth.<region>.amazoncognito.com`, created with the app client.
   * @default - derived from the stack id, unique per stack
   */
  readonly domainPrefix?: string;
  /** OpenID Connect providers offered on the app client's managed login page. @default - none */
  readonly oidcProviders?: OidcProviderOptions[];
}

/** Sign-in events whose credentials Cognito checks against known compromised credentials. */
export type CompromisedCredentialsEvent = 'SIGN_IN' | 'SIGN_UP' | 'PASSWORD_CHANGE';

/**
 * Threat protection (formerly "advanced security features"), enforced: compromised-credentials detection (blocked)
 * and adaptive authentication (high risk blocked, medium risk asked for MFA). Needs the Plus feature plan, billed per
 * monthly active user with no free tier.
 */
export interface ThreatProtectionOptions {
  /** Events whose credentials are checked and blocked when known to be compromised. @default all three */
  readonly compromisedCredentialsEvents?: CompromisedCredentialsEvent[];
}

export interface SecureUserPoolProps {
  /** Let anyone sign up through SignUp or the managed login page; they verify their email with a code. @default false */
  readonly selfSignUp?: boolean;
  /** Minimum password length (8–99); every character class is required on top. @default 12 */
  readonly minPasswordLength?: number;
  /** How long an administrator-set temporary password stays valid (1–365 whole days). @default Duration.days(3) */
  readonly temporaryPasswordValidity?: Duration;
  /** MFA with an authenticator app (TOTP): REQUIRED, or OPTIONAL for each user to choose. SMS is not offered. @default cognito.Mfa.REQUIRED */
  readonly mfa?: cognito.Mfa.REQUIRED | cognito.Mfa.OPTIONAL;
  /**
   * Threat protection, enforced (`{}` for the defaults): the Plus feature plan, billed per monthly active user with no
   * free tier. @default - none: the Essentials plan
   */
  readonly threatProtection?: ThreatProtectionOptions;
  /** Whether deleting the pool needs deletion protection turned off first. @default true */
  readonly deletionProtection?: boolean;
  /**
   * The app client and its managed login page, with the page's domain prefix and OIDC providers (which only exist
   * with it). @default - no app client
   */
  readonly appClient?: AppClientOptions;
}

/** A group of the user pool (`addGroup`). */
export interface GroupOptions {
  /** Lower precedence wins: its role becomes the token's `cognito:preferred_role`. Whole number ≥ 0, unique in the pool. */
  readonly precedence: number;
  /** IAM role the identity pool may give members (role-based access control). @default - none */
  readonly role?: iam.IRole;
  /** What the group is for. @default - none */
  readonly description?: string;
}

/**
 * A Cognito user pool with safe defaults: strong passwords, TOTP MFA required, email verification, case-insensitive
 * sign-in, account recovery by email only, no user-existence leaks, token revocation, and an app client for the
 * authorization code grant with PKCE behind a managed login domain. Threat protection (Plus plan) and OIDC
 * federation are opt-in.
 */
export class SecureUserPool extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly appClient?: cognito.UserPoolClient;
  public readonly domain?: cognito.UserPoolDomain;
  public readonly identityProviders: cognito.UserPoolIdentityProviderOidc[] = [];
  public readonly groups: Record<string, cognito.UserPoolGroup> = {};
  /** Compromised-credentials and account-takeover actions; undefined unless `threatProtection` is given. */
  public readonly riskConfiguration?: cognito.CfnUserPoolRiskConfigurationAttachment;
  private readonly precedences = new Map<number, string>();

  constructor(scope: Construct, id: string, props: SecureUserPoolProps = {}) {
    super(scope, id);
    const minLength = props.minPasswordLength ?? 12;
    const tempValidity = props.temporaryPasswordValidity ?? Duration.days(3);
    validate(this, props, minLength, tempValidity);
    const threatProtection = props.threatProtection;

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: props.selfSignUp ?? false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      userVerification: {
        emailStyle: cognito.VerificationEmailStyle.CODE,
        emailSubject: 'Your verification code',
        emailBody: 'Your verification code is {####}. It expires in 24 hours.',
      },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: tempValidity,
      },
      mfa: props.mfa ?? cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: props.deletionProtection ?? true,
      featurePlan: threatProtection ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: threatProtection ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
    });
    if (threatProtection) {
      // What the notes describe (seed 002: "Can detect compromised credentials", "Block", "Checks on Sign In, Sign
      // Up, Password Change"), plus adaptive authentication against account takeover. Users are not notified: that
      // needs an SES identity.
      this.riskConfiguration = new cognito.CfnUserPoolRiskConfigurationAttachment(this, 'RiskConfiguration', {
        userPoolId: this.userPool.userPoolId,
        clientId: 'ALL',
        compromisedCredentialsRiskConfiguration: {
          eventFilter: threatProtection.compromisedCredentialsEvents ?? ['SIGN_IN', 'SIGN_UP', 'PASSWORD_CHANGE'],
          actions: { eventAction: 'BLOCK' },
        },
        accountTakeoverRiskConfiguration: {
          actions: {
            highAction: { eventAction: 'BLOCK', notify: false },
            mediumAction: { eventAction: 'MFA_REQUIRED', notify: false },
            lowAction: { eventAction: 'NO_ACTION', notify: false },
          },
        },
      });
    } else {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus feature plan bills $0.02 per monthly active user with no free tier; threat protection is the opt-in ' +
          '`threatProtection` prop. MFA is required and passwords are strong either way.',
      });
    }

    for (const oidc of props.appClient?.oidcProviders ?? []) {
      this.identityProviders.push(
        new cognito.UserPoolIdentityProviderOidc(this, `Oidc${oidc.name.replace(/[^A-Za-z0-9]/g, '')}`, {
          userPool: this.userPool,
          name: oidc.name,
          issuerUrl: oidc.issuerUrl,
          clientId: oidc.clientId,
          // A dynamic reference ({{resolve:secretsmanager:...}}) when built from SecretValue.secretsManager: the
          // secret itself never appears in the template.
          clientSecret: oidc.clientSecret.unsafeUnwrap(),
          scopes: oidc.scopes ?? ['openid', 'email', 'profile'],
          attributeMapping: { email: cognito.ProviderAttribute.other('email') },
        }),
      );
    }

    if (props.appClient) {
      const client = props.appClient;
      const validity = client.tokenValidity ?? Duration.hours(1);
      this.appClient = this.userPool.addClient('AppClient', {
        generateSecret: false,
        authFlows: { userSrp: true, adminUserPassword: client.adminPasswordAuth ?? false },
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: client.scopes ?? [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
          callbackUrls: client.callbackUrls,
          logoutUrls: client.logoutUrls ?? client.callbackUrls,
        },
        supportedIdentityProviders: [
          cognito.UserPoolClientIdentityProvider.COGNITO,
          ...this.identityProviders.map((p) => cognito.UserPoolClientIdentityProvider.custom(p.providerName)),
        ],
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        idTokenValidity: validity,
        accessTokenValidity: validity,
        refreshTokenValidity: Duration.days(30),
        authSessionValidity: Duration.minutes(3),
      });
      for (const provider of this.identityProviders) this.appClient.node.addDependency(provider);

      // Prefix from the stack id's last group of hex digits: unique per stack, stable across updates.
      const prefix = client.domainPrefix ?? Fn.join('-', ['login', Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(this).stackId))))]);
      this.domain = this.userPool.addDomain('Domain', {
        cognitoDomain: { domainPrefix: prefix },
        managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
      });
      // The newer managed login pages show nothing until the client has a branding style; Cognito's defaults will do.
      const branding = new cognito.CfnManagedLoginBranding(this, 'Branding', {
        userPoolId: this.userPool.userPoolId,
        clientId: this.appClient.userPoolClientId,
        useCognitoProvidedValues: true,
      });
      branding.node.addDependency(this.domain);
    }
  }

  /** The managed login page's sign-in URL for the app client (authorization code grant). */
  signInUrl(redirectUri: string): string {
    if (this.domain === undefined || this.appClient === undefined) {
      throw new ConstructUsageError(
        this.node.path,
        'SecureUserPool.SignInUrlWithoutAppClient',
        'signInUrl needs the appClient prop: without an app client the pool has no managed login domain to sign in on',
      );
    }
    return this.domain.signInUrl(this.appClient, { redirectUri, signInPath: '/oauth2/authorize' });
  }

  /**
   * Adds a group; members get its role in `cognito:roles`, and the lowest-precedence group's in `cognito:preferred_role`.
   * A name or a precedence already used by another group is a usage error (`SecureUserPool.GroupExists`,
   * `SecureUserPool.GroupPrecedenceTaken`); a precedence that is not a whole number ≥ 0 a problem in `settings`.
   */
  addGroup(name: string, settings: GroupOptions): cognito.UserPoolGroup {
    if (Object.prototype.hasOwnProperty.call(this.groups, name)) {
      throw new ConstructUsageError(this.node.path, 'SecureUserPool.GroupExists', `group ${name} already exists`);
    }
    const taken = this.precedences.get(settings.precedence);
    if (taken !== undefined) {
      throw new ConstructUsageError(
        this.node.path,
        'SecureUserPool.GroupPrecedenceTaken',
        `group ${name}: precedence ${settings.precedence} is already group ${taken}'s; with equal precedence neither ` +
          'role becomes cognito:preferred_role',
      );
    }
    const check = new PropsValidator(this, 'SecureUserPool');
    check.require(
      Number.isInteger(settings.precedence) && settings.precedence >= 0,
      'GroupPrecedenceRange',
      `group ${name}: precedence must be a whole number of at least 0, got ${settings.precedence}`,
    );
    check.throwIfInvalid();
    this.precedences.set(settings.precedence, name);
    // A child of this construct, not of the UserPool: an identity pool that depends on the user pool (to trust its
    // tokens) would otherwise depend on the groups too, whose roles trust the identity pool: a cycle.
    const group = new cognito.UserPoolGroup(this, `Group${name.replace(/[^A-Za-z0-9]/g, '')}`, {
      userPool: this.userPool,
      groupName: name,
      precedence: settings.precedence,
      role: settings.role,
      description: settings.description,
    });
    this.groups[name] = group;
    return group;
  }
}

function isAllowedRedirect(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && parsed.hostname === 'localhost');
  } catch {
    return false;
  }
}

const SECONDS_PER_DAY = 86_400;

function validate(scope: Construct, props: SecureUserPoolProps, minLength: number, tempValidity: Duration): void {
  const check = new PropsValidator(scope, 'SecureUserPool');
  const { minTemporaryPasswordDays: minDays, maxTemporaryPasswordDays: maxDays } = USER_POOL_LIMITS;
  const { minTokenValidityMinutes: minMinutes, maxTokenValidityMinutes: maxMinutes } = USER_POOL_LIMITS;
  const { minPasswordLength: min, maxPasswordLength: max } = USER_POOL_LIMITS;
  check.inRange(
    minLength,
    { min, max, whole: true },
    'PasswordLengthRange',
    `minPasswordLength must be a whole number from ${min} to ${max}, got ${minLength}`,
  );
  const tempSeconds = check.seconds(tempValidity, 'temporaryPasswordValidity', { integral: false });
  if (tempSeconds !== undefined) {
    const days = tempSeconds / SECONDS_PER_DAY;
    check.inRange(
      days,
      { min: minDays, max: maxDays, whole: true },
      'TemporaryPasswordValidityRange',
      `temporaryPasswordValidity must be a whole number of days from ${minDays} to ${maxDays}, got ${days}`,
    );
  }
  if (props.appClient) {
    const client = props.appClient;
    check.require(client.callbackUrls.length > 0, 'NoCallbackUrl', 'appClient.callbackUrls needs at least one URL');
    for (const url of [...client.callbackUrls, ...(client.logoutUrls ?? [])]) {
      check.require(
        isAllowedRedirect(url),
        'RedirectUrlNotHttps',
        `redirect URL ${url} must use https (http is allowed for localhost only)`,
      );
    }
    const validitySeconds = check.seconds(client.tokenValidity, 'appClient.tokenValidity', { integral: false });
    if (validitySeconds !== undefined) {
      const minutes = validitySeconds / 60;
      check.inRange(
        minutes,
        { min: minMinutes, max: maxMinutes },
        'TokenValidityRange',
        `appClient.tokenValidity must be between ${minMinutes} minutes and 1 day, got ${minutes} minutes`,
      );
      check.require(
        Number.isInteger(minutes),
        'TokenValidityNotWholeMinutes',
        `appClient.tokenValidity must be a whole number of minutes (Cognito counts token lifetimes in minutes), got ${minutes}`,
      );
    }
    if (client.domainPrefix !== undefined && !Token.isUnresolved(client.domainPrefix)) {
      const prefix = client.domainPrefix;
      check.require(
        USER_POOL_LIMITS.domainPrefixPattern.test(prefix) && !USER_POOL_LIMITS.reservedDomainWords.some((w) => prefix.includes(w)),
        'DomainPrefix',
        `appClient.domainPrefix "${prefix}" must be 1–63 lower-case letters, digits or hyphens, not start or end with a hyphen, ` +
          'and not contain aws, amazon or cognito',
      );
    }
  }
  const names = new Set<string>();
  for (const oidc of props.appClient?.oidcProviders ?? []) {
    check.require(
      USER_POOL_LIMITS.providerNamePattern.test(oidc.name) && !USER_POOL_LIMITS.reservedProviderNamePrefix.test(oidc.name),
      'OidcProviderName',
      `OIDC provider name "${oidc.name}" must be 3–32 characters and not start with "Cognito"`,
    );
    check.require(!names.has(oidc.name), 'OidcProviderDuplicate', `OIDC provider "${oidc.name}" is listed twice`);
    names.add(oidc.name);
    check.require(
      Token.isUnresolved(oidc.issuerUrl) || oidc.issuerUrl.startsWith('https://'),
      'OidcIssuerNotHttps',
      `OIDC provider "${oidc.name}": issuerUrl must be an https URL, got "${oidc.issuerUrl}"`,
    );
    check.require(oidc.clientId.length > 0, 'OidcClientIdMissing', `OIDC provider "${oidc.name}": clientId is empty`);
  }
  check.throwIfInvalid();
}
