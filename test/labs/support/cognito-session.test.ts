import { decodeClaims, signIn, totp, withLabUser } from '../../../labs/support/cognito-session';
import { ExerciseCheckFailed, LabNotReady, startExerciseRun } from '../../../labs/support/exercise';
import { LocalUserPool, startLocalUserPool } from '../../support/local-cognito';

// RFC 6238 appendix B, SHA-1 seed "12345678901234567890" (base32 below), last 6 of the 8 published digits.
const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('totp (otpauth)', () => {
  test.each([
    [59, '287082'],
    [1_111_111_109, '081804'],
    [1_111_111_111, '050471'],
    [1_234_567_890, '005924'],
    [2_000_000_000, '279037'],
    [20_000_000_000, '353130'],
  ])('TOTP at %d s is %s (RFC 6238 test vector)', (seconds, code) => {
    expect(totp(SEED, seconds * 1000)).toBe(code);
  });

  test('codes change every 30 s and ignore base32 padding, case and spaces', () => {
    expect(totp(SEED, 60_000)).not.toBe(totp(SEED, 90_000));
    expect(totp(SEED, 60_000)).toBe(totp(SEED, 89_999));
    expect(totp('gezd gnbv gy3t qojq gezd gnbv gy3t qojq====', 59_000)).toBe('287082');
  });

  test('a secret that is not base32 is a failed check that says so', () => {
    const message = 'the authenticator secret is not base32 (letters A-Z and digits 2-7): Invalid character found: -';
    expect(() => totp('not-base32!', 0)).toThrow(new ExerciseCheckFailed(message));
    expect(() => totp('not-base32!', 0)).toThrow(ExerciseCheckFailed);
  });
});

describe('decodeClaims', () => {
  test('returns the payload of a JWT without verifying it', () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect(decodeClaims(`${part({ alg: 'none' })}.${part({ sub: 'abc', token_use: 'id' })}.`)).toEqual({ sub: 'abc', token_use: 'id' });
  });

  test.each([
    ['opaque-token', 'not a JWT (three base64url parts, the second a JSON object of claims): 1 part(s), starting "opaque-token"'],
    ['a.bm90IGpzb24.c', 'not a JWT (three base64url parts, the second a JSON object of claims): 3 part(s), starting "a.bm90IGpzb2"'],
    ['a.WzFd.c', 'not a JWT (three base64url parts, the second a JSON object of claims): 3 part(s), starting "a.WzFd.c"'],
  ])('refuses %s with a failed check that says why', (token, message) => {
    expect(() => decodeClaims(token)).toThrow(new ExerciseCheckFailed(message));
    expect(() => decodeClaims(token)).toThrow(ExerciseCheckFailed);
  });
});

describe('against the local user pool stand-in', () => {
  let pool: LocalUserPool;
  /** The helpers take their Cognito client from an exercise context: one run for these tests. */
  const run = startExerciseRun({ outputs: {}, log: () => undefined });
  beforeAll(() => (pool = startLocalUserPool()));
  afterAll(async () => {
    await run.close();
    pool.stop();
  });

  test('withLabUser creates a confirmed user without email, signs in with MFA set-up, and deletes the user', async () => {
    const email = 'session-ok@example.com';
    const challenges = await withLabUser(run.context, pool.userPoolId, email, async (user) => {
      expect(pool.users.get(email)?.confirmed).toBe(true);
      const first = await signIn(run.context, pool.userPoolId, pool.clientId, user);
      expect(user.totpSecret).toBe(pool.users.get(email)?.totpSecret);
      return first.challenges;
    });
    expect(challenges).toEqual(['MFA_SETUP']);
    expect(pool.users.has(email)).toBe(false);
    expect(pool.emailsSent).toEqual([]);
  });

  test('withLabUser deletes the user when `use` fails, and rethrows its error', async () => {
    const email = 'session-fails@example.com';
    const failure = new ExerciseCheckFailed('the check failed');
    await expect(withLabUser(run.context, pool.userPoolId, email, async () => Promise.reject(failure))).rejects.toBe(failure);
    expect(pool.users.has(email)).toBe(false);
  });

  test('withLabUser deletes the user when setting the password fails (created, but not usable)', async () => {
    const email = 'session-password@example.com';
    const refused = Object.assign(new Error('Password does not conform to policy'), { name: 'InvalidPasswordException' });
    // AdminCreateUser only sets the user; the next lookup is AdminSetUserPassword's: make it fail once.
    const lookup = jest.spyOn(pool.users, 'get').mockImplementationOnce(() => {
      throw refused;
    });
    try {
      await expect(withLabUser(run.context, pool.userPoolId, email, async () => 'never')).rejects.toBe(refused);
    } finally {
      lookup.mockRestore();
    }
    expect(pool.users.has(email)).toBe(false);
  });

  test('a user whose authenticator secret the script does not know is a LabNotReady that says what to do', async () => {
    const email = 'session-known@example.com';
    await withLabUser(run.context, pool.userPoolId, email, async (user) => {
      await signIn(run.context, pool.userPoolId, pool.clientId, user);
      const error = await signIn(run.context, pool.userPoolId, pool.clientId, { email: user.email, password: user.password }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LabNotReady);
      expect((error as Error).message).toBe(
        'session-known@example.com already has an authenticator whose secret this script does not know: sign in with a new user ' +
          '(each exercise step creates its own), or delete this one (aws cognito-idp admin-delete-user)',
      );
    });
  });
});
