import { KMSClient, ReEncryptCommand } from '@aws-sdk/client-kms';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  assertContext,
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
    await expect(reEncryptEnvelope(kms, envelope, { sourceContext: context, destinationContext: { app: 'other' } })).rejects.toThrow(
      new EnvelopeError(
        'the encryption context of an envelope cannot be changed by ReEncrypt: the ciphertext is bound to it too ' +
          '(GCM additional authenticated data); decrypt and encrypt the data again under the new context',
      ),
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
      'mrk-1234abcd12ab34cd56ef1234567890ab',
      'alias/my-key',
    ]) {
      expect(() => assertKeyId(id)).not.toThrow();
    }
  });

  test('the refusal of a key id says which forms KMS takes; a value that only turns into one (an array) is refused', () => {
    expect(() => assertKeyId('not-a-key')).toThrow(
      new EnvelopeError('key id "not-a-key" is not a KMS key: expected a key ARN (arn:aws:kms:<region>:<account>:key/<uuid>), an alias ARN, a key id (uuid) or alias/<name>'),
    );
    expect(() => assertKeyId(['alias/lab'])).toThrow(/^key id \["alias\/lab"\] is not a KMS key/);
  });

  test.each([
    'x-arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab/x',
    'arn:aws1:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    'x-arn:aws:kms:eu-west-1:111122223333:alias/my-key',
    'arn:aws:kms:eu-west-1:111122223333:alias/my-key!',
    'arn:aws1:kms:eu-west-1:111122223333:alias/my-key',
    'x1234abcd-12ab-34cd-56ef-1234567890ab',
    '1234abcd-12ab-34cd-56ef-1234567890abx',
    'mrk-1',
    'x/alias/my-key',
  ])('refuses %s, close to a KeyId form but not one', (id) => {
    expect(() => assertKeyId(id)).toThrow(EnvelopeError);
  });

  test.each<[unknown, string]>([
    [null, 'encryption context is missing: pass at least one key-value pair, e.g. { "app": "kms-lab" }'],
    ['kms-lab', 'encryption context is missing: pass at least one key-value pair, e.g. { "app": "kms-lab" }'],
    [['kms-lab'], 'encryption context is missing: pass at least one key-value pair, e.g. { "app": "kms-lab" }'],
    [{ '': 'kms-lab' }, 'encryption context entry "" must map a non-empty key to a non-empty string'],
    [{ app: 5 }, 'encryption context entry "app" must map a non-empty key to a non-empty string'],
  ])('the context %j is refused', (given, message) => {
    expect(() => assertContext(given)).toThrow(new EnvelopeError(message));
  });

  test('a validation error is an EnvelopeError by name, the errorType Lambda reports', () => {
    let failure: unknown;
    try {
      assertContext({});
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(EnvelopeError);
    expect((failure as Error).name).toBe('EnvelopeError');
  });

  const wellFormed = { version: 1, algorithm: 'AES-256-GCM', keyId: 'alias/x', encryptedDataKey: 'AA==', iv: Buffer.alloc(12).toString('base64'), authTag: Buffer.alloc(16).toString('base64'), ciphertext: 'AA==' };
  test.each<[unknown, string]>([
    [null, 'envelope must be an object (or its JSON)'],
    ['null', 'envelope must be an object (or its JSON)'],
    [42, 'envelope must be an object (or its JSON)'],
    [{ ...wellFormed, algorithm: 'AES-128-CBC' }, 'unsupported envelope: version 1, algorithm AES-128-CBC'],
    [{ ...wellFormed, keyId: 'not-a-key' }, 'key id "not-a-key" is not a KMS key'],
    [{ ...wellFormed, encryptedDataKey: 1234 }, 'envelope field encryptedDataKey must be a base64 string'],
    [{ ...wellFormed, encryptedDataKey: '***AA==' }, 'envelope field encryptedDataKey must be a base64 string'],
    [{ ...wellFormed, encryptedDataKey: 'AA==***' }, 'envelope field encryptedDataKey must be a base64 string'],
    [{ ...wellFormed, authTag: 'AA==' }, 'envelope field authTag must be 16 bytes, got 1'],
    [{ ...wellFormed, ciphertext: '***' }, 'envelope field ciphertext must be a base64 string'],
  ])('the envelope %j is refused', (envelope, message) => {
    expect(() => parseEnvelope(envelope)).toThrow(message);
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

  test('logs the action and the context\'s keys only: no text, no context value, no key', async () => {
    const logged = jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
    try {
      await handler()({ action: 'encrypt', text: 'top secret text', context });
      expect(logged).toHaveBeenCalledWith('request', { action: 'encrypt', contextKeys: ['app', 'record'] });
    } finally {
      logged.mockRestore();
    }
  });

  test.each([null, undefined])('refuses an event that is %p, naming the actions', async (event) => {
    await expect(handler()(event as never)).rejects.toThrow(
      new EnvelopeError('unknown action undefined: use encrypt, decrypt, prepare-data-key, encrypt-with-data-key or re-encrypt'),
    );
  });

  test('refuses an unknown action, a missing text and a function without a valid KEY_ID', async () => {
    await expect(handler()({ action: 'sign' } as never)).rejects.toThrow('unknown action "sign": use encrypt, decrypt, prepare-data-key, encrypt-with-data-key or re-encrypt');
    await expect(handler()({ action: 'encrypt', context } as never)).rejects.toThrow('text must be a string');
    await expect(createHandler(kms, {})({ action: 'encrypt', text: 'x', context })).rejects.toThrow('key id undefined is not a KMS key');
  });
});

describe('what KMS answers decides the outcome (a KMS double that answers as told, recording each call)', () => {
  const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const dataKeyOf = (bytes: number) => new Uint8Array(bytes).fill(9);
  const blob = new Uint8Array([1, 2, 3]);
  /** A sealed-looking envelope: parseEnvelope checks only its form, and the double decides what Decrypt returns. */
  const stored = {
    version: 1,
    algorithm: 'AES-256-GCM',
    keyId: KEY_ARN,
    encryptedDataKey: 'AQID',
    iv: Buffer.alloc(12).toString('base64'),
    authTag: Buffer.alloc(16).toString('base64'),
    ciphertext: 'AA==',
  };
  type Answer = (input: Record<string, unknown>) => unknown;
  function doubleKms(answers: Record<string, Answer>) {
    const calls: string[] = [];
    const client = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const operation = command.constructor.name.replace(/Command$/, '');
        calls.push(operation);
        const answer = answers[operation];
        if (!answer) throw new Error(`the double has no answer for ${operation}`);
        return answer(command.input);
      },
    } as unknown as KMSClient;
    return { client, calls };
  }
  const everyOperation = (answer: Answer) => ({ GenerateDataKey: answer, GenerateDataKeyWithoutPlaintext: answer, Decrypt: answer, ReEncrypt: answer });
  const operations: [string, (client: KMSClient) => Promise<unknown>][] = [
    ['generate a data key', (client) => encryptEnvelope(client, { keyId: KEY_ARN, plaintext: 'x', context })],
    ['generate a data key', (client) => createEncryptedDataKey(client, { keyId: KEY_ARN, context })],
    ['decrypt the data key', (client) => encryptWithDataKey(client, { dataKey: { keyId: KEY_ARN, encryptedDataKey: 'AQID' }, plaintext: 'x', context })],
    ['decrypt the data key', (client) => decryptEnvelope(client, stored, context)],
    ['re-encrypt the data key', (client) => reEncryptEnvelope(client, stored, { sourceContext: context })],
  ];

  test.each(operations)('AccessDenied while trying to %s is an EnvelopeError naming the step and KMS\'s reason', async (operation, call) => {
    const denial = Object.assign(new Error('User: arn:aws:iam::111122223333:user/x is not authorized'), { name: 'AccessDeniedException' });
    const { client } = doubleKms(everyOperation(() => Promise.reject(denial)));
    const failure = await call(client).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EnvelopeError);
    expect(failure).toMatchObject({ name: 'EnvelopeError', message: `KMS denied ${operation}: ${denial.message}`, cause: denial });
  });

  test.each(operations)('IncorrectKeyException while trying to %s names the usual causes, keeping KMS\'s error as the cause', async (operation, call) => {
    const refusal = Object.assign(new Error('incorrect key'), { name: 'IncorrectKeyException' });
    const { client } = doubleKms(everyOperation(() => Promise.reject(refusal)));
    await expect(call(client)).rejects.toMatchObject({
      message: `KMS refused to ${operation}: the encryption context differs from the one used to encrypt, the data key was encrypted under another key, or the encrypted data key was modified`,
      cause: refusal,
    });
  });

  test('any other KMS error (throttling) is passed on as it is, for the caller to retry', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const { client } = doubleKms(everyOperation(() => Promise.reject(throttled)));
    for (const [, call] of operations) await expect(call(client)).rejects.toBe(throttled);
  });

  test.each([
    ['no Plaintext', { CiphertextBlob: blob, KeyId: KEY_ARN }],
    ['no CiphertextBlob', { Plaintext: dataKeyOf(32), KeyId: KEY_ARN }],
    ['no KeyId', { Plaintext: dataKeyOf(32), CiphertextBlob: blob }],
  ])('GenerateDataKey answering with %s is refused', async (_missing, answer) => {
    const { client } = doubleKms({ GenerateDataKey: () => answer });
    await expect(encryptEnvelope(client, { keyId: KEY_ARN, plaintext: 'x', context })).rejects.toThrow(new EnvelopeError('GenerateDataKey returned no key'));
  });

  test('a data key that is not 256 bits is refused, and wiped all the same', async () => {
    const shortKey = dataKeyOf(16);
    const { client } = doubleKms({ GenerateDataKey: () => ({ Plaintext: shortKey, CiphertextBlob: blob, KeyId: KEY_ARN }) });
    await expect(encryptEnvelope(client, { keyId: KEY_ARN, plaintext: 'x', context })).rejects.toThrow(
      new EnvelopeError('KMS returned a 16-byte data key, expected 32'),
    );
    expect([...shortKey].every((byte) => byte === 0)).toBe(true);
  });

  test.each([
    ['no KeyId', { CiphertextBlob: blob }],
    ['no CiphertextBlob', { KeyId: KEY_ARN }],
  ])('GenerateDataKeyWithoutPlaintext answering with %s is refused', async (_missing, answer) => {
    const { client } = doubleKms({ GenerateDataKeyWithoutPlaintext: () => answer });
    await expect(createEncryptedDataKey(client, { keyId: KEY_ARN, context })).rejects.toThrow(
      new EnvelopeError('GenerateDataKeyWithoutPlaintext returned no key'),
    );
  });

  test.each([
    ['no key', {}],
    ['a 16-byte key', { Plaintext: dataKeyOf(16) }],
  ])('Decrypt answering with %s for an envelope is refused before any decryption', async (_answered, answer) => {
    const { client } = doubleKms({ Decrypt: () => answer });
    await expect(decryptEnvelope(client, stored, context)).rejects.toThrow(new EnvelopeError('Decrypt returned no 32-byte data key'));
  });

  test('a GCM failure keeps the decipher\'s error as its cause', async () => {
    const { client } = doubleKms({ Decrypt: () => ({ Plaintext: dataKeyOf(32) }) });
    const failure = await decryptEnvelope(client, stored, context).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'EnvelopeError', message: expect.stringMatching(/^GCM authentication failed: /) });
    expect((failure as Error).cause).toMatchObject({ message: 'Unsupported state or unable to authenticate data' });
  });

  test('encryptWithDataKey: a Decrypt without a key is refused; the envelope names the key KMS used, else the one given', async () => {
    const dataKey = { keyId: 'alias/lab', encryptedDataKey: 'AQID' };
    await expect(encryptWithDataKey(doubleKms({ Decrypt: () => ({}) }).client, { dataKey, plaintext: 'x', context })).rejects.toThrow(
      new EnvelopeError('Decrypt returned no data key'),
    );
    const named = await encryptWithDataKey(doubleKms({ Decrypt: () => ({ Plaintext: dataKeyOf(32), KeyId: KEY_ARN }) }).client, { dataKey, plaintext: 'x', context });
    expect(named).toMatchObject({ keyId: KEY_ARN, encryptedDataKey: 'AQID' });
    const unnamed = await encryptWithDataKey(doubleKms({ Decrypt: () => ({ Plaintext: dataKeyOf(32) }) }).client, { dataKey, plaintext: 'x', context });
    expect(unnamed.keyId).toBe('alias/lab');
  });

  test.each([
    ['no KeyId', { CiphertextBlob: blob }],
    ['no CiphertextBlob', { KeyId: KEY_ARN }],
  ])('ReEncrypt answering with %s is refused', async (_missing, answer) => {
    const { client } = doubleKms({ ReEncrypt: () => answer });
    await expect(reEncryptEnvelope(client, stored, { sourceContext: context })).rejects.toThrow(new EnvelopeError('ReEncrypt returned no key'));
  });

  test.each<[string, (client: KMSClient) => Promise<unknown>, string]>([
    ['createEncryptedDataKey, a bad key id', (client) => createEncryptedDataKey(client, { keyId: 'not-a-key', context }), 'key id "not-a-key" is not a KMS key'],
    ['createEncryptedDataKey, no context', (client) => createEncryptedDataKey(client, { keyId: KEY_ARN, context: {} }), 'encryption context is missing'],
    [
      'encryptWithDataKey, a bad key id',
      (client) => encryptWithDataKey(client, { dataKey: { keyId: 'not-a-key', encryptedDataKey: 'AQID' }, plaintext: 'x', context }),
      'key id "not-a-key" is not a KMS key',
    ],
    [
      'encryptWithDataKey, no context',
      (client) => encryptWithDataKey(client, { dataKey: { keyId: KEY_ARN, encryptedDataKey: 'AQID' }, plaintext: 'x', context: {} }),
      'encryption context is missing',
    ],
    [
      'encryptWithDataKey, a data key that is not base64',
      (client) => encryptWithDataKey(client, { dataKey: { keyId: KEY_ARN, encryptedDataKey: '***' }, plaintext: 'x', context }),
      'envelope field encryptedDataKey must be a base64 string',
    ],
    ['decryptEnvelope, no context', (client) => decryptEnvelope(client, stored, {}), 'encryption context is missing'],
    [
      'reEncryptEnvelope, no source context',
      (client) => reEncryptEnvelope(client, stored, { sourceContext: {}, destinationContext: context }),
      'encryption context is missing',
    ],
    [
      'reEncryptEnvelope, an empty destination context',
      (client) => reEncryptEnvelope(client, stored, { sourceContext: context, destinationContext: {} }),
      'encryption context is missing',
    ],
    [
      'reEncryptEnvelope, a bad destination key id',
      (client) => reEncryptEnvelope(client, stored, { sourceContext: context, destinationKeyId: 'not-a-key' }),
      'key id "not-a-key" is not a KMS key',
    ],
  ])('%s: refused before any KMS call', async (_name, call, message) => {
    const { client, calls } = doubleKms({});
    await expect(call(client)).rejects.toThrow(message);
    expect(calls).toEqual([]);
  });
});
