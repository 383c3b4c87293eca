import * as path from 'node:path';
import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
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

/** A key whose policy must name its users (a `CustomerManagedKey`): IAM permissions alone do not let them use it. */
export interface IKeyPolicyUsers {
  addUser(principal: iam.IPrincipal): void;
}

export interface EnvelopeEncryptionProps {
  /** Symmetric KMS key that encrypts the data keys. */
  readonly key: kms.IKey;
  /**
   * Adds the function's role to the key policy's users, for keys whose policy does not let IAM grant their use
   * (a `CustomerManagedKey`). @default - IAM permissions only, enough for keys with the default key policy
   */
  readonly keyPolicy?: IKeyPolicyUsers;
  /** Function timeout (1–900 s). @default Duration.seconds(10) */
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
  public readonly function: SafeNodejsFunction;

  constructor(scope: Construct, id: string, props: EnvelopeEncryptionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(10);
    const memorySize = props.memorySize ?? 256;
    const check = new PropsValidator(this, 'EnvelopeEncryption');
    const timeoutSeconds = Token.isUnresolved(timeout) ? 10 : timeout.toSeconds();
    check.require(timeoutSeconds >= 1 && timeoutSeconds <= 900, 'TimeoutRange', `timeout must be between 1 and 900 seconds, got ${timeoutSeconds}`);
    check.require(
      Number.isInteger(memorySize) && memorySize >= 128 && memorySize <= 10_240,
      'MemorySizeRange',
      `memorySize must be a whole number of MB between 128 and 10240, got ${memorySize}`,
    );
    check.throwIfInvalid();

    this.function = new SafeNodejsFunction(this, 'Function', {
      entry: path.join(__dirname, '../../lambda/envelope-encryption/index.ts'),
      description: 'Envelope encryption: KMS data keys, AES-256-GCM locally, only the encrypted data key stored',
      timeout,
      memorySize,
      environment: { KEY_ID: props.key.keyArn },
    });
    props.key.grant(this.function, ...ENVELOPE_KMS_ACTIONS);
    if (props.keyPolicy && this.function.role) props.keyPolicy.addUser(this.function.role);
  }

  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }
}
