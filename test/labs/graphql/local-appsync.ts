import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildASTSchema,
  ConstValueNode,
  execute,
  GraphQLError,
  GraphQLObjectType,
  GraphQLResolveInfo,
  GraphQLSchema,
  parse,
  validate,
  valueFromASTUntyped,
} from 'graphql';
import { WebSocketServer } from 'ws';
import { FieldError, Identity } from './appsync-js';

/**
 * A local stand-in for an AppSync GraphQL API, for the exercise's test: the lab's schema executed by graphql-js,
 * its fields resolved by the lab's own resolver code (through ./appsync-js and ./vtl), and AppSync's authorization
 * reproduced for the five modes:
 * - the mode is chosen from the request: `x-api-key` → API_KEY; a SigV4 `Authorization` → AWS_IAM; a token the user
 *   pool signed for the app client → AMAZON_COGNITO_USER_POOLS; one for the OIDC client → OPENID_CONNECT; a token
 *   matching the Lambda authorizer's expression → AWS_LAMBDA (the lab's authorizer decides); otherwise HTTP 401;
 * - every field is checked against its directives (or its type's, or the default mode), `cognito_groups`, the IAM
 *   caller's allowed fields and the Lambda authorizer's deniedFields: a refused field is null with an `Unauthorized`
 *   error, as AppSync answers;
 * - the real-time endpoint on the same port speaks the protocol subset of ../../../labs/graphql/realtime.ts and
 *   publishes each createNote result to the subscriptions whose enhanced filter accepts it.
 * Not modelled: SigV4 signature verification (the key id and session token are checked), field-level IAM beyond the
 * top-level fields, AppSync's error message texts other than Unauthorized.
 */

export type Mode = 'API_KEY' | 'AMAZON_COGNITO_USER_POOLS' | 'AWS_IAM' | 'OPENID_CONNECT' | 'AWS_LAMBDA';

const AUTH_TYPES: Record<Mode, Identity['authType']> = {
  API_KEY: 'API Key Authorization',
  AMAZON_COGNITO_USER_POOLS: 'User Pool Authorization',
  AWS_IAM: 'IAM Authorization',
  OPENID_CONNECT: 'Open ID Connect Authorization',
  AWS_LAMBDA: 'Lambda Authorization',
};

const DIRECTIVE_MODES: Record<string, Mode> = {
  aws_api_key: 'API_KEY',
  aws_cognito_user_pools: 'AMAZON_COGNITO_USER_POOLS',
  aws_iam: 'AWS_IAM',
  aws_oidc: 'OPENID_CONNECT',
  aws_lambda: 'AWS_LAMBDA',
};

export interface Caller extends Identity {
  readonly mode: Mode;
  /** Fields the caller may not resolve (Lambda deniedFields), as `Type.field`. */
  readonly deniedFields?: readonly string[];
  /** Top-level fields an IAM caller's policy allows, as `Type.field`. */
  readonly allowedFields?: readonly string[];
}

/** A field's resolver: its value for this caller, or a FieldError. */
export type FieldResolver = (args: Record<string, unknown>, source: Record<string, unknown> | undefined, caller: Caller) => Promise<unknown>;

export interface LocalAppSyncOptions {
  /** The lab's schema with AppSync's prelude (scalars and directives). */
  readonly schema: string;
  readonly defaultMode: Mode;
  /** Leave `cognito_groups` out of the checks (a weakened API, for negative tests). @default false */
  readonly ignoreCognitoGroups?: boolean;
  /** Take the OIDC client's tokens for user-pool tokens (a misconfigured API, for negative tests). @default false */
  readonly oidcTokensAsUserPool?: boolean;
  /** Answer a token the Lambda authorizer refuses with HTTP 200 and an Unauthorized error, not 401 (negative tests). @default false */
  readonly lambdaRefusalAsFieldError?: boolean;
  readonly apiKey: string;
  /** Claims of a token the user pool signed (undefined when it did not), and the clients of the two modes. */
  readonly claimsOf: (token: string) => Record<string, unknown> | undefined;
  readonly userPoolClientId: string;
  readonly oidcClientId: string;
  readonly lambda: { readonly validationRegex: string; readonly authorize: (token: string) => Promise<{ isAuthorized: boolean; resolverContext?: Record<string, string>; deniedFields?: string[] }> };
  /**
   * The IAM caller: AppSync's identity for it has `username`, the principal id (`AROA…:<session>`), and `userArn`,
   * the role session's ARN.
   */
  readonly iam: {
    readonly accessKeyId: string;
    readonly sessionToken: string;
    readonly accountId: string;
    readonly username: string;
    readonly userArn: string;
    readonly allowedFields: readonly string[];
  };
  readonly resolvers: Readonly<Record<string, FieldResolver>>;
  /** The filter the subscription resolver sets for these arguments (the lab's on-note-created.js). */
  readonly subscriptionFilter: (args: Record<string, unknown>, caller: Caller) => Promise<unknown>;
}

