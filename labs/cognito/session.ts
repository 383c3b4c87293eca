import { createHmac } from 'node:crypto';
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

/**
 * Signing in to a user pool whose MFA is required, as a trusted script does (AdminInitiateAuth with IAM credentials):
 * the first sign-in registers an authenticator (TOTP secret), every later one answers its code. Shared by the
 * cognito and apigateway lab exercises.
 */

let client: CognitoIdentityProviderClient | undefined;
/** Created on first use, so AWS_ENDPOINT_URL and credentials set by a caller (or a test) are honoured. */
export const cognitoIdp = () =>
  (client ??= new CognitoIdentityProviderClient({
    endpoint: process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER ?? process.env.AWS_ENDPOINT_URL,
  }));

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(text: string): Buffer {
  const clean = text.replace(/=+$/, '').replace(/\s/g, '').toUpperCase();
  let bits = '';
  for (const char of clean) {
    const value = BASE32.indexOf(char);
    if (value < 0) throw new Error(`not a base32 character: ${char}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((b) => parseInt(b, 2)));
}

/** A time-based one-time password (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits), as an authenticator app shows it. */
export function totp(secretBase32: string, timeMs = Date.now(), stepSeconds = 30): string {
  const counter = Math.floor(timeMs / 1000 / stepSeconds);
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const hmac = createHmac('sha1', base32Decode(secretBase32)).update(message).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  const code = (hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, '0');
}

/** The last time step whose code each secret used: Cognito refuses a code used twice, so wait for the next step. */
const lastStep = new Map<string, number>();
async function freshCode(secret: string): Promise<string> {
  let step = Math.floor(Date.now() / 30_000);
  while (lastStep.get(secret) === step) {
    await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() % 30_000) + 50));
    step = Math.floor(Date.now() / 30_000);
  }
  lastStep.set(secret, step);
  return totp(secret);
}

export interface LabUser {
  /** The email address, which is the sign-in name of the lab pools. */
  readonly email: string;
  readonly password: string;
  /** The authenticator secret, once the user has registered one at their first sign-in. */
  totpSecret?: string;
}

/** A password that satisfies a strong policy (upper, lower, digit, symbol, 16+ characters). */
export function labPassword(): string {
  return `Lab-${Math.random().toString(36).slice(2, 10)}-${Date.now().toString(36)}!Aa9`;
}

/** Creates a confirmed user with a verified email and a permanent password, without sending any email. */
export async function createConfirmedUser(userPoolId: string, email: string, password = labPassword()): Promise<LabUser> {
  await cognitoIdp().send(
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
  await cognitoIdp().send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: password, Permanent: true }));
  return { email, password };
}

export async function deleteUser(userPoolId: string, email: string): Promise<void> {
  await cognitoIdp().send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: email }));
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
export async function signIn(userPoolId: string, clientId: string, user: LabUser): Promise<SignInResult> {
  const challenges: string[] = [];
  let response = await cognitoIdp().send(
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
      const associated = await cognitoIdp().send(new AssociateSoftwareTokenCommand({ Session: response.Session }));
      user.totpSecret = associated.SecretCode ?? '';
      const verified = await cognitoIdp().send(
        new VerifySoftwareTokenCommand({ Session: associated.Session, UserCode: await freshCode(user.totpSecret), FriendlyDeviceName: 'lab' }),
      );
      if (verified.Status !== 'SUCCESS') throw new Error(`VerifySoftwareToken returned ${verified.Status}`);
      response = await cognitoIdp().send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: userPoolId,
          ClientId: clientId,
          ChallengeName: 'MFA_SETUP',
          Session: verified.Session,
          ChallengeResponses: { USERNAME: username },
        }),
      );
    } else if (challenge === 'SOFTWARE_TOKEN_MFA') {
      if (!user.totpSecret) throw new Error('the user has an authenticator, but its secret is unknown to this script');
      response = await cognitoIdp().send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: userPoolId,
          ClientId: clientId,
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          Session: response.Session,
          ChallengeResponses: { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: await freshCode(user.totpSecret) },
        }),
      );
    } else {
      throw new Error(`unexpected sign-in challenge ${challenge}`);
    }
  }
  const result = response.AuthenticationResult;
  if (!result?.IdToken || !result.AccessToken || !result.RefreshToken) throw new Error('sign-in returned no tokens');
  return { tokens: { IdToken: result.IdToken, AccessToken: result.AccessToken, RefreshToken: result.RefreshToken }, challenges };
}

/** The claims of a JWT, decoded without verifying it (for display only; verify before trusting them). */
export function decodeClaims(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
