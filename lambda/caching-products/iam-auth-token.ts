import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../node-sha256';

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