export interface LocalAppSync {
  readonly url: string;
  /** Every field resolved, as `Type.field mode`, in order: what the test asserts the exercise did. */
  readonly calls: string[];
  close(): Promise<void>;
}

class Unauthenticated extends Error {}
const LAMBDA_REFUSAL = 'the Lambda authorizer refused the token';

async function callerOf(headers: Record<string, string | undefined>, options: LocalAppSyncOptions): Promise<Caller> {
  if (headers['x-api-key'] !== undefined) {
    if (headers['x-api-key'] !== options.apiKey) throw new Unauthenticated('invalid API key');
    return { mode: 'API_KEY', authType: AUTH_TYPES.API_KEY, identity: null };
  }
  const authorization = headers.authorization ?? '';
  if (authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    const credential = /Credential=([^/]+)\/\d{8}\/[^/]+\/appsync\/aws4_request/.exec(authorization)?.[1];
    if (credential !== options.iam.accessKeyId || headers['x-amz-security-token'] !== options.iam.sessionToken) throw new Unauthenticated('bad signature');
    const { accountId, username, userArn } = options.iam;
    const identity = { accountId, username, userArn, sourceIp: ['127.0.0.1'], cognitoIdentityPoolId: null, cognitoIdentityId: null };
    return { mode: 'AWS_IAM', authType: AUTH_TYPES.AWS_IAM, identity, allowedFields: options.iam.allowedFields };
  }
  const claims = options.claimsOf(authorization);
  if (claims?.aud === options.userPoolClientId || (options.oidcTokensAsUserPool && claims?.aud === options.oidcClientId)) {
    const identity = { username: claims['cognito:username'], sub: claims.sub, groups: claims['cognito:groups'] ?? null, claims, issuer: claims.iss };
    return { mode: 'AMAZON_COGNITO_USER_POOLS', authType: AUTH_TYPES.AMAZON_COGNITO_USER_POOLS, identity };
  }
  if (claims?.aud === options.oidcClientId) {
    return { mode: 'OPENID_CONNECT', authType: AUTH_TYPES.OPENID_CONNECT, identity: { sub: claims.sub, issuer: claims.iss, claims } };
  }
  if (new RegExp(options.lambda.validationRegex).test(authorization)) {
    const answer = await options.lambda.authorize(authorization);
    if (!answer.isAuthorized) throw new Unauthenticated(LAMBDA_REFUSAL);
    return { mode: 'AWS_LAMBDA', authType: AUTH_TYPES.AWS_LAMBDA, identity: { resolverContext: answer.resolverContext }, deniedFields: answer.deniedFields };
  }
  throw new Unauthenticated('no authorization mode accepted the request');
}

/** The modes a field allows: its directives, else its type's, else the default mode; with the groups of @aws_cognito_user_pools. */
function allowedModes(type: GraphQLObjectType, field: string, defaultMode: Mode): { modes: Set<Mode>; groups?: string[] } {
  const directives = type.getFields()[field].astNode?.directives?.length ? type.getFields()[field].astNode!.directives! : type.astNode?.directives ?? [];
  const modes = new Set<Mode>();
  let groups: string[] | undefined;
  for (const directive of directives) {
    const mode = DIRECTIVE_MODES[directive.name.value];
    if (!mode) continue;
    modes.add(mode);
    const groupArgument = directive.arguments?.find((a) => a.name.value === 'cognito_groups');
    if (groupArgument) groups = valueFromASTUntyped(groupArgument.value as ConstValueNode) as string[];
  }
  if (modes.size === 0) modes.add(defaultMode);
  return { modes, groups };
}

function authorizeField(caller: Caller, info: GraphQLResolveInfo, defaultMode: Mode, ignoreGroups: boolean): void {
  const name = `${info.parentType.name}.${info.fieldName}`;
  const { modes, groups } = allowedModes(info.parentType, info.fieldName, defaultMode);
  const userGroups = ((caller.identity?.groups as string[] | null) ?? []) as string[];
  const rootType = ['Query', 'Mutation', 'Subscription'].includes(info.parentType.name);
  const allowed =
    modes.has(caller.mode) &&
    !(caller.mode === 'AMAZON_COGNITO_USER_POOLS' && !ignoreGroups && groups && !groups.some((g) => userGroups.includes(g))) &&
    !caller.deniedFields?.includes(name) &&
    !(caller.mode === 'AWS_IAM' && rootType && !caller.allowedFields?.includes(name));
  if (!allowed) throw new FieldError(`Not Authorized to access ${info.fieldName} on type ${info.parentType.name}`, 'Unauthorized');
}

const toGraphqlError = (error: unknown) => {
  if (error instanceof FieldError) return new GraphQLError(error.message, { extensions: { errorType: error.errorType } });
  return error;
};

