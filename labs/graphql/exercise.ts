import { CreateDeploymentCommand, GetJobCommand, AmplifyClient, StartDeploymentCommand } from '@aws-sdk/client-amplify';
import { AppSyncClient, ListApiKeysCommand } from '@aws-sdk/client-appsync';
import { AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { cognitoIdpOf, deleteUser, labPassword, LabUser, signIn } from '../support/cognito-session';
import { assumedCredentials } from '../support/credentials';
import { check, defineFixture, defineTiming, ExerciseContext, ExerciseStep, LabNotReady, requireOutput } from '../support/exercise';
import { GRAPHQL_LAB } from './constants';
import { errorTypes, GraphqlAuth, graphqlRequest, GraphqlResponse } from './graphql-client';
import { RealtimeSubscription } from './realtime';
import { zipFiles } from './zip';

export const timing = defineTiming(GRAPHQL_LAB.exerciseTiming);

const WHO_AM_I = 'query { whoAmI { authType principal groups } }';
const CREATE_NOTE = `mutation Create($input: CreateNoteInput!) {
  createNote(input: $input) { id title authorId createdAt version }
}`;
const UPDATE_NOTE = `mutation Update($id: ID!, $title: String!, $expectedVersion: Int!) {
  updateNote(id: $id, title: $title, expectedVersion: $expectedVersion) { id title version }
}`;
const READ_NOTE = `query Read($id: ID!) {
  whoAmI { authType }
  getNote(id: $id) { id title body }
}`;
const LIST_BY_AUTHOR = `query List($authorId: String!, $limit: Int, $nextToken: String) {
  listNotesByAuthor(authorId: $authorId, limit: $limit, nextToken: $nextToken) { items { id title author { id name } } nextToken }
}`;
const ON_NOTE_CREATED = `subscription OnCreated($authorId: String) {
  onNoteCreated(authorId: $authorId) { id title authorId createdAt version }
}`;

/** What util.authType() answers for each mode (AppSync resolver reference, util). */
export const AUTH_TYPE_NAMES = {
  API_KEY: 'API Key Authorization',
  AMAZON_COGNITO_USER_POOLS: 'User Pool Authorization',
  AWS_IAM: 'IAM Authorization',
  OPENID_CONNECT: 'Open ID Connect Authorization',
  AWS_LAMBDA: 'Lambda Authorization',
} as const;

interface SignedInUser {
  readonly email: string;
  /** ID token of the app client (user-pool mode), or of the issuer pool's client (OIDC mode). */
  readonly idToken: string;
}

/** The callers of the run: one per mode, and a viewer and a blocked Lambda token to be refused. */
export interface Callers {
  readonly url: string;
  readonly apiKey: Extract<GraphqlAuth, { mode: 'API_KEY' }>;
  readonly editor: GraphqlAuth;
  readonly viewer: GraphqlAuth;
  readonly oidc: GraphqlAuth;
  readonly iam: GraphqlAuth;
  readonly lambda: GraphqlAuth;
  readonly blockedLambda: GraphqlAuth;
}

async function createUser(context: ExerciseContext, userPoolId: string, email: string, group?: string): Promise<LabUser> {
  const idp = cognitoIdpOf(context);
  await idp.send(
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
  const password = labPassword();
  await idp.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: password, Permanent: true }));
  if (group) await idp.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: email, GroupName: group }));
  return { email, password };
}

const emailOf = (context: ExerciseContext, who: string) => `${who}-${context.runId}@example.com`;

