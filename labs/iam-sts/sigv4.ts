import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, HttpRequest } from '@smithy/types';

/**
 * Signing a raw HTTP request with Signature Version 4, as the SDK does for every call: a canonical request (method,
 * path, sorted query, signed headers, payload hash) is hashed into a string to sign, which an HMAC chain derived from
 * the secret key, date, Region and service signs. The signature travels either in the Authorization header or, for
 * a presigned URL, in the query string (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 * X-Amz-SignedHeaders, X-Amz-Signature, and X-Amz-Security-Token for temporary credentials).
 */
export interface SigningInput {
  readonly method: string;
  readonly url: string | URL;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly credentials: AwsCredentialIdentity;
  readonly region: string;
  readonly service: string;
  /** Signing time. @default now */
  readonly date?: Date;
}

export class SigningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningError';
  }
}

function toRequest(input: SigningInput): HttpRequest {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new SigningError(`not an absolute URL: ${String(input.url)}`);
  }
  if (!input.credentials?.accessKeyId || !input.credentials.secretAccessKey) {
    throw new SigningError('credentials need an accessKeyId and a secretAccessKey');
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(input.region)) throw new SigningError(`not a Region: "${input.region}"`);
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [...[existing].flat(), value];
  }
  return {
    method: input.method.toUpperCase(),
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { host: url.host, ...input.headers },
    body: input.body,
  };
}

function signer(input: SigningInput): SignatureV4 {
  // S3 signs the path as sent and wants the payload hash in x-amz-content-sha256; other services escape the path
  // once more (uriEscapePath) and take no payload header.
  const s3 = input.service === 's3';
  return new SignatureV4({ credentials: input.credentials, region: input.region, service: input.service, sha256: Sha256, uriEscapePath: !s3, applyChecksum: s3 });
}

function toUrl(request: HttpRequest): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query ?? {})) {
    for (const v of [value].flat()) if (v !== null && v !== undefined) query.append(key, v);
  }
  const port = request.port ? `:${request.port}` : '';
  const search = query.toString();
  return `${request.protocol}//${request.hostname}${port}${request.path}${search ? `?${search}` : ''}`;
}

/** The request with its Authorization, X-Amz-Date (and X-Amz-Security-Token) headers. */
export async function signRequest(input: SigningInput): Promise<{ url: string; headers: Record<string, string>; signature: string }> {
  const signed = await signer(input).sign(toRequest(input), { signingDate: input.date });
  const authorization = signed.headers.authorization ?? '';
  return { url: toUrl(signed), headers: signed.headers, signature: /Signature=([0-9a-f]{64})/.exec(authorization)?.[1] ?? '' };
}

/** A URL carrying its own signature, valid `expiresInSeconds` (1 s – 7 days). Anyone holding it can make the request. */
export async function presignUrl(input: SigningInput & { expiresInSeconds: number }): Promise<{ url: string; signature: string }> {
  if (!Number.isInteger(input.expiresInSeconds) || input.expiresInSeconds < 1 || input.expiresInSeconds > 604_800) {
    throw new SigningError(`expiresInSeconds must be a whole number from 1 to 604800 (7 days), got ${input.expiresInSeconds}`);
  }
  const request = toRequest(input);
  // A presigned S3 URL does not sign the body: its payload hash is the literal UNSIGNED-PAYLOAD.
  const unsigned = input.service === 's3' ? new Set(['x-amz-content-sha256']) : undefined;
  if (unsigned) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const presigned = await signer(input).presign(request, {
    signingDate: input.date,
    expiresIn: input.expiresInSeconds,
    unsignableHeaders: unsigned,
    unhoistableHeaders: unsigned,
  });
  const url = toUrl(presigned);
  return { url, signature: new URL(url).searchParams.get('X-Amz-Signature') ?? '' };
}
