import { KMSClient, ReEncryptCommand } from '@aws-sdk/client-kms';
import {
  assertKeyId,
  canonicalContext,
  createEncryptedDataKey,
  decryptEnvelope,
  encryptEnvelope,
  encryptWithDataKey,
  EnvelopeError,
  parseEnvelope,
  reEncryptEnvelope,
} from '../../lambda/envelope-encryption/envelope';
import { createHandler } from '../../lambda/envelope-encryption';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalKms } from '../support/local-kms';

let aws: LocalAws;
let localKms: LocalKms;
let kms: KMSClient;
let keyArn: string;
let otherKeyArn: string;
const context = { app: 'test', record: 'r-1' };

beforeAll(async () => {
  aws = await startLocalAws();
  localKms = new LocalKms(aws);
  const openPolicy = { Statement: [{ Effect: 'Allow' as const, Principal: { AWS: `arn:aws:iam::${aws.account}:root` }, Action: 'kms:*', Resource: '*' }] };
  keyArn = localKms.createKey({ policy: openPolicy }).arn;
  otherKeyArn = localKms.createKey({ policy: openPolicy }).arn;
  kms = new KMSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(() => aws.stop());

describe('envelope encryption round trip (KMS answered by a double that really encrypts)', () => {
  test('encrypts 1 MB locally with one GenerateDataKey and decrypts it with one Decrypt', async () => {
    const plaintext = Buffer.alloc(1024 * 1024, 7);
    const before = aws.requests.length;
    const envelope = await encryptEnvelope(kms, { keyId: keyArn, plaintext, context });
    const decrypted = await decryptEnvelope(kms, JSON.parse(JSON.stringify(envelope)), context);
    expect(decrypted.equals(plaintext)).toBe(true);
    expect(aws.requests.slice(before).map((r) => r.operation)).toEqual(['GenerateDataKey', 'Decrypt']);
    expect(envelope.keyId).toBe(keyArn);
    expect(Buffer.from(envelope.ciphertext, 'base64').length).toBe(plaintext.length);
  });

  test('stores only the encrypted data key: the envelope holds no plaintext data key and no plaintext', async () => {
    const envelope = await encryptEnvelope(kms, { keyId: keyArn, plaintext: 'top secret text', context });
    const dataKey = localKms.plaintextDataKeys.at(-1)!;
    const stored = JSON.stringify(envelope);
    expect(Object.keys(envelope).sort()).toEqual(['algorithm', 'authTag', 'ciphertext', 'encryptedDataKey', 'iv', 'keyId', 'version']);
    expect(stored).not.toContain(dataKey);
    expect(stored).not.toContain(Buffer.from(dataKey, 'base64').toString('hex'));
    expect(stored).not.toContain('top secret text');
    expect(stored).not.toContain(Buffer.from('top secret text').toString('base64'));
  });

  test('wipes the plaintext data key in memory once used', async () => {
    const seen: Uint8Array[] = [];
    const spying = { send: async (command: unknown) => { const out = await kms.send(command as never); if ((out as { Plaintext?: Uint8Array }).Plaintext) seen.push((out as { Plaintext: Uint8Array }).Plaintext); return out; } } as unknown as KMSClient;
    const envelope = await encryptEnvelope(spying, { keyId: keyArn, plaintext: 'x', context });
    await decryptEnvelope(spying, envelope, context);
    expect(seen).toHaveLength(2);
    for (const key of seen) expect([...key].every((byte) => byte === 0)).toBe(true);
  });

  test('fails on a different encryption context, naming the cause', async () => {
    const envelope = await encryptEnvelope(kms, { keyId: keyArn, plaintext: 'data', context });
    const failure = decryptEnvelope(kms, envelope, { ...context, record: 'r-2' });
    await expect(failure).rejects.toThrow(EnvelopeError);
    await expect(failure).rejects.toThrow(/KMS refused to decrypt the data key: the encryption context differs/);
    await expect(decryptEnvelope(kms, envelope, { app: 'test' })).rejects.toThrow(/encryption context differs/);
  });

  test('fails when the ciphertext was modified (GCM authentication)', async () => {
    const envelope = await encryptEnvelope(kms, { keyId: keyArn, plaintext: 'pay 10 EUR', context });
    const bytes = Buffer.from(envelope.ciphertext, 'base64');
    bytes[0] ^= 1;
    await expect(decryptEnvelope(kms, { ...envelope, ciphertext: bytes.toString('base64') }, context)).rejects.toThrow(
      'GCM authentication failed: the ciphertext or its authentication tag was modified, or the encryption context differs from the one the data was encrypted with',
    );
  });

  test('fails when the envelope names another key than the one that encrypted its data key', async () => {
    const envelope = await encryptEnvelope(kms, { keyId: keyArn, plaintext: 'data', context });
    await expect(decryptEnvelope(kms, { ...envelope, keyId: otherKeyArn }, context)).rejects.toThrow(/encrypted under another key/);
  });

  test('GenerateDataKeyWithoutPlaintext then encryptWithDataKey: a key prepared ahead, used later', async () => {
    const dataKey = await createEncryptedDataKey(kms, { keyId: keyArn, context });
    expect(Object.keys(dataKey).sort()).toEqual(['encryptedDataKey', 'keyId']);
    const envelope = await encryptWithDataKey(kms, { dataKey, plaintext: 'later', context });
    expect((await decryptEnvelope(kms, envelope, context)).toString()).toBe('later');
  });

  test('ReEncrypt moves the data key to another key without touching the ciphertext', async () => {
    const envelope = await encryptEnvelope(kms, { keyId: keyArn, plaintext: 'moving', context });
    const moved = await reEncryptEnvelope(kms, envelope, { sourceContext: context, destinationKeyId: otherKeyArn });
    expect(moved.ciphertext).toBe(envelope.ciphertext);
    expect(moved.keyId).toBe(otherKeyArn);
    expect(moved.encryptedDataKey).not.toBe(envelope.encryptedDataKey);
    expect((await decryptEnvelope(kms, moved, context)).toString()).toBe('moving');
    await expect(decryptEnvelope(kms, moved, { app: 'other' })).rejects.toThrow(EnvelopeError);
  });

  test('ReEncrypt refuses to change the context, before any KMS call: the ciphertext is bound to it', async () => {
    const envelope = await encryptEnvelope(kms, { keyId: keyArn, plaintext: 'bound', context });
    const before = aws.requests.length;
    await expect(reEncryptEnvelope(kms, envelope, { sourceContext: context, destinationContext: { app: 'other' } })).rejects.toThrow(
      'the encryption context of an envelope cannot be changed by ReEncrypt: the ciphertext is bound to it too',
    );
    expect(aws.requests.length).toBe(before);
    // The same pairs in another order are the same context.
    const reordered = await reEncryptEnvelope(kms, envelope, { sourceContext: context, destinationContext: { record: 'r-1', app: 'test' } });
    expect((await decryptEnvelope(kms, reordered, { record: 'r-1', app: 'test' })).toString()).toBe('bound');
  });
});

describe('the encryption context is bound to the ciphertext too (GCM additional authenticated data)', () => {
  test('canonicalContext sorts the pairs by key, so their order does not matter, and tells contexts apart', () => {
    expect(canonicalContext({ record: 'r-1', app: 'test' }).equals(canonicalContext({ app: 'test', record: 'r-1' }))).toBe(true);
    expect(canonicalContext({ app: 'test' }).toString('utf8')).toBe('[["app","test"]]');
    expect(canonicalContext({ a: 'b,c' }).equals(canonicalContext({ 'a,b': 'c' }))).toBe(false);
    expect(canonicalContext({ B: '1', a: '2' }).toString('utf8')).toBe('[["B","1"],["a","2"]]');
  });

  test('a ciphertext decrypted with another context fails even when KMS hands out its data key', async () => {
    const envelope = await encryptEnvelope(kms, { keyId: keyArn, plaintext: 'salary: 1,000,000', context });
    const other = { ...context, record: 'r-2' };
    // Re-encrypt the data key itself under the other context, straight through KMS: the data key now decrypts with it.
    const { CiphertextBlob } = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: Buffer.from(envelope.encryptedDataKey, 'base64'),
        SourceEncryptionContext: context,
        DestinationKeyId: keyArn,
        DestinationEncryptionContext: other,
      }),
    );
    const swapped = { ...envelope, encryptedDataKey: Buffer.from(CiphertextBlob!).toString('base64') };
    const before = aws.requests.length;
    const failure = await decryptEnvelope(kms, swapped, other).catch((error: unknown) => error);
    expect(aws.requests.slice(before).map((r) => r.operation)).toEqual(['Decrypt']);
    expect(failure).toBeInstanceOf(EnvelopeError);
    expect((failure as Error).message).toMatch(/^GCM authentication failed: .* or the encryption context differs/);
    // The data key was never the problem: with the context it was sealed under, the same ciphertext decrypts.
    await expect(decryptEnvelope(kms, envelope, context)).resolves.toEqual(Buffer.from('salary: 1,000,000'));
  });
});