/** Users of the run (an editor and a viewer in the lab pool, a reader in the OIDC issuer pool), deleted when the run ends. */
export const users = defineFixture(
  'the run\'s editor, viewer and OIDC reader',
  async (context): Promise<{ editor: SignedInUser; viewer: SignedInUser; oidcReader: SignedInUser }> => {
    const { outputs } = context;
    const userPoolId = requireOutput(outputs, 'UserPoolId');
    const clientId = requireOutput(outputs, 'UserPoolClientId');
    // Absent when the stack trusts an external OIDC provider (graphql:oidc-issuer): its tokens come from elsewhere.
    const issuerPoolId = requireOutput(outputs, 'OidcUserPoolId');
    const oidcClientId = requireOutput(outputs, 'OidcClientId');
    const editor = await createUser(context, userPoolId, emailOf(context, 'editor'), GRAPHQL_LAB.editorsGroup);
    const viewer = await createUser(context, userPoolId, emailOf(context, 'viewer'), GRAPHQL_LAB.viewersGroup);
    const reader = await createUser(context, issuerPoolId, emailOf(context, 'oidc-reader'));
    const editorTokens = await signIn(context, userPoolId, clientId, editor);
    const viewerTokens = await signIn(context, userPoolId, clientId, viewer);
    // An ID token of the issuer pool: its iss is the issuer the OIDC mode trusts, its aud the client it accepts.
    const readerTokens = await signIn(context, issuerPoolId, oidcClientId, reader);
    return {
      editor: { email: editor.email, idToken: editorTokens.tokens.IdToken },
      viewer: { email: viewer.email, idToken: viewerTokens.tokens.IdToken },
      oidcReader: { email: reader.email, idToken: readerTokens.tokens.IdToken },
    };
  },
  async (created, context) => {
    const userPoolId = requireOutput(context.outputs, 'UserPoolId');
    for (const user of [created.editor, created.viewer]) await deleteUser(context, userPoolId, user.email);
    await deleteUser(context, requireOutput(context.outputs, 'OidcUserPoolId'), created.oidcReader.email);
  },
);

/** The notes and the author item the run writes, deleted when the run ends (DeleteItem of an absent item is no error). */
export const runItems = defineFixture(
  'the run\'s notes and author item',
  (): { noteIds: Set<string>; authorIds: Set<string> } => ({ noteIds: new Set(), authorIds: new Set() }),
  async (created, context) => {
    const dynamodb = context.client(DynamoDBClient, 'DYNAMODB');
    const tables: [string, Set<string>][] = [
      [requireOutput(context.outputs, 'NotesTableName'), created.noteIds],
      [requireOutput(context.outputs, 'AuthorsTableName'), created.authorIds],
    ];
    for (const [TableName, ids] of tables) {
      for (const id of ids) await dynamodb.send(new DeleteItemCommand({ TableName, Key: { id: { S: id } } }));
    }
  },
);

/** The API key, read from AppSync (ListApiKeys): the template never shows it. */
async function apiKeyOf(context: ExerciseContext): Promise<{ id: string; expires: number }> {
  const { apiKeys } = await context.client(AppSyncClient, 'APPSYNC').send(new ListApiKeysCommand({ apiId: requireOutput(context.outputs, 'ApiId') }));
  const key = apiKeys?.find((k) => (k.expires ?? 0) * 1000 > Date.now());
  if (!key?.id) {
    const expired = apiKeys?.[0]?.id;
    throw new LabNotReady(
      expired
        ? `the API key ${expired} has expired; AppSync keeps it ${GRAPHQL_LAB.expiredApiKeyKeptDays} days, during which this extends it a week: ` +
            `aws appsync update-api-key --api-id <ApiId> --id ${expired} --expires $(( $(date +%s) + 7*86400 ))`
        : `the API has no API key left (AppSync deletes a key ${GRAPHQL_LAB.expiredApiKeyKeptDays} days after it expired): ` +
            'npx cdk destroy GraphqlLab, then npx cdk deploy GraphqlLab, creates a new one (redeploying an unchanged stack does not)',
    );
  }
  return { id: key.id, expires: key.expires ?? 0 };
}

