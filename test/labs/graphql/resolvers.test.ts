import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { buildASTSchema, parse, validate, validateSchema } from 'graphql';
import { graphqlLab } from '../../../labs/graphql/lab';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';
import { labTemplate } from '../../support/lab-template';
import {
  APPSYNC_PRELUDE,
  bundleResolver,
  DataSource,
  dynamoDbDataSource,
  evaluatePipeline,
  evaluateResolver,
  FieldError,
  Identity,
  noneDataSource,
  unsupportedSyntax,
} from './appsync-js';
import { renderVtl } from './vtl';

jest.setTimeout(60_000);

const template = labTemplate(graphqlLab);
const LAB_DIR = path.join(__dirname, '..', '..', '..', 'labs', 'graphql');
const read = (...parts: string[]) => readFileSync(path.join(LAB_DIR, ...parts), 'utf8');
const resolver = (file: string) => path.join(LAB_DIR, 'resolvers', file);

const editor: Identity = { authType: 'User Pool Authorization', identity: { username: 'editor-1', sub: 'editor-1', groups: ['editors'] } };
const viewer: Identity = { authType: 'User Pool Authorization', identity: { username: 'viewer-1', sub: 'viewer-1', groups: ['viewers'] } };
/** AppSync's IAM identity: username is the principal id (role id and session), userArn the role session. */
const iamCaller: Identity = {
  authType: 'IAM Authorization',
  identity: {
    accountId: '111122223333',
    username: 'AROAEXAMPLEROLEID:s',
    userArn: 'arn:aws:sts::111122223333:assumed-role/ApiCallerRole/s',
    sourceIp: ['203.0.113.9'],
    cognitoIdentityPoolId: null,
    cognitoIdentityId: null,
  },
};
const apiKeyCaller: Identity = { authType: 'API Key Authorization', identity: null };
const lambdaCaller: Identity = { authType: 'Lambda Authorization', identity: { resolverContext: { caller: 'reader-x', role: 'reader' } } };
const oidcCaller: Identity = { authType: 'Open ID Connect Authorization', identity: { sub: 'oidc-sub', issuer: 'https://issuer' } };

let ddb: LocalDynamoDb;
let notes: DataSource;
let notesTable: string;

beforeAll(async () => {
  ddb = await startLocalDynamoDb();
  const tables = await deployTablesLocally(template, ddb.client);
  notesTable = Object.entries(tables.tables).find(([id]) => id.startsWith('NotesTable'))![1].name;
  notes = dynamoDbDataSource(ddb.client, notesTable);
});

afterAll(async () => {
  await ddb?.stop();
});

const createNote = (caller: Identity, input: Record<string, unknown>) =>
  evaluatePipeline(
    resolver('create-note.js'),
    [
      { file: resolver('require-writer.js'), dataSource: noneDataSource },
      { file: resolver('put-note.js'), dataSource: notes },
    ],
    { args: { input }, caller },
  );

describe('every resolver file is one ES module importing only @aws-appsync/utils, exporting request and response', () => {
  test.each([
    'who-am-i.js',
    'get-note.js',
    'list-notes-by-author.js',
    'require-writer.js',
    'put-note.js',
    'create-note.js',
    'egress-ip.js',
    'on-note-created.js',
  ])('%s', (file) => {
    const bundle = bundleResolver(resolver(file));
    expect(bundle).toMatch(/export\s*\{[^}]*\brequest\b[^}]*\}/);
    expect(bundle).toMatch(/export\s*\{[^}]*\bresponse\b[^}]*\}/);
  });
});

