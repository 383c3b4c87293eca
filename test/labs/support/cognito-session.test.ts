import {
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { cognitoIdpOf, decodeClaims, labPassword, LabUser, signIn, totp, withLabUser } from '../../../labs/support/cognito-session';
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
    ['a.bnVsbA.c', 'not a JWT (three base64url parts, the second a JSON object of claims): 3 part(s), starting "a.bnVsbA.c"'],
    ['a.eyJzdWIiOiJhYmMifQ', 'not a JWT (three base64url parts, the second a JSON object of claims): 2 part(s), starting "a.eyJzdWIiOi"'],
  ])('refuses %s with a failed check that says why', (token, message) => {
    expect(() => decodeClaims(token)).toThrow(new ExerciseCheckFailed(message));
    expect(() => decodeClaims(token)).toThrow(ExerciseCheckFailed);
  });
});

test('a lab password is 16+ characters of upper and lower case, digits and symbols', () => {
  const password = labPassword();
  expect(password).toMatch(/^Lab-[a-z0-9]{1,8}-[a-z0-9]+!Aa9$/);
  expect(password.length).toBeGreaterThanOrEqual(16);
  expect(labPassword()).not.toBe(password);
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
  /** What the helpers sent to the user pool (the stand-in still answers). */
  let sent: jest.SpyInstance;
  beforeEach(() => {
    sent = jest.spyOn(CognitoIdentityProviderClient.prototype, 'send');
  });
  afterEach(() => {
    sent.mockRestore();
    jest.useRealTimers();
  });
  const inputsOf = (type: abstract new (...args: never[]) => unknown) =>
    sent.mock.calls.map(([command]) => command as { input: unknown }).filter((command) => command instanceof type).map((command) => command.input);
  /** The stand-in's answer, except for commands of `type`, which get `response`. */
  const answering = (type: abstract new (...args: never[]) => unknown, response: object) => {
    const original = sent.getMockImplementation()!;
    sent.mockImplementation(function (this: CognitoIdentityProviderClient, command: unknown, ...rest: unknown[]) {
      return command instanceof type ? Promise.resolve(response) : original.call(this, command, ...rest);
    } as never);
  };
  /** Fake clock for the waits for a fresh TOTP time step: 10 s into a step. */
  const useFakeClock = () => jest.useFakeTimers({ now: 1_700_000_020_000, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });

  test('the helpers use the run\'s shared Cognito user pools client', () => {
    expect(cognitoIdpOf(run.context)).toBe(run.context.client(CognitoIdentityProviderClient, 'COGNITO_IDENTITY_PROVIDER'));
  });

  test('withLabUser creates the user with a verified email and no invitation, and sets a permanent password', async () => {
    const email = 'session-inputs@example.com';
    await withLabUser(run.context, pool.userPoolId, email, async (user) => {
      expect(inputsOf(AdminCreateUserCommand)).toEqual([
        {
          UserPoolId: pool.userPoolId,
          Username: email,
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
          ],
        },
      ]);
      expect(inputsOf(AdminSetUserPasswordCommand)).toEqual([{ UserPoolId: pool.userPoolId, Username: email, Password: user.password, Permanent: true }]);
    });
  });

  test('withLabUser leaves alone a user it could not create (one that already exists)', async () => {
    const email = 'session-exists@example.com';
    await withLabUser(run.context, pool.userPoolId, email, async () => {
      await expect(withLabUser(run.context, pool.userPoolId, email, async () => 'never')).rejects.toThrow('User account already exists');
      expect(pool.users.has(email)).toBe(true);
    });
  });

  test('a failed deletion fails withLabUser after `use` succeeded, but never hides the error of a failed `use`', async () => {
    const email = 'session-gone@example.com';
    await expect(
      withLabUser(run.context, pool.userPoolId, email, async () => {
        pool.users.delete(email);
      }),
    ).rejects.toThrow('User does not exist.');
    const failure = new ExerciseCheckFailed('the check failed');
    await expect(
      withLabUser(run.context, pool.userPoolId, email, async () => {
        pool.users.delete(email);
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  test('signs in with the password, registers an authenticator named lab, and returns the three tokens', async () => {
    const email = 'session-tokens@example.com';
    await withLabUser(run.context, pool.userPoolId, email, async (user) => {
      const { tokens } = await signIn(run.context, pool.userPoolId, pool.clientId, user);
      expect(inputsOf(AdminInitiateAuthCommand)).toEqual([
        { UserPoolId: pool.userPoolId, ClientId: pool.clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: user.password } },
      ]);
      expect(inputsOf(VerifySoftwareTokenCommand)).toEqual([expect.objectContaining({ FriendlyDeviceName: 'lab' })]);
      expect(decodeClaims(tokens.IdToken)).toMatchObject({ token_use: 'id', email });
      expect(decodeClaims(tokens.AccessToken)).toMatchObject({ token_use: 'access' });
      expect(tokens.RefreshToken).toMatch(/^[\w-]+(\.[\w-]+){4}$/);
    });
  });

  test('a later sign-in answers SOFTWARE_TOKEN_MFA with a code of a time step not used yet, waiting for the next one', async () => {
    useFakeClock();
    const email = 'session-again@example.com';
    await withLabUser(run.context, pool.userPoolId, email, async (user) => {
      await signIn(run.context, pool.userPoolId, pool.clientId, user);
      const setUpStep = Math.floor(Date.now() / 30_000);
      expect(user.lastCodeStep).toBe(setUpStep);
      const again = signIn(run.context, pool.userPoolId, pool.clientId, user);
      await jest.advanceTimersByTimeAsync(19_000);
      expect(user.lastCodeStep).toBe(setUpStep);
      await jest.advanceTimersByTimeAsync(2_000);
      const { challenges, tokens } = await again;
      expect(challenges).toEqual(['SOFTWARE_TOKEN_MFA']);
      expect(user.lastCodeStep).toBe(setUpStep + 1);
      expect(decodeClaims(tokens.IdToken)).toMatchObject({ email });
    });
  });

  test('a TOTP code the pool refuses at registration is a failed check that says so', async () => {
    answering(VerifySoftwareTokenCommand, { Status: 'ERROR' });
    await withLabUser(run.context, pool.userPoolId, 'session-refused@example.com', async (user) => {
      await expect(signIn(run.context, pool.userPoolId, pool.clientId, user)).rejects.toThrow(
        new ExerciseCheckFailed('VerifySoftwareToken returned ERROR: the user pool refused the TOTP code computed from the secret it issued'),
      );
    });
  });

  test('a challenge other than the MFA ones is a failed check naming it', async () => {
    answering(AdminInitiateAuthCommand, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'session' });
    const user: LabUser = { email: 'nobody@example.com', password: 'x', totpSecret: 'GEZDGNBVGY3TQOJQ' };
    await expect(signIn(run.context, pool.userPoolId, pool.clientId, user)).rejects.toThrow(
      new ExerciseCheckFailed('unexpected sign-in challenge NEW_PASSWORD_REQUIRED: a lab pool with required TOTP MFA asks for MFA_SETUP or SOFTWARE_TOKEN_MFA only'),
    );
  });

  test.each([
    ['IdToken', { AccessToken: 'a', RefreshToken: 'r' }],
    ['RefreshToken', { IdToken: 'i', AccessToken: 'a' }],
  ])('a sign-in that returns no %s is a failed check', async (_, result) => {
    answering(AdminInitiateAuthCommand, { AuthenticationResult: result });
    await expect(signIn(run.context, pool.userPoolId, pool.clientId, { email: 'nobody@example.com', password: 'x' })).rejects.toThrow(
      new ExerciseCheckFailed('sign-in returned no tokens after the challenges (none)'),
    );
  });

  test('gives up after three rounds of challenges', async () => {
    useFakeClock();
    answering(AdminRespondToAuthChallengeCommand, { ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'again' });
    await withLabUser(run.context, pool.userPoolId, 'session-rounds@example.com', async (user) => {
      const failure = signIn(run.context, pool.userPoolId, pool.clientId, user).catch((error: unknown) => error);
      await jest.advanceTimersByTimeAsync(120_000);
      expect(await failure).toEqual(new ExerciseCheckFailed('sign-in returned no tokens after the challenges MFA_SETUP, SOFTWARE_TOKEN_MFA, SOFTWARE_TOKEN_MFA'));
      expect(inputsOf(AdminRespondToAuthChallengeCommand)).toHaveLength(3);
    });
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
