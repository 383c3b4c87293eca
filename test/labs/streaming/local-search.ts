import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** An IAM role session the stand-in knows: its access key signs requests, `roleArn` is what FGAC maps. */
export interface KnownSession {
  readonly roleArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface LocalSearchOptions {
  /** The domain's fine-grained access control master user. */
  readonly masterRoleArn: string;
  readonly sessions: readonly KnownSession[];
  readonly region: string;
  /** Broken on purpose: answers unsigned requests (a domain open to the internet). */
  readonly allowAnonymous?: boolean;
  /** Broken on purpose: a wildcard query matches everything. */
  readonly ignoreWildcard?: boolean;
  /** Broken on purpose: role mappings are stored but never grant anything. */
  readonly ignoreMappings?: boolean;
  /**
   * How long after a write a document becomes searchable: the index's refresh interval (OpenSearch's default is 1 s),
   * so a reader must poll. Default 50 ms.
   */
  readonly refreshIntervalMs?: number;
  /** Called before a search is answered: where a test's Firehose stand-in delivers what it has buffered. */
  readonly beforeSearch?: () => Promise<void>;
}

type Query = Record<string, unknown>;

/**
 * A stand-in of an OpenSearch Service domain with fine-grained access control, for the exercise's search step: it
 * refuses unsigned requests (403, as the domain's access policy does), verifies SigV4 signatures of known sessions,
 * lets only the master role use the security API, lets a role write an index only through a role mapping, makes a
 * document searchable only after the next refresh, and answers the queries the step sends (match_all, term and
 * wildcard on `<field>.keyword`, bool filter/must).
 */
export class LocalSearchDomain {
  readonly documents = new Map<string, Record<string, unknown>[]>();
  readonly roles = new Map<string, { index_permissions?: { index_patterns: string[]; allowed_actions: string[] }[] }>();
  readonly mappings = new Map<string, string[]>();
  /** Documents refused to a writer: what Firehose would back up to S3 (failed documents only). */
  readonly refused: { writer: string; document: object }[] = [];
  /** When each indexed document becomes searchable (the next refresh). */
  private readonly searchableAt = new WeakMap<object, number>();
  private server?: Server;
  endpoint = '';

  constructor(private readonly options: LocalSearchOptions) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      // A refused signature is a 403, as the domain answers it.
      const answer = this.handle(req).catch((error: Error) => ({ status: 403, body: { message: error.message } }));
      void answer.then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Whether `roleArn` may write `index`: through a role it is mapped to, as FGAC decides for an IAM role. */
  mayWrite(roleArn: string, index: string): boolean {
    if (this.options.ignoreMappings) return false;
    return [...this.mappings].some(
      ([role, backendRoles]) =>
        backendRoles.includes(roleArn) &&
        (this.roles.get(role)?.index_permissions ?? []).some(
          (p) => p.index_patterns.some((pattern) => globMatch(pattern, index)) && p.allowed_actions.some((a) => ['crud', 'write'].includes(a)),
        ),
    );
  }

  /**
   * A bulk write of `writer` (the Firehose role): indexed when FGAC allows it, otherwise refused; the documents of one
   * bulk become searchable at the same refresh.
   */
  bulk(writer: string, index: string, documents: readonly Record<string, unknown>[]): void {
    if (!this.mayWrite(writer, index)) {
      this.refused.push(...documents.map((document) => ({ writer, document })));
      return;
    }
    const searchableAt = Date.now() + (this.options.refreshIntervalMs ?? 50);
    for (const document of documents) this.searchableAt.set(document, searchableAt);
    this.documents.set(index, [...(this.documents.get(index) ?? []), ...documents]);
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const payload = Buffer.concat(chunks).toString('utf8');
    const caller = await this.caller(req, payload);
    if (!caller) {
      if (!this.options.allowAnonymous) return { status: 403, body: { message: 'User: anonymous is not authorized to perform: es:ESHttpPost' } };
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const body = payload ? (JSON.parse(payload) as Query) : {};
    const security = /^\/_plugins\/_security\/api\/(roles|rolesmapping)\/([^/]+)$/.exec(path);
    if (security) {
      if (caller !== this.options.masterRoleArn) return { status: 403, body: { message: `no permissions for [${path}] and User [name=${caller}]` } };
      if (security[1] === 'roles') this.roles.set(security[2], body as never);
      else this.mappings.set(security[2], (body.backend_roles as string[]) ?? []);
      return { status: 201, body: { status: 'CREATED' } };
    }
    const search = /^\/([^/_][^/]*)\/_search$/.exec(path);
    if (search && req.method === 'POST') {
      await this.options.beforeSearch?.();
      const refreshed = (this.documents.get(search[1]) ?? []).filter((doc) => (this.searchableAt.get(doc) ?? 0) <= Date.now());
      const hits = refreshed.filter((doc) => this.matches(doc, (body.query as Query) ?? { match_all: {} }));
      return { status: 200, body: { hits: { total: { value: hits.length }, hits: hits.slice(0, Number(body.size ?? 10)).map((_source) => ({ _source })) } } };
    }
    return { status: 400, body: { message: `the stand-in does not serve ${req.method} ${path}` } };
  }

  private matches(doc: Record<string, unknown>, query: Query): boolean {
    const [[kind, spec]] = Object.entries(query) as [string, Query][];
    const field = (name: string) => doc[name.replace(/\.keyword$/, '')];
    switch (kind) {
      case 'match_all':
        return true;
      case 'term':
        return Object.entries(spec).every(([name, value]) => field(name) === value);
      case 'wildcard':
        return (
          this.options.ignoreWildcard ||
          Object.entries(spec).every(([name, value]) => globMatch(String((value as Query).value ?? value), String(field(name))))
        );
      case 'bool':
        return [...((spec.filter as Query[]) ?? []), ...((spec.must as Query[]) ?? [])].every((q) => this.matches(doc, q));
      default:
        throw new Error(`the stand-in does not answer ${kind} queries`);
    }
  }

  /** The role of a validly signed request, or undefined for an unsigned one; a bad signature is refused. */
  private async caller(req: IncomingMessage, payload: string): Promise<string | undefined> {
    const authorization = String(req.headers.authorization ?? '');
    if (!authorization) return undefined;
    const [accessKeyId, , region, service] = (/Credential=([^,]+)/.exec(authorization)?.[1] ?? '').split('/');
    const session = this.options.sessions.find((s) => s.accessKeyId === accessKeyId);
    if (!session || region !== this.options.region || service !== 'es') throw new Error(`unknown credential scope in ${authorization}`);
    const amzDate = String(req.headers['x-amz-date']);
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1].split(';') ?? [];
    const headers = Object.fromEntries(
      signedHeaders.filter((name) => !['x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'].includes(name)).map((name) => [name, String(req.headers[name])]),
    );
    const [hostname, port] = String(req.headers.host).split(':');
    const signer = new SignatureV4({ credentials: session, region, service, sha256: Sha256 });
    const url = new URL(req.url ?? '/', 'http://localhost');
    const expected = await signer.sign(
      { method: req.method ?? 'GET', protocol: 'http:', hostname, port: Number(port), path: url.pathname, query: {}, headers, body: payload || undefined },
      { signingDate },
    );
    if (expected.headers.authorization !== authorization) throw new Error('SignatureDoesNotMatch');
    return session.roleArn;
  }
}

function globMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}