describe('the APPSYNC_JS runtime rules are checked on the bundle', () => {
  test('for-of and for-in pass; for(;;), while, do-while, try, throw, continue, ++, --, ~ and in are each reported with their line', () => {
    expect(unsupportedSyntax('for (const a of [1]) { a; }\nfor (const k in {}) { k; }\nlet n = 1; n += 1; n = -n;')).toEqual([]);
    const refused = [
      'for (let i = 0; i < 1; i += 1) {}',
      'while (false) {}',
      'do {} while (false);',
      'try { f(); } catch (e) { e; }',
      'throw new Error("x");',
      'for (const a of [1]) { if (a) continue; }',
      'let a = 0; a++;',
      'let b = 0; --b;',
      'const c = ~1;',
      'const d = "x" in {};',
    ].join('\n');
    expect(unsupportedSyntax(refused)).toEqual([
      'for(;;) (line 1)',
      'while (line 2)',
      'do-while (line 3)',
      'try/catch/finally (line 4)',
      'throw (line 5)',
      'continue (line 6)',
      '++ (line 7)',
      '-- (line 8)',
      '~ (line 9)',
      'the in operator (line 10)',
    ]);
  });

  test('bundleResolver refuses a resolver file that uses one', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'graphql-resolver-')), 'loop.js');
    writeFileSync(file, 'export function request(ctx) { let n = 0; while (n < ctx.args.n) { n += 1; } return { payload: n }; }\nexport function response(ctx) { return ctx.result; }\n');
    expect(() => bundleResolver(file)).toThrow(/loop\.js uses what the APPSYNC_JS runtime refuses: while \(line \d+\)/);
  });
});

describe('whoAmI answers the mode AppSync used and who the caller is', () => {
  test.each([
    [apiKeyCaller, 'API Key Authorization', null],
    [editor, 'User Pool Authorization', 'editor-1'],
    [iamCaller, 'IAM Authorization', 'arn:aws:sts::111122223333:assumed-role/ApiCallerRole/s'],
    [oidcCaller, 'Open ID Connect Authorization', 'oidc-sub'],
    [lambdaCaller, 'Lambda Authorization', 'reader-x'],
  ])('%#: %p', async (caller, authType, principal) => {
    const { result, errors } = await evaluateResolver(resolver('who-am-i.js'), noneDataSource, { args: {}, caller });
    expect(errors).toEqual([]);
    expect(result).toEqual(expect.objectContaining({ authType, principal }));
  });
});

describe('createNote: the pipeline checks the caller before the conditional write', () => {
  test('an editor creates a note at version 1, authored by the caller', async () => {
    const { result, errors, requests } = await createNote(editor, { id: 'n-editor', title: 'first' });
    expect(errors).toEqual([]);
    expect(result).toEqual(expect.objectContaining({ id: 'n-editor', title: 'first', authorId: 'editor-1', version: 1 }));
    expect(requests[1]).toEqual(expect.objectContaining({ operation: 'PutItem', condition: { expression: 'attribute_not_exists(id)' } }));
    const { Item } = await ddb.client.send(new GetItemCommand({ TableName: notesTable, Key: { id: { S: 'n-editor' } } }));
    expect(Item?.authorId).toEqual({ S: 'editor-1' });
  });

  test('the same id again fails its condition: a GraphQL error naming the note, the stored note unchanged', async () => {
    await createNote(editor, { id: 'n-twice', title: 'original' });
    const { result, errors } = await createNote(editor, { id: 'n-twice', title: 'again' });
    expect(result).toBeNull();
    expect(errors).toEqual([{ message: 'note n-twice already exists', errorType: 'DynamoDB:ConditionalCheckFailedException' }]);
    const { Item } = await ddb.client.send(new GetItemCommand({ TableName: notesTable, Key: { id: { S: 'n-twice' } } }));
    expect(Item?.title).toEqual({ S: 'original' });
  });

  test('an IAM caller may write; its role session ARN is the author, not the principal id in its username', async () => {
    const { result, errors } = await createNote(iamCaller, { id: 'n-iam', title: 'by a role' });
    expect(errors).toEqual([]);
    expect(result).toEqual(expect.objectContaining({ authorId: 'arn:aws:sts::111122223333:assumed-role/ApiCallerRole/s' }));
  });

  test.each([
    ['a viewer', viewer],
    ['an API key caller', apiKeyCaller],
    ['a Lambda-authorized caller', lambdaCaller],
  ])('%s is refused before the data source is called: Unauthorized, nothing written', async (_name, caller) => {
    const id = `n-refused-${(caller.identity?.username as string) ?? caller.authType.split(' ')[0]}`;
    const { result, errors, requests } = await createNote(caller, { id, title: 'no' });
    expect(result).toBeNull();
    expect(errors).toEqual([expect.objectContaining({ errorType: 'Unauthorized' })]);
    expect(requests).toEqual([]); // neither the check (it threw) nor putNote reached a data source
    const { Item } = await ddb.client.send(new GetItemCommand({ TableName: notesTable, Key: { id: { S: id } } }));
    expect(Item).toBeUndefined();
  });
});

