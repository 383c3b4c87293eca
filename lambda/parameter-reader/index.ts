import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';

const logger = new Logger({ serviceName: 'parameter-reader' });

/** What a caller learns about a value: enough to compare it, never the value. */
export interface ValueFingerprint {
  readonly source: 'ssm-securestring' | 'secrets-manager';
  readonly name: string;
  /** First 16 hex digits of the SHA-256 of the value. */
  readonly sha256: string;
  readonly length: number;
}

export interface ReaderResponse {
  readonly parameter: ValueFingerprint;
  readonly secret?: ValueFingerprint;
}

export interface ReaderEvent {
  /** Seconds a value stays in the function's memory before Powertools fetches it again. @default 30 */
  readonly maxAgeSeconds?: number;
  /** Skip the cache (e.g. right after a rotation). @default false */
  readonly forceFetch?: boolean;
}

export const fingerprint = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 16);

export class ReaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReaderError';
  }
}

/**
 * Reads a Parameter Store SecureString (decrypted by SSM with the AWS managed key aws/ssm) and, when SECRET_ARN is set,
 * a Secrets Manager secret, through Powertools' providers: values are cached in the execution environment for
 * `maxAge` seconds, so warm invocations do not call SSM or Secrets Manager each time.
 *
 * The Secrets Manager provider and SDK client load on the first secret read, not with the module: a function without
 * SECRET_ARN (the iam-sts lab's) would otherwise load a second SDK client at every cold start for nothing. Without
 * `clients.secrets`, the provider creates its own client.
 */
export function createHandler(
  clients: { ssm: SSMClient; secrets?: SecretsManagerClient },
  environment: Record<string, string | undefined> = process.env,
): (event?: ReaderEvent) => Promise<ReaderResponse> {
  const ssmProvider = new SSMProvider({ awsSdkV3Client: clients.ssm });
  let secretsProvider: Promise<SecretsProvider> | undefined;
  const secrets = () =>
    (secretsProvider ??= import('@aws-lambda-powertools/parameters/secrets').then(
      ({ SecretsProvider }) => new SecretsProvider(clients.secrets ? { awsSdkV3Client: clients.secrets } : {}),
    ));
  return async (event = {}) => {
    const name = environment.SECURE_PARAMETER_NAME;
    if (!name) throw new ReaderError('SECURE_PARAMETER_NAME is not set');
    const maxAge = event.maxAgeSeconds ?? 30;
    if (!Number.isInteger(maxAge) || maxAge < 0) throw new ReaderError(`maxAgeSeconds must be a whole number from 0, got ${maxAge}`);
    const options = { maxAge, forceFetch: event.forceFetch ?? false };
    const value = await ssmProvider.get(name, { ...options, decrypt: true });
    if (typeof value !== 'string') throw new ReaderError(`parameter ${name} has no value: put it first (aws ssm put-parameter --type SecureString ...)`);
    const response: { parameter: ValueFingerprint; secret?: ValueFingerprint } = {
      parameter: { source: 'ssm-securestring', name, sha256: fingerprint(value), length: value.length },
    };
    const secretArn = environment.SECRET_ARN;
    if (secretArn) {
      const secret = await (await secrets()).get(secretArn, options);
      if (typeof secret !== 'string') throw new ReaderError(`secret ${secretArn} has no string value`);
      response.secret = { source: 'secrets-manager', name: secretArn, sha256: fingerprint(secret), length: secret.length };
    }
    logger.info('read', { parameter: name, secret: secretArn, maxAge });
    return response;
  };
}

export const handler = createHandler({ ssm: new SSMClient({}) });
