import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AppSyncAuthorizerEvent } from 'aws-lambda';
import { buildASTSchema, GraphQLObjectType, parse } from 'graphql';
import { ANSWER_TTL_SECONDS, DENIED_FIELDS, handler } from '../../lambda/graphql-authorizer';
import { GRAPHQL_LAB } from '../../labs/graphql/constants';
import { APPSYNC_PRELUDE } from '../labs/graphql/appsync-js';

const event = (authorizationToken: string): AppSyncAuthorizerEvent => ({
  authorizationToken,
  requestContext: {
    apiId: 'api',
    accountId: '111122223333',
    requestId: 'r1',
    queryString: 'query { whoAmI { authType } }',
    operationName: undefined as unknown as string,
    variables: {},
  },
  requestHeaders: {},
});

test('a lab- token is a reader: authorized, named in resolverContext, note bodies denied, answer cached 30 s', async () => {
  await expect(handler(event('lab-reader-run1'))).resolves.toEqual({
    isAuthorized: true,
    resolverContext: { caller: 'reader-run1', role: 'reader' },
    deniedFields: ['Note.body'],
    ttlOverride: ANSWER_TTL_SECONDS,
  });
});

test('every denied field is one the schema opens to the Lambda mode, or denying it would show nothing', () => {
  const schema = buildASTSchema(parse(APPSYNC_PRELUDE + readFileSync(path.join(__dirname, '..', '..', 'labs', 'graphql', 'schema.graphql'), 'utf8')));
  for (const denied of DENIED_FIELDS) {
    const [typeName, fieldName] = denied.split('.');
    const type = schema.getType(typeName) as GraphQLObjectType;
    const directivesOf = (node: { directives?: readonly { name: { value: string } }[] } | null | undefined) => (node?.directives ?? []).map((d) => d.name.value);
    const fieldDirectives = directivesOf(type.getFields()[fieldName].astNode);
    const modes = fieldDirectives.length > 0 ? fieldDirectives : directivesOf(type.astNode);
    expect([denied, modes]).toEqual([denied, expect.arrayContaining(['aws_lambda'])]);
  }
});

test.each(['lab-blocked-run1', 'Bearer abc', ''])('%p is refused', async (token) => {
  await expect(handler(event(token))).resolves.toEqual({ isAuthorized: false, ttlOverride: ANSWER_TTL_SECONDS });
});

test('the API calls it only for tokens its validation expression accepts, the same tokens the exercise sends', () => {
  const pattern = new RegExp(GRAPHQL_LAB.lambdaTokenPattern);
  expect(pattern.test('lab-reader-run-abc123')).toBe(true);
  expect(pattern.test('lab-blocked-run-abc123')).toBe(true);
  expect(pattern.test('eyJhbGciOi.x.y')).toBe(false);
});