export const callers = defineFixture('a caller for each authorization mode', async (context): Promise<Callers> => {
  const { outputs } = context;
  const region = requireOutput(outputs, 'Region');
  const { editor, viewer, oidcReader } = await context.use(users);
  const key = await apiKeyOf(context);
  const credentials = await assumedCredentials(context, requireOutput(outputs, 'ApiCallerRoleArn'), `graphql-${context.runId}`);
  return {
    url: requireOutput(outputs, 'GraphqlUrl'),
    apiKey: { mode: 'API_KEY', apiKey: key.id },
    editor: { mode: 'AMAZON_COGNITO_USER_POOLS', token: editor.idToken },
    viewer: { mode: 'AMAZON_COGNITO_USER_POOLS', token: viewer.idToken },
    oidc: { mode: 'OPENID_CONNECT', token: oidcReader.idToken },
    iam: { mode: 'AWS_IAM', credentials, region },
    lambda: { mode: 'AWS_LAMBDA', token: `lab-reader-${context.runId}` },
    blockedLambda: { mode: 'AWS_LAMBDA', token: `lab-blocked-${context.runId}` },
  };
});

const describe = (response: GraphqlResponse<unknown>) =>
  response.errors?.length ? `HTTP ${response.status}, errors ${errorTypes(response).join(', ')}` : `HTTP ${response.status}`;

/** A check that no authorization mode accepted the request: HTTP 401, no field resolved. */
export function checkUnauthenticated(response: GraphqlResponse<unknown>, what: string): void {
  check(response.status === 401, `${what} should have been refused with HTTP 401, got ${describe(response)} with data ${JSON.stringify(response.data)}`);
}

/** A check that a field was refused: HTTP 401, or an Unauthorized GraphQL error on the field. */
export function checkRefused(response: GraphqlResponse<unknown>, what: string): void {
  const refused = response.status === 401 || errorTypes(response).some((type) => /Unauthorized/i.test(type));
  check(refused, `${what} should have been refused, got ${describe(response)} with data ${JSON.stringify(response.data)}`);
}

/** A check that `response` succeeded: HTTP 200, no errors, data present. */
export function checkAllowed<T>(response: GraphqlResponse<T>, what: string): T {
  check(response.status === 200 && !response.errors?.length && response.data != null, `${what} failed: ${describe(response)}`);
  return response.data as T;
}

async function authModes(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const c = await context.use(callers);
  const modes: [string, GraphqlAuth, string][] = [
    ['API key', c.apiKey, AUTH_TYPE_NAMES.API_KEY],
    ['user pool (editor)', c.editor, AUTH_TYPE_NAMES.AMAZON_COGNITO_USER_POOLS],
    ['OIDC (token of the issuer pool)', c.oidc, AUTH_TYPE_NAMES.OPENID_CONNECT],
    ['IAM (assumed ApiCallerRole)', c.iam, AUTH_TYPE_NAMES.AWS_IAM],
    ['Lambda authorizer', c.lambda, AUTH_TYPE_NAMES.AWS_LAMBDA],
  ];
  for (const [name, auth, expected] of modes) {
    const data = checkAllowed(await graphqlRequest<{ whoAmI: { authType: string; principal: string | null } }>(c.url, auth, WHO_AM_I), `whoAmI as ${name}`);
    check(data.whoAmI.authType === expected, `whoAmI as ${name}: AppSync used "${data.whoAmI.authType}", expected "${expected}"`);
    log(`whoAmI as ${name}: ${data.whoAmI.authType}, principal ${data.whoAmI.principal ?? '(none)'}`);
  }
  checkUnauthenticated(await graphqlRequest(c.url, c.blockedLambda, WHO_AM_I), 'whoAmI with a token the Lambda authorizer refuses');
  log('a lab-blocked-… token: the authorizer answered isAuthorized=false, so AppSync refused the request');

  const { noteIds } = await context.use(runItems);
  const input = (who: string) => {
    // Recorded in case a misbehaving lab lets the write through, so the run still cleans up after itself.
    noteIds.add(`${context.runId}-${who}`);
    return { input: { id: `${context.runId}-${who}`, title: `by ${who}` } };
  };
  checkRefused(await graphqlRequest(c.url, c.apiKey, CREATE_NOTE, input('api-key')), 'createNote with the API key (no @aws_api_key on it)');
  checkRefused(await graphqlRequest(c.url, c.viewer, CREATE_NOTE, input('viewer')), 'createNote as a viewer (cognito_groups: ["editors"])');
  checkRefused(await graphqlRequest(c.url, c.lambda, CREATE_NOTE, input('lambda')), 'createNote with a Lambda token (no @aws_lambda on it)');
  log('createNote refused to the API key and the Lambda caller (directives) and to a viewer (cognito_groups)');
}

