import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  AuthenticationResultType,
  CognitoIdentityProviderClient,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import * as OTPAuth from 'otpauth';
import { ExerciseCheckFailed, ExerciseContext, LabNotReady } from './exercise';

/**
 * Signing in to a user pool whose MFA is required, as a trusted script does (AdminInitiateAuth with IAM credentials):
 * the first sign-in registers an authenticator (TOTP secret), every later one answers its code. Shared by the
 * exercises of the labs whose stacks have a SecureUserPool (cognito, apigateway).
 */

/** What these helpers need of the exercise context: its clients. */
type Clients = Pick<ExerciseContext, 'client'>;

/** The run's Cognito user pools client (see serviceEndpoint for the endpoint). */
export const cognitoIdpOf = (context: Clients): CognitoIdentityProviderClient =>
  context.client(CognitoIdentityProviderClient, 'COGNITO_IDENTITY_PROVIDER');

/** Length of a TOTP time step, in seconds (RFC 6238's default, which Cognito uses). */
const PERIOD_SECONDS = 30;

/**
 * A time-based one-time password (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits), as an authenticator app shows it.
 * Throws ExerciseCheckFailed when the secret is not base32 (Cognito's AssociateSoftwareToken always returns base32).
 */
export function totp(secretBase32: string, timeMs = Date.now()): string {
  let secret: OTPAuth.Secret;
  try {
    secret = OTPAuth.Secret.fromBase32(secretBase32);
  } catch (error) {
    throw new ExerciseCheckFailed(
      `the authenticator secret is not base32 (letters A-Z and digits 2-7): ${(error as Error).message}`,
    );
  }
  return new OTPAuth.TOTP({ secret, digits: 6, period: PERIOD_SECONDS, algorithm: 'SHA1' }).generate({ timestamp: timeMs });
}

/** A code of the user's secret from a time step it has not used yet: Cognito refuses a code used twice, so wait for the next step. */
async function freshCode(user: LabUser, secret: string): Promise<string> {
  const periodMs = PERIOD_SECONDS * 1000;
  let step = Math.floor(Date.now() / periodMs);
  while (user.lastCodeStep === step) {
    await new Promise((resolve) => setTimeout(resolve, periodMs - (Date.now() % periodMs) + 50));
    step = Math.floor(Date.now() / periodMs);
  }
  user.lastCodeStep = step;
  return totp(secret);
}

export interface LabUser {
  /** The email address, which is the sign-in name of the lab pools. */
  readonly email: string;
  readonly password: string;
  /** The authenticator secret, once the user has registered one at their first sign-in. */
  totpSecret?: string;
  /** The TOTP time step of the last code sent for this user. */
  lastCodeStep?: number;
}

/** A password that satisfies a strong policy (upper, lower, digit, symbol, 16+ characters). */
export function labPassword(): string {
  return `Lab-${Math.random().toString(36).slice(2, 10)}-${Date.now().toString(36)}!Aa9`;
}

export async function deleteUser(context: Clients, userPoolId: string, email: string): Promise<void> {
  await cognitoIdpOf(context).send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: email }));
}

/**
 * Runs `use` with a user created for it and deletes the user afterwards, whether `use` succeeded or not (a failed
 * deletion never hides the error of `use`). The user is confirmed with a verified email and a permanent password by
 * AdminCreateUser with MessageAction SUPPRESS and AdminSetUserPassword: no invitation email is sent.
 */
export async function withLabUser<T>(context: Clients, userPoolId: string, email: string, use: (user: LabUser) => Promise<T>): Promise<T> {
  let created = false;
  let failed = false;
  try {
    await cognitoIdpOf(context).send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: email,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    created = true;
    const password = labPassword();
    await cognitoIdpOf(context).send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: password, Permanent: true }));
    return await use({ email, password });
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    if (created) {
      await deleteUser(context, userPoolId, email).catch((error: unknown) => {
        if (!failed) throw error;
      });
    }
  }
}

