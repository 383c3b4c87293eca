import { CognitoIdentityClient, GetCredentialsForIdentityCommand, GetIdCommand } from '@aws-sdk/client-cognito-identity';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { generateKeyPairSync } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { JwtInvalidSignatureError } from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { steps, verification, VerifierOf } from '../../../labs/cognito/exercise';
import { decodeClaims } from '../../../labs/support/cognito-session';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalUserPool, startLocalUserPool } from '../../support/local-cognito';

/**
 * There is no local Cognito engine: these tests run the sign-up, sign-in and verify-jwt steps against the stand-in of
 * test/support/local-cognito.ts, which follows Cognito's documented challenge sequence (MFA_SETUP, then
 * SOFTWARE_TOKEN_MFA), checks the TOTP codes the exercise computes, and issues RS256 tokens signed by a local key. The
 * JWT checks themselves are aws-jwt-verify's. No local engine provides the HTTP API's JWT authorizer, identity pools,
 * STS or DynamoDB's IAM evaluation: the api step runs against a stand-in for the authorizer, group-roles and guest
 * against doubles that apply the lab's role rules (both below), each then broken one fact at a time.
 * Every step creates its own user and deletes it when it ends, passed or failed: after each test the pool is empty.
 */
const REGION = 'us-east-1';
let pool: LocalUserPool;

const outputs: Record<string, string> = { Region: REGION };
const lines: string[] = [];
/** The exercise as a learner runs it; `jwks` stands in for the pool's key set, which aws-jwt-verify would download. */
const contextWith = (jwks: Jwks | undefined, runId?: string): ExerciseRunOptions => ({ outputs, log: (line: string) => lines.push(line), provide: [provide(verification, { jwks })], runId });
const context = (runId?: string): ExerciseRunOptions => contextWith(pool.jwks, runId);
/**
 * The run id of the tests in which a step passes: they come in the order of `steps`, with one run id, as in a
 * learner's run (each step against the stand-in it needs), so that a step that took another step's user would show.
 */
const RUN_ID = 'run-t';