async function notesAndErrors(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const c = await context.use(callers);
  const { listAttempts, listPollMs } = await context.use(timing);
  const created = await context.use(runItems);
  const me = checkAllowed(await graphqlRequest<{ whoAmI: { principal: string } }>(c.url, c.editor, WHO_AM_I), 'whoAmI as the editor');
  const authorId = me.whoAmI.principal;
  created.authorIds.add(authorId);
  await context.client(DynamoDBClient, 'DYNAMODB').send(
    new PutItemCommand({ TableName: requireOutput(outputs, 'AuthorsTableName'), Item: { id: { S: authorId }, name: { S: `Editor of ${context.runId}` } } }),
  );

  const ids = [1, 2, 3].map((n) => `${context.runId}-note-${n}`);
  for (const id of ids) {
    created.noteIds.add(id);
    const note = checkAllowed(
      await graphqlRequest<{ createNote: { id: string; authorId: string; version: number } }>(c.url, c.editor, CREATE_NOTE, {
        input: { id, title: `note ${id}`, body: `body of ${id}` },
      }),
      `createNote ${id}`,
    );
    check(note.createNote.authorId === authorId && note.createNote.version === 1, `createNote ${id} returned ${JSON.stringify(note.createNote)}`);
  }
  log(`created ${ids.length} notes through the pipeline (requireWriter → putNote)`);

  const duplicate = await graphqlRequest(c.url, c.editor, CREATE_NOTE, { input: { id: ids[0], title: 'again' } });
  check(
    errorTypes(duplicate).includes('DynamoDB:ConditionalCheckFailedException') && duplicate.data?.createNote == null,
    `createNote with an existing id should fail its condition, got ${describe(duplicate)}`,
  );
  log(`createNote with an existing id: ${duplicate.errors?.[0].message} (${errorTypes(duplicate)[0]})`);

  const updated = checkAllowed(
    await graphqlRequest<{ updateNote: { version: number } }>(c.url, c.editor, UPDATE_NOTE, { id: ids[0], title: 'renamed', expectedVersion: 1 }),
    'updateNote at version 1',
  );
  check(updated.updateNote.version === 2, `updateNote should bump the version to 2, got ${updated.updateNote.version}`);
  const stale = await graphqlRequest(c.url, c.editor, UPDATE_NOTE, { id: ids[0], title: 'stale', expectedVersion: 1 });
  check(errorTypes(stale).includes('ConflictError'), `updateNote with a stale version should raise ConflictError, got ${describe(stale)}`);
  log('updateNote (VTL): version 1 → 2; a second update expecting version 1 got ConflictError');

  const read = await graphqlRequest<{ whoAmI: { authType: string } | null; getNote: { title: string; body: string | null } | null }>(
    c.url,
    c.lambda,
    READ_NOTE,
    { id: ids[1] },
  );
  const bodyRefused = (read.errors ?? []).some((error) => error.errorType === 'Unauthorized' && error.path?.join('.') === 'getNote.body');
  check(
    read.data?.whoAmI?.authType === AUTH_TYPE_NAMES.AWS_LAMBDA && read.data.getNote?.title === `note ${ids[1]}` && read.data.getNote.body === null && bodyRefused,
    `getNote with the Lambda token should return the title and a null body refused as Unauthorized (deniedFields: Note.body), ` +
      `got ${describe(read)} with data ${JSON.stringify(read.data)}`,
  );
  log('getNote with the Lambda token: whoAmI and the title resolve, body is null with Unauthorized (the authorizer\'s deniedFields)');

  // The byAuthor index is updated asynchronously (GSIs are eventually consistent): list until it holds the new notes.
  const expectedAuthor = `Editor of ${context.runId}`;
  const holdsEveryNote = (items: ListedNote[]) => ids.every((id) => items.some((item) => item.id === id && item.author?.name === expectedAuthor));
  let listing = await listByAuthor(c, authorId);
  for (let attempt = 1; attempt < listAttempts && !holdsEveryNote(listing.items); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, listPollMs));
    listing = await listByAuthor(c, authorId);
  }
  const seen = listing.items.map((item) => item.id);
  check(ids.every((id) => seen.includes(id)) && listing.pages >= 2, `listNotesByAuthor with limit 2 returned ${seen.length} notes in ${listing.pages} pages`);
  for (const item of listing.items) {
    check(item.author?.name === expectedAuthor, `Note.author (batched Lambda) of ${item.id} is ${JSON.stringify(item.author)}`);
  }
  log(`listNotesByAuthor, 2 per page: ${seen.length} notes in ${listing.pages} pages, each with its author from one batched Lambda call per page`);
}

