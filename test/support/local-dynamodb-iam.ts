import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, request as httpRequest, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Caller, Decision, evaluatePolicy, learner, LOCAL_ACCOUNT, PolicyDocument } from './local-iam';

/**
 * IAM in front of DynamoDB Local, which checks no permissions: a loopback endpoint that answers STS AssumeRole (with
 * session tags) for the roles of a template, and forwards DynamoDB requests to DynamoDB Local after evaluating the
 * assumed role's policies for them, with the condition keys DynamoDB sets (`dynamodb:LeadingKeys`) and the policy
 * variables of the session (`${aws:PrincipalTag/...}`). Requests with any other credentials pass unchecked, as an
 * administrator's would. Policies are evaluated by ./local-iam.
 */

export interface LocalRoleDefinition {
  readonly arn: string;
  readonly trustPolicy: PolicyDocument;
  /** Identity-based policies, resolved (no intrinsic functions left). */
  readonly policies: PolicyDocument[];
}

export interface LocalDynamoDbIamProps {
  /** DynamoDB Local's endpoint. */
  readonly upstream: string;
  readonly roles: readonly LocalRoleDefinition[];
  /** Partition key attribute per table name, to compute dynamodb:LeadingKeys. */
  readonly partitionKeys: Readonly<Record<string, string>>;
  /** Table ARN per table name, as DynamoDB Local names them (what the resolved policies name). */
  readonly tableArns: Readonly<Record<string, string>>;
  readonly account?: string;
}

export interface AuthorizationRecord {
  readonly caller: string;
  readonly action: string;
  readonly resource: string;
  readonly leadingKeys?: string[];
  readonly decision: Decision;
}

export interface LocalDynamoDbIam {
  readonly endpoint: string;
  /** Every DynamoDB request of an assumed-role session, with its decision. */
  readonly decisions: AuthorizationRecord[];
  stop(): Promise<void>;
}

interface Session {
  readonly caller: Caller;
  readonly role: LocalRoleDefinition;
  readonly tags: Record<string, string>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Replaces `${aws:PrincipalTag/<key>}` in a policy with the session's tag; an absent tag matches nothing. */
function withSessionVariables(policy: PolicyDocument, tags: Record<string, string>): PolicyDocument {
  const text = JSON.stringify(policy).replace(/\$\{aws:PrincipalTag\/([^}]+)\}/g, (_m, key: string) => tags[key] ?? '\u0000no-such-tag');
  return JSON.parse(text) as PolicyDocument;
}

type AttributeMap = Record<string, Record<string, string>>;

