import {
  CognitoIdentityClient,
  Credentials,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  AdminRemoveUserFromGroupCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { check, ExerciseContext, ExerciseStep, createClient, defineFixture, requireOutput } from '../support/exercise';
import { cognitoIdpOf, decodeClaims, deleteUser, LabUser, labPassword, SignInResult, signIn, withLabUser } from '../support/cognito-session';

/** The run's identity pools client (see serviceEndpoint for the endpoint). */
const cognitoIdentityOf = (context: ExerciseContext) => context.client(CognitoIdentityClient, 'COGNITO_IDENTITY');

/** A verifier of the pool's tokens: what the verify-jwt step calls. */
export interface TokenVerifier {
  verify(token: string): Promise<Record<string, unknown>>;
  cacheJwks(jwks: Jwks): void;
}
export type VerifierOf = (properties: { userPoolId: string; tokenUse: 'id' | 'access'; clientId: string }) => TokenVerifier;
const awsJwtVerifier: VerifierOf = (properties) => CognitoJwtVerifier.create(properties);

/**
 * How the verify-jwt step verifies tokens: aws-jwt-verify's verifiers, with the pool's key set they download. Only
 * tests set these: `jwks` instead of the download, `verifierOf` to show a check fail on a verifier that misbehaves.
 */
export const verification = defineFixture('JWT verification', (): { jwks?: Jwks; verifierOf?: VerifierOf } => ({}));

/** A user of this run for one step (marked with the run id, so the exercise never touches anyone else's). */
const emailFor = (context: ExerciseContext, step: string) => `${context.runId}-${step}@example.com`;

/**
 * Runs `use` with a user created for this step without any email (AdminCreateUser, MessageAction SUPPRESS), and
 * deletes the user when the step ends, passed or failed: running one step alone leaves nothing behind.
 */
async function withUser<T>(
  context: ExerciseContext,
  step: string,
  log: (line: string) => void,
  use: (user: LabUser) => Promise<T>,
): Promise<T> {
  const { outputs } = context;
  const email = emailFor(context, step);
  const result = await withLabUser(context, requireOutput(outputs, 'UserPoolId'), email, (user) => {
    log(`AdminCreateUser ${user.email} (MessageAction SUPPRESS: no email) + AdminSetUserPassword (permanent) → a confirmed user`);
    return use(user);
  });
  log(`AdminDeleteUser ${email} (a step deletes its user when a check fails too)`);
  return result;
}

async function signInAs(context: ExerciseContext, user: LabUser, log: (line: string) => void): Promise<SignInResult> {
  const { outputs } = context;
  const result = await signIn(context, requireOutput(outputs, 'UserPoolId'), requireOutput(outputs, 'UserPoolClientId'), user);
  log(`signed in as ${user.email}; challenges answered: ${result.challenges.join(', ') || 'none'}`);
  return result;
}

async function signUp(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const userPoolId = requireOutput(outputs, 'UserPoolId');
  const clientId = requireOutput(outputs, 'UserPoolClientId');
  const user: LabUser = { email: emailFor(context, 'sign-up'), password: labPassword() };
  const signedUp = await cognitoIdpOf(context).send(
    new SignUpCommand({ ClientId: clientId, Username: user.email, Password: user.password, UserAttributes: [{ Name: 'email', Value: user.email }] }),
  );
  let failed = false;
  try {
    log(
      `SignUp ${user.email} → UserConfirmed=${signedUp.UserConfirmed}, verification code sent by ` +
        `${signedUp.CodeDeliveryDetails?.DeliveryMedium} to ${signedUp.CodeDeliveryDetails?.Destination}`,
    );
    check(signedUp.UserConfirmed === false, 'a self-signed-up user must confirm their email before signing in');
    await cognitoIdpOf(context).send(new AdminConfirmSignUpCommand({ UserPoolId: userPoolId, Username: user.email }));
    const confirmed = await cognitoIdpOf(context).send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: user.email }));
    log(`AdminConfirmSignUp (instead of typing the emailed code) → status ${confirmed.UserStatus}`);
    check(confirmed.UserStatus === 'CONFIRMED', `expected CONFIRMED, got ${confirmed.UserStatus}`);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // Deleted whether the checks passed or not; a failed deletion never hides the failed check.
    await deleteUser(context, userPoolId, user.email).then(
      () => log(`AdminDeleteUser ${user.email}`),
      (error: unknown) => {
        if (!failed) throw error;
      },
    );
  }
}

