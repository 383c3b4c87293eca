import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { accessDenied, AwsError, LocalAws } from './local-aws';
import { authorize, Caller, PolicyDocument, Values } from './local-iam';

/**
 * A KMS test double that really encrypts: each key has its own random 256-bit material; ciphertext blobs are
 * AES-256-GCM with the encryption context as additional authenticated data, so a different context fails as it
 * does in KMS (InvalidCiphertextException). Key policies are enforced with KMS's rule: the key policy must allow,
 * directly or through the account (then IAM must allow too). Serves the JSON protocol on a `LocalAws` endpoint.
 */

const BLOB_MAGIC = Buffer.from('LKMS');

interface LocalKey {
  readonly keyId: string;
  readonly arn: string;
  readonly material: Buffer;
  policy: PolicyDocument;
  description: string;
  rotation: { enabled: boolean; periodDays: number };
  pendingWindowDays: number;
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
}

const canonicalContext = (context: Record<string, string> | undefined) =>
  Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b))));

export class LocalKms {
  private readonly keys = new Map<string, LocalKey>();
  private readonly aliases = new Map<string, string>();
  /** Every data key generated (GenerateDataKey*), base64: tests check none of them was ever sent or stored. */
  public readonly plaintextDataKeys: string[] = [];

  constructor(
    private readonly aws: LocalAws,
    private readonly region = 'us-east-1',
  ) {
    aws.addJsonService('kms', (operation, input, caller) => this.handle(operation, input, caller));
  }

