import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, Server as NetServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the core module object itself, whose connect can be replaced
import tlsModule = require('node:tls');
import type { TLSSocket } from 'node:tls';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Template } from 'aws-cdk-lib/assertions';
import { authorize, Caller, learner, LOCAL_REGION, PolicyDocument, resolveValue, TemplateEnvironment } from './local-iam';

/**
 * An S3 front for fauxqs (which stores objects and runs multipart uploads but has no bucket policies, default
 * encryption, presigned-URL expiry, bucket configuration or notifications). Everything it adds comes from the
 * synthesized template:
 *  - the bucket policy, evaluated per request with aws:SecureTransport (one port serves TLS and plain HTTP: the first
 *    byte of a connection says which), s3:TlsVersion and s3:x-amz-server-side-encryption. UploadPart and
 *    CompleteMultipartUpload carry the encryption of their CreateMultipartUpload, as S3 applies it to the upload;
 *  - default encryption (response headers), versioning status, lifecycle rules and inventory configurations;
 *  - presigned URLs: X-Amz-Date + X-Amz-Expires, and every signed header present (signatures are not verified);
 *  - ListMultipartUploads, and ObjectCreated notifications to SQS queues (NotificationConfiguration + filters).
 * Not emulated: object versions (ListObjectVersions, VersionId), KMS calls, replication.
 */

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

interface LocalBucket {
  readonly name: string;
  readonly properties: Record<string, unknown>;
  policy?: PolicyDocument;
  notifications: { queueUrl: string; events: string[]; prefix?: string; suffix?: string }[];
}