// What each step of run `run-t` prints against the stand-ins, line by line (its title first; printedShape says what
// varies: the pool's id, the user's sub and identity id): the lab's lesson is in these lines.
const PRINTED: Record<string, string[]> = {
  'sign-up': [
    '\n== 1/1 sign-up: self sign-up, then confirm the user as an administrator',
    'SignUp run-t-sign-up@example.com → UserConfirmed=false, verification code sent by EMAIL to r***@e***',
    'AdminConfirmSignUp (instead of typing the emailed code) → status CONFIRMED',
    'AdminDeleteUser run-t-sign-up@example.com',
  ],
  'sign-in': [
    '\n== 1/1 sign-in: sign in: TOTP MFA set up on the first sign-in; the three tokens',
    'AdminCreateUser run-t-sign-in@example.com (MessageAction SUPPRESS: no email) + AdminSetUserPassword (permanent) → a confirmed user',
    'signed in as run-t-sign-in@example.com; challenges answered: MFA_SETUP',
    'ID token: token_use=id, aud=local-client-id, email=run-t-sign-in@example.com, email_verified=true',
    'access token: token_use=access, client_id=local-client-id, scope=aws.cognito.signin.user.admin',
    'refresh token: 5 dot-separated parts (encrypted, opaque to the app)',
    'AdminDeleteUser run-t-sign-in@example.com (a step deletes its user when a check fails too)',
  ],
  'verify-jwt': [
    '\n== 1/1 verify-jwt: verify the tokens with aws-jwt-verify; forged and misused tokens are refused',
    'AdminCreateUser run-t-verify-jwt@example.com (MessageAction SUPPRESS: no email) + AdminSetUserPassword (permanent) → a confirmed user',
    'signed in as run-t-verify-jwt@example.com; challenges answered: MFA_SETUP',
    'AdminDeleteUser run-t-verify-jwt@example.com (a step deletes its user when a check fails too)',
    'aws-jwt-verify accepted the ID token: signature (JWKS of us-east-1_POOL), iss, exp, token_use=id, aud=local-client-id',
    'and the access token with token_use=access and client_id',
    'the access token where an ID token is expected → refused: CognitoJwtInvalidTokenUseError: Token use not allowed: access. Expected: id',
    'an ID token with an edited payload → refused: JwtInvalidSignatureError: Invalid signature',
    'a token of another app client → refused: CognitoJwtInvalidClientIdError: Client ID ("audience") not allowed: local-client-id. Expected: another-client-id',
  ],
  api: [
    '\n== 1/1 api: call the HTTP API: 401 without a token, the claims with one',
    'GET /me without a token → 401 {"message":"Unauthorized"}',
    'AdminCreateUser run-t-api@example.com (MessageAction SUPPRESS: no email) + AdminSetUserPassword (permanent) → a confirmed user',
    'signed in as run-t-api@example.com; challenges answered: MFA_SETUP',
    'GET /me with the ID token → 200 {"email":"run-t-api@example.com","sub":"UUID"}',
    'AdminDeleteUser run-t-api@example.com (a step deletes its user when a check fails too)',
  ],
  'group-roles': [
    '\n== 1/1 group-roles: exchange the token for AWS credentials; the group picks the role, the role limits DynamoDB',
    'AdminCreateUser run-t-group-roles@example.com (MessageAction SUPPRESS: no email) + AdminSetUserPassword (permanent) → a confirmed user',
    'added run-t-group-roles@example.com to editors; signing in again for a token that says so',
    'signed in as run-t-group-roles@example.com; challenges answered: none',
    'ID token: cognito:groups=["editors"], cognito:preferred_role=arn:aws:iam::111122223333:role/CognitoLab-Editors',
    'GetId → us-east-1:UUID; GetCredentialsForIdentity → arn:aws:sts::111122223333:assumed-role/CognitoLab-Editors/CognitoIdentityCredentials',
    'editor: PutItem on their own note (ownerId = their identity id) → allowed',
    'editor: PutItem on another identity\'s note → AccessDeniedException',
    'added run-t-group-roles@example.com to viewers; signing in again for a token that says so',
    'signed in as run-t-group-roles@example.com; challenges answered: none',
    'ID token: cognito:groups=["viewers"], cognito:preferred_role=arn:aws:iam::111122223333:role/CognitoLab-Viewers',
    'GetId → us-east-1:UUID; GetCredentialsForIdentity → arn:aws:sts::111122223333:assumed-role/CognitoLab-Viewers/CognitoIdentityCredentials',
    'viewer: GetItem on their own note → allowed',
    'viewer: PutItem on their own note → AccessDeniedException',
    'one identity, two roles: the identity pool picked the role from the token\'s cognito:preferred_role each time',
    'AdminDeleteUser run-t-group-roles@example.com (a step deletes its user when a check fails too)',
  ],
  guest: [
    '\n== 1/1 guest: guest credentials: an identity without sign-in, a role without rights',
    'GetId without Logins → guest identity us-east-1:guest; credentials of arn:aws:sts::111122223333:assumed-role/CognitoLab-Guest/CognitoIdentityCredentials',
    'guest: GetItem on the notes table → AccessDeniedException',
    'the guest role grants nothing; and even if it granted DynamoDB, the enhanced flow\'s session policy would deny it',
  ],
};
const printedShape = (line: string) => line.replace(/us-east-1_\w+/g, 'us-east-1_POOL').replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, 'UUID');
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

test('the steps, in order, with the titles the learner reads', () => {
  expect(steps.map((s) => [s.id, s.title])).toEqual([
    ['sign-up', 'self sign-up, then confirm the user as an administrator'],
    ['sign-in', 'sign in: TOTP MFA set up on the first sign-in; the three tokens'],
    ['verify-jwt', 'verify the tokens with aws-jwt-verify; forged and misused tokens are refused'],
    ['api', 'call the HTTP API: 401 without a token, the claims with one'],
    ['group-roles', 'exchange the token for AWS credentials; the group picks the role, the role limits DynamoDB'],
    ['guest', 'guest credentials: an identity without sign-in, a role without rights'],
  ]);
});

test('sign-up: self sign-up leaves the user unconfirmed until the admin confirms; the user is deleted after', async () => {
  await runExercise(stepsNamed('sign-up'), context(RUN_ID));
  expect(lines.map(printedShape)).toEqual(PRINTED['sign-up']);
  expect(pool.emailsSent).toEqual([expect.stringMatching(/-sign-up@example.com$/)]);
});

