import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../core/function';
import { PropsValidator } from '../core/validation';

/** The KMS actions the envelope function calls, and nothing else (no kms:Encrypt: data never goes to KMS). */
export const ENVELOPE_KMS_ACTIONS = [
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
] as const;

/** Lambda's bounds on the function's settings (Lambda quotas). */
export const ENVELOPE_ENCRYPTION_LIMITS = {
  minTimeoutSeconds: 1,
  maxTimeoutSeconds: 900,
  minMemoryMb: 128,
  maxMemoryMb: 10_240,
} as const;

/**
 * A key whose policy must name its users (a `CustomerManagedKey`): IAM permissions alone do not let them use it, so
 * the function's role is added to the key policy's users too.
 */
export interface IKeyPolicyUsers {
  /** The KMS key itself. */
  readonly key: kms.IKey;
  /** Adds `principal` to the users named in the key policy. */
  addUser(principal: iam.IPrincipal): void;
}

export interface EnvelopeEncryptionProps {
  /**
   * Symmetric KMS key that encrypts the data keys: a `kms.IKey` whose key policy lets IAM grant its use (the default
   * key policy), or a key whose policy names its users (`IKeyPolicyUsers`, e.g. a `CustomerManagedKey`), to which the
   * function's role is added as a user.
   */
  readonly encryptionKey: kms.IKey | IKeyPolicyUsers;
  /** Function timeout (1–900 s, a whole number of seconds). @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Function memory (128–10,240 MB); more memory also means more CPU for AES-GCM on large payloads. @default 256 */
  readonly memorySize?: number;
}

/**
 * Envelope encryption packaged as a function: `encrypt` calls KMS GenerateDataKey, encrypts locally with
 * AES-256-GCM and returns an envelope holding only the encrypted data key; `decrypt` calls KMS Decrypt with the
 * same encryption context; `prepare-data-key` (GenerateDataKeyWithoutPlaintext) and `re-encrypt` (ReEncrypt) too.
 * Handler: `lambda/envelope-encryption`.
 */
export class EnvelopeEncryption extends Construct {
  /** The function that encrypts and decrypts. */
  public readonly handler: lambda.IFunction;
  /** The KMS key that encrypts the data keys. */
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: EnvelopeEncryptionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(10);
    const memorySize = props.memorySize ?? 256;
    const limits = ENVELOPE_ENCRYPTION_LIMITS;
    const check = new PropsValidator(this, 'EnvelopeEncryption');
    const timeoutSeconds = check.seconds(timeout, 'timeout');
    if (timeoutSeconds !== undefined) {
      check.inRange(
        timeoutSeconds,
        { min: limits.minTimeoutSeconds, max: limits.maxTimeoutSeconds },
        'TimeoutRange',
        `timeout must be between ${limits.minTimeoutSeconds} and ${limits.maxTimeoutSeconds} seconds, got ${timeoutSeconds}`,
      );
    }
    check.inRange(
      memorySize,
      { min: limits.minMemoryMb, max: limits.maxMemoryMb, whole: true },
      'MemorySizeRange',
      `memorySize must be a whole number of MB between ${limits.minMemoryMb} and ${limits.maxMemoryMb}, got ${memorySize}`,
    );
    check.throwIfInvalid();

    // A key whose policy names its users says so through IKeyPolicyUsers.addUser.
    const given = props.encryptionKey;
    const keyPolicy = 'addUser' in given ? given : undefined;
    this.encryptionKey = 'addUser' in given ? given.key : given;
    const fn = new SafeNodejsFunction(this, 'Function', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'envelope-encryption', 'index.ts'),
      description: 'Envelope encryption: KMS data keys, AES-256-GCM locally, only the encrypted data key stored',
      timeout,
      memorySize,
      environment: { KEY_ID: this.encryptionKey.keyArn },
    });
    this.handler = fn;
    this.encryptionKey.grant(fn, ...ENVELOPE_KMS_ACTIONS);
    if (keyPolicy && fn.role) keyPolicy.addUser(fn.role);
  }

  /** Lets `grantee` invoke the function. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.handler.grantInvoke(grantee);
  }
}
