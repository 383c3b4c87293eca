import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AmplifyClient, CreateDeploymentCommand, GetJobCommand, StartDeploymentCommand } from '@aws-sdk/client-amplify';
import { AppSyncClient, ListApiKeysCommand } from '@aws-sdk/client-appsync';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { AppSyncResolverEvent } from 'aws-lambda';
import { handler as authorizeLambda } from '../../../lambda/graphql-authorizer';
import { handler as resolveAuthors, NoteSource } from '../../../lambda/graphql-authors';
import { GRAPHQL_LAB } from '../../../labs/graphql/constants';
import { steps, timing, users } from '../../../labs/graphql/exercise';
import { graphqlLab } from '../../../labs/graphql/lab';
import { ExerciseCheckFailed, LabNotReady, provide, runExercise } from '../../../labs/support/exercise';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';
import { labTemplate } from '../../support/lab-template';
import {
  APPSYNC_PRELUDE,
  DataSource,
  dynamoDbDataSource,
  Evaluation,
  evaluatePipeline,
  evaluateResolver,
  FieldError,
  noneDataSource,
} from './appsync-js';
import { Caller, FieldResolver, LocalAppSync, startLocalAppSync } from './local-appsync';
import { renderVtl } from './vtl';

jest.setTimeout(60_000);

const LAB_DIR = path.join(__dirname, '..', '..', '..', 'labs', 'graphql');
const resolver = (file: string) => path.join(LAB_DIR, 'resolvers', file);
/** A pipeline function that lets every caller write, as an API without the requireWriter check would. */
const allowEveryWriter = path.join(mkdtempSync(path.join(tmpdir(), 'graphql-exercise-')), 'allow-every-writer.js');
writeFileSync(allowEveryWriter, "export function request() { return { payload: { authorId: 'anyone' } }; }\nexport function response(ctx) { return ctx.result; }\n");
const template = labTemplate(graphqlLab);