interface ListedNote {
  readonly id: string;
  readonly author: { name: string } | null;
}

/** Every note of `authorId`, 2 per page (at most 5 pages), with the number of pages it took. */
async function listByAuthor(c: Callers, authorId: string): Promise<{ items: ListedNote[]; pages: number }> {
  const items: ListedNote[] = [];
  let nextToken: string | null = null;
  let pages = 0;
  do {
    const page: { listNotesByAuthor: { items: ListedNote[]; nextToken: string | null } } = checkAllowed(
      await graphqlRequest(c.url, c.apiKey, LIST_BY_AUTHOR, { authorId, limit: 2, nextToken }),
      'listNotesByAuthor',
    );
    pages += 1;
    items.push(...page.listNotesByAuthor.items);
    nextToken = page.listNotesByAuthor.nextToken;
  } while (nextToken && pages < 5);
  return { items, pages };
}

async function subscription(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const c = await context.use(callers);
  const { subscriptionEventSeconds, subscriptionAckSeconds } = await context.use(timing);
  const me = checkAllowed(await graphqlRequest<{ whoAmI: { principal: string } }>(c.url, c.editor, WHO_AM_I), 'whoAmI as the editor');
  const { noteIds } = await context.use(runItems);
  const subscriber = await RealtimeSubscription.open({
    graphqlUrl: c.url,
    authorization: { 'x-api-key': c.apiKey.apiKey },
    query: ON_NOTE_CREATED,
    variables: { authorId: me.whoAmI.principal },
    ackTimeoutMs: subscriptionAckSeconds * 1000,
  });
  try {
    log(`subscribed over WebSocket (connection_ack: keep-alive window ${subscriber.connectionTimeoutMs} ms, start_ack received)`);
    const draft = `${context.runId}-draft`;
    const published = `${context.runId}-live`;
    noteIds.add(draft).add(published);
    checkAllowed(await graphqlRequest(c.url, c.editor, CREATE_NOTE, { input: { id: draft, title: '[draft] not for subscribers' } }), 'createNote (draft)');
    checkAllowed(await graphqlRequest(c.url, c.editor, CREATE_NOTE, { input: { id: published, title: 'for subscribers' } }), 'createNote');
    const event = (await subscriber.next(subscriptionEventSeconds * 1000)) as { onNoteCreated?: { id: string } };
    check(event.onNoteCreated?.id === published, `the first event should be ${published} (the draft filtered out), got ${JSON.stringify(event)}`);
    log(`received ${published}; the [draft] note created before it was filtered out by the subscription filter`);
  } finally {
    await subscriber.close();
  }
}

