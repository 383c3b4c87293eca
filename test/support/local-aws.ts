import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { authorize, Caller, identityDecision, learner, LOCAL_ACCOUNT, PolicyDocument, Values } from './local-iam';

/**
 * One loopback HTTP endpoint that answers the AWS SDK v3 for the services the security labs call and that have no
 * local emulator: STS (query protocol), Lambda Invoke (REST JSON, running handlers in-process), and services that
 * plug in (KMS, SSM ... over the JSON protocol; IAM, EC2 over the query protocols). Callers are told apart by the
 * access key id in the request's SigV4 credential scope (signatures are not verified); the service by its scope.
 * Point the SDK at it with AWS_ENDPOINT_URL, as the lab exercises honour.
 */

/** What a service error looks like to the SDK: its `name` is the error code. */
export class AwsError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const accessDenied = (caller: Caller, action: string, resource: string, reason = 'no identity-based policy allows the action') =>
  new AwsError('AccessDeniedException', `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource} because ${reason}`);

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** An IAM role as deployed from a template: trust policy, identity policies, boundary. */
export interface LocalRole {
  readonly arn: string;
  readonly trustPolicy: PolicyDocument;
  readonly identityPolicies: PolicyDocument[];
  readonly boundary?: PolicyDocument;
  readonly maxSessionDurationSeconds?: number;
}

export type JsonHandler = (operation: string, input: Record<string, unknown>, caller: Caller) => Promise<unknown> | unknown;
export type QueryHandler = (action: string, params: Record<string, string>, caller: Caller) => Promise<string> | string;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers take their own event types
export type LambdaHandler = (event: any) => Promise<unknown>;

export interface ParsedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