test('sign-in: the first sign-in registers an authenticator (MFA_SETUP) with a correct TOTP code; no email is sent', async () => {
  const secrets: (string | undefined)[] = [];
  const lookup = jest.spyOn(pool.users, 'delete').mockImplementation(function (this: Map<string, { totpSecret?: string }>, key: string) {
    secrets.push(this.get(key)?.totpSecret);
    return Map.prototype.delete.call(this, key);
  });
  try {
    await runExercise(stepsNamed('sign-in'), context(RUN_ID));
  } finally {
    lookup.mockRestore();
  }
  expect(lines.map(printedShape)).toEqual(PRINTED['sign-in']);
  expect(secrets).toEqual([expect.stringMatching(/^[A-Z2-7]{32}$/)]);
  expect(pool.emailsSent).toEqual([]);
});

test('verify-jwt: aws-jwt-verify accepts both tokens and refuses the misused, forged and foreign ones', async () => {
  await runExercise(stepsNamed('verify-jwt'), context(RUN_ID));
  expect(lines.map(printedShape)).toEqual(PRINTED['verify-jwt']);
  expect(pool.emailsSent).toEqual([]);
});

test('verify-jwt fails the exercise when the tokens are not signed by the pool\'s key (and deletes its user)', async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreign = contextWith({ keys: [{ ...other.publicKey.export({ format: 'jwk' }), kid: 'local-test-key', alg: 'RS256', use: 'sig' } as never] });
  await expect(runExercise(stepsNamed('verify-jwt'), foreign)).rejects.toThrow(/invalid signature/i);
});