describe('getNote', () => {
  test('returns the stored note, and null (no error) for an id that does not exist', async () => {
    await createNote(editor, { id: 'n-get', title: 'read me' });
    expect((await evaluateResolver(resolver('get-note.js'), notes, { args: { id: 'n-get' }, caller: apiKeyCaller })).result).toEqual(
      expect.objectContaining({ id: 'n-get', title: 'read me' }),
    );
    const missing = await evaluateResolver(resolver('get-note.js'), notes, { args: { id: 'n-none' }, caller: apiKeyCaller });
    expect(missing).toEqual(expect.objectContaining({ result: null, errors: [] }));
  });
});

describe('listNotesByAuthor pages through the byAuthor index with nextToken, newest first', () => {
  test('three notes, two per page: two pages, every note once, the last page without nextToken', async () => {
    const author = 'author-paged';
    for (const [id, createdAt] of [['p1', '2026-01-01T00:00:00Z'], ['p2', '2026-01-02T00:00:00Z'], ['p3', '2026-01-03T00:00:00Z']]) {
      await ddb.client.send(
        new PutItemCommand({
          TableName: notesTable,
          Item: { id: { S: id }, authorId: { S: author }, createdAt: { S: createdAt }, title: { S: id }, version: { N: '1' } },
        }),
      );
    }
    const list = (nextToken?: string | null) =>
      evaluateResolver(resolver('list-notes-by-author.js'), notes, { args: { authorId: author, limit: 2, nextToken }, caller: apiKeyCaller });
    const first = (await list()).result as { items: { id: string }[]; nextToken: string | null };
    expect(first.items.map((n) => n.id)).toEqual(['p3', 'p2']);
    expect(first.nextToken).toEqual(expect.any(String));
    const second = (await list(first.nextToken)).result as { items: { id: string }[]; nextToken: string | null };
    expect(second.items.map((n) => n.id)).toEqual(['p1']);
    expect(second.nextToken).toBeNull();
  });

  test.each([
    [1000, 50],
    [0, 1],
    [-5, 1],
  ])('a page is 1 to 50 notes whatever the caller asks: limit %p is %p', async (limit, expected) => {
    const { requests, errors } = await evaluateResolver(resolver('list-notes-by-author.js'), notes, {
      args: { authorId: 'nobody', limit },
      caller: apiKeyCaller,
    });
    expect(errors).toEqual([]);
    expect(requests[0]).toEqual(expect.objectContaining({ operation: 'Query', index: 'byAuthor', limit: expected, scanIndexForward: false }));
  });
});

describe('egressIp: the HTTP data source', () => {
  const answering = (statusCode: number, body: string): DataSource => async () => ({ result: { statusCode, body } });

  test('GETs / and returns the body without its newline', async () => {
    const { result, requests } = await evaluateResolver(resolver('egress-ip.js'), answering(200, '203.0.113.7\n'), { args: {}, caller: iamCaller });
    expect(requests[0]).toEqual(expect.objectContaining({ method: 'GET', resourcePath: '/' }));
    expect(result).toBe('203.0.113.7');
  });

  test('a status other than 200 is a field error, not a wrong value', async () => {
    const { result, errors } = await evaluateResolver(resolver('egress-ip.js'), answering(503, 'busy'), { args: {}, caller: iamCaller });
    expect(result).toBeNull();
    expect(errors).toEqual([{ message: 'checkip answered 503', errorType: 'HttpError' }]);
  });
});

describe('onNoteCreated sets an enhanced subscription filter', () => {
  test('with authorId: that author only, and never drafts', async () => {
    const { subscriptionFilter } = await evaluateResolver(resolver('on-note-created.js'), noneDataSource, {
      args: { authorId: 'editor-1' },
      caller: apiKeyCaller,
    });
    expect(subscriptionFilter).toEqual({
      filterGroup: [
        {
          filters: [
            { fieldName: 'title', operator: 'notContains', value: '[draft]' },
            { fieldName: 'authorId', operator: 'eq', value: 'editor-1' },
          ],
        },
      ],
    });
  });

  test('without authorId: every author, still no drafts', async () => {
    const { subscriptionFilter } = await evaluateResolver(resolver('on-note-created.js'), noneDataSource, { args: {}, caller: apiKeyCaller });
    expect(subscriptionFilter).toEqual({ filterGroup: [{ filters: [{ fieldName: 'title', operator: 'notContains', value: '[draft]' }] }] });
  });
});