export interface LocalS3 {
  /** https://127.0.0.1:<port>: TLS and plain HTTP on the same port. */
  readonly endpoint: string;
  /** The bucket policy in force for a bucket; tests may replace it to check that an exercise notices. */
  policy(bucket: string): PolicyDocument | undefined;
  setPolicy(bucket: string, policy: PolicyDocument | undefined): void;
  stop(): Promise<void>;
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const s3Error = (res: ServerResponse, status: number, code: string, message: string) => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xml(message)}</Message><RequestId>local</RequestId></Error>`);
};

function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), 'local-s3-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Makes this process trust the front's certificate for connections to 127.0.0.1 (the SDK's agent and fetch both
 * call tls.connect), keeping verification on. Jest gives each test file its own process.env, which Node's TLS code
 * does not read, so NODE_TLS_REJECT_UNAUTHORIZED could not do it. Returns the undo.
 */
function trustOnLoopback(cert: Buffer): () => void {
  const tls = tlsModule as { connect: typeof tlsModule.connect }; // the core module object itself, not an ES namespace
  const original = tls.connect;
  tls.connect = ((...args: unknown[]) => {
    const options = args.find((a) => typeof a === 'object' && a !== null) as tlsModule.ConnectionOptions | undefined;
    if (options && (options.host === '127.0.0.1' || options.servername === '127.0.0.1') && !options.ca) {
      options.ca = [...tlsModule.rootCertificates, cert.toString()];
    }
    return (original as (...a: unknown[]) => tlsModule.TLSSocket)(...args);
  }) as typeof tlsModule.connect;
  return () => {
    tls.connect = original;
  };
}

/** What S3 authorizes a request as, for the actions the lab's policies name. */
function actionOf(method: string, key: string, query: URLSearchParams): string {
  if (!key) {
    if (query.has('uploads')) return 's3:ListBucketMultipartUploads';
    if (query.has('versions')) return 's3:ListBucketVersions';
    for (const [param, name] of [['encryption', 'GetEncryptionConfiguration'], ['lifecycle', 'GetLifecycleConfiguration'], ['inventory', 'GetInventoryConfiguration'], ['versioning', 'GetBucketVersioning']]) {
      if (query.has(param)) return `s3:${method === 'GET' ? name : name.replace(/^Get/, 'Put')}`;
    }
    return method === 'GET' ? 's3:ListBucket' : `s3:${method}Bucket`;
  }
  if (method === 'GET' || method === 'HEAD') return 's3:GetObject';
  if (method === 'DELETE') return query.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject';
  return 's3:PutObject'; // PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, CopyObject
}

function configurationXml(bucket: LocalBucket, query: URLSearchParams): string | undefined {
  const p = bucket.properties;
  if (query.has('encryption')) {
    const rules = ((p.BucketEncryption as { ServerSideEncryptionConfiguration?: Record<string, unknown>[] })?.ServerSideEncryptionConfiguration ?? [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    return `<ServerSideEncryptionConfiguration>${rules.map((r) => {
      const byDefault = r.ServerSideEncryptionByDefault as { SSEAlgorithm: string; KMSMasterKeyID?: string };
      return `<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${byDefault.SSEAlgorithm}</SSEAlgorithm>${byDefault.KMSMasterKeyID ? `<KMSMasterKeyID>${byDefault.KMSMasterKeyID}</KMSMasterKeyID>` : ''}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>${r.BucketKeyEnabled === true}</BucketKeyEnabled></Rule>`;
    }).join('')}</ServerSideEncryptionConfiguration>`;
  }
  if (query.has('versioning')) {
    const status = (p.VersioningConfiguration as { Status?: string })?.Status;
    return `<VersioningConfiguration>${status ? `<Status>${status}</Status>` : ''}</VersioningConfiguration>`;
  }
  if (query.has('lifecycle')) {
    const rules = ((p.LifecycleConfiguration as { Rules?: Record<string, unknown>[] })?.Rules ?? []);
    return `<LifecycleConfiguration>${rules.map((r) => {
      const abort = r.AbortIncompleteMultipartUpload as { DaysAfterInitiation: number } | undefined;
      const noncurrent = r.NoncurrentVersionExpiration as { NoncurrentDays: number } | undefined;
      return `<Rule><ID>${r.Id}</ID><Filter><Prefix>${r.Prefix ?? ''}</Prefix></Filter><Status>${r.Status}</Status>` +
        (r.ExpirationInDays ? `<Expiration><Days>${r.ExpirationInDays}</Days></Expiration>` : '') +
        (noncurrent ? `<NoncurrentVersionExpiration><NoncurrentDays>${noncurrent.NoncurrentDays}</NoncurrentDays></NoncurrentVersionExpiration>` : '') +
        (abort ? `<AbortIncompleteMultipartUpload><DaysAfterInitiation>${abort.DaysAfterInitiation}</DaysAfterInitiation></AbortIncompleteMultipartUpload>` : '') +
        '</Rule>';
    }).join('')}</LifecycleConfiguration>`;
  }
  if (query.has('inventory')) {
    const inventory = ((p.InventoryConfigurations as Record<string, unknown>[]) ?? []).find((i) => i.Id === query.get('id'));
    if (!inventory) return undefined;
    const destination = inventory.Destination as { BucketArn: string; Format: string; Prefix?: string };
    return `<InventoryConfiguration><Id>${inventory.Id}</Id><IsEnabled>${inventory.Enabled}</IsEnabled>` +
      `<Destination><S3BucketDestination><Bucket>${destination.BucketArn}</Bucket><Format>${destination.Format}</Format>${destination.Prefix ? `<Prefix>${destination.Prefix}</Prefix>` : ''}</S3BucketDestination></Destination>` +
      `<Schedule><Frequency>${inventory.ScheduleFrequency}</Frequency></Schedule><IncludedObjectVersions>${inventory.IncludedObjectVersions}</IncludedObjectVersions>` +
      `<OptionalFields>${((inventory.OptionalFields as string[]) ?? []).map((f) => `<Field>${f}</Field>`).join('')}</OptionalFields></InventoryConfiguration>`;
  }
  return undefined;
}

/** Default encryption of a bucket as S3 reports it on object responses. */
function encryptionHeaders(bucket: LocalBucket): Record<string, string> {
  const rule = (bucket.properties.BucketEncryption as { ServerSideEncryptionConfiguration?: { ServerSideEncryptionByDefault: { SSEAlgorithm: string }; BucketKeyEnabled?: boolean }[] })?.ServerSideEncryptionConfiguration?.[0];
  const algorithm = rule?.ServerSideEncryptionByDefault.SSEAlgorithm ?? 'AES256';
  return {
    'x-amz-server-side-encryption': algorithm,
    ...(algorithm === 'aws:kms' && rule?.BucketKeyEnabled ? { 'x-amz-server-side-encryption-bucket-key-enabled': 'true' } : {}),
  };
}

export interface LocalS3Options {
  /** fauxqs endpoint, e.g. from startLocalSqs(). */
  readonly fauxqsEndpoint: string;
  readonly sqs: SQSClient;
  /** Queue URLs by logical id (deployQueuesLocally). */
  readonly queueUrls: Record<string, string>;
  readonly env: TemplateEnvironment;
}

/** Creates the template's buckets in fauxqs and serves them through the front. */
export async function startLocalS3(template: Template, options: LocalS3Options): Promise<LocalS3> {
  const json = template.toJSON() as { Resources: Record<string, CfnResource> };
  const resolve = <T>(value: unknown) => resolveValue(value, options.env) as T;
  const buckets = new Map<string, LocalBucket>();
  const fauxqs = new S3Client({ endpoint: options.fauxqsEndpoint, forcePathStyle: true, region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  for (const [id, resource] of Object.entries(json.Resources)) {
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const name = options.env.resources[id].ref;
    let properties = resource.Properties ?? {};
    try {
      properties = resolve<Record<string, unknown>>(properties);
    } catch {
      // a property naming something not deployed locally: keep the raw values
    }
    buckets.set(name, { name, properties, notifications: [] });
    await fauxqs.send(new CreateBucketCommand({ Bucket: name }));
  }
  fauxqs.destroy();
  for (const resource of Object.values(json.Resources)) {
    if (resource.Type === 'AWS::S3::BucketPolicy') {
      const bucket = buckets.get(resolve<string>(resource.Properties?.Bucket));
      if (bucket) bucket.policy = resolve<PolicyDocument>(resource.Properties?.PolicyDocument);
    }
    if (resource.Type === 'Custom::S3BucketNotifications') {
      const bucket = buckets.get(resolve<string>(resource.Properties?.BucketName));
      const config = resource.Properties?.NotificationConfiguration as { QueueConfigurations?: { Events: string[]; QueueArn: { 'Fn::GetAtt': [string, string] }; Filter?: { Key: { FilterRules: { Name: string; Value: string }[] } } }[] };
      for (const queue of config?.QueueConfigurations ?? []) {
        const rules = queue.Filter?.Key.FilterRules ?? [];
        bucket?.notifications.push({
          queueUrl: options.queueUrls[queue.QueueArn['Fn::GetAtt'][0]],
          events: queue.Events,
          prefix: rules.find((r) => r.Name.toLowerCase() === 'prefix')?.Value,
          suffix: rules.find((r) => r.Name.toLowerCase() === 'suffix')?.Value,
        });
      }
    }
  }

  const uploads = new Map<string, { bucket: string; key: string; sse?: string; kmsKeyId?: string; initiated: string }>();
  const upstream = new URL(options.fauxqsEndpoint);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://local');
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    const bucket = buckets.get(bucketName);
    if (!bucket) return s3Error(res, 404, 'NoSuchBucket', `The specified bucket ${bucketName} does not exist`);
    const method = req.method ?? 'GET';
    const secure = (req.socket as TLSSocket).encrypted === true;
    const query = url.searchParams;

    const credential = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? query.get('X-Amz-Credential')?.split('/')[0];
    if (query.has('X-Amz-Expires')) {
      const date = query.get('X-Amz-Date') ?? '';
      const signedAt = Date.parse(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
      if (Date.now() > signedAt + Number(query.get('X-Amz-Expires')) * 1000) return s3Error(res, 403, 'AccessDenied', 'Request has expired');
      const missing = (query.get('X-Amz-SignedHeaders') ?? '').split(';').filter((h) => h && req.headers[h] === undefined);
      if (missing.length) return s3Error(res, 403, 'SignatureDoesNotMatch', `The request signature we calculated does not match: missing signed headers ${missing.join(', ')}`);
    }
    const caller: Caller | undefined = credential ? learner(options.env.account) : undefined;
    const action = actionOf(method, key, query);
    const uploadId = query.get('uploadId') ?? undefined;
    const sse = (req.headers['x-amz-server-side-encryption'] as string | undefined) ?? query.get('x-amz-server-side-encryption') ?? (uploadId ? uploads.get(uploadId)?.sse : undefined);
    const tlsVersion = secure ? /TLSv(1\.\d)/.exec((req.socket as TLSSocket).getProtocol() ?? '')?.[1] : undefined;
    const kmsKeyId = (req.headers['x-amz-server-side-encryption-aws-kms-key-id'] as string | undefined) ?? (uploadId ? uploads.get(uploadId)?.kmsKeyId : undefined);
    const keys = {
      'aws:SecureTransport': String(secure),
      's3:TlsVersion': tlsVersion,
      's3:x-amz-server-side-encryption': action === 's3:PutObject' ? sse : undefined,
      's3:x-amz-server-side-encryption-aws-kms-key-id': action === 's3:PutObject' ? kmsKeyId : undefined,
    };
    const resource = key ? `arn:aws:s3:::${bucket.name}/${key}` : `arn:aws:s3:::${bucket.name}`;
    const anonymous: Caller = { arn: '*', account: 'anonymous', identityPolicies: [] };
    const decision = authorize(caller ?? anonymous, { action, resource, keys }, bucket.policy);
    if (decision !== 'Allow') return s3Error(res, 403, 'AccessDenied', 'Access Denied');

    if (method === 'GET' && !key) {
      if (query.has('uploads')) {
        const listed = [...uploads].filter(([, u]) => u.bucket === bucket.name && u.key.startsWith(query.get('prefix') ?? ''));
        res.writeHead(200, { 'content-type': 'application/xml' });
        return void res.end(`<ListMultipartUploadsResult><Bucket>${bucket.name}</Bucket>${listed.map(([id, u]) => `<Upload><Key>${xml(u.key)}</Key><UploadId>${id}</UploadId><Initiated>${u.initiated}</Initiated></Upload>`).join('')}</ListMultipartUploadsResult>`);
      }
      if (query.has('versions')) return s3Error(res, 501, 'NotImplemented', 'object versions are not emulated locally');
      const configuration = configurationXml(bucket, query);
      if (configuration !== undefined) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        return void res.end(configuration);
      }
      if (['encryption', 'lifecycle', 'inventory', 'versioning'].some((q) => query.has(q))) return s3Error(res, 404, 'NoSuchConfiguration', 'The specified configuration does not exist.');
    }
    if (query.has('versionId')) return s3Error(res, 501, 'NotImplemented', 'object versions are not emulated locally');

    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host };
    delete headers['x-amz-server-side-encryption'];
    delete headers['x-amz-server-side-encryption-aws-kms-key-id'];
    const forwarded = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const upstreamRequest = httpRequest(
        { host: upstream.hostname, port: upstream.port, method, path: `/${bucket.name}/${keyParts.join('/')}${url.search}`, headers },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (c: Buffer) => parts.push(c));
          response.on('end', () => resolve({ status: response.statusCode ?? 500, headers: response.headers, body: Buffer.concat(parts) }));
        },
      );
      upstreamRequest.on('error', reject);
      upstreamRequest.end(body);
    });
    const ok = forwarded.status >= 200 && forwarded.status < 300;
    if (ok && method === 'POST' && query.has('uploads')) {
      const id = /<UploadId>([^<]+)<\/UploadId>/.exec(forwarded.body.toString('utf8'))?.[1];
      if (id) uploads.set(id, { bucket: bucket.name, key, sse, kmsKeyId, initiated: new Date().toISOString() });
    }
    const completed = ok && method === 'POST' && uploadId !== undefined;
    if ((completed || (ok && method === 'DELETE')) && uploadId) uploads.delete(uploadId);
    const created = ok && key && ((method === 'PUT' && !uploadId) || completed);
    const objectHeaders = key && ok && !query.has('uploadId') && !query.has('uploads') ? encryptionHeaders(bucket) : {};
    const responseHeaders = { ...forwarded.headers, ...objectHeaders };
    delete responseHeaders['transfer-encoding'];
    if (method !== 'HEAD') responseHeaders['content-length'] = String(forwarded.body.length);
    res.writeHead(forwarded.status, responseHeaders);
    res.end(method === 'HEAD' ? undefined : forwarded.body);
    if (created) {
      const size = completed ? undefined : body.length;
      for (const target of bucket.notifications) {
        const matches = target.events.some((e) => e === 's3:ObjectCreated:*') && key.startsWith(target.prefix ?? '') && key.endsWith(target.suffix ?? '');
        if (!matches) continue;
        const record = {
          eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: LOCAL_REGION, eventTime: new Date().toISOString(),
          eventName: completed ? 'ObjectCreated:CompleteMultipartUpload' : 'ObjectCreated:Put',
          s3: { s3SchemaVersion: '1.0', bucket: { name: bucket.name, arn: `arn:aws:s3:::${bucket.name}` }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size, eTag: String(forwarded.headers.etag ?? '').replace(/"/g, '') } },
        };
        await options.sqs.send(new SendMessageCommand({ QueueUrl: target.queueUrl, MessageBody: JSON.stringify({ Records: [record] }) }));
      }
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => s3Error(res, 500, 'InternalError', String((error as Error)?.stack ?? error)));
  };
  const plain: Server = createHttpServer(onRequest);
  const certificate = selfSignedCertificate();
  const tls = createHttpsServer(certificate, onRequest);
  const untrust = trustOnLoopback(certificate.cert);
  const front: NetServer = createNetServer((socket: Socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === 0x16 ? tls : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const port = (front.address() as { port: number }).port;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    policy: (name) => buckets.get(name)?.policy,
    setPolicy: (name, policy) => {
      const bucket = buckets.get(name);
      if (!bucket) throw new Error(`no local bucket ${name}`);
      bucket.policy = policy;
    },
    stop: async () => {
      untrust();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      plain.close();
      tls.close();
    },
  };
}

export interface CdnTtls {
  readonly min: number;
  readonly default: number;
  readonly max: number;
}

/** How long CloudFront keeps a response: the origin's s-maxage/max-age (or the default TTL), bounded by min and max. */
export function cloudFrontTtl(cacheControl: string | null, ttl: CdnTtls): number {
  const directives = (cacheControl ?? '').toLowerCase();
  if (/no-store|no-cache|private/.test(directives)) return ttl.min;
  const maxAge = /s-maxage=(\d+)/.exec(directives)?.[1] ?? /max-age=(\d+)/.exec(directives)?.[1];
  const asked = maxAge === undefined ? ttl.default : Number(maxAge);
  return Math.min(ttl.max, Math.max(ttl.min, asked));
}

/**
 * A stand-in for one CloudFront edge cache: GET /<key> reads the object from the origin bucket (path-style, on the
 * fauxqs endpoint: origin access control is not emulated) and caches it for `cloudFrontTtl`, answering with
 * `X-Cache: Hit|Miss from cloudfront` and `Age`.
 */
export async function startLocalCdn(origin: string, bucket: string, ttl: CdnTtls): Promise<{ url: string; stop: () => Promise<void> }> {
  const cache = new Map<string, { body: Buffer; headers: Record<string, string>; storedAt: number; ttl: number }>();
  const server = createHttpServer(async (req, res) => {
    const key = (req.url ?? '/').split('?')[0];
    const cached = cache.get(key);
    const now = Date.now();
    if (cached && now - cached.storedAt < cached.ttl * 1000) {
      res.writeHead(200, { ...cached.headers, 'x-cache': 'Hit from cloudfront', age: String(Math.floor((now - cached.storedAt) / 1000)) });
      return void res.end(cached.body);
    }
    const response = await fetch(`${origin}/${bucket}${key}`);
    const body = Buffer.from(await response.arrayBuffer());
    const headers = { 'content-type': response.headers.get('content-type') ?? 'application/octet-stream', ...(response.headers.get('cache-control') ? { 'cache-control': response.headers.get('cache-control') as string } : {}) };
    if (response.status === 200) cache.set(key, { body, headers, storedAt: now, ttl: cloudFrontTtl(response.headers.get('cache-control'), ttl) });
    res.writeHead(response.status, { ...headers, 'x-cache': response.status === 200 ? 'Miss from cloudfront' : 'Error from cloudfront' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
