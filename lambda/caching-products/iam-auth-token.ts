import { createHash, createHmac, Hash, Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** SHA-256 (and HMAC-SHA-256 with a secret) from node:crypto, in the shape SignatureV4 asks for. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

export interface IamTokenRequest {
  /** The replication group (or serverless cache) name, lower case, as ElastiCache signs it. */
  readonly cacheName: string;
  /** The ElastiCache user id, equal to its user name for IAM users. */
  readonly userId: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** ElastiCache accepts a token for 15 minutes; a connection made with it stays open up to 12 hours. */
export const IAM_TOKEN_EXPIRES_SECONDS = 900;

/**
 * An ElastiCache IAM authentication token: a SigV4-presigned `GET http://<cache>/?Action=connect&User=<user>` for
 * the service `elasticache`, without its scheme. It is the password of `AUTH <user> <token>`; the caller's IAM
 * identity needs `elasticache:Connect` on the cache and the user.
 */
export async function elastiCacheIamToken(request: IamTokenRequest, signingDate = new Date()): Promise<string> {
  const signer = new SignatureV4({ service: 'elasticache', region: request.region, credentials: request.credentials, sha256: NodeSha256 });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: request.cacheName,
      path: '/',
      query: { Action: 'connect', User: request.userId },
      headers: { host: request.cacheName },
    },
    { expiresIn: IAM_TOKEN_EXPIRES_SECONDS, signingDate },
  );
  const query = Object.entries(presigned.query ?? {})
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return `${request.cacheName}/?${query}`;
}