/** Tokens signed by a local key standing in for the user pool: `aud` is the client they were issued to. */
const SIGNING_KEY = 'local-pool-key';
const APP_CLIENT = 'app-client';
const OIDC_CLIENT = 'oidc-client';
const jwt = (claims: Record<string, unknown>) => {
  const unsigned = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${unsigned}.${createHmac('sha256', SIGNING_KEY).update(unsigned).digest('base64url')}`;
};
const claimsOf = (token: string) => {
  const [header, body, signature] = token.split('.');
  if (!signature || createHmac('sha256', SIGNING_KEY).update(`${header}.${body}`).digest('base64url') !== signature) return undefined;
  return JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
};
const idToken = (username: string, aud: string, groups: string[]) =>
  jwt({ sub: username, aud, iss: 'https://cognito-idp.us-east-1.amazonaws.com/local', 'cognito:username': username, 'cognito:groups': groups });

const API_KEY = 'da2-local';
const ASSUMED = { AccessKeyId: 'ASIALOCAL', SecretAccessKey: 'secret', SessionToken: 'session-token', Expiration: new Date(Date.now() + 900_000) };
const CALLER_ROLE_SESSION = 'arn:aws:sts::123456789012:assumed-role/ApiCallerRole/graphql-run';
/** What AppSync puts in an IAM identity's username: the role's principal id and the session name, not an ARN. */
const CALLER_PRINCIPAL_ID = 'AROAEXAMPLEROLEID:graphql-run';

let ddb: LocalDynamoDb;
let notes: DataSource;
let tableNames: Record<string, string>;
let hosting: { server: Server; url: string; zips: Buffer[] };
const mocks = { sts: mockClient(STSClient), appsync: mockClient(AppSyncClient), amplify: mockClient(AmplifyClient) };

/** What a field error becomes: thrown, so the stand-in reports it as AppSync does. */
const valueOf = ({ result, errors }: Evaluation) => {
  if (errors.length > 0) throw new FieldError(errors[0].message, errors[0].errorType);
  return result;
};

/** Note.author through the real handler, batched as BatchInvoke: the fields of one tick in one invocation. */
function batchedAuthors(batchSizes: number[]): FieldResolver {
  let queue: { event: AppSyncResolverEvent<Record<string, never>, NoteSource>; resolve: (value: unknown) => void }[] = [];
  return (args, source, caller) =>
    new Promise((resolve) => {
      queue.push({ event: { arguments: args, source, identity: caller.identity } as unknown as AppSyncResolverEvent<Record<string, never>, NoteSource>, resolve });
      if (queue.length > 1) return;
      setImmediate(() => {
        const batch = queue;
        queue = [];
        batchSizes.push(batch.length);
        void resolveAuthors(batch.map((b) => b.event)).then((authors) => batch.forEach((b, n) => b.resolve(authors[n])));
      });
    });
}

interface StandInOptions {
  /** Viewers may write: the createNote pipeline without its authorization check, and cognito_groups ignored. */
  readonly viewersMayWrite?: boolean;
  /** An authorizer that lets every token through. */
  readonly authorizeEveryone?: boolean;
  /** Subscription filters that let every note through. */
  readonly withoutSubscriptionFilter?: boolean;
  /** A notes table that ignores conditions (every write succeeds) or page sizes (one page holds everything). */
  readonly dropConditions?: boolean;
  readonly ignoreLimit?: boolean;
  /** What the HTTP endpoint answers. */
  readonly checkIpBody?: string;
  /** The HTTP endpoint's status code. @default 200 */
  readonly checkIpStatus?: number;
  /** @aws_api_key added to this field (createNote: and every caller passes the pipeline's writer check). */
  readonly apiKeyOn?: 'createNote' | 'egressIp';
  /** The OIDC client's tokens taken for user-pool tokens. */
  readonly oidcTokensAsUserPool?: boolean;
  /** A refused Lambda token answered with HTTP 200 and an Unauthorized error instead of 401. */
  readonly lambdaRefusalAsFieldError?: boolean;
  /** An authorizer whose answers carry no deniedFields. */
  readonly authorizerWithoutDeniedFields?: boolean;
  /** A notes table whose UpdateItem ignores its condition (PutItem keeps its own). */
  readonly dropUpdateCondition?: boolean;
  /** An authors resolver that answers null for every note. */
  readonly authorsAnswerNull?: boolean;
  /** How many Query calls on the index answer nothing, as a GSI not yet updated does. @default 0 */
  readonly indexLagListings?: number;
}

/** The lab's schema with AppSync's prelude, and @aws_api_key added to `field` when asked. */
function standInSchema(apiKeyOn: StandInOptions['apiKeyOn']): string {
  const schema = APPSYNC_PRELUDE + readFileSync(path.join(LAB_DIR, 'schema.graphql'), 'utf8');
  if (!apiKeyOn) return schema;
  const field = new RegExp(`^(\\s*${apiKeyOn}\\b.*)$`, 'm');
  expect(schema).toMatch(field);
  return schema.replace(field, '$1 @aws_api_key');
}

async function startStandIn(options: StandInOptions = {}): Promise<{ appsync: LocalAppSync; authorBatches: number[] }> {
  const authorBatches: number[] = [];
  const evaluation = (args: Record<string, unknown>, caller: Caller) => ({ args, caller });
  const checkIp: DataSource = async () => ({ result: { statusCode: options.checkIpStatus ?? 200, body: options.checkIpBody ?? '198.51.100.4\n' } });
  let lagging = options.indexLagListings ?? 0;
  const table: DataSource = async (request) => {
    if (request.operation === 'Query' && lagging > 0) {
      lagging -= 1;
      return { result: { items: [], nextToken: null } };
    }
    const dropCondition = options.dropConditions || (options.dropUpdateCondition && request.operation === 'UpdateItem');
    return notes({ ...request, ...(dropCondition ? { condition: undefined } : {}), ...(options.ignoreLimit ? { limit: undefined } : {}) });
  };
  const writerCheck = options.viewersMayWrite
    ? []
    : [{ file: options.apiKeyOn === 'createNote' ? allowEveryWriter : resolver('require-writer.js'), dataSource: noneDataSource }];
  const authorize = async (token: string) => {
    if (options.authorizeEveryone) return { isAuthorized: true, resolverContext: { caller: token } };
    const answer = await authorizeLambda({ authorizationToken: token } as Parameters<typeof authorizeLambda>[0]);
    return options.authorizerWithoutDeniedFields ? { ...answer, deniedFields: undefined } : answer;
  };
  const appsync = await startLocalAppSync({
    schema: standInSchema(options.apiKeyOn),
    defaultMode: 'AMAZON_COGNITO_USER_POOLS',
    ignoreCognitoGroups: options.viewersMayWrite,
    oidcTokensAsUserPool: options.oidcTokensAsUserPool,
    lambdaRefusalAsFieldError: options.lambdaRefusalAsFieldError,
    apiKey: API_KEY,
    claimsOf,
    userPoolClientId: APP_CLIENT,
    oidcClientId: OIDC_CLIENT,
    lambda: { validationRegex: GRAPHQL_LAB.lambdaTokenPattern, authorize },
    iam: {
      accessKeyId: ASSUMED.AccessKeyId,
      sessionToken: ASSUMED.SessionToken,
      accountId: '123456789012',
      username: CALLER_PRINCIPAL_ID,
      userArn: CALLER_ROLE_SESSION,
      allowedFields: ['Query.whoAmI', 'Query.getNote', 'Query.listNotesByAuthor', 'Query.egressIp', 'Mutation.createNote'],
    },
    resolvers: {
      'Query.whoAmI': async (args, _s, caller) => valueOf(await evaluateResolver(resolver('who-am-i.js'), noneDataSource, evaluation(args, caller))),
      'Query.getNote': async (args, _s, caller) => valueOf(await evaluateResolver(resolver('get-note.js'), table, evaluation(args, caller))),
      'Query.listNotesByAuthor': async (args, _s, caller) =>
        valueOf(await evaluateResolver(resolver('list-notes-by-author.js'), table, evaluation(args, caller))),
      'Query.egressIp': async (args, _s, caller) => valueOf(await evaluateResolver(resolver('egress-ip.js'), checkIp, evaluation(args, caller))),
      'Mutation.createNote': async (args, _s, caller) =>
        valueOf(await evaluatePipeline(resolver('create-note.js'), [...writerCheck, { file: resolver('put-note.js'), dataSource: table }], evaluation(args, caller))),
      'Mutation.updateNote': async (args) => {
        const ctx = { args, arguments: args };
        const answer = await table(JSON.parse(renderVtl(readFileSync(path.join(LAB_DIR, 'vtl', 'update-note.request.vtl'), 'utf8'), ctx)));
        const response = readFileSync(path.join(LAB_DIR, 'vtl', 'update-note.response.vtl'), 'utf8');
        return JSON.parse(renderVtl(response, { ...ctx, result: answer.result ?? null, error: answer.error }).trim());
      },
      'Note.author': options.authorsAnswerNull ? async () => null : batchedAuthors(authorBatches),
    },
    subscriptionFilter: async (args, caller) =>
      options.withoutSubscriptionFilter
        ? { filterGroup: [{ filters: [] }] }
        : (await evaluateResolver(resolver('on-note-created.js'), noneDataSource, evaluation(args, caller))).subscriptionFilter,
  });
  return { appsync, authorBatches };
}

/** A stand-in for the Amplify branch's hosting: takes the uploaded zip, serves its index.html. */
async function startHosting(): Promise<{ server: Server; url: string; zips: Buffer[] }> {
  const zips: Buffer[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'PUT') {
        // An upload to /lost is accepted and dropped: the branch keeps serving what it served before.
        if (request.url !== '/lost') zips.push(Buffer.concat(chunks));
        response.end();
        return;
      }
      const zip = zips.at(-1);
      const page = zip ? storedEntry(zip, 'index.html') : undefined;
      response.writeHead(page ? 200 : 404);
      response.end(page ?? 'not deployed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, zips };
}

/** A stored entry of a zip, read from its local headers (what the exercise's zip writer produces). */
function storedEntry(zip: Buffer, name: string): string | undefined {
  for (let offset = 0; zip.readUInt32LE(offset) === 0x04034b50; ) {
    const size = zip.readUInt32LE(offset + 18);
    const nameLength = zip.readUInt16LE(offset + 26);
    const start = offset + 30 + nameLength + zip.readUInt16LE(offset + 28);
    if (zip.toString('utf8', offset + 30, offset + 30 + nameLength) === name) return zip.toString('utf8', start, start + size);
    offset = start + size;
  }
  return undefined;
}

const editorName = 'editor-sub';
const runUsers = {
  editor: { email: 'editor@example.com', idToken: idToken(editorName, APP_CLIENT, ['editors']) },
  viewer: { email: 'viewer@example.com', idToken: idToken('viewer-sub', APP_CLIENT, ['viewers']) },
  oidcReader: { email: 'reader@example.com', idToken: idToken('oidc-reader-sub', OIDC_CLIENT, []) },
};

beforeAll(async () => {
  ddb = await startLocalDynamoDb();
  const deployed = await deployTablesLocally(template, ddb.client);
  tableNames = deployed.outputs;
  notes = dynamoDbDataSource(ddb.client, deployed.outputs.NotesTableName);
  process.env.AUTHORS_TABLE_NAME = deployed.outputs.AuthorsTableName;
  hosting = await startHosting();
  mocks.sts.on(AssumeRoleCommand).resolves({ Credentials: ASSUMED });
  mocks.appsync.on(ListApiKeysCommand).resolves({ apiKeys: [{ id: API_KEY, expires: Math.floor(Date.now() / 1000) + 7 * 86400 }] });
  mocks.amplify.on(CreateDeploymentCommand).resolves({ jobId: '1', zipUploadUrl: `${hosting.url}/upload` });
  mocks.amplify.on(StartDeploymentCommand).resolves({});
  mocks.amplify.on(GetJobCommand).resolves({ job: { summary: { status: 'SUCCEED' } } as never });
});
afterAll(async () => {
  for (const mock of Object.values(mocks)) mock.restore();
  await new Promise((resolve) => hosting?.server.close(resolve));
  await ddb?.stop();
});

let runNumber = 0;
async function run(appsync: LocalAppSync, only?: string, timingChanges: { deploymentSeconds?: number } = {}): Promise<string[]> {
  const lines: string[] = [];
  runNumber += 1;
  await runExercise(
    steps,
    {
      log: (line) => lines.push(line),
      runId: `run-${runNumber}`,
      outputs: {
        Region: 'us-east-1',
        ApiId: 'local-api',
        GraphqlUrl: appsync.url,
        UserPoolId: 'us-east-1_local',
        UserPoolClientId: APP_CLIENT,
        OidcUserPoolId: 'us-east-1_issuer',
        OidcClientId: OIDC_CLIENT,
        ApiCallerRoleArn: 'arn:aws:iam::123456789012:role/ApiCallerRole',
        NotesTableName: tableNames.NotesTableName,
        AuthorsTableName: tableNames.AuthorsTableName,
        AmplifyAppId: 'app',
        AmplifyBranchName: GRAPHQL_LAB.branchName,
        FrontEndUrl: hosting.url,
      },
      provide: [
        provide(users, runUsers),
        provide(timing, {
          ...GRAPHQL_LAB.exerciseTiming,
          subscriptionEventSeconds: 5,
          subscriptionAckSeconds: 5,
          deploymentSeconds: 5,
          deploymentPollMs: 10,
          listPollMs: 1,
          ...timingChanges,
        }),
      ],
    },
    only,
  );
  return lines;
}

// What the steps print against the stand-in, line by line (each title first; the stand-in's port and so the size of
// the zip vary): the lab's lesson is in these lines.
const PRINTED = [
  '\n== 1/5 auth-modes: Call whoAmI with each of the five authorization modes; see who may create notes',
  'whoAmI as API key: API Key Authorization, principal (none)',
  'whoAmI as user pool (editor): User Pool Authorization, principal editor-sub',
  'whoAmI as OIDC (token of the issuer pool): Open ID Connect Authorization, principal oidc-reader-sub',
  'whoAmI as IAM (assumed ApiCallerRole): IAM Authorization, principal arn:aws:sts::123456789012:assumed-role/ApiCallerRole/graphql-run',
  'whoAmI as Lambda authorizer: Lambda Authorization, principal reader-run-1',
  'a lab-blocked-… token: the authorizer answered isAuthorized=false, so AppSync refused the request',
  'createNote refused to the API key and the Lambda caller (directives) and to a viewer (cognito_groups)',
  '\n== 2/5 notes: Create notes through the pipeline, hit a conditional write, update with optimistic locking, page through them',
  'created 3 notes through the pipeline (requireWriter → putNote)',
  'createNote with an existing id: note run-1-note-1 already exists (DynamoDB:ConditionalCheckFailedException)',
  'updateNote (VTL): version 1 → 2; a second update expecting version 1 got ConflictError',
  'getNote with the Lambda token: whoAmI and the title resolve, body is null with Unauthorized (the authorizer\'s deniedFields)',
  'listNotesByAuthor, 2 per page: 3 notes in 2 pages, each with its author from one batched Lambda call per page',
  '\n== 3/5 subscription: Subscribe over the real-time WebSocket, trigger it with a mutation, see the filter work',
  'subscribed over WebSocket (connection_ack: keep-alive window 300000 ms, start_ack received)',
  'received run-1-live; the [draft] note created before it was filtered out by the subscription filter',
  '\n== 4/5 http: Resolve a field through the HTTP data source as the IAM caller',
  'egressIp (HTTP data source → checkip.amazonaws.com): AppSync called out from 198.51.100.4',
  'egressIp with the API key: refused (the field allows @aws_iam only)',
  '\n== 5/5 amplify: Deploy the front end to Amplify Hosting from a zip and load it',
  'deployment job 1: N-byte zip uploaded, deployment started',
  'http://127.0.0.1:PORT serves the page of this run; open it in a browser to see it call whoAmI with the API key',
];

test('every step passes against the lab\'s resolvers, authorizer and batch handler behind a local AppSync', async () => {
  const { appsync, authorBatches } = await startStandIn();
  try {
    const lines = await run(appsync);
    expect(lines.map((line) => line.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT').replace(/\d+-byte zip/, 'N-byte zip'))).toEqual(PRINTED);
    for (const mode of ['API_KEY', 'AMAZON_COGNITO_USER_POOLS', 'OPENID_CONNECT', 'AWS_IAM', 'AWS_LAMBDA']) {
      expect(appsync.calls).toContain(`Query.whoAmI ${mode}`);
    }
    const printed = lines.join('\n');
    expect(printed).toContain('whoAmI as OIDC (token of the issuer pool): Open ID Connect Authorization, principal oidc-reader-sub');
    // The role session's ARN, not the principal id AppSync also puts in the IAM identity's username.
    expect(printed).toContain(`whoAmI as IAM (assumed ApiCallerRole): IAM Authorization, principal ${CALLER_ROLE_SESSION}`);
    expect(printed).toContain('body is null with Unauthorized');
    // listNotesByAuthor pages of 2 and 1: one Lambda invocation per page, not one per note.
    expect(authorBatches).toEqual([2, 1]);
    expect(storedEntry(hosting.zips.at(-1)!, 'config.json')).toBe(JSON.stringify({ graphqlUrl: appsync.url, apiKey: API_KEY }));
    expect(lines.join('\n')).toContain('the [draft] note created before it was filtered out');
    // The run deleted what it wrote: its notes (created, refused by a weakened API, draft and live) and its author.
    const left = async (table: string) => (await ddb.client.send(new ScanCommand({ TableName: table }))).Items ?? [];
    expect((await left(tableNames.NotesTableName)).filter((item) => item.id.S?.startsWith('run-'))).toEqual([]);
    expect(await left(tableNames.AuthorsTableName)).toEqual([]);
  } finally {
    await appsync.close();
  }
});

test('the notes step waits for the byAuthor index, which is eventually consistent', async () => {
  const { appsync } = await startStandIn({ indexLagListings: 3 });
  try {
    const lines = await run(appsync, 'notes');
    expect(lines.join('\n')).toMatch(/listNotesByAuthor, 2 per page: 3 notes in 2 pages/);
  } finally {
    await appsync.close();
  }
});

describe('each check fails when the lab misbehaves', () => {
  test.each([
    ['auth-modes', { viewersMayWrite: true }, /^createNote as a viewer \(cognito_groups: \["editors"\]\) should have been refused, got HTTP 200, errors Cannot return null for non-nullable field Note\.authorId\. with data \{"createNote":null\}$/],
    ['auth-modes', { authorizeEveryone: true }, /^whoAmI with a token the Lambda authorizer refuses should have been refused with HTTP 401, got HTTP 200 with data \{"whoAmI":\{"authType":"Lambda Authorization","principal":"lab-blocked-run-\d+","groups":null\}\}$/],
    ['auth-modes', { lambdaRefusalAsFieldError: true }, /^whoAmI with a token the Lambda authorizer refuses should have been refused with HTTP 401, got HTTP 200, errors Unauthorized with data null$/],
    ['auth-modes', { oidcTokensAsUserPool: true }, /^whoAmI as OIDC \(token of the issuer pool\): AppSync used "User Pool Authorization", expected "Open ID Connect Authorization"$/],
    ['auth-modes', { apiKeyOn: 'createNote' }, /^createNote with the API key \(no @aws_api_key on it\) should have been refused, got HTTP 200 with data \{"createNote":\{"id":"run-\d+-api-key","title":"by api-key","authorId":"anyone","createdAt":"[^"]+","version":1\}\}$/],
    ['http', { apiKeyOn: 'egressIp' }, /^egressIp with the API key \(@aws_iam only\) should have been refused, got HTTP 200 with data \{"egressIp":"198\.51\.100\.4"\}$/],
    ['notes', { dropUpdateCondition: true }, /^updateNote with a stale version should raise ConflictError, got HTTP 200$/],
    ['notes', { authorizerWithoutDeniedFields: true }, /^getNote with the Lambda token should return the title and a null body refused as Unauthorized \(deniedFields: Note\.body\), got HTTP 200 with data \{"whoAmI":\{"authType":"Lambda Authorization"\},"getNote":\{"id":"run-(\d+)-note-2","title":"note run-\1-note-2","body":"body of run-\1-note-2"\}\}$/],
    ['notes', { authorsAnswerNull: true }, /^Note\.author \(batched Lambda\) of run-\d+-note-\d is null$/],
    ['subscription', { withoutSubscriptionFilter: true }, /^the first event should be run-(\d+)-live \(the draft filtered out\), got \{"onNoteCreated":\{"title":"\[draft\] not for subscribers","body":null,"authorId":"editor-sub","createdAt":"[^"]+","version":1,"id":"run-\1-draft"\}\}$/],
    ['http', { checkIpStatus: 503 }, /^egressIp as the IAM caller failed: HTTP 200, errors HttpError$/],
    ['http', { checkIpBody: 'not an address' }, /^egressIp should be an IPv4 address, got "not an address"$/],
    ['http', { checkIpBody: 'at 198.51.100.4' }, /^egressIp should be an IPv4 address, got "at 198\.51\.100\.4"$/],
    ['http', { checkIpBody: '198.51.100.4 or so' }, /^egressIp should be an IPv4 address, got "198\.51\.100\.4 or so"$/],
    ['notes', { dropConditions: true }, /^createNote with an existing id should fail its condition, got HTTP 200$/],
    ['notes', { ignoreLimit: true }, /^listNotesByAuthor with limit 2 returned 3 notes in 1 pages$/],
    ['notes', { indexLagListings: 100 }, /^listNotesByAuthor with limit 2 returned 0 notes in 1 pages$/],
  ] as const)('%s with %p', async (step, options, message) => {
    const { appsync } = await startStandIn(options);
    try {
      const failure = await run(appsync, step).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toMatch(message);
    } finally {
      await appsync.close();
    }
  });

  test.each([
    ['an expired key: extend it with update-api-key', [{ id: 'da2-old', expires: Math.floor(Date.now() / 1000) - 86400 }], `the API key da2-old has expired; AppSync keeps it ${GRAPHQL_LAB.expiredApiKeyKeptDays} days, during which this extends it a week: aws appsync update-api-key --api-id <ApiId> --id da2-old --expires $(( $(date +%s) + 7*86400 ))`],
    ['a key without an expiry is taken for expired', [{ id: 'da2-undated' }], /^the API key da2-undated has expired; /],
    ['no key left: destroy and deploy', [], `the API has no API key left (AppSync deletes a key ${GRAPHQL_LAB.expiredApiKeyKeptDays} days after it expired): npx cdk destroy GraphqlLab, then npx cdk deploy GraphqlLab, creates a new one (redeploying an unchanged stack does not)`],
  ])('%s', async (_name, apiKeys, message) => {
    const { appsync } = await startStandIn();
    mocks.appsync.on(ListApiKeysCommand).resolves({ apiKeys });
    try {
      const failure = await run(appsync, 'http').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(LabNotReady);
      if (typeof message === 'string') expect((failure as Error).message).toBe(message);
      else expect((failure as Error).message).toMatch(message);
    } finally {
      mocks.appsync.on(ListApiKeysCommand).resolves({ apiKeys: [{ id: API_KEY, expires: Math.floor(Date.now() / 1000) + 7 * 86400 }] });
      await appsync.close();
    }
  });

  test('the first key that has not expired is the one the callers use', async () => {
    const { appsync } = await startStandIn();
    mocks.appsync.on(ListApiKeysCommand).resolves({ apiKeys: [{ id: 'da2-old', expires: Math.floor(Date.now() / 1000) - 60 }, { id: API_KEY, expires: Math.floor(Date.now() / 1000) + 60 }] });
    try {
      expect((await run(appsync, 'http')).at(-1)).toBe('egressIp with the API key: refused (the field allows @aws_iam only)');
      expect(appsync.calls).toContain('Query.egressIp AWS_IAM');
    } finally {
      mocks.appsync.on(ListApiKeysCommand).resolves({ apiKeys: [{ id: API_KEY, expires: Math.floor(Date.now() / 1000) + 7 * 86400 }] });
      await appsync.close();
    }
  });

  test.each([
    ['no job id', { zipUploadUrl: 'http://127.0.0.1:9/upload' }],
    ['no upload URL', { jobId: '3' }],
  ])('a CreateDeployment answer with %s is reported', async (_name, answer) => {
    const { appsync } = await startStandIn();
    mocks.amplify.on(CreateDeploymentCommand).resolves(answer);
    try {
      await expect(run(appsync, 'amplify')).rejects.toThrow(new ExerciseCheckFailed('CreateDeployment returned no job id or upload URL'));
    } finally {
      mocks.amplify.on(CreateDeploymentCommand).resolves({ jobId: '1', zipUploadUrl: `${hosting.url}/upload` });
      await appsync.close();
    }
  });

  test('a deployment job that fails or does not end is reported, and so is a branch still serving an earlier page', async () => {
    const { appsync } = await startStandIn();
    try {
      await run(appsync, 'amplify');
      mocks.amplify.on(GetJobCommand).resolves({ job: { summary: { status: 'FAILED' } } as never });
      await expect(run(appsync, 'amplify')).rejects.toThrow(new ExerciseCheckFailed('the deployment job ended FAILED (or did not end within 5 s)'));
      mocks.amplify.on(GetJobCommand).resolves({ job: { summary: { status: 'RUNNING' } } as never });
      await expect(run(appsync, 'amplify', { deploymentSeconds: 0.2 })).rejects.toThrow(
        new ExerciseCheckFailed('the deployment job ended RUNNING (or did not end within 0.2 s)'),
      );
      mocks.amplify.on(GetJobCommand).resolves({ job: { summary: { status: 'SUCCEED' } } as never });
      mocks.amplify.on(CreateDeploymentCommand).resolves({ jobId: '2', zipUploadUrl: `${hosting.url}/lost` });
      await expect(run(appsync, 'amplify')).rejects.toThrow(/does not serve this run's page/);
    } finally {
      mocks.amplify.on(CreateDeploymentCommand).resolves({ jobId: '1', zipUploadUrl: `${hosting.url}/upload` });
      await appsync.close();
    }
  });
});