describe('verify-jwt fails on a verifier that accepts what it should refuse', () => {
  /** aws-jwt-verify's verifier, made with `loosen`'s properties instead of the step's. */
  const loosened = (loosen: Partial<{ tokenUse: null; clientId: null }>): VerifierOf => (properties) => CognitoJwtVerifier.create({ ...properties, ...loosen });
  /** aws-jwt-verify's verifier, except that a token with an invalid signature is accepted as it reads. */
  const signatureIgnored: VerifierOf = (properties) => {
    const verifier = CognitoJwtVerifier.create(properties);
    return {
      verify: (token) => verifier.verify(token).catch((error: unknown) => (error instanceof JwtInvalidSignatureError ? decodeClaims(token) : Promise.reject(error))),
      cacheJwks: (jwks) => verifier.cacheJwks(jwks),
    };
  };
  test.each<[string, VerifierOf, string]>([
    ['any token use', loosened({ tokenUse: null }), 'the access token where an ID token is expected should have been refused'],
    ['an invalid signature', signatureIgnored, 'an ID token with an edited payload should have been refused'],
    ['any app client', loosened({ clientId: null }), 'a token of another app client should have been refused'],
  ])('accepting %s', async (_name, verifierOf, message) => {
    const error = await runExercise(stepsNamed('verify-jwt'), { ...context(), provide: [provide(verification, { jwks: pool.jwks, verifierOf })] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toBe(message);
  });
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

describe('each check of sign-up and sign-in fails when the one answer it checks is changed', () => {
  type AnyCommand = { constructor: { name: string } };
  type Answer = Record<string, unknown> & { AuthenticationResult?: Record<string, string> };
  /** The stand-in's answers, except `name` calls, whose answer `edit` rewrites. */
  function answers(name: string, edit: (answer: Answer) => Answer) {
    const send = CognitoIdentityProviderClient.prototype.send as unknown as (...args: unknown[]) => Promise<Answer>;
    jest.spyOn(CognitoIdentityProviderClient.prototype, 'send').mockImplementation(async function (this: CognitoIdentityProviderClient, command: AnyCommand, ...rest: unknown[]) {
      const answer = await send.call(this, command, ...rest);
      return command.constructor.name === `${name}Command` ? edit(answer) : answer;
    } as never);
  }
  /** A token whose claims `edit` changed (the sign-in step decodes tokens; it does not verify them). */
  const withClaims = (token: string, edit: (claims: Record<string, unknown>) => object) => {
    const [header, payload, signature] = token.split('.');
    return [header, Buffer.from(JSON.stringify(edit(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))))).toString('base64url'), signature].join('.');
  };
  const tokens = (edit: (result: Record<string, string>) => Record<string, string>) => () =>
    answers('AdminRespondToAuthChallenge', (a) => (a.AuthenticationResult ? { ...a, AuthenticationResult: edit(a.AuthenticationResult) } : a));
  afterEach(() => jest.restoreAllMocks());

  test.each<[string, string, () => void, string]>([
    ['sign-up', 'a user left unconfirmed', () => answers('AdminGetUser', (a) => ({ ...a, UserStatus: 'UNCONFIRMED' })), 'expected CONFIRMED, got UNCONFIRMED'],
    ['sign-in', 'an ID token for another app client', tokens((t) => ({ ...t, IdToken: withClaims(t.IdToken, (c) => ({ ...c, aud: 'another-client-id' })) })), 'the ID token should be for this app client'],
    ['sign-in', 'an access token of another client', tokens((t) => ({ ...t, AccessToken: withClaims(t.AccessToken, (c) => ({ ...c, client_id: 'another-client-id' })) })), 'unexpected access token'],
    ['sign-in', 'a readable refresh token', tokens((t) => ({ ...t, RefreshToken: t.IdToken })), 'the refresh token should be a JWE (5 parts), not a readable JWT'],
  ])('%s fails on %s (and deletes its user)', async (id, _name, breakIt, message) => {
    breakIt();
    const error = await runExercise(stepsNamed(id), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toBe(message);
  });
});

describe('api, against a stand-in for the HTTP API and its JWT authorizer (the pool\'s signature, issuer and expiry)', () => {
  const API_URL = 'https://api.example.test/';
  /** GET /me as the deployed API answers it: 401 without a valid token, the claims with one; `change` edits the answer. */
  const api = (change: (answer: { status: number; body: object }, token: string | undefined) => { status: number; body: object } = (a) => a) => {
    const realFetch = globalThis.fetch;
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init = {}) => {
      if (!String(input).startsWith(API_URL)) return realFetch(input, init);
      const token = (init.headers as Record<string, string> | undefined)?.Authorization?.replace(/^Bearer /, '');
      const claims = token ? pool.claimsOf(token) : undefined;
      const answer = change(claims ? { status: 200, body: { email: claims.email, sub: claims.sub } } : { status: 401, body: { message: 'Unauthorized' } }, token);
      return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
    });
  };
  const runApi = (runId?: string) => runExercise(stepsNamed('api'), { ...context(runId), outputs: { ...outputs, ApiUrl: API_URL } });
  afterEach(() => jest.restoreAllMocks());

  test('passes: 401 without a token, the user\'s claims with the ID token (and the user is deleted after)', async () => {
    api();
    await runApi(RUN_ID);
    expect(lines.map(printedShape)).toEqual(PRINTED.api);
  });

  test.each<[string, (answer: { status: number; body: object }, token: string | undefined) => { status: number; body: object }, string]>([
    ['an API that lets anonymous calls through', (a, token) => (token ? a : { status: 200, body: {} }), 'expected 401 without a token, got 200'],
    ['an authorizer that passes no claims on', (a, token) => (token ? { status: 200, body: {} } : a), "the JWT authorizer should pass the user's claims on"],
  ])('fails on %s (and deletes its user)', async (_name, change, message) => {
    api(change);
    const error = await runApi().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toBe(message);
  });
});

describe('group-roles and guest, against doubles of the identity pool, STS and DynamoDB with the lab\'s role rules', () => {
  const ACCOUNT = '111122223333';
  const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/CognitoLab-${name}`;
  const poolOutputs = () => ({
    ...outputs,
    IdentityPoolId: `${REGION}:identity-pool`,
    LoginProvider: `cognito-idp.${REGION}.amazonaws.com/${pool.userPoolId}`,
    EditorsRoleArn: roleArn('Editors'),
    ViewersRoleArn: roleArn('Viewers'),
    GuestRoleArn: roleArn('Guest'),
    NotesTableName: 'notes',
  });
  const identity = mockClient(CognitoIdentityClient);
  const sts = mockClient(STSClient);
  const dynamodb = mockClient(DynamoDBClient);
  /** Each user's groups, by email: the pool's groups, which the local user pool does not keep. */
  const groups = new Map<string, Set<string>>();
  /** What the doubles decide, and what a test changes to break one fact. */
  let rules: {
    preferredRole: (groupsOfUser: string[]) => string | undefined;
    roleOf: (preferredRole: string | undefined) => string;
    identityOf: (sub: string | undefined, call: number) => string;
    allows: (role: string, command: 'PutItem' | 'GetItem', ownerId: string, identityId: string) => boolean;
    deniedAs: string;
    credentials: boolean;
  };
  const defaultRules = (): typeof rules => ({
    preferredRole: (g) => (g.includes('editors') ? roleArn('Editors') : g.includes('viewers') ? roleArn('Viewers') : undefined),
    roleOf: (preferred) => preferred ?? roleArn('Guest'),
    identityOf: (sub) => `${REGION}:${sub ?? 'guest'}`,
    // The lab's policies: editors read and write their own items, viewers read theirs (dynamodb:LeadingKeys), guests nothing.
    allows: (role, command, ownerId, identityId) =>
      ownerId === identityId && (role === roleArn('Editors') || (role === roleArn('Viewers') && command === 'GetItem')),
    deniedAs: 'AccessDeniedException',
    credentials: true,
  });
  /** The session behind a client's credentials: the access key id carries the role and the identity id. */
  const sessionOf = async (getClient: () => { config: { credentials: () => Promise<{ accessKeyId: string }> } }) => {
    const { accessKeyId } = await getClient().config.credentials();
    const [role, identityId] = accessKeyId.split('|');
    return { role, identityId };
  };
  const claimsOfToken = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

  beforeEach(() => {
    // group-roles signs in twice; with MFA the second sign-in waits for the next 30 s TOTP step (a code is good once).
    pool.mfaRequired = false;
    rules = defaultRules();
    groups.clear();
    let getIds = 0;
    identity.reset();
    identity.on(GetIdCommand).callsFake(async (input: { Logins?: Record<string, string> }) => {
      const token = Object.values(input.Logins ?? {})[0];
      return { IdentityId: rules.identityOf(token ? String(claimsOfToken(token).sub) : undefined, (getIds += 1)) };
    });
    identity.on(GetCredentialsForIdentityCommand).callsFake(async (input: { IdentityId: string; Logins?: Record<string, string> }) => {
      if (!rules.credentials) return { IdentityId: input.IdentityId };
      const token = Object.values(input.Logins ?? {})[0];
      const role = rules.roleOf(token ? (claimsOfToken(token)['cognito:preferred_role'] as string | undefined) : undefined);
      return { IdentityId: input.IdentityId, Credentials: { AccessKeyId: `${role}|${input.IdentityId}`, SecretKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) } };
    });
    sts.reset();
    sts.on(GetCallerIdentityCommand).callsFake(async (_input, getClient) => {
      const { role } = await sessionOf(getClient as never);
      return { Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.split('/').pop()}/CognitoIdentityCredentials` };
    });
    dynamodb.reset();
    for (const [command, name] of [[PutItemCommand, 'PutItem'], [GetItemCommand, 'GetItem']] as const) {
      dynamodb.on(command as never).callsFake(async (input: { Item?: { ownerId: { S: string } }; Key?: { ownerId: { S: string } } }, getClient) => {
        const { role, identityId } = await sessionOf(getClient as never);
        const ownerId = (input.Item ?? input.Key)!.ownerId.S;
        if (!rules.allows(role, name, ownerId, identityId)) throw Object.assign(new Error(`${role} may not ${name} ${ownerId}`), { name: rules.deniedAs });
        return {};
      });
    }
    dynamodb.on(DeleteItemCommand).resolves({});
    // Group membership, and tokens that say so (the sign-in step decodes them; the doubles above read them).
    const send = CognitoIdentityProviderClient.prototype.send as unknown as (...args: unknown[]) => Promise<Record<string, unknown>>;
    jest.spyOn(CognitoIdentityProviderClient.prototype, 'send').mockImplementation(async function (this: CognitoIdentityProviderClient, command: { constructor: { name: string }; input: { Username?: string; GroupName?: string } }, ...rest: unknown[]) {
      const name = command.constructor.name;
      if (name === 'AdminAddUserToGroupCommand' || name === 'AdminRemoveUserFromGroupCommand') {
        const userGroups = groups.get(command.input.Username!) ?? new Set<string>();
        if (name === 'AdminAddUserToGroupCommand') userGroups.add(command.input.GroupName!);
        else userGroups.delete(command.input.GroupName!);
        groups.set(command.input.Username!, userGroups);
        return {};
      }
      const answer = await send.call(this, command, ...rest);
      const result = answer.AuthenticationResult as Record<string, string> | undefined;
      if (!result) return answer;
      const claims = claimsOfToken(result.IdToken);
      const userGroups = [...(groups.get(String(claims.email)) ?? [])];
      const [header, , signature] = result.IdToken.split('.');
      const payload = Buffer.from(JSON.stringify({ ...claims, 'cognito:groups': userGroups, 'cognito:preferred_role': rules.preferredRole(userGroups) })).toString('base64url');
      return { ...answer, AuthenticationResult: { ...result, IdToken: `${header}.${payload}.${signature}` } };
    } as never);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    pool.mfaRequired = true;
  });
  afterAll(() => {
    identity.restore();
    sts.restore();
    dynamodb.restore();
  });
  const run = (id: string, runId?: string) => runExercise(stepsNamed(id), { ...context(runId), outputs: poolOutputs() });

  test('both steps pass: one identity, the role the groups pick, DynamoDB as the role allows; guests get nothing', async () => {
    await run('group-roles', RUN_ID);
    await run('guest', RUN_ID);
    expect(lines.map(printedShape)).toEqual([...PRINTED['group-roles'], ...PRINTED.guest]);
  });

  test.each<[string, string, () => void, string]>([
    ['group-roles', 'a token that prefers no role', () => (rules.preferredRole = () => undefined), 'the token should prefer the editors role'],
    ['group-roles', 'credentials of another role than the token prefers', () => (rules.roleOf = () => roleArn('Viewers')), `expected the editors role, got arn:aws:sts::${ACCOUNT}:assumed-role/CognitoLab-Viewers/CognitoIdentityCredentials`],
    ['group-roles', 'an identity pool that hands out no credentials', () => (rules.credentials = false), 'the identity pool returned no credentials'],
    ['group-roles', 'an editor who cannot write', () => (rules.allows = (role, command, owner, id) => role !== roleArn('Editors') && defaultRules().allows(role, command, owner, id)), 'an editor must be able to write their own note'],
    ['group-roles', 'an editor who can write any note', () => (rules.allows = (role, command, owner, id) => role === roleArn('Editors') || defaultRules().allows(role, command, owner, id)), 'dynamodb:LeadingKeys should confine an editor to their own items'],
    ['group-roles', 'a new identity at each sign-in', () => (rules.identityOf = (sub, call) => `${REGION}:${sub}-${call}`), 'the same user should keep the same identity id'],
    ['group-roles', 'a viewer who cannot read', () => (rules.allows = (role, _command, owner, id) => role === roleArn('Editors') && owner === id), 'a viewer must be able to read their own note'],
    ['group-roles', 'a viewer who can write', () => (rules.allows = (role, _command, owner, id) => role !== roleArn('Guest') && owner === id), 'a viewer must not be able to write'],
    ['group-roles', 'a refusal that is not AccessDenied', () => (rules.deniedAs = 'ValidationException'), "editor: PutItem on another identity's note failed with ValidationException"],
    ['guest', 'guest credentials of a signed-in role', () => (rules.roleOf = () => roleArn('Viewers')), `expected the guest role, got arn:aws:sts::${ACCOUNT}:assumed-role/CognitoLab-Viewers/CognitoIdentityCredentials`],
    ['guest', 'a guest who can read notes', () => (rules.allows = () => true), 'guests must not read notes'],
  ])('%s fails on %s (and deletes its user)', async (id, _name, breakIt, message) => {
    breakIt();
    const error = await run(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toContain(message);
  });
});
