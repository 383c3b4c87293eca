import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { buildSync, transformSync } from 'esbuild';
import * as ts from 'typescript';

/**
 * A local evaluator of APPSYNC_JS resolver code, reproducing AppSync's request/response contract (what the
 * EvaluateCode API runs) for the lab's resolvers:
 * - the file is bundled as AppSync receives it: one ES module, `@aws-appsync/utils` left to the runtime (the bundle
 *   must import nothing else), then run with a `@aws-appsync/utils` that supplies the `util`, `extensions` and
 *   `runtime` members the lab's resolvers use, with AppSync's documented behaviour: `util.dynamodb.toMapValues`,
 *   `util.time.nowISO8601`, `util.error` and `util.unauthorized` (which end the resolver with a field error),
 *   `util.appendError`, `util.authType`, `util.transform.toSubscriptionFilter` (plain `eq`, `ne`, `contains`,
 *   `notContains`, `beginsWith` filters, ANDed, in one filter group) and `extensions.setSubscriptionFilter`;
 * - `request(ctx)`'s DynamoDB operation (GetItem, PutItem with a condition, Query on an index with limit and
 *   nextToken, UpdateItem) is run against a real DynamoDB (DynamoDB Local) and its result, or its error as
 *   `ctx.error` ({ message, type: 'DynamoDB:<exception>' }), is given to `response(ctx)`;
 * - a pipeline runs the before step, each function (`ctx.prev.result` chained, `ctx.stash` shared), the after step.
 * - the bundle is checked against the APPSYNC_JS runtime's statement and operator rules (`for-of` and `for-in` are
 *   allowed; `for(;;)`, `while`, `do-while`, `try`/`catch`/`finally`, `throw`, `continue`, `++`, `--`, `~` and the
 *   `in` operator are not), see `unsupportedSyntax`.
 * Not covered: the runtime's other restrictions (async functions, classes, some built-ins: `aws appsync
 * evaluate-code` checks those), any other `util`
 * member, `nextToken` encoding (opaque here, base64 JSON of the last key), the selection-set and type coercion of
 * results against the schema, and the directive checks AppSync makes before a resolver runs.
 */

/** A field error raised by util.error / util.unauthorized: the field resolves to null and this error is reported. */
export class FieldError extends Error {
  constructor(
    message: string,
    readonly errorType?: string,
  ) {
    super(message);
    this.name = 'FieldError';
  }
}

export interface Identity {
  /** What util.authType() answers for this caller. */
  readonly authType: 'API Key Authorization' | 'User Pool Authorization' | 'IAM Authorization' | 'Open ID Connect Authorization' | 'Lambda Authorization';
  readonly identity: Record<string, unknown> | null;
}

export interface EvaluationContext {
  readonly args: Record<string, unknown>;
  readonly caller: Identity;
  readonly info?: { fieldName: string; parentTypeName: string };
  readonly source?: Record<string, unknown>;
}

export interface Evaluation {
  /** The field's value (null after a field error). */
  readonly result: unknown;
  /** Errors util.error / util.appendError / util.unauthorized raised. */
  readonly errors: { message: string; errorType?: string }[];
  /** The requests the data source received, in order. */
  readonly requests: Record<string, unknown>[];
  /** What extensions.setSubscriptionFilter was given. */
  readonly subscriptionFilter?: unknown;
}

interface ResolverModule {
  request(ctx: unknown): unknown;
  response(ctx: unknown): unknown;
}

/** A data source: receives the request object `request(ctx)` returned and answers its result, or an error. */
export type DataSource = (request: Record<string, unknown>) => Promise<{ result?: unknown; error?: { message: string; type: string } }>;

/** The NONE data source: the request's payload is the result. */
export const noneDataSource: DataSource = async (request) => ({ result: request.payload ?? null });

/**
 * What AppSync adds to every schema: its scalars and its authorization and subscription directives (AppSync
 * developer guide, "Scalar types" and "Authorization and authentication"), so `graphql` can build the lab's SDL.
 */
export const APPSYNC_PRELUDE = `
scalar AWSDateTime
directive @aws_api_key on OBJECT | FIELD_DEFINITION
directive @aws_iam on OBJECT | FIELD_DEFINITION
directive @aws_oidc on OBJECT | FIELD_DEFINITION
directive @aws_lambda on OBJECT | FIELD_DEFINITION
directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
`;