async function signInStep(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  await withUser(context, 'sign-in', log, async (user) => {
    const { tokens, challenges } = await signInAs(context, user, log);
    check(challenges.includes('MFA_SETUP') || challenges.includes('SOFTWARE_TOKEN_MFA'), 'MFA is required: the sign-in should have asked for it');
    const id = decodeClaims(tokens.IdToken);
    const access = decodeClaims(tokens.AccessToken);
    log(`ID token: token_use=${id.token_use}, aud=${id.aud}, email=${id.email}, email_verified=${id.email_verified}`);
    log(`access token: token_use=${access.token_use}, client_id=${access.client_id}, scope=${access.scope}`);
    log(`refresh token: ${tokens.RefreshToken.split('.').length} dot-separated parts (encrypted, opaque to the app)`);
    check(id.token_use === 'id' && id.aud === requireOutput(outputs, 'UserPoolClientId'), 'the ID token should be for this app client');
    check(access.token_use === 'access' && access.client_id === outputs.UserPoolClientId, 'unexpected access token');
    check(tokens.RefreshToken.split('.').length === 5, 'the refresh token should be a JWE (5 parts), not a readable JWT');
  });
}

async function verifyJwt(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { tokens } = await withUser(context, 'verify-jwt', log, (user) => signInAs(context, user, log));
  const userPoolId = requireOutput(outputs, 'UserPoolId');
  const clientId = requireOutput(outputs, 'UserPoolClientId');
  const { jwks, verifierOf = awsJwtVerifier } = await context.use(verification);
  const verifierFor = (tokenUse: 'id' | 'access', audience: string) => {
    const verifier = verifierOf({ userPoolId, tokenUse, clientId: audience });
    if (jwks) verifier.cacheJwks(jwks);
    return verifier;
  };
  const idVerifier = verifierFor('id', clientId);
  const accessVerifier = verifierFor('access', clientId);
  const payload = await idVerifier.verify(tokens.IdToken);
  log(`aws-jwt-verify accepted the ID token: signature (JWKS of ${userPoolId}), iss, exp, token_use=id, aud=${payload.aud}`);
  await accessVerifier.verify(tokens.AccessToken);
  log('and the access token with token_use=access and client_id');

  const refused = async (what: string, attempt: () => Promise<unknown>) => {
    const error = await attempt().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    check(error !== undefined, `${what} should have been refused`);
    log(`${what} → refused: ${error.constructor.name}: ${error.message}`);
  };
  await refused('the access token where an ID token is expected', () => idVerifier.verify(tokens.AccessToken));
  const [header, , signature] = tokens.IdToken.split('.');
  const forged = Buffer.from(JSON.stringify({ ...decodeClaims(tokens.IdToken), email: 'admin@example.com' })).toString('base64url');
  await refused('an ID token with an edited payload', () => idVerifier.verify(`${header}.${forged}.${signature}`));
  await refused('a token of another app client', () => verifierFor('id', 'another-client-id').verify(tokens.IdToken));
}

async function callApi(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const url = `${requireOutput(outputs, 'ApiUrl').replace(/\/$/, '')}/me`;
  const anonymous = await fetch(url);
  log(`GET /me without a token → ${anonymous.status} ${await anonymous.text()}`);
  check(anonymous.status === 401, `expected 401 without a token, got ${anonymous.status}`);
  await withUser(context, 'api', log, async (user) => {
    const { tokens } = await signInAs(context, user, log);
    const withToken = await fetch(url, { headers: { Authorization: `Bearer ${tokens.IdToken}` } });
    const body = (await withToken.json()) as Record<string, unknown>;
    log(`GET /me with the ID token → ${withToken.status} ${JSON.stringify(body)}`);
    check(withToken.status === 200 && body.email === user.email, 'the JWT authorizer should pass the user\'s claims on');
  });
}

/** GetId + GetCredentialsForIdentity: the enhanced (simplified) flow. Logins omitted = a guest identity. */
async function credentialsFor(context: ExerciseContext, idToken?: string): Promise<{ identityId: string; credentials: Credentials }> {
  const { outputs } = context;
  const logins = idToken ? { [requireOutput(outputs, 'LoginProvider')]: idToken } : undefined;
  const { IdentityId } = await cognitoIdentityOf(context).send(new GetIdCommand({ IdentityPoolId: requireOutput(outputs, 'IdentityPoolId'), Logins: logins }));
  const { Credentials: credentials } = await cognitoIdentityOf(context).send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }));
  check(Boolean(IdentityId && credentials?.AccessKeyId), 'the identity pool returned no credentials');
  return { identityId: IdentityId!, credentials: credentials! };
}

function clientsWith(context: ExerciseContext, credentials: Credentials) {
  const { outputs } = context;
  const config = {
    region: requireOutput(outputs, 'Region'),
    credentials: { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretKey!, sessionToken: credentials.SessionToken! },
  };
  return {
    sts: createClient(STSClient, 'STS', config),
    dynamodb: createClient(DynamoDBClient, 'DYNAMODB', config),
  };
}

/** Whether a DynamoDB call with these credentials was allowed; any error other than AccessDenied fails the check. */
async function allowed(what: string, call: () => Promise<unknown>, log: (line: string) => void): Promise<boolean> {
  try {
    await call();
    log(`${what} → allowed`);
    return true;
  } catch (error) {
    const name = (error as Error).name;
    check(name === 'AccessDeniedException', `${what} failed with ${name}: ${(error as Error).message}`);
    log(`${what} → AccessDeniedException`);
    return false;
  }
}