  createKey(options: { policy: PolicyDocument; description?: string; rotationPeriodDays?: number; enableKeyRotation?: boolean; pendingWindowDays?: number; keyId?: string }): LocalKey {
    const keyId = options.keyId ?? randomUUID();
    const key: LocalKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${this.aws.account}:key/${keyId}`,
      material: randomBytes(32),
      policy: options.policy,
      description: options.description ?? '',
      rotation: { enabled: options.enableKeyRotation ?? false, periodDays: options.rotationPeriodDays ?? 365 },
      pendingWindowDays: options.pendingWindowDays ?? 30,
      state: 'Enabled',
    };
    this.keys.set(keyId, key);
    return key;
  }

  createAlias(aliasName: string, keyId: string): void {
    this.aliases.set(aliasName, keyId);
  }

  /** A key by id, ARN, alias name or alias ARN, as KMS resolves a KeyId. */
  find(keyIdOrAlias: unknown): LocalKey {
    const id = String(keyIdOrAlias ?? '');
    const alias = /^(?:arn:[^:]+:kms:[^:]*:\d{12}:)?(alias\/.+)$/.exec(id)?.[1];
    const keyId = alias ? this.aliases.get(alias) : (/key\/([^/]+)$/.exec(id)?.[1] ?? id);
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (!key) throw new AwsError('NotFoundException', `Key '${id}' does not exist`);
    return key;
  }

  private authorize(caller: Caller, key: LocalKey, action: string, keys: Record<string, Values | undefined> = {}): void {
    const decision = authorize(caller, { action, resource: key.arn, keys: { 'kms:CallerAccount': caller.account, ...keys } }, key.policy, { keyPolicyOnly: true });
    if (decision !== 'Allow') {
      throw accessDenied(caller, action, key.arn, decision === 'ExplicitDeny' ? 'of an explicit deny' : 'no resource-based policy allows the action');
    }
    if (key.state !== 'Enabled' && !['kms:DescribeKey', 'kms:EnableKey', 'kms:CancelKeyDeletion', 'kms:GetKeyPolicy'].includes(action)) {
      throw new AwsError(key.state === 'Disabled' ? 'DisabledException' : 'KMSInvalidStateException', `${key.arn} is ${key.state}.`);
    }
  }

  private seal(key: LocalKey, plaintext: Buffer, context: Record<string, string> | undefined): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(canonicalContext(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(key.keyId);
    return Buffer.concat([BLOB_MAGIC, Buffer.from([id.length]), id, iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The key a blob was encrypted under, and its plaintext if the context matches. */
  private open(blobBase64: unknown, context: Record<string, string> | undefined): { key: LocalKey; plaintext: () => Buffer } {
    const blob = Buffer.from(String(blobBase64 ?? ''), 'base64');
    if (blob.length < 34 || !blob.subarray(0, 4).equals(BLOB_MAGIC)) throw new AwsError('InvalidCiphertextException', '');
    const idLength = blob[4];
    const keyId = blob.subarray(5, 5 + idLength).toString();
    const key = this.keys.get(keyId);
    if (!key) throw new AwsError('InvalidCiphertextException', '');
    const rest = blob.subarray(5 + idLength);
    return {
      key,
      plaintext: () => {
        try {
          const decipher = createDecipheriv('aes-256-gcm', key.material, rest.subarray(0, 12));
          decipher.setAAD(canonicalContext(context));
          decipher.setAuthTag(rest.subarray(12, 28));
          return Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]);
        } catch {
          throw new AwsError('InvalidCiphertextException', '');
        }
      },
    };
  }

  private contextKeys(context: Record<string, string> | undefined): Record<string, Values | undefined> {
    const entries = Object.entries(context ?? {});
    return {
      ...Object.fromEntries(entries.map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
      'kms:EncryptionContextKeys': entries.length ? entries.map(([k]) => k) : undefined,
    };
  }

  private dataKeyBytes(input: Record<string, unknown>): number {
    if (input.KeySpec === 'AES_256') return 32;
    if (input.KeySpec === 'AES_128') return 16;
    const bytes = Number(input.NumberOfBytes);
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
      throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec.');
    }
    return bytes;
  }

  handle(operation: string, input: Record<string, unknown>, caller: Caller): unknown {
    const context = input.EncryptionContext as Record<string, string> | undefined;
    switch (operation) {
      case 'DescribeKey': {
        const key = this.find(input.KeyId);
        this.authorize(caller, key, 'kms:DescribeKey');
        return {
          KeyMetadata: {
            KeyId: key.keyId, Arn: key.arn, AWSAccountId: this.aws.account, Description: key.description, Enabled: key.state === 'Enabled',
            KeyState: key.state, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Origin: 'AWS_KMS',
            CreationDate: Date.now() / 1000,
          },
        };
      }
      case 'GetKeyRotationStatus': {
        const key = this.find(input.KeyId);
        this.authorize(caller, key, 'kms:GetKeyRotationStatus');
        return { KeyId: key.arn, KeyRotationEnabled: key.rotation.enabled, RotationPeriodInDays: key.rotation.enabled ? key.rotation.periodDays : undefined };
      }
      case 'GetKeyPolicy': {
        const key = this.find(input.KeyId);
        this.authorize(caller, key, 'kms:GetKeyPolicy');
        return { Policy: JSON.stringify(key.policy), PolicyName: 'default' };
      }
      case 'ListAliases': {
        if (authorize(caller, { action: 'kms:ListAliases', resource: '*' }) !== 'Allow') throw accessDenied(caller, 'kms:ListAliases', '*');
        const wanted = input.KeyId ? this.find(input.KeyId).keyId : undefined;
        const aliases = [...this.aliases].filter(([, keyId]) => !wanted || keyId === wanted);
        return { Aliases: aliases.map(([name, keyId]) => ({ AliasName: name, AliasArn: `arn:aws:kms:${this.region}:${this.aws.account}:${name}`, TargetKeyId: keyId })) };
      }
      case 'Encrypt': {
        const key = this.find(input.KeyId);
        const plaintext = Buffer.from(String(input.Plaintext ?? ''), 'base64');
        if (plaintext.length < 1 || plaintext.length > 4096) {
          throw new AwsError('ValidationException', "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
        }
        this.authorize(caller, key, 'kms:Encrypt', this.contextKeys(context));
        return { CiphertextBlob: this.seal(key, plaintext, context), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'GenerateDataKey':
      case 'GenerateDataKeyWithoutPlaintext': {
        const key = this.find(input.KeyId);
        const bytes = this.dataKeyBytes(input);
        this.authorize(caller, key, `kms:${operation}`, this.contextKeys(context));
        const dataKey = randomBytes(bytes);
        const blob = this.seal(key, dataKey, context);
        this.plaintextDataKeys.push(dataKey.toString('base64'));
        if (operation === 'GenerateDataKeyWithoutPlaintext') return { CiphertextBlob: blob, KeyId: key.arn };
        return { CiphertextBlob: blob, Plaintext: dataKey.toString('base64'), KeyId: key.arn };
      }
      case 'Decrypt': {
        const { key, plaintext } = this.open(input.CiphertextBlob, context);
        if (input.KeyId !== undefined && this.find(input.KeyId).keyId !== key.keyId) {
          throw new AwsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
        }
        this.authorize(caller, key, 'kms:Decrypt', this.contextKeys(context));
        return { Plaintext: plaintext().toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'ReEncrypt': {
        const source = input.SourceEncryptionContext as Record<string, string> | undefined;
        const destinationContext = input.DestinationEncryptionContext as Record<string, string> | undefined;
        const { key, plaintext } = this.open(input.CiphertextBlob, source);
        if (input.SourceKeyId !== undefined && this.find(input.SourceKeyId).keyId !== key.keyId) {
          throw new AwsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
        }
        const destination = this.find(input.DestinationKeyId);
        this.authorize(caller, key, 'kms:ReEncryptFrom', this.contextKeys(source));
        this.authorize(caller, destination, 'kms:ReEncryptTo', this.contextKeys(destinationContext));
        return { CiphertextBlob: this.seal(destination, plaintext(), destinationContext), SourceKeyId: key.arn, KeyId: destination.arn };
      }
      case 'ScheduleKeyDeletion': {
        const key = this.find(input.KeyId);
        this.authorize(caller, key, 'kms:ScheduleKeyDeletion');
        key.state = 'PendingDeletion';
        const days = Number(input.PendingWindowInDays ?? 30);
        return { KeyId: key.arn, KeyState: key.state, PendingWindowInDays: days, DeletionDate: Date.now() / 1000 + days * 86_400 };
      }
      default:
        throw new AwsError('UnknownOperationException', `local KMS does not implement ${operation}`);
    }
  }
}