describe('the schema', () => {
  const schema = buildASTSchema(parse(APPSYNC_PRELUDE + read('schema.graphql')));

  test('is a valid GraphQL schema with AppSync\'s scalars and directives', () => {
    expect(validateSchema(schema)).toEqual([]);
  });

  test.each([
    ['the exercise\'s whoAmI', 'query { whoAmI { authType principal groups } }'],
    ['a page of notes with their authors', 'query ($a: String!, $t: String) { listNotesByAuthor(authorId: $a, limit: 2, nextToken: $t) { items { id author { name } } nextToken } }'],
    ['createNote', 'mutation ($i: CreateNoteInput!) { createNote(input: $i) { id version } }'],
    ['updateNote', 'mutation { updateNote(id: "x", title: "t", expectedVersion: 1) { version } }'],
    ['the subscription', 'subscription ($a: String) { onNoteCreated(authorId: $a) { id title } }'],
  ])('accepts %s', (_name, operation) => {
    expect(validate(schema, parse(operation))).toEqual([]);
  });

  test('refuses a field it does not have', () => {
    expect(validate(schema, parse('query { notes { id } }')).map((e) => e.message)).toEqual([expect.stringContaining('Cannot query field "notes"')]);
  });

  test('the subscription is raised by createNote, and writes are limited to the editors group and IAM', () => {
    const fields = schema.getMutationType()!.getFields();
    for (const name of ['createNote', 'updateNote']) {
      const directives = fields[name].astNode!.directives!.map((d) => d.name.value);
      expect(directives).toEqual(['aws_cognito_user_pools', 'aws_iam']);
    }
    const subscribe = schema.getSubscriptionType()!.getFields().onNoteCreated.astNode!.directives!.find((d) => d.name.value === 'aws_subscribe');
    expect(JSON.stringify(subscribe?.arguments)).toContain('createNote');
  });
});

describe('updateNote, the VTL resolver, rendered with velocityjs and run against DynamoDB Local', () => {
  const request = read('vtl', 'update-note.request.vtl');
  const response = read('vtl', 'update-note.response.vtl');

  beforeAll(async () => {
    await ddb.client.send(new PutItemCommand({ TableName: notesTable, Item: { id: { S: 'v1' }, title: { S: 'old' }, version: { N: '1' } } }));
  });

  async function update(args: Record<string, unknown>): Promise<{ result: unknown; error?: FieldError }> {
    const ctx: Record<string, unknown> = { args, arguments: args };
    const rendered = JSON.parse(renderVtl(request, ctx)) as Record<string, unknown>;
    const answer = await notes(rendered);
    try {
      return { result: JSON.parse(renderVtl(response, { ...ctx, result: answer.result ?? null, error: answer.error }).trim()) };
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      return { result: null, error };
    }
  }

  test('the request is an UpdateItem conditioned on the expected version', () => {
    const rendered = JSON.parse(renderVtl(request, { args: { id: 'x', title: 'T "quoted"', expectedVersion: 3 } }));
    expect(rendered).toEqual({
      version: '2018-05-29',
      operation: 'UpdateItem',
      key: { id: { S: 'x' } },
      update: {
        expression: 'SET title = :title, version = version + :one',
        expressionValues: { ':title': { S: 'T "quoted"' }, ':one': { N: '1' } },
      },
      condition: { expression: 'version = :expected', expressionValues: { ':expected': { N: '3' } } },
    });
  });

  test('at the expected version: the title changes and the version goes up by one', async () => {
    const { result, error } = await update({ id: 'v1', title: 'new', expectedVersion: 1 });
    expect(error).toBeUndefined();
    expect(result).toEqual(expect.objectContaining({ id: 'v1', title: 'new', version: 2 }));
  });

  test('at a stale version: ConflictError naming the note and version, and the stored note is unchanged', async () => {
    const { result, error } = await update({ id: 'v1', title: 'stale', expectedVersion: 1 });
    expect(result).toBeNull();
    expect(error).toEqual(expect.objectContaining({ message: 'note v1 is not at version 1', errorType: 'ConflictError' }));
    const { Item } = await ddb.client.send(new GetItemCommand({ TableName: notesTable, Key: { id: { S: 'v1' } } }));
    expect(Item).toEqual(expect.objectContaining({ title: { S: 'new' }, version: { N: '2' } }));
  });
});