describe('bad input gives a clear error before any KMS call', () => {
  test.each([
    [{ keyId: 'not-a-key', plaintext: 'x', context }, /key id "not-a-key" is not a KMS key: expected a key ARN/],
    [{ keyId: 'arn:aws:kms:us-east-1:123:key/abc', plaintext: 'x', context }, /is not a KMS key/],
    [{ keyId: 'arn:aws:s3:::bucket', plaintext: 'x', context }, /is not a KMS key/],
    [{ keyId: 'alias/aws/', plaintext: 'x', context }, /is not a KMS key/],
    [{ keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', plaintext: '', context }, /^plaintext is empty: there is nothing to encrypt$/],
    [{ keyId: 'alias/lab', plaintext: new Uint8Array(), context }, /^plaintext is empty/],
    [{ keyId: 'alias/lab', plaintext: 'x', context: {} }, /^encryption context is missing: pass at least one key-value pair/],
    [{ keyId: 'alias/lab', plaintext: 'x', context: { app: '' } }, /encryption context entry "app" must map a non-empty key to a non-empty string/],
  ])('%o', async (request, message) => {
    const before = aws.requests.length;
    await expect(encryptEnvelope(kms, request as never)).rejects.toThrow(message);
    expect(aws.requests.length).toBe(before);
  });

  test('accepts every KeyId form KMS takes', () => {
    for (const id of [
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      'arn:aws:kms:eu-west-1:111122223333:alias/my/key',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      'alias/my-key',
    ]) {
      expect(() => assertKeyId(id)).not.toThrow();
    }
  });

  test.each([
    ['not json', /^envelope is not valid JSON$/],
    [{ version: 2, algorithm: 'AES-256-GCM' }, /^unsupported envelope: version 2/],
    [{ version: 1, algorithm: 'AES-256-GCM', keyId: 'alias/x', encryptedDataKey: 'AA==', iv: 'AA==', authTag: 'AA==', ciphertext: 'AA==' }, /^envelope field iv must be 12 bytes, got 1$/],
    [{ version: 1, algorithm: 'AES-256-GCM', keyId: 'alias/x', encryptedDataKey: '***', iv: 'AA==', authTag: 'AA==', ciphertext: 'AA==' }, /^envelope field encryptedDataKey must be a base64 string$/],
  ])('a malformed envelope %p is refused', (envelope, message) => {
    expect(() => parseEnvelope(envelope)).toThrow(message);
  });
});

describe('handler', () => {
  const handler = () => createHandler(kms, { KEY_ID: keyArn });

  test('encrypt then decrypt through the handler', async () => {
    const { envelope } = (await handler()({ action: 'encrypt', text: 'héllo', context })) as { envelope: never };
    await expect(handler()({ action: 'decrypt', envelope, context })).resolves.toEqual({ text: 'héllo' });
  });

  test('prepare-data-key, encrypt-with-data-key and re-encrypt', async () => {
    const { dataKey } = (await handler()({ action: 'prepare-data-key', context })) as { dataKey: never };
    const { envelope } = (await handler()({ action: 'encrypt-with-data-key', dataKey, text: 'prepared', context })) as { envelope: never };
    const { envelope: moved } = (await handler()({ action: 're-encrypt', envelope, context })) as { envelope: { encryptedDataKey: string; ciphertext: string } };
    expect(moved.ciphertext).toBe((envelope as { ciphertext: string }).ciphertext);
    await expect(handler()({ action: 'decrypt', envelope: moved as never, context })).resolves.toEqual({ text: 'prepared' });
    await expect(handler()({ action: 're-encrypt', envelope, context, newContext: { app: 'moved' } })).rejects.toThrow(/cannot be changed by ReEncrypt/);
  });

  test('refuses an unknown action, a missing text and a function without a valid KEY_ID', async () => {
    await expect(handler()({ action: 'sign' } as never)).rejects.toThrow('unknown action "sign": use encrypt, decrypt, prepare-data-key, encrypt-with-data-key or re-encrypt');
    await expect(handler()({ action: 'encrypt', context } as never)).rejects.toThrow('text must be a string');
    await expect(createHandler(kms, {})({ action: 'encrypt', text: 'x', context })).rejects.toThrow('key id undefined is not a KMS key');
  });
});
