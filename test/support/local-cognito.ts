import { generateKeyPairSync, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import {
  AdminConfirmSignUpCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  SignUpCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { mockClient } from 'aws-sdk-client-mock';
import * as OTPAuth from 'otpauth';

/**
 * A stand-in for a Cognito user pool with TOTP MFA required, for exercises (there is no local Cognito engine). It
 * follows the documented challenge sequence (MFA_SETUP with AssociateSoftwareToken/VerifySoftwareToken on the first
 * sign-in, SOFTWARE_TOKEN_MFA afterwards), checks the passwords and TOTP codes it is sent, and issues RS256 ID and
 * access tokens signed by a local key, whose public half it offers as a JWKS.
 */
export interface LocalUserPool {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly jwks: Jwks;
  readonly users: Map<string, LocalUser>;
  /**
   * Whether SignUp confirms users at once (as a pre sign-up trigger setting autoConfirmUser would), instead of
   * leaving them UNCONFIRMED until they confirm their email. Tests set it to make a pool misbehave. @default false
   */
  autoConfirmSignUp: boolean;
  /** Whether sign-in asks for TOTP MFA; false makes the pool behave as one with MFA off (tokens at once). @default true */
  mfaRequired: boolean;
  /** The addresses the pool sent an email to: SignUp's verification code, AdminCreateUser's invitation unless SUPPRESS. */
  readonly emailsSent: string[];
  /** The claims of a token this pool signed and that has not expired; undefined otherwise (what an authorizer does). */
  claimsOf(token: string): Record<string, unknown> | undefined;
  stop(): void;
}

export interface LocalUser {
  sub: string;
  password?: string;
  confirmed: boolean;
  totpSecret?: string;
  groups: string[];
}

const KID = 'local-test-key';
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const fail = (name: string, message: string) => Object.assign(new Error(message), { name });
/** The current code of an authenticator secret, computed independently of the code under test. */
const totp = (secret: string) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();

export function startLocalUserPool(region = 'us-east-1', clientId = 'local-client-id'): LocalUserPool {
  const userPoolId = `${region}_Local${randomBytes(3).toString('hex')}`;
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const users = new Map<string, LocalUser>();
  const sessions = new Map<string, { email: string; secret?: string; verified?: boolean }>();
  const mock = mockClient(CognitoIdentityProviderClient);

  const jwt = (claims: Record<string, unknown>) => {
    const unsigned = `${b64({ alg: 'RS256', kid: KID })}.${b64(claims)}`;
    return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
  };
  const userOf = (email: string | undefined) => {
    const user = users.get(email ?? '');
    if (!user) throw fail('UserNotFoundException', 'User does not exist.');
    return user;
  };
  const newSession = (email: string) => {
    const id = randomUUID();
    sessions.set(id, { email });
    return id;
  };
  const tokensFor = (email: string) => {
    const user = userOf(email);
    const now = Math.floor(Date.now() / 1000);
    const common = { sub: user.sub, iss: issuer, iat: now, exp: now + 3600, auth_time: now };
    const groups = user.groups.length > 0 ? { 'cognito:groups': user.groups } : {};
    return {
      AuthenticationResult: {
        IdToken: jwt({ ...common, ...groups, aud: clientId, token_use: 'id', email, email_verified: true, 'cognito:username': user.sub }),
        AccessToken: jwt({ ...common, ...groups, client_id: clientId, token_use: 'access', scope: 'aws.cognito.signin.user.admin', username: user.sub }),
        RefreshToken: ['header', 'key', 'iv', 'ciphertext', 'tag'].map((p) => Buffer.from(p).toString('base64url')).join('.'),
      },
    };
  };

  mock.on(SignUpCommand).callsFake(async (input) => {
    if (input.ClientId !== clientId) throw fail('ResourceNotFoundException', 'User pool client does not exist.');
    if (users.has(input.Username!)) throw fail('UsernameExistsException', 'An account with the given email already exists.');
    const confirmed = pool.autoConfirmSignUp;
    users.set(input.Username!, { sub: randomUUID(), password: input.Password, confirmed, groups: [] });
    if (!confirmed) pool.emailsSent.push(input.Username!);
    const delivery = confirmed ? {} : { CodeDeliveryDetails: { DeliveryMedium: 'EMAIL' as const, Destination: 'r***@e***' } };
    return { UserConfirmed: confirmed, UserSub: users.get(input.Username!)!.sub, ...delivery };
  });
  mock.on(AdminCreateUserCommand).callsFake(async (input) => {
    if (users.has(input.Username!)) throw fail('UsernameExistsException', 'User account already exists');
    if (input.MessageAction !== 'SUPPRESS') pool.emailsSent.push(input.Username!);
    users.set(input.Username!, { sub: randomUUID(), confirmed: false, groups: [] });
    return { User: { Username: input.Username } };
  });
  mock.on(AdminSetUserPasswordCommand).callsFake(async (input) => {
    const user = userOf(input.Username);
    user.password = input.Password;
    user.confirmed = input.Permanent === true;
    return {};
  });
  mock.on(AdminConfirmSignUpCommand).callsFake(async (input) => {
    userOf(input.Username).confirmed = true;
    return {};
  });
  mock.on(AdminGetUserCommand).callsFake(async (input) => ({ UserStatus: userOf(input.Username).confirmed ? 'CONFIRMED' : 'UNCONFIRMED' }));
  mock.on(AdminDeleteUserCommand).callsFake(async (input) => {
    userOf(input.Username);
    users.delete(input.Username!);
    return {};
  });
  mock.on(AdminInitiateAuthCommand).callsFake(async (input) => {
    const email = input.AuthParameters?.USERNAME ?? '';
    const user = users.get(email);
    if (input.ClientId !== clientId || input.UserPoolId !== userPoolId) throw fail('ResourceNotFoundException', 'no such pool or client');
    if (!user?.confirmed || user.password !== input.AuthParameters?.PASSWORD) throw fail('NotAuthorizedException', 'Incorrect username or password.');
    if (!pool.mfaRequired) return tokensFor(email);
    return { ChallengeName: user.totpSecret ? 'SOFTWARE_TOKEN_MFA' : 'MFA_SETUP', Session: newSession(email), ChallengeParameters: { USER_ID_FOR_SRP: user.sub } };
  });
  mock.on(AssociateSoftwareTokenCommand).callsFake(async (input) => {
    const session = sessions.get(input.Session ?? '');
    if (!session) throw fail('NotAuthorizedException', 'Invalid session');
    session.secret = Array.from(randomBytes(32), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');
    return { SecretCode: session.secret, Session: input.Session };
  });
  mock.on(VerifySoftwareTokenCommand).callsFake(async (input) => {
    const session = sessions.get(input.Session ?? '')!;
    session.verified = input.UserCode === totp(session.secret!);
    return { Status: session.verified ? 'SUCCESS' : 'ERROR', Session: input.Session };
  });
  mock.on(AdminRespondToAuthChallengeCommand).callsFake(async (input) => {
    const session = sessions.get(input.Session ?? '');
    if (!session) throw fail('NotAuthorizedException', 'Invalid session');
    sessions.delete(input.Session!);
    const user = userOf(session.email);
    if (input.ChallengeResponses?.USERNAME !== user.sub) throw fail('InvalidParameterException', 'USERNAME must be the user id');
    if (input.ChallengeName === 'MFA_SETUP') {
      if (!session.verified) throw fail('InvalidParameterException', 'software token not verified');
      user.totpSecret = session.secret;
    } else if (input.ChallengeResponses?.SOFTWARE_TOKEN_MFA_CODE !== totp(user.totpSecret!)) {
      throw fail('CodeMismatchException', 'Invalid code received for user');
    }
    return tokensFor(session.email);
  });

  const pool: LocalUserPool = {
    userPoolId,
    clientId,
    issuer,
    autoConfirmSignUp: false,
    mfaRequired: true,
    emailsSent: [],
    jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' } as never] },
    users,
    claimsOf(token: string) {
      const [header, body, signature] = token.split('.');
      if (!header || !body || !signature) return undefined;
      if (!verify('RSA-SHA256', Buffer.from(`${header}.${body}`), publicKey, Buffer.from(signature, 'base64url'))) return undefined;
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
      return claims.iss === issuer && Number(claims.exp) > Date.now() / 1000 ? claims : undefined;
    },
    stop: () => mock.restore(),
  };
  return pool;
}