interface Session {
  readonly caller: Caller;
  readonly credentials: Credentials;
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A query-protocol response body: `<ActionResponse><ActionResult>inner</ActionResult>...`. */
export function queryResponse(action: string, inner: string, namespace: string): string {
  return `<${action}Response xmlns="${namespace}"><${action}Result>${inner}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

export class LocalAws {
  public endpoint = '';
  /** Every request answered, for tests that check what was (or was not) sent. */
  public readonly requests: { service: string; operation: string; caller: string; body: string }[] = [];
  private server?: Server;
  private readonly sessions = new Map<string, Session>();
  private readonly roles = new Map<string, LocalRole>();
  private readonly mfaDevices = new Map<string, string>();
  private readonly functions = new Map<string, { handler: LambdaHandler; roleArn?: string }>();
  private readonly jsonServices = new Map<string, JsonHandler>();
  private readonly queryServices = new Map<string, QueryHandler>();

  constructor(public readonly account = LOCAL_ACCOUNT) {
    this.sessions.set('local', { caller: learner(account), credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Env for SDK clients created after this: endpoint, region, the learner's credentials. */
  useFromEnv(): void {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  }

  addRole(role: LocalRole): void {
    this.roles.set(role.arn, role);
  }

  role(arn: string): LocalRole | undefined {
    return this.roles.get(arn);
  }

  /** An MFA device of the learner and the one code it accepts. */
  addMfaDevice(serialNumber: string, code: string): void {
    this.mfaDevices.set(serialNumber, code);
  }

  /** Credentials of a session that acts as `caller`, e.g. a Lambda function's role. */
  issueCredentials(caller: Caller): Credentials {
    const credentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(20).toString('base64'),
      sessionToken: randomBytes(24).toString('base64'),
    };
    this.sessions.set(credentials.accessKeyId, { caller, credentials });
    return credentials;
  }

  /** A caller for a role session (as AssumeRole would create), without the trust policy check. */
  roleSession(roleArn: string, sessionName: string, sessionKeys: Record<string, Values> = {}): Caller {
    const role = this.roles.get(roleArn);
    if (!role) throw new Error(`role ${roleArn} is not deployed locally`);
    const [, name] = /:role\/(?:.*\/)?([^/]+)$/.exec(roleArn) ?? [];
    return {
      arn: `arn:aws:sts::${this.account}:assumed-role/${name}/${sessionName}`,
      account: this.account,
      identityPolicies: role.identityPolicies,
      boundary: role.boundary,
      sessionKeys,
    };
  }

  addFunction(name: string, handler: LambdaHandler, roleArn?: string): void {
    this.functions.set(name, { handler, roleArn });
  }

  /** A JSON-protocol service (`X-Amz-Target: <prefix>.<Operation>`), by its SigV4 signing name (kms, ssm ...). */
  addJsonService(signingName: string, handler: JsonHandler): void {
    this.jsonServices.set(signingName, handler);
  }

  /** A query-protocol service (form body `Action=...`), by its signing name (iam, ec2 ...). The handler returns XML. */
  addQueryService(signingName: string, handler: QueryHandler): void {
    this.queryServices.set(signingName, handler);
  }

  callerOf(accessKeyId: string): Caller | undefined {
    return this.sessions.get(accessKeyId)?.caller;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const request: ParsedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
    const scope = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(
      String(req.headers.authorization ?? '') || `Credential=${url.searchParams.get('X-Amz-Credential') ?? ''}`,
    );
    const [accessKeyId, service] = scope ? [scope[1], scope[2]] : ['', ''];
    const session = this.sessions.get(accessKeyId);
    const target = String(req.headers['x-amz-target'] ?? '');
    try {
      if (!session) throw new AwsError('UnrecognizedClientException', `The security token included in the request is invalid (access key ${accessKeyId || 'missing'})`, 403);
      const caller = session.caller;
      if (target) {
        const handler = this.jsonServices.get(service);
        if (!handler) throw new AwsError('UnknownOperationException', `no local ${service} service`);
        const operation = target.split('.').pop() ?? '';
        this.record(service, operation, caller, request.body);
        const output = await handler(operation, request.body.length ? JSON.parse(request.body.toString('utf8')) : {}, caller);
        return this.send(res, 200, 'application/x-amz-json-1.1', JSON.stringify(output ?? {}));
      }
      if (service === 'lambda') return await this.invoke(request, res, caller);
      if (request.method === 'GET') await this.verifySignature(request, session.credentials);
      const params = { ...Object.fromEntries(request.query), ...Object.fromEntries(new URLSearchParams(request.body.toString('utf8'))) };
      const action = params.Action ?? request.query.get('Action') ?? '';
      this.record(service, action, caller, request.body);
      if (service === 'sts') return this.send(res, 200, 'text/xml', this.sts(action, params, caller));
      const query = this.queryServices.get(service);
      if (!query) throw new AwsError('InvalidAction', `no local ${service} service`);
      return this.send(res, 200, 'text/xml', await query(action, params, caller));
    } catch (error) {
      const awsError = error instanceof AwsError ? error : new AwsError('InternalFailure', String((error as Error)?.stack ?? error), 500);
      if (target) {
        return this.send(res, awsError.status, 'application/x-amz-json-1.1', JSON.stringify({ __type: awsError.code, message: awsError.message }));
      }
      if (service === 'ec2') {
        return this.send(res, awsError.status, 'text/xml', `<Response><Errors><Error><Code>${awsError.code}</Code><Message>${xmlEscape(awsError.message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`);
      }
      return this.send(res, awsError.status, 'text/xml', `<ErrorResponse><Error><Type>Sender</Type><Code>${awsError.code}</Code><Message>${xmlEscape(awsError.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
    }
  }

  /**
   * Verifies the SigV4 signature of a GET request (header or presigned), the way raw signed requests are sent; SDK
   * calls (POST) are identified by their access key only.
   */
  private async verifySignature(request: ParsedRequest, credentials: Credentials): Promise<void> {
    const presigned = request.query.has('X-Amz-Signature');
    const authorization = String(request.headers.authorization ?? '');
    const scope = (presigned ? request.query.get('X-Amz-Credential') : /Credential=([^,]+)/.exec(authorization)?.[1]) ?? '';
    const [, , region, service] = scope.split('/');
    const amzDate = (presigned ? request.query.get('X-Amz-Date') : String(request.headers['x-amz-date'] ?? '')) ?? '';
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const signedHeaders = (presigned ? request.query.get('X-Amz-SignedHeaders') : /SignedHeaders=([^,]+)/.exec(authorization)?.[1])?.split(';') ?? [];
    const [hostname, port] = String(request.headers.host ?? '').split(':');
    const query: Record<string, string> = {};
    for (const [key, value] of request.query) if (!presigned || !/^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token)$/.test(key)) query[key] = value;
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) if (!['x-amz-date', 'x-amz-security-token'].includes(name)) headers[name] = String(request.headers[name] ?? '');
    const unsigned = { method: 'GET', protocol: 'http:', hostname, port: port ? Number(port) : undefined, path: request.path, query, headers };
    const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, uriEscapePath: true, applyChecksum: false });
    let expected: string | null | undefined;
    let received: string | null | undefined;
    if (presigned) {
      const expiresIn = Number(request.query.get('X-Amz-Expires'));
      if (Date.now() > signingDate.getTime() + expiresIn * 1000) throw new AwsError('ExpiredToken', 'The presigned URL has expired', 403);
      expected = (await signer.presign(unsigned, { signingDate, expiresIn })).query?.['X-Amz-Signature'] as string | undefined;
      received = request.query.get('X-Amz-Signature');
    } else {
      expected = /Signature=([0-9a-f]+)/.exec((await signer.sign(unsigned, { signingDate })).headers.authorization ?? '')?.[1];
      received = /Signature=([0-9a-f]+)/.exec(authorization)?.[1];
    }
    if (!expected || expected !== received) {
      throw new AwsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', 403);
    }
  }

  private record(service: string, operation: string, caller: Caller, body: Buffer): void {
    this.requests.push({ service, operation, caller: caller.arn, body: body.toString('utf8') });
  }

  private send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(body);
  }

  private async invoke(request: ParsedRequest, res: ServerResponse, caller: Caller): Promise<void> {
    const name = decodeURIComponent(/\/functions\/([^/]+)\/invocations$/.exec(request.path)?.[1] ?? '');
    const fn = this.functions.get(name);
    this.record('lambda', 'Invoke', caller, request.body);
    if (!fn) throw new AwsError('ResourceNotFoundException', `Function not found: ${name}`, 404);
    if (identityDecision(caller, { action: 'lambda:InvokeFunction', resource: name }) !== 'Allow') {
      throw accessDenied(caller, 'lambda:InvokeFunction', name);
    }
    try {
      const output = await fn.handler(request.body.length ? JSON.parse(request.body.toString('utf8')) : {});
      this.send(res, 200, 'application/json', JSON.stringify(output ?? null), { 'x-amz-executed-version': '$LATEST' });
    } catch (error) {
      const payload = { errorType: (error as Error).name ?? 'Error', errorMessage: (error as Error).message ?? String(error) };
      this.send(res, 200, 'application/json', JSON.stringify(payload), { 'x-amz-function-error': 'Unhandled' });
    }
  }

  /** STS: GetCallerIdentity, AssumeRole (trust policy, ExternalId, MFA), GetSessionToken (MFA), DecodeAuthorizationMessage. */
  private sts(action: string, params: Record<string, string>, caller: Caller): string {
    const ns = 'https://sts.amazonaws.com/doc/2011-06-15/';
    const credentialsXml = (c: Credentials, expiration: Date) =>
      `<Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(c.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${xmlEscape(c.sessionToken ?? '')}</SessionToken><Expiration>${expiration.toISOString()}</Expiration></Credentials>`;
    switch (action) {
      case 'GetCallerIdentity':
        return queryResponse(action, `<Arn>${caller.arn}</Arn><UserId>AIDALOCAL</UserId><Account>${caller.account}</Account>`, ns);
      case 'AssumeRole': {
        const roleArn = params.RoleArn ?? '';
        const role = this.roles.get(roleArn);
        if (!role) throw new AwsError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
        const mfa = params.SerialNumber !== undefined || params.TokenCode !== undefined ? this.checkMfa(params.SerialNumber, params.TokenCode) : false;
        const mfaPresent = mfa || caller.sessionKeys?.['aws:MultiFactorAuthPresent'] === 'true';
        const keys: Record<string, Values | undefined> = {
          'sts:ExternalId': params.ExternalId,
          'aws:MultiFactorAuthPresent': mfaPresent ? 'true' : caller.arn.includes(':user/') ? 'false' : undefined,
          'aws:MultiFactorAuthAge': mfaPresent ? '0' : undefined,
          'sts:RoleSessionName': params.RoleSessionName,
        };
        const decision = authorize(caller, { action: 'sts:AssumeRole', resource: roleArn, keys }, role.trustPolicy, { keyPolicyOnly: true });
        if (decision !== 'Allow') {
          throw new AwsError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
        }
        const duration = Number(params.DurationSeconds ?? 3600);
        const max = role.maxSessionDurationSeconds ?? 3600;
        if (duration < 900 || duration > max) {
          throw new AwsError('ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role (${max}).`);
        }
        const session = this.roleSession(roleArn, params.RoleSessionName ?? 'session', mfaPresent ? { 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': '0' } : {});
        const credentials = this.issueCredentials(session);
        return queryResponse(
          action,
          credentialsXml(credentials, new Date(Date.now() + duration * 1000)) +
            `<AssumedRoleUser><Arn>${session.arn}</Arn><AssumedRoleId>AROALOCAL:${xmlEscape(params.RoleSessionName ?? '')}</AssumedRoleId></AssumedRoleUser>`,
          ns,
        );
      }
      case 'GetSessionToken': {
        if (!caller.arn.includes(':user/')) {
          throw new AwsError('AccessDenied', 'Cannot call GetSessionToken with session credentials', 403);
        }
        const mfa = params.SerialNumber !== undefined || params.TokenCode !== undefined ? this.checkMfa(params.SerialNumber, params.TokenCode) : false;
        const credentials = this.issueCredentials({
          ...caller,
          sessionKeys: mfa ? { 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': '0' } : { 'aws:MultiFactorAuthPresent': 'false' },
        });
        const duration = Number(params.DurationSeconds ?? 43_200);
        return queryResponse(action, credentialsXml(credentials, new Date(Date.now() + duration * 1000)), ns);
      }
      case 'DecodeAuthorizationMessage': {
        if (identityDecision(caller, { action: 'sts:DecodeAuthorizationMessage', resource: '*' }) !== 'Allow') {
          throw new AwsError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:DecodeAuthorizationMessage`, 403);
        }
        const decoded = LocalAws.decodeMessage(params.EncodedMessage ?? '');
        return queryResponse(action, `<DecodedMessage>${xmlEscape(decoded)}</DecodedMessage>`, ns);
      }
      default:
        throw new AwsError('InvalidAction', `local STS does not implement ${action}`);
    }
  }

  private checkMfa(serialNumber: string | undefined, code: string | undefined): boolean {
    const expected = serialNumber ? this.mfaDevices.get(serialNumber) : undefined;
    if (!expected || code !== expected) {
      throw new AwsError('AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code.', 403);
    }
    return true;
  }

  /** Encoded authorization messages: opaque to the caller, decoded only by STS (here: base64 of the JSON). */
  static encodeMessage(decoded: object): string {
    return Buffer.from(JSON.stringify(decoded)).toString('base64url');
  }

  static decodeMessage(encoded: string): string {
    try {
      return Buffer.from(encoded, 'base64url').toString('utf8');
    } catch {
      throw new AwsError('InvalidAuthorizationMessageException', 'The encoded message is invalid.');
    }
  }
}

export async function startLocalAws(account?: string): Promise<LocalAws> {
  return new LocalAws(account).start();
}
