import { generateKeyPairSync } from 'node:crypto';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { steps, verification } from '../../../labs/cognito/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalUserPool, startLocalUserPool } from '../../support/local-cognito';

/**
 * There is no local Cognito engine: these tests run the sign-up, sign-in and verify-jwt steps against the stand-in of
 * test/support/local-cognito.ts, which follows Cognito's documented challenge sequence (MFA_SETUP, then
 * SOFTWARE_TOKEN_MFA), checks the TOTP codes the exercise computes, and issues RS256 tokens signed by a local key. The
 * JWT checks themselves are aws-jwt-verify's. The api, group-roles and guest steps need API Gateway, identity pools,
 * STS and DynamoDB with IAM policy evaluation, which no local engine here provides: they run against a deployed stack.
 * Every step creates its own user and deletes it when it ends, passed or failed: after each test the pool is empty.
 */
const REGION = 'us-east-1';
let pool: LocalUserPool;

const outputs: Record<string, string> = { Region: REGION };
const lines: string[] = [];
/** The exercise as a learner runs it; `jwks` stands in for the pool's key set, which aws-jwt-verify would download. */
const contextWith = (jwks: Jwks | undefined): ExerciseRunOptions => ({ outputs, log: (line: string) => lines.push(line), provide: [provide(verification, { jwks })] });
const context = (): ExerciseRunOptions => contextWith(pool.jwks);
const stepsNamed = (...ids: string[]) => steps.filter((s) => ids.includes(s.id));

beforeAll(() => {
  pool = startLocalUserPool(REGION);
  Object.assign(outputs, { UserPoolId: pool.userPoolId, UserPoolClientId: pool.clientId });
});
afterAll(() => pool.stop());
beforeEach(() => {
  lines.length = 0;
  pool.emailsSent.length = 0;
});
afterEach(() => expect([...pool.users.keys()]).toEqual([]));

test('sign-up: self sign-up leaves the user unconfirmed until the admin confirms; the user is deleted after', async () => {
  await runExercise(stepsNamed('sign-up'), context());
  expect(lines.slice(1)).toEqual([
    expect.stringMatching(/^SignUp run-\w+-sign-up@example.com → UserConfirmed=false, verification code sent by EMAIL/),
    'AdminConfirmSignUp (instead of typing the emailed code) → status CONFIRMED',
    expect.stringMatching(/^AdminDeleteUser run-\w+-sign-up@example.com$/),
  ]);
  expect(pool.emailsSent).toEqual([expect.stringMatching(/-sign-up@example.com$/)]);
});

test('sign-in: the first sign-in registers an authenticator (MFA_SETUP) with a correct TOTP code; no email is sent', async () => {
  const secrets: (string | undefined)[] = [];
  const lookup = jest.spyOn(pool.users, 'delete').mockImplementation(function (this: Map<string, { totpSecret?: string }>, key: string) {
    secrets.push(this.get(key)?.totpSecret);
    return Map.prototype.delete.call(this, key);
  });
  try {
    await runExercise(stepsNamed('sign-in'), context());
  } finally {
    lookup.mockRestore();
  }
  expect(lines[1]).toMatch(/^AdminCreateUser run-\w+-sign-in@example.com \(MessageAction SUPPRESS: no email\)/);
  expect(lines.some((l) => l.endsWith('challenges answered: MFA_SETUP'))).toBe(true);
  expect(lines.at(-1)).toMatch(/^AdminDeleteUser run-\w+-sign-in@example.com/);
  expect(secrets).toEqual([expect.stringMatching(/^[A-Z2-7]{32}$/)]);
  expect(pool.emailsSent).toEqual([]);
});

test('verify-jwt: aws-jwt-verify accepts both tokens and refuses the misused, forged and foreign ones', async () => {
  await runExercise(stepsNamed('verify-jwt'), context());
  expect(lines.filter((l) => l.includes('→ refused:'))).toEqual([
    'the access token where an ID token is expected → refused: CognitoJwtInvalidTokenUseError: Token use not allowed: access. Expected: id',
    'an ID token with an edited payload → refused: JwtInvalidSignatureError: Invalid signature',
    expect.stringMatching(/^a token of another app client → refused: CognitoJwtInvalidClientIdError: /),
  ]);
  expect(pool.emailsSent).toEqual([]);
});

test('verify-jwt fails the exercise when the tokens are not signed by the pool\'s key (and deletes its user)', async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreign = contextWith({ keys: [{ ...other.publicKey.export({ format: 'jwk' }), kid: 'local-test-key', alg: 'RS256', use: 'sig' } as never] });
  await expect(runExercise(stepsNamed('verify-jwt'), foreign)).rejects.toThrow(/invalid signature/i);
});

test('a step whose check fails still deletes its user (afterEach checks the pool is empty)', async () => {
  pool.mfaRequired = false;
  try {
    const error = await runExercise(stepsNamed('sign-in'), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toBe('MFA is required: the sign-in should have asked for it');
  } finally {
    pool.mfaRequired = true;
  }
});

test('sign-up fails the exercise when the pool confirms users without verification, and deletes the user', async () => {
  pool.autoConfirmSignUp = true;
  try {
    const error = await runExercise(stepsNamed('sign-up'), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toBe('a self-signed-up user must confirm their email before signing in');
  } finally {
    pool.autoConfirmSignUp = false;
  }
});

test('the exercise has no clean-up step: no step leaves a user behind for a later one', () => {
  expect(steps.map((s) => s.id)).toEqual(['sign-up', 'sign-in', 'verify-jwt', 'api', 'group-roles', 'guest']);
});