/** The partition key values a DynamoDB request touches, per table: what `dynamodb:LeadingKeys` holds. */
export function leadingKeysOf(operation: string, input: Record<string, unknown>, partitionKeys: Readonly<Record<string, string>>): Record<string, string[] | undefined> {
  const table = input.TableName as string | undefined;
  const valueOf = (map: AttributeMap | undefined, key: string) => {
    const attribute = map?.[key];
    return attribute ? (attribute.S ?? attribute.N ?? attribute.B) : undefined;
  };
  const single = (map: AttributeMap | undefined): Record<string, string[] | undefined> => {
    const value = table ? valueOf(map, partitionKeys[table]) : undefined;
    return { [table ?? '']: value === undefined ? undefined : [value] };
  };
  switch (operation) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return single(input.Key as AttributeMap);
    case 'PutItem':
      return single(input.Item as AttributeMap);
    case 'Query': {
      const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
      const values = (input.ExpressionAttributeValues ?? {}) as AttributeMap;
      const expression = String(input.KeyConditionExpression ?? '');
      for (const [, name, placeholder] of expression.matchAll(/(#?[\w.]+)\s*=\s*(:\w+)/g)) {
        if ((names[name] ?? name) === partitionKeys[table ?? '']) {
          const attribute = values[placeholder];
          return { [table ?? '']: [attribute?.S ?? attribute?.N ?? ''] };
        }
      }
      return { [table ?? '']: undefined };
    }
    case 'BatchGetItem': {
      const items = input.RequestItems as Record<string, { Keys: AttributeMap[] }>;
      return Object.fromEntries(
        Object.entries(items).map(([name, { Keys }]) => [name, Keys.map((k) => valueOf(k, partitionKeys[name]) ?? '')]),
      );
    }
    default:
      return { [table ?? '']: undefined };
  }
}

/** Starts the endpoint; point AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_STS at `endpoint`. */
export async function startLocalDynamoDbIam(props: LocalDynamoDbIamProps): Promise<LocalDynamoDbIam> {
  const account = props.account ?? LOCAL_ACCOUNT;
  const sessions = new Map<string, Session>();
  const decisions: AuthorizationRecord[] = [];
  const upstream = new URL(props.upstream);

  const accessKeyOf = (request: IncomingMessage) => /Credential=([^/]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? '';
  const serviceOf = (request: IncomingMessage) => /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? '';

  function assumeRole(params: URLSearchParams, response: ServerResponse): void {
    const role = props.roles.find((r) => r.arn === params.get('RoleArn'));
    const tags: Record<string, string> = {};
    for (let i = 1; params.has(`Tags.member.${i}.Key`); i += 1) tags[params.get(`Tags.member.${i}.Key`)!] = params.get(`Tags.member.${i}.Value`) ?? '';
    const caller = learner(account);
    const keys = {
      ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
      'aws:TagKeys': Object.keys(tags),
    };
    const allowed = (action: string) =>
      role !== undefined && evaluatePolicy(role.trustPolicy, caller, { action, resource: role.arn, keys }).decision === 'Allow';
    if (!role || !allowed('sts:AssumeRole') || (Object.keys(tags).length > 0 && !allowed('sts:TagSession'))) {
      response.writeHead(403, { 'content-type': 'text/xml' });
      response.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: ${caller.arn} is not authorized to ` +
          `perform: sts:AssumeRole on resource: ${xmlEscape(params.get('RoleArn') ?? '')}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
      return;
    }
    const roleName = role.arn.split('/').pop();
    const sessionName = params.get('RoleSessionName') ?? 'session';
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const arn = `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`;
    sessions.set(accessKeyId, { caller: { arn, account, identityPolicies: role.policies }, role, tags });
    const expiration = new Date(Date.now() + Number(params.get('DurationSeconds') ?? 3600) * 1000).toISOString();
    response.writeHead(200, { 'content-type': 'text/xml' });
    response.end(
      '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
        `<AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${randomBytes(20).toString('hex')}</SecretAccessKey>` +
        `<SessionToken>${randomBytes(24).toString('hex')}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><Arn>${arn}</Arn><AssumedRoleId>AROALOCAL:${xmlEscape(sessionName)}</AssumedRoleId></AssumedRoleUser>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  }

  /** The decision for one DynamoDB request of a session: every table it touches must be allowed. */
  function authorizeDynamoDb(session: Session, operation: string, input: Record<string, unknown>): { decision: Decision; resource: string } {
    const action = `dynamodb:${operation}`;
    const policies = session.role.policies.map((p) => withSessionVariables(p, session.tags));
    const caller = { ...session.caller, identityPolicies: policies };
    for (const [table, leadingKeys] of Object.entries(leadingKeysOf(operation, input, props.partitionKeys))) {
      const tableArn = props.tableArns[table] ?? `arn:aws:dynamodb:ddblocal:000000000000:table/${table}`;
      const resource = input.IndexName ? `${tableArn}/index/${String(input.IndexName)}` : tableArn;
      const keys = leadingKeys ? { 'dynamodb:LeadingKeys': leadingKeys } : {};
      const results = policies.map((p) => evaluatePolicy(p, caller, { action, resource, keys }).decision);
      const decision: Decision = results.includes('ExplicitDeny') ? 'ExplicitDeny' : results.includes('Allow') ? 'Allow' : 'ImplicitDeny';
      decisions.push({ caller: caller.arn, action, resource, leadingKeys, decision });
      if (decision !== 'Allow') return { decision, resource };
    }
    return { decision: 'Allow', resource: '' };
  }

  function forward(request: IncomingMessage, body: Buffer, response: ServerResponse): void {
    const proxied = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 500, upstreamResponse.headers);
        upstreamResponse.pipe(response);
      },
    );
    proxied.on('error', (error) => {
      response.writeHead(502);
      response.end(String(error));
    });
    proxied.end(body);
  }

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      if (serviceOf(request) === 'sts') {
        const params = new URLSearchParams(body.toString('utf8'));
        if (params.get('Action') === 'AssumeRole') return assumeRole(params, response);
        response.writeHead(400, { 'content-type': 'text/xml' });
        return response.end(`<ErrorResponse><Error><Code>InvalidAction</Code><Message>${xmlEscape(params.get('Action') ?? '')} is not served locally</Message></Error></ErrorResponse>`);
      }
      const session = sessions.get(accessKeyOf(request));
      if (session) {
        const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
        const { decision, resource } = authorizeDynamoDb(session, operation, JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>);
        if (decision !== 'Allow') {
          response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          return response.end(
            JSON.stringify({
              __type: 'com.amazon.coral.service#AccessDeniedException',
              message:
                `User: ${session.caller.arn} is not authorized to perform: dynamodb:${operation} on resource: ${resource} ` +
                `because ${decision === 'ExplicitDeny' ? 'of an explicit deny' : 'no identity-based policy allows the action'}`,
            }),
          );
        }
      }
      forward(request, body, response);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    decisions,
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