/** What a sign-in returns: the three tokens, and which challenges were answered on the way. */
export interface SignInResult {
  readonly tokens: Required<Pick<AuthenticationResultType, 'IdToken' | 'AccessToken' | 'RefreshToken'>>;
  readonly challenges: string[];
}

/**
 * Signs in with ADMIN_USER_PASSWORD_AUTH and answers the MFA challenges: MFA_SETUP the first time (registers an
 * authenticator: AssociateSoftwareToken, VerifySoftwareToken), SOFTWARE_TOKEN_MFA afterwards.
 */
export async function signIn(context: Clients, userPoolId: string, clientId: string, user: LabUser): Promise<SignInResult> {
  const challenges: string[] = [];
  let response = await cognitoIdpOf(context).send(
    new AdminInitiateAuthCommand({
      UserPoolId: userPoolId,
      ClientId: clientId,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
    }),
  );
  for (let round = 0; !response.AuthenticationResult && round < 3; round += 1) {
    const challenge = response.ChallengeName ?? 'none';
    challenges.push(challenge);
    const username = response.ChallengeParameters?.USER_ID_FOR_SRP ?? user.email;
    if (challenge === 'MFA_SETUP') {
      const associated = await cognitoIdpOf(context).send(new AssociateSoftwareTokenCommand({ Session: response.Session }));
      user.totpSecret = associated.SecretCode ?? '';
      const verified = await cognitoIdpOf(context).send(
        new VerifySoftwareTokenCommand({ Session: associated.Session, UserCode: await freshCode(user, user.totpSecret), FriendlyDeviceName: 'lab' }),
      );
      if (verified.Status !== 'SUCCESS') {
        throw new ExerciseCheckFailed(
          `VerifySoftwareToken returned ${verified.Status}: the user pool refused the TOTP code computed from the secret it issued`,
        );
      }
      response = await cognitoIdpOf(context).send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: userPoolId,
          ClientId: clientId,
          ChallengeName: 'MFA_SETUP',
          Session: verified.Session,
          ChallengeResponses: { USERNAME: username },
        }),
      );
    } else if (challenge === 'SOFTWARE_TOKEN_MFA') {
      if (!user.totpSecret) {
        throw new LabNotReady(
          `${user.email} already has an authenticator whose secret this script does not know: ` +
            'sign in with a new user (each exercise step creates its own), or delete this one (aws cognito-idp admin-delete-user)',
        );
      }
      response = await cognitoIdpOf(context).send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: userPoolId,
          ClientId: clientId,
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          Session: response.Session,
          ChallengeResponses: { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: await freshCode(user, user.totpSecret) },
        }),
      );
    } else {
      throw new ExerciseCheckFailed(
        `unexpected sign-in challenge ${challenge}: a lab pool with required TOTP MFA asks for MFA_SETUP or SOFTWARE_TOKEN_MFA only`,
      );
    }
  }
  const result = response.AuthenticationResult;
  if (!result?.IdToken || !result.AccessToken || !result.RefreshToken) {
    throw new ExerciseCheckFailed(`sign-in returned no tokens after the challenges ${challenges.join(', ') || '(none)'}`);
  }
  return { tokens: { IdToken: result.IdToken, AccessToken: result.AccessToken, RefreshToken: result.RefreshToken }, challenges };
}

/**
 * The claims of a JWT, decoded without verifying it (for display only; verify before trusting them). Throws
 * ExerciseCheckFailed when the token is not a JWT (three base64url parts whose second is a JSON object).
 */
export function decodeClaims(jwt: string): Record<string, unknown> {
  const parts = jwt.split('.');
  let claims: unknown;
  try {
    claims = parts.length === 3 ? JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) : undefined;
  } catch {
    claims = undefined;
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new ExerciseCheckFailed(
      `not a JWT (three base64url parts, the second a JSON object of claims): ${parts.length} part(s), starting ${JSON.stringify(jwt.slice(0, 12))}`,
    );
  }
  return claims as Record<string, unknown>;
}