async function groupRoles(context: ExerciseContext): Promise<void> {
  const { log } = context;
  await withUser(context, 'group-roles', log, (user) => groupRolesOf(user, context, log));
}

async function groupRolesOf(user: LabUser, context: ExerciseContext, log: (line: string) => void): Promise<void> {
  const { outputs } = context;
  const userPoolId = requireOutput(outputs, 'UserPoolId');
  const table = requireOutput(outputs, 'NotesTableName');
  const note = (ownerId: string) => ({ ownerId: { S: ownerId }, noteId: { S: context.runId } });

  const asGroup = async (group: 'editors' | 'viewers', roleOutput: string) => {
    await cognitoIdpOf(context).send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: user.email, GroupName: group }));
    log(`added ${user.email} to ${group}; signing in again for a token that says so`);
    const { tokens } = await signInAs(context, user, log);
    const claims = decodeClaims(tokens.IdToken);
    log(`ID token: cognito:groups=${JSON.stringify(claims['cognito:groups'])}, cognito:preferred_role=${claims['cognito:preferred_role']}`);
    check(claims['cognito:preferred_role'] === requireOutput(outputs, roleOutput), `the token should prefer the ${group} role`);
    const { identityId, credentials } = await credentialsFor(context, tokens.IdToken);
    const clients = clientsWith(context, credentials);
    const me = await clients.sts.send(new GetCallerIdentityCommand({}));
    log(`GetId → ${identityId}; GetCredentialsForIdentity → ${me.Arn}`);
    const roleName = requireOutput(outputs, roleOutput).split('/').pop() ?? '';
    check(me.Arn?.includes(`:assumed-role/${roleName}/`) === true, `expected the ${group} role, got ${me.Arn}`);
    return { identityId, dynamodb: clients.dynamodb };
  };

  const editor = await asGroup('editors', 'EditorsRoleArn');
  check(
    await allowed('editor: PutItem on their own note (ownerId = their identity id)', () =>
      editor.dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...note(editor.identityId), text: { S: 'hello' } } })), log),
    'an editor must be able to write their own note',
  );
  check(
    !(await allowed('editor: PutItem on another identity\'s note', () =>
      editor.dynamodb.send(new PutItemCommand({ TableName: table, Item: note('us-east-1:someone-else') })), log)),
    'dynamodb:LeadingKeys should confine an editor to their own items',
  );

  await cognitoIdpOf(context).send(new AdminRemoveUserFromGroupCommand({ UserPoolId: userPoolId, Username: user.email, GroupName: 'editors' }));
  const viewer = await asGroup('viewers', 'ViewersRoleArn');
  check(viewer.identityId === editor.identityId, 'the same user should keep the same identity id');
  check(
    await allowed('viewer: GetItem on their own note', () => viewer.dynamodb.send(new GetItemCommand({ TableName: table, Key: note(viewer.identityId) })), log),
    'a viewer must be able to read their own note',
  );
  check(
    !(await allowed('viewer: PutItem on their own note', () =>
      viewer.dynamodb.send(new PutItemCommand({ TableName: table, Item: note(viewer.identityId) })), log)),
    'a viewer must not be able to write',
  );
  log('one identity, two roles: the identity pool picked the role from the token\'s cognito:preferred_role each time');
  await editor.dynamodb.send(new DeleteItemCommand({ TableName: table, Key: note(editor.identityId) })).catch(() => undefined);
}

async function guest(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { identityId, credentials } = await credentialsFor(context);
  const clients = clientsWith(context, credentials);
  const me = await clients.sts.send(new GetCallerIdentityCommand({}));
  log(`GetId without Logins → guest identity ${identityId}; credentials of ${me.Arn}`);
  const roleName = requireOutput(outputs, 'GuestRoleArn').split('/').pop() ?? '';
  check(me.Arn?.includes(`:assumed-role/${roleName}/`) === true, `expected the guest role, got ${me.Arn}`);
  check(
    !(await allowed('guest: GetItem on the notes table', () =>
      clients.dynamodb.send(
        new GetItemCommand({ TableName: requireOutput(outputs, 'NotesTableName'), Key: { ownerId: { S: identityId }, noteId: { S: 'x' } } }),
      ), log)),
    'guests must not read notes',
  );
  log('the guest role grants nothing; and even if it granted DynamoDB, the enhanced flow\'s session policy would deny it');
}

export const steps: readonly ExerciseStep[] = [
  { id: 'sign-up', title: 'self sign-up, then confirm the user as an administrator', run: signUp },
  { id: 'sign-in', title: 'sign in: TOTP MFA set up on the first sign-in; the three tokens', run: signInStep },
  { id: 'verify-jwt', title: 'verify the tokens with aws-jwt-verify; forged and misused tokens are refused', run: verifyJwt },
  { id: 'api', title: 'call the HTTP API: 401 without a token, the claims with one', run: callApi },
  { id: 'group-roles', title: 'exchange the token for AWS credentials; the group picks the role, the role limits DynamoDB', run: groupRoles },
  { id: 'guest', title: 'guest credentials: an identity without sign-in, a role without rights', run: guest },
];
