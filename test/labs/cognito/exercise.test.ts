import { generateKeyPairSync } from 'node:crypto';
import { CognitoIdentityProviderClient, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { steps, verification } from '../../../labs/cognito/exercise';
import { ExerciseCheckFailed, runSteps } from '../../../labs/support/exercise';
import { LocalUserPool, startLocalUserPool } from '../../support/local-cognito';

/**
 * There is no local Cognito engine: these tests run the sign-up, sign-in and verify-jwt steps against the stand-in of
 * test/support/local-cognito.ts, which follows Cognito's documented challenge sequence (MFA_SETUP, then
 * SOFTWARE_TOKEN_MFA), checks the TOTP codes the exercise computes, and issues RS256 tokens signed by a local key. The
 * JWT checks themselves are aws-jwt-verify's. The api, group-roles and guest steps need API Gateway, identity pools,
 * STS and DynamoDB with IAM policy evaluation, which no local engine here provides: they run against a deployed stack.
 */
const REGION = 'us-east-1';
let pool: LocalUserPool;

const outputs: Record<string, string> = { Region: REGION };
const lines: string[] = [];
const context = { outputs, log: (line: string) => lines.push(line) };
const stepsNamed = (...ids: string[]) => steps.filter((s) => ids.includes(s.id));

beforeAll(() => {
  pool = startLocalUserPool(REGION);
  Object.assign(outputs, { UserPoolId: pool.userPoolId, UserPoolClientId: pool.clientId });
  verification.jwks = pool.jwks;
});
afterAll(() => pool.stop());
beforeEach(() => (lines.length = 0));

test('sign-up: self sign-up leaves the user unconfirmed until the admin confirms', async () => {
  await runSteps(stepsNamed('sign-up'), context);
  expect(lines[1]).toMatch(/^SignUp run-\w+@example.com → UserConfirmed=false, verification code sent by EMAIL/);
  expect(lines[2]).toBe('AdminConfirmSignUp (instead of typing the emailed code) → status CONFIRMED');
});

test('sign-in: the first sign-in registers an authenticator (MFA_SETUP) with a correct TOTP code', async () => {
  await runSteps(stepsNamed('sign-in'), context);
  expect(lines.some((l) => l.endsWith('challenges answered: MFA_SETUP'))).toBe(true);
  expect([...pool.users.values()][0].totpSecret).toBeDefined();
});

test('verify-jwt: aws-jwt-verify accepts both tokens and refuses the misused, forged and foreign ones', async () => {
  await runSteps(stepsNamed('verify-jwt'), context);
  expect(lines.filter((l) => l.includes('→ refused:'))).toEqual([
    'the access token where an ID token is expected → refused: CognitoJwtInvalidTokenUseError: Token use not allowed: access. Expected: id',
    'an ID token with an edited payload → refused: JwtInvalidSignatureError: Invalid signature',
    expect.stringMatching(/^a token of another app client → refused: CognitoJwtInvalidClientIdError: /),
  ]);
});

test('verify-jwt fails the exercise when the tokens are not signed by the pool\'s key', async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saved = verification.jwks;
  verification.jwks = { keys: [{ ...other.publicKey.export({ format: 'jwk' }), kid: 'local-test-key', alg: 'RS256', use: 'sig' } as never] };
  try {
    await expect(runSteps(stepsNamed('verify-jwt'), context)).rejects.toThrow(/invalid signature/i);
  } finally {
    verification.jwks = saved;
  }
});

test('clean-up deletes the user of this run', async () => {
  await runSteps(stepsNamed('clean-up'), context);
  expect(pool.users.size).toBe(0);
  expect(lines[1]).toMatch(/^deleted run-\w+@example.com$/);
});

test('sign-up fails the exercise when the pool confirms users without verification', async () => {
  mockClient(CognitoIdentityProviderClient).on(SignUpCommand).resolves({ UserConfirmed: true });
  const error = await runSteps(stepsNamed('sign-up'), context).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  expect((error as Error).message).toBe('a self-signed-up user must confirm their email before signing in');
});