/** Statements the APPSYNC_JS runtime refuses (AppSync developer guide, "Runtime features": statements). */
const UNSUPPORTED_STATEMENTS: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.ForStatement]: 'for(;;)',
  [ts.SyntaxKind.WhileStatement]: 'while',
  [ts.SyntaxKind.DoStatement]: 'do-while',
  [ts.SyntaxKind.TryStatement]: 'try/catch/finally',
  [ts.SyntaxKind.ThrowStatement]: 'throw',
  [ts.SyntaxKind.ContinueStatement]: 'continue',
};
/** Unary operators it refuses (the binary `in` operator is refused too, see unsupportedSyntax). */
const UNSUPPORTED_OPERATORS: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.PlusPlusToken]: '++',
  [ts.SyntaxKind.MinusMinusToken]: '--',
  [ts.SyntaxKind.TildeToken]: '~',
};

/** The constructs of `code` the APPSYNC_JS runtime refuses, as `<construct> (line <n>)`. */
export function unsupportedSyntax(code: string): string[] {
  const source = ts.createSourceFile('resolver.js', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const found: string[] = [];
  const at = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const visit = (node: ts.Node): void => {
    const statement = UNSUPPORTED_STATEMENTS[node.kind];
    if (statement) found.push(`${statement} (line ${at(node)})`);
    if (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) {
      const operator = UNSUPPORTED_OPERATORS[node.operator];
      if (operator) found.push(`${operator} (line ${at(node)})`);
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.InKeyword) found.push(`the in operator (line ${at(node)})`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The resolver file as AppSync receives it, bundled to one ES module; fails if it imports anything else or uses a
 * construct the APPSYNC_JS runtime refuses.
 */
export function bundleResolver(file: string): string {
  const { outputFiles, metafile } = buildSync({
    entryPoints: [file],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    external: ['@aws-appsync/utils', '@aws-appsync/utils/*'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const imports = Object.values(metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
  const foreign = imports.filter((path) => !path.startsWith('@aws-appsync/utils'));
  if (foreign.length > 0) throw new Error(`${file} imports ${foreign.join(', ')}: AppSync provides @aws-appsync/utils only`);
  const bundle = outputFiles[0].text;
  const refused = unsupportedSyntax(bundle);
  if (refused.length > 0) throw new Error(`${file} uses what the APPSYNC_JS runtime refuses: ${refused.join(', ')}`);
  return bundle;
}

interface RunState {
  caller: Identity;
  errors: { message: string; errorType?: string }[];
  subscriptionFilter?: unknown;
}

function toSubscriptionFilter(filter: Record<string, Record<string, unknown>>): unknown {
  const filters = Object.entries(filter).flatMap(([fieldName, conditions]) =>
    Object.entries(conditions).map(([operator, value]) => ({ fieldName, operator, value })),
  );
  return { filterGroup: [{ filters }] };
}

function appsyncUtils(state: RunState): Record<string, unknown> {
  const fail = (message: string, errorType?: string): never => {
    throw new FieldError(message, errorType);
  };
  return {
    util: {
      dynamodb: {
        toMapValues: (value: Record<string, unknown>) => marshall(value, { removeUndefinedValues: true }),
        toDynamoDB: (value: unknown) => marshall({ value }, { removeUndefinedValues: true }).value,
      },
      time: { nowISO8601: () => new Date().toISOString() },
      error: fail,
      appendError: (message: string, errorType?: string) => {
        state.errors.push({ message, errorType });
      },
      unauthorized: () => fail('Not Authorized to access this field', 'Unauthorized'),
      authType: () => state.caller.authType,
      transform: { toSubscriptionFilter },
    },
    extensions: {
      setSubscriptionFilter: (filter: unknown) => {
        state.subscriptionFilter = filter;
      },
    },
    runtime: {},
  };
}

/** Loads a resolver file's `request` and `response`, bound to `state` (its util answers for that caller). */
function loadResolver(file: string, state: RunState): ResolverModule {
  const { code } = transformSync(bundleResolver(file), { format: 'cjs', loader: 'js' });
  const module = { exports: {} as ResolverModule };
  const utils = appsyncUtils(state);
  const require = (name: string) => {
    if (name === '@aws-appsync/utils') return utils;
    throw new Error(`unexpected import ${name}`);
  };
  // In this realm (not node:vm's), so what the resolver returns compares with toEqual like any other value.
  new Function('module', 'exports', 'require', code)(module, module.exports, require);
  return module.exports;
}

function contextOf(evaluation: EvaluationContext, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    arguments: evaluation.args,
    args: evaluation.args,
    identity: evaluation.caller.identity,
    source: evaluation.source ?? null,
    info: evaluation.info ?? { fieldName: 'field', parentTypeName: 'Type' },
    stash: {},
    ...extra,
  };
}

/** Runs a unit resolver: request → data source → response. */
export async function evaluateResolver(file: string, dataSource: DataSource, evaluation: EvaluationContext): Promise<Evaluation> {
  return evaluatePipeline(undefined, [{ file, dataSource }], evaluation);
}

/**
 * Runs a pipeline: the before step (`resolverFile`'s request), each function's request → data source → response,
 * then the after step; a unit resolver is a pipeline of one function without before and after steps.
 */
export async function evaluatePipeline(
  resolverFile: string | undefined,
  functions: { file: string; dataSource: DataSource }[],
  evaluation: EvaluationContext,
): Promise<Evaluation> {
  const state: RunState = { caller: evaluation.caller, errors: [] };
  const requests: Record<string, unknown>[] = [];
  const ctx = contextOf(evaluation, { prev: { result: {} } }) as Record<string, unknown> & { prev: { result: unknown } };
  let result: unknown;
  try {
    const resolver = resolverFile ? loadResolver(resolverFile, state) : undefined;
    if (resolver) ctx.prev = { result: resolver.request(ctx) };
    for (const fn of functions) {
      const code = loadResolver(fn.file, state);
      const request = code.request(ctx) as Record<string, unknown>;
      requests.push(request);
      const answer = await fn.dataSource(request);
      const fnCtx = { ...ctx, result: answer.result ?? null, error: answer.error };
      ctx.prev = { result: code.response(fnCtx) };
    }
    result = resolver ? resolver.response(ctx) : ctx.prev.result;
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    state.errors.push({ message: error.message, errorType: error.errorType });
    result = null;
  }
  return { result, errors: state.errors, requests, subscriptionFilter: state.subscriptionFilter };
}

interface ConditionSpec {
  expression: string;
  expressionNames?: Record<string, string>;
  expressionValues?: Record<string, AttributeValue>;
}

/** DynamoDB refuses an empty ExpressionAttributeNames/Values map; AppSync leaves it out. */
const nonEmpty = <T extends object>(map: T): T | undefined => (Object.keys(map).length > 0 ? map : undefined);

const encodeToken = (key: Record<string, AttributeValue> | undefined) => (key ? Buffer.from(JSON.stringify(key)).toString('base64') : null);
const decodeToken = (token: unknown) => (typeof token === 'string' ? (JSON.parse(Buffer.from(token, 'base64').toString()) as Record<string, AttributeValue>) : undefined);

/** A DynamoDB data source on `tableName`, answering AppSync's DynamoDB request objects from a real DynamoDB. */
export function dynamoDbDataSource(client: DynamoDBClient, tableName: string): DataSource {
  return async (request) => {
    try {
      return { result: await runDynamoDbRequest(client, tableName, request) };
    } catch (error) {
      const name = (error as Error).name;
      if (error instanceof ConditionalCheckFailedException || /Exception$/.test(name)) {
        return { error: { message: (error as Error).message, type: `DynamoDB:${name}` } };
      }
      throw error;
    }
  };
}

async function runDynamoDbRequest(client: DynamoDBClient, TableName: string, request: Record<string, unknown>): Promise<unknown> {
  const key = request.key as Record<string, AttributeValue>;
  const condition = request.condition as ConditionSpec | undefined;
  switch (request.operation) {
    case 'GetItem': {
      const { Item } = await client.send(new GetItemCommand({ TableName, Key: key, ConsistentRead: request.consistentRead === true }));
      return Item ? unmarshall(Item) : null;
    }
    case 'PutItem': {
      const item = { ...(request.attributeValues as Record<string, AttributeValue>), ...key };
      await client.send(
        new PutItemCommand({
          TableName,
          Item: item,
          ConditionExpression: condition?.expression,
          ExpressionAttributeNames: condition?.expressionNames,
          ExpressionAttributeValues: condition?.expressionValues,
        }),
      );
      return unmarshall(item);
    }
    case 'UpdateItem': {
      const update = request.update as ConditionSpec;
      const { Attributes } = await client.send(
        new UpdateItemCommand({
          TableName,
          Key: key,
          UpdateExpression: update.expression,
          ConditionExpression: condition?.expression,
          ExpressionAttributeNames: nonEmpty({ ...update.expressionNames, ...condition?.expressionNames }),
          ExpressionAttributeValues: nonEmpty({ ...update.expressionValues, ...condition?.expressionValues }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? unmarshall(Attributes) : null;
    }
    case 'Query': {
      const query = request.query as ConditionSpec;
      const response = await client.send(
        new QueryCommand({
          TableName,
          IndexName: request.index as string | undefined,
          KeyConditionExpression: query.expression,
          ExpressionAttributeNames: query.expressionNames,
          ExpressionAttributeValues: query.expressionValues,
          ScanIndexForward: request.scanIndexForward as boolean | undefined,
          Limit: request.limit as number | undefined,
          ExclusiveStartKey: decodeToken(request.nextToken),
        }),
      );
      return { items: (response.Items ?? []).map((item) => unmarshall(item)), nextToken: encodeToken(response.LastEvaluatedKey), scannedCount: response.ScannedCount };
    }
    default:
      throw new Error(`operation ${String(request.operation)} is not modelled`);
  }
}