async function httpDataSource(context: ExerciseContext): Promise<void> {
  const c = await context.use(callers);
  const data = checkAllowed(await graphqlRequest<{ egressIp: string }>(c.url, c.iam, 'query { egressIp }'), 'egressIp as the IAM caller');
  check(/^\d{1,3}(\.\d{1,3}){3}$/.test(data.egressIp), `egressIp should be an IPv4 address, got ${JSON.stringify(data.egressIp)}`);
  context.log(`egressIp (HTTP data source → checkip.amazonaws.com): AppSync called out from ${data.egressIp}`);
  checkRefused(await graphqlRequest(c.url, c.apiKey, 'query { egressIp }'), 'egressIp with the API key (@aws_iam only)');
  context.log('egressIp with the API key: refused (the field allows @aws_iam only)');
}

/** The front end's files: a page that calls whoAmI with the API key, and its configuration. */
export function frontEndFiles(graphqlUrl: string, apiKey: string, runId: string): Record<string, string> {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphQL lab</title></head>
<body data-run="${runId}">
<h1>GraphQL lab</h1><pre id="out">calling the API…</pre>
<script>
fetch('config.json').then((r) => r.json()).then((config) =>
  fetch(config.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': config.apiKey },
    body: JSON.stringify({ query: '{ whoAmI { authType } }' }),
  })).then((r) => r.json()).then((body) => { document.getElementById('out').textContent = JSON.stringify(body, null, 2); });
</script>
</body></html>
`;
  return { 'index.html': page, 'config.json': JSON.stringify({ graphqlUrl, apiKey }) };
}

async function amplifyHosting(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const appId = requireOutput(outputs, 'AmplifyAppId');
  const branchName = requireOutput(outputs, 'AmplifyBranchName');
  const frontEndUrl = requireOutput(outputs, 'FrontEndUrl');
  const { deploymentSeconds, deploymentPollMs } = await context.use(timing);
  const key = await apiKeyOf(context);
  const amplify = context.client(AmplifyClient, 'AMPLIFY');
  const zip = zipFiles(frontEndFiles(requireOutput(outputs, 'GraphqlUrl'), key.id, context.runId));
  const deployment = await amplify.send(new CreateDeploymentCommand({ appId, branchName }));
  check(deployment.jobId !== undefined && deployment.zipUploadUrl !== undefined, 'CreateDeployment returned no job id or upload URL');
  const upload = await fetch(deployment.zipUploadUrl, { method: 'PUT', body: zip, headers: { 'content-type': 'application/zip' } });
  check(upload.ok, `uploading the zip failed: HTTP ${upload.status}`);
  await amplify.send(new StartDeploymentCommand({ appId, branchName, jobId: deployment.jobId }));
  log(`deployment job ${deployment.jobId}: ${zip.length}-byte zip uploaded, deployment started`);
  const deadline = Date.now() + deploymentSeconds * 1000;
  let status = 'PENDING';
  while (!['SUCCEED', 'FAILED', 'CANCELLED'].includes(status) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, deploymentPollMs));
    const { job } = await amplify.send(new GetJobCommand({ appId, branchName, jobId: deployment.jobId }));
    status = job?.summary?.status ?? 'UNKNOWN';
  }
  check(status === 'SUCCEED', `the deployment job ended ${status} (or did not end within ${deploymentSeconds} s)`);
  const page = await fetch(`${frontEndUrl}/`);
  const html = await page.text();
  check(page.ok && html.includes(`data-run="${context.runId}"`), `${frontEndUrl} does not serve this run's page (HTTP ${page.status})`);
  log(`${frontEndUrl} serves the page of this run; open it in a browser to see it call whoAmI with the API key`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'auth-modes', title: 'Call whoAmI with each of the five authorization modes; see who may create notes', run: authModes },
  { id: 'notes', title: 'Create notes through the pipeline, hit a conditional write, update with optimistic locking, page through them', run: notesAndErrors },
  { id: 'subscription', title: 'Subscribe over the real-time WebSocket, trigger it with a mutation, see the filter work', run: subscription },
  { id: 'http', title: 'Resolve a field through the HTTP data source as the IAM caller', run: httpDataSource },
  { id: 'amplify', title: 'Deploy the front end to Amplify Hosting from a zip and load it', run: amplifyHosting },
];
