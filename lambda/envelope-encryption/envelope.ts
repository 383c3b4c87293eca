import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';

/**
 * Envelope encryption with KMS: KMS generates a 256-bit data key and returns it twice, in plaintext and encrypted
 * under the KMS key. The data is encrypted here with the plaintext data key (AES-256-GCM), the plaintext key is
 * wiped, and only the encrypted data key is stored beside the ciphertext. Decrypting asks KMS to decrypt the data
 * key, with the same encryption context, then decrypts locally. KMS never sees the data, so its 4 KB limit on
 * `Encrypt` does not apply, and one KMS call serves a payload of any size.
 *
 * The encryption context is bound twice: to the data key by KMS, and to the ciphertext as GCM additional
 * authenticated data (its canonical form, `canonicalContext`). So an envelope decrypts only with the context it was
 * sealed with, even where KMS would hand out the data key (a copy of the data key re-encrypted under another
 * context, a key policy without context conditions). Nothing more is stored: the caller supplies the context again.
 *
 * Production code should use the AWS Encryption SDK (@aws-crypto/client-node) instead, which adds key commitment and
 * a standard message format; this module writes the envelope by hand to show the steps.
 */

/** What is stored: the ciphertext and the encrypted data key beside it. Never the plaintext data key. */
export interface Envelope {
  readonly version: 1;
  readonly algorithm: 'AES-256-GCM';
  /** ARN of the KMS key that encrypted the data key. */
  readonly keyId: string;
  /** The data key encrypted by KMS (base64 CiphertextBlob): only KMS can turn it back into a key. */
  readonly encryptedDataKey: string;
  /** 96-bit GCM nonce, unique per envelope (base64). */
  readonly iv: string;
  /** 128-bit GCM authentication tag (base64): decryption fails if the ciphertext was modified. */
  readonly authTag: string;
  readonly ciphertext: string;
}

/**
 * Key-value pairs bound to the data key by KMS and to the ciphertext as GCM additional authenticated data: decrypting
 * requires exactly the same pairs. Not secret; logged by CloudTrail.
 */
export type EncryptionContext = Record<string, string>;

/**
 * The GCM additional authenticated data for a context: its pairs sorted by key (UTF-16 code unit order, not locale),
 * as JSON. The same pairs in any order give the same bytes, as KMS treats them.
 */
export function canonicalContext(context: EncryptionContext): Buffer {
  const sorted = Object.keys(context)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}

/** A data key encrypted under a KMS key, generated ahead of use with GenerateDataKeyWithoutPlaintext. */
export interface EncryptedDataKey {
  readonly keyId: string;
  readonly encryptedDataKey: string;
}

/** Bad input or a refused decryption, in one sentence a caller can act on. */
export class EnvelopeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvelopeError';
  }
}

const ALGORITHM = 'aes-256-gcm';
const DATA_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** KMS `Encrypt` takes at most 4,096 bytes of plaintext; envelope encryption has no such limit. */
export const KMS_ENCRYPT_MAX_BYTES = 4096;

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:alias\/[a-zA-Z0-9/_-]*[a-zA-Z0-9_-]$/;
const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]*[a-zA-Z0-9_-]$/;

/** Refuses anything KMS would not take as a `KeyId`: a key ARN, an alias ARN, a key id or `alias/<name>`. */
export function assertKeyId(keyId: unknown): asserts keyId is string {
  if (typeof keyId !== 'string' || ![KEY_ARN, ALIAS_ARN, KEY_ID, ALIAS_NAME].some((format) => format.test(keyId))) {
    throw new EnvelopeError(
      `key id ${JSON.stringify(keyId)} is not a KMS key: expected a key ARN (arn:aws:kms:<region>:<account>:key/<uuid>), ` +
        'an alias ARN, a key id (uuid) or alias/<name>',
    );
  }
}

/** Refuses an empty or non-string context: the lab binds every data key to a non-empty one. */
export function assertContext(context: unknown): asserts context is EncryptionContext {
  const entries = context && typeof context === 'object' && !Array.isArray(context) ? Object.entries(context) : undefined;
  if (!entries || entries.length === 0) {
    throw new EnvelopeError('encryption context is missing: pass at least one key-value pair, e.g. { "app": "kms-lab" }');
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || typeof value !== 'string' || value.length === 0) {
      throw new EnvelopeError(`encryption context entry ${JSON.stringify(key)} must map a non-empty key to a non-empty string`);
    }
  }
}