/** Reads a request body. */
const bodyOf = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => resolve(body));
  });

interface Subscriber {
  readonly send: (data: unknown) => void;
  readonly filter: { filterGroup: { filters: { fieldName: string; operator: string; value: unknown }[] }[] };
}

const passes = (filter: Subscriber['filter'], item: Record<string, unknown>) =>
  filter.filterGroup.some((group) =>
    group.filters.every(({ fieldName, operator, value }) => {
      const actual = item[fieldName];
      if (operator === 'eq') return actual === value;
      if (operator === 'ne') return actual !== value;
      if (operator === 'contains') return String(actual).includes(String(value));
      if (operator === 'notContains') return !String(actual).includes(String(value));
      if (operator === 'beginsWith') return String(actual).startsWith(String(value));
      throw new Error(`filter operator ${operator} is not modelled`);
    }),
  );

export async function startLocalAppSync(options: LocalAppSyncOptions): Promise<LocalAppSync> {
  const schema: GraphQLSchema = buildASTSchema(parse(options.schema));
  const calls: string[] = [];
  const subscribers: Subscriber[] = [];

  async function run(caller: Caller, query: string, variables: Record<string, unknown>) {
    const document = parse(query);
    const invalid = validate(schema, document);
    if (invalid.length > 0) return { errors: invalid.map((e) => ({ message: e.message, errorType: 'ValidationError' })) };
    const result = await execute({
      schema,
      document,
      variableValues: variables,
      fieldResolver: async (source: Record<string, unknown> | undefined, args: Record<string, unknown>, _context: unknown, info: GraphQLResolveInfo) => {
        try {
          authorizeField(caller, info, options.defaultMode, options.ignoreCognitoGroups ?? false);
          const name = `${info.parentType.name}.${info.fieldName}`;
          const resolver = options.resolvers[name];
          if (!resolver) return source?.[info.fieldName];
          calls.push(`${name} ${caller.mode}`);
          const value = await resolver(args, source, caller);
          if (name === 'Mutation.createNote' && value) {
            for (const subscriber of subscribers) if (passes(subscriber.filter, value as Record<string, unknown>)) subscriber.send({ onNoteCreated: value });
          }
          return value;
        } catch (error) {
          throw toGraphqlError(error);
        }
      },
    });
    return {
      data: result.data,
      errors: result.errors?.map((e) => ({ message: e.message, errorType: e.extensions?.errorType as string | undefined, path: e.path })),
    };
  }

  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await bodyOf(request);
      const headers = request.headers as Record<string, string | undefined>;
      let caller: Caller;
      try {
        caller = await callerOf(headers, options);
      } catch (error) {
        if (!(error instanceof Unauthenticated)) throw error;
        if (options.lambdaRefusalAsFieldError && error.message === LAMBDA_REFUSAL) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ data: null, errors: [{ errorType: 'Unauthorized', message: error.message }] }));
          return;
        }
        response.writeHead(401, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ errors: [{ errorType: 'UnauthorizedException', message: error.message }] }));
        return;
      }
      const { query, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(await run(caller, query, variables ?? {})));
    })();
  });
  const sockets = new WebSocketServer({ server, handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false) });
  sockets.on('connection', (socket) => {
    socket.on('message', (raw) => {
      void (async () => {
        const message = JSON.parse(raw.toString()) as { type: string; id?: string; payload?: { data: string; extensions: { authorization: Record<string, string> } } };
        const send = (reply: Record<string, unknown>) => socket.send(JSON.stringify(reply));
        if (message.type === 'connection_init') {
          send({ type: 'connection_ack', payload: { connectionTimeoutMs: 300_000 } });
        } else if (message.type === 'start') {
          const { query, variables } = JSON.parse(message.payload!.data) as { query: string; variables: Record<string, unknown> };
          const caller = await callerOf(message.payload!.extensions.authorization, options);
          const field = parse(query).definitions.flatMap((d) => ('selectionSet' in d && d.selectionSet ? d.selectionSet.selections : []))[0];
          const fieldName = field && 'name' in field ? field.name.value : '';
          const { modes } = allowedModes(schema.getSubscriptionType()!, fieldName, options.defaultMode);
          if (!modes.has(caller.mode)) {
            send({ type: 'error', id: message.id, payload: { errors: [{ errorType: 'Unauthorized', message: 'Not Authorized' }] } });
            return;
          }
          const filter = (await options.subscriptionFilter(variables, caller)) as Subscriber['filter'];
          subscribers.push({ filter, send: (data) => send({ type: 'data', id: message.id, payload: { data } }) });
          send({ type: 'start_ack', id: message.id });
        } else if (message.type === 'stop') {
          send({ type: 'complete', id: message.id });
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    calls,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise((resolve) => sockets.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