function toBytes(plaintext: Uint8Array | string): Buffer {
  const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
  if (bytes.length === 0) throw new EnvelopeError('plaintext is empty: there is nothing to encrypt');
  return bytes;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function fromB64(value: unknown, field: string, length?: number): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    throw new EnvelopeError(`envelope field ${field} must be a base64 string`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (length !== undefined && bytes.length !== length) {
    throw new EnvelopeError(`envelope field ${field} must be ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** Checks an envelope read from storage before any KMS call is made for it. */
export function parseEnvelope(value: unknown): Envelope {
  const envelope = (typeof value === 'string' ? safeJson(value) : value) as Partial<Envelope> | undefined;
  if (!envelope || typeof envelope !== 'object') throw new EnvelopeError('envelope must be an object (or its JSON)');
  if (envelope.version !== 1 || envelope.algorithm !== 'AES-256-GCM') {
    throw new EnvelopeError(`unsupported envelope: version ${envelope.version}, algorithm ${envelope.algorithm}`);
  }
  assertKeyId(envelope.keyId);
  fromB64(envelope.encryptedDataKey, 'encryptedDataKey');
  fromB64(envelope.iv, 'iv', IV_BYTES);
  fromB64(envelope.authTag, 'authTag', TAG_BYTES);
  fromB64(envelope.ciphertext, 'ciphertext');
  return envelope as Envelope;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new EnvelopeError('envelope is not valid JSON');
  }
}

/** Encrypts with a plaintext data key, then wipes it: after this returns, the key exists nowhere in this process. */
function sealWith(dataKey: Uint8Array, plaintext: Buffer, context: EncryptionContext): Pick<Envelope, 'iv' | 'authTag' | 'ciphertext'> {
  try {
    if (dataKey.length !== DATA_KEY_BYTES) throw new EnvelopeError(`KMS returned a ${dataKey.length}-byte data key, expected 32`);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, dataKey, iv);
    cipher.setAAD(canonicalContext(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { iv: b64(iv), authTag: b64(cipher.getAuthTag()), ciphertext: b64(ciphertext) };
  } finally {
    dataKey.fill(0);
  }
}

/** Turns KMS's refusal into a sentence: the usual causes of InvalidCiphertextException and AccessDenied. */
function explainKmsError(error: unknown, operation: string): Error {
  const name = (error as { name?: string })?.name;
  if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
    return new EnvelopeError(
      `KMS refused to ${operation}: the encryption context differs from the one used to encrypt, ` +
        'the data key was encrypted under another key, or the encrypted data key was modified',
      { cause: error },
    );
  }
  if (name === 'AccessDeniedException') {
    return new EnvelopeError(`KMS denied ${operation}: ${(error as Error).message}`, { cause: error });
  }
  return error as Error;
}

/** GenerateDataKey → AES-256-GCM locally → an envelope holding only the encrypted data key. */
export async function encryptEnvelope(
  kms: KMSClient,
  request: { keyId: string; plaintext: Uint8Array | string; context: EncryptionContext },
): Promise<Envelope> {
  assertKeyId(request.keyId);
  assertContext(request.context);
  const plaintext = toBytes(request.plaintext);
  const dataKey = await kms
    .send(new GenerateDataKeyCommand({ KeyId: request.keyId, KeySpec: 'AES_256', EncryptionContext: request.context }))
    .catch((error: unknown) => Promise.reject(explainKmsError(error, 'generate a data key')));
  if (!dataKey.Plaintext || !dataKey.CiphertextBlob || !dataKey.KeyId) throw new EnvelopeError('GenerateDataKey returned no key');
  return {
    version: 1,
    algorithm: 'AES-256-GCM',
    keyId: dataKey.KeyId,
    encryptedDataKey: b64(dataKey.CiphertextBlob),
    ...sealWith(dataKey.Plaintext, plaintext, request.context),
  };
}

/** Decrypt (the data key, by KMS, with the same context) → AES-256-GCM locally → the plaintext. */
export async function decryptEnvelope(kms: KMSClient, stored: unknown, context: EncryptionContext): Promise<Buffer> {
  const envelope = parseEnvelope(stored);
  assertContext(context);
  const { Plaintext } = await kms
    .send(
      new DecryptCommand({
        KeyId: envelope.keyId,
        CiphertextBlob: fromB64(envelope.encryptedDataKey, 'encryptedDataKey'),
        EncryptionContext: context,
      }),
    )
    .catch((error: unknown) => Promise.reject(explainKmsError(error, 'decrypt the data key')));
  if (!Plaintext || Plaintext.length !== DATA_KEY_BYTES) throw new EnvelopeError('Decrypt returned no 32-byte data key');
  try {
    const decipher = createDecipheriv(ALGORITHM, Plaintext, fromB64(envelope.iv, 'iv', IV_BYTES));
    decipher.setAAD(canonicalContext(context));
    decipher.setAuthTag(fromB64(envelope.authTag, 'authTag', TAG_BYTES));
    return Buffer.concat([decipher.update(fromB64(envelope.ciphertext, 'ciphertext')), decipher.final()]);
  } catch (error) {
    throw new EnvelopeError(
      'GCM authentication failed: the ciphertext or its authentication tag was modified, or the encryption context ' +
        'differs from the one the data was encrypted with',
      { cause: error },
    );
  } finally {
    Plaintext.fill(0);
  }
}

/**
 * GenerateDataKeyWithoutPlaintext: a data key for later, returned only encrypted. A component that must not see
 * keys (a scheduler, a provisioning step) can prepare them; the one that encrypts calls `encryptWithDataKey`.
 */
export async function createEncryptedDataKey(
  kms: KMSClient,
  request: { keyId: string; context: EncryptionContext },
): Promise<EncryptedDataKey> {
  assertKeyId(request.keyId);
  assertContext(request.context);
  const result = await kms
    .send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: request.keyId, KeySpec: 'AES_256', EncryptionContext: request.context }))
    .catch((error: unknown) => Promise.reject(explainKmsError(error, 'generate a data key')));
  if (!result.CiphertextBlob || !result.KeyId) throw new EnvelopeError('GenerateDataKeyWithoutPlaintext returned no key');
  return { keyId: result.KeyId, encryptedDataKey: b64(result.CiphertextBlob) };
}

/** Encrypts with a data key prepared by `createEncryptedDataKey`: Decrypt it, use it once, wipe it. */
export async function encryptWithDataKey(
  kms: KMSClient,
  request: { dataKey: EncryptedDataKey; plaintext: Uint8Array | string; context: EncryptionContext },
): Promise<Envelope> {
  assertKeyId(request.dataKey.keyId);
  assertContext(request.context);
  const plaintext = toBytes(request.plaintext);
  const encryptedDataKey = fromB64(request.dataKey.encryptedDataKey, 'encryptedDataKey');
  const { Plaintext, KeyId } = await kms
    .send(new DecryptCommand({ KeyId: request.dataKey.keyId, CiphertextBlob: encryptedDataKey, EncryptionContext: request.context }))
    .catch((error: unknown) => Promise.reject(explainKmsError(error, 'decrypt the data key')));
  if (!Plaintext) throw new EnvelopeError('Decrypt returned no data key');
  return {
    version: 1,
    algorithm: 'AES-256-GCM',
    keyId: KeyId ?? request.dataKey.keyId,
    encryptedDataKey: request.dataKey.encryptedDataKey,
    ...sealWith(Plaintext, plaintext, request.context),
  };
}

/**
 * ReEncrypt: KMS decrypts the data key and encrypts it again under another key (or the same key's current material),
 * without the plaintext key ever leaving KMS. The data is not touched: only `encryptedDataKey` and `keyId` change.
 * The encryption context cannot change here: the ciphertext is bound to it too (GCM additional authenticated data),
 * so a new context means decrypting and encrypting the data again. `destinationContext`, when given, must equal
 * `sourceContext`.
 */
export async function reEncryptEnvelope(
  kms: KMSClient,
  stored: unknown,
  request: { sourceContext: EncryptionContext; destinationKeyId?: string; destinationContext?: EncryptionContext },
): Promise<Envelope> {
  const envelope = parseEnvelope(stored);
  assertContext(request.sourceContext);
  const destinationContext = request.destinationContext ?? request.sourceContext;
  assertContext(destinationContext);
  if (!canonicalContext(destinationContext).equals(canonicalContext(request.sourceContext))) {
    throw new EnvelopeError(
      'the encryption context of an envelope cannot be changed by ReEncrypt: the ciphertext is bound to it too ' +
        '(GCM additional authenticated data); decrypt and encrypt the data again under the new context',
    );
  }
  const destinationKeyId = request.destinationKeyId ?? envelope.keyId;
  assertKeyId(destinationKeyId);
  const result = await kms
    .send(
      new ReEncryptCommand({
        CiphertextBlob: fromB64(envelope.encryptedDataKey, 'encryptedDataKey'),
        SourceKeyId: envelope.keyId,
        SourceEncryptionContext: request.sourceContext,
        DestinationKeyId: destinationKeyId,
        DestinationEncryptionContext: destinationContext,
      }),
    )
    .catch((error: unknown) => Promise.reject(explainKmsError(error, 're-encrypt the data key')));
  if (!result.CiphertextBlob || !result.KeyId) throw new EnvelopeError('ReEncrypt returned no key');
  return { ...envelope, keyId: result.KeyId, encryptedDataKey: b64(result.CiphertextBlob) };
}
