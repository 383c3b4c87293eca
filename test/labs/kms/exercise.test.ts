import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createHandler } from '../../../lambda/envelope-encryption';
import { KMS_LAB } from '../../../labs/kms/constants';
import { kmsLab } from '../../../labs/kms/lab';
import { steps } from '../../../labs/kms/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, runExercise } from '../../../labs/support/exercise';
import { LocalAws, startLocalAws } from '../../support/local-aws';
import { deployStackLocally, LocallyDeployedStack } from '../../support/local-deploy';
import { LocalKms } from '../../support/local-kms';
import { labTemplate } from '../../support/lab-template';
import { alter, AnyCommand, Answer, is } from '../../support/altered-answers';

const lab = kmsLab;
const template = labTemplate(lab);

let aws: LocalAws;
let kms: LocalKms;
let deployed: LocallyDeployedStack;
const lines: string[] = [];
const context = (outputs = deployed.outputs, runId?: string): ExerciseRunOptions => ({ outputs, log: (line) => lines.push(line), runId });

beforeAll(async () => {
  aws = await startLocalAws();
  aws.useFromEnv();
  kms = new LocalKms(aws);
  deployed = deployStackLocally(template, aws, {
    kms,
    stackName: lab.stackName,
    functions: {
      EnvelopeFunction: (credentials, environment) =>
        createHandler(new KMSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials }), environment),
    },
  });
});
afterAll(() => aws.stop());
beforeEach(() => (lines.length = 0));

describe('against the lab\'s key policy and function on a local KMS that really encrypts', () => {
  /** What the learner reads for each step of run `run-t`. */
  const transcripts: Record<string, (string | ReturnType<typeof expect.stringMatching>)[]> = {
    key: [
      '\n== 1/1 key: the key: alias, rotation period, state',
      'DescribeKey alias/KmsLab/LabKey: SYMMETRIC_DEFAULT ENCRYPT_DECRYPT, CUSTOMER managed, Enabled',
      'GetKeyRotationStatus: enabled, every 180 days (90–2,560 allowed; 365 by default)',
      'ListAliases: alias/KmsLab/LabKey',
    ],
    separation: [
      '\n== 1/1 separation: key policy: administrators manage but cannot use, users use but cannot manage',
      'you (an account administrator through IAM): Encrypt → AccessDeniedException. The key policy gives the account',
      '  administrative actions only, so no IAM policy can grant the use of this key.',
      'KeyAdminRole: GetKeyRotationStatus → allowed; Encrypt → AccessDeniedException (manages, cannot use)',
      'KeyUserRole: Encrypt → 74-byte ciphertext blob; GetKeyPolicy → AccessDeniedException (uses, cannot manage)',
    ],
    'encrypt-limit': [
      '\n== 1/1 encrypt-limit: Encrypt and Decrypt directly: 4 KB at most',
      'Encrypt of 4096 bytes → 4165-byte blob; Decrypt (no KeyId needed: the blob names the key) → the same bytes',
      'Encrypt of 4097 bytes → ValidationException: KMS encrypts 4 KB at most; larger data needs envelope encryption',
    ],
    envelope: [
      '\n== 1/1 envelope: envelope encryption from the CLI: GenerateDataKey, AES-256-GCM, store only the encrypted key, Decrypt',
      'GenerateDataKey (AES_256) → encrypted 21142 bytes locally with AES-256-GCM (over 4 KB: Encrypt could not)',
      expect.stringMatching(/^wrote \/.+\/kms-lab-\w+\/invoice-42\.envelope\.json: version, algorithm, keyId, encryptedDataKey, iv, authTag, ciphertext$/),
      '  only the encrypted data key (101-byte blob) sits beside the ciphertext; the plaintext data key was wiped',
      'read the file back → Decrypt (the data key, by KMS) → AES-256-GCM locally → the original document',
    ],
    context: [
      '\n== 1/1 context: the encryption context must match, and the key policy can require one',
      'decrypt with record=run-t-bonus instead of run-t-salary → InvalidCiphertextException: the context must match exactly',
      'GenerateDataKey without app=kms-lab → AccessDeniedException: the key policy requires that pair (kms:EncryptionContext:app)',
    ],
    reencrypt: [
      '\n== 1/1 reencrypt: GenerateDataKeyWithoutPlaintext, then ReEncrypt; the context is bound to the ciphertext too',
      'GenerateDataKeyWithoutPlaintext → only an encrypted data key (101 bytes), to use later',
      'later: Decrypt that data key, encrypt the report with it, wipe it',
      'ReEncrypt → a new encrypted data key (under the key\'s current material, or another key), the same ciphertext;',
      '  the plaintext data key never left KMS, and the envelope still decrypts',
      'ReEncrypt straight through KMS to record=run-t-published → KMS decrypts the data key under the new context,',
      '  but AES-256-GCM refuses the ciphertext: the context is its additional authenticated data too',
      'so reEncryptEnvelope refuses a new context: changing it means decrypting and encrypting the data again',
    ],
    function: [
      '\n== 1/1 function: the envelope-encryption function, interoperating with the CLI',
      'invoke encrypt → an envelope (version, algorithm, keyId, encryptedDataKey, iv, authTag, ciphertext); the function\'s role is a key user too',
      'decrypted here with KeyUserRole and by the function: the same text (the format is the contract, not the code)',
      'invoke encrypt with an empty text → EnvelopeError: plaintext is empty: there is nothing to encrypt',
    ],
  };
  /** The records of the encryption contexts each step's KMS requests carry (the function's too): one of its own. */
  const records: Record<string, string[]> = {
    'encrypt-limit': ['run-t-direct'],
    envelope: ['run-t-invoice-42'],
    context: ['run-t-bonus', 'run-t-salary'],
    reencrypt: ['run-t-draft', 'run-t-published'],
    function: ['run-t-via-function'],
  };
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks and prints what it saw', async (id, step) => {
    const before = aws.requests.length;
    await runExercise([step], context(deployed.outputs, 'run-t'));
    expect(lines).toEqual(transcripts[id]);
    const sent = aws.requests.slice(before).filter((r) => r.service === 'kms').flatMap((r) => [...r.body.matchAll(/"record":"(run-t-[\w-]+)"/g)].map((m) => m[1]));
    expect([...new Set(sent)].sort()).toEqual(records[id] ?? []);
  });

  test('the envelope step removes the folder it wrote the envelope to', async () => {
    await runExercise(steps.filter((s) => s.id === 'envelope'), context());
    const file = /^wrote (.+): /.exec(lines.find((l) => l.startsWith('wrote '))!)![1];
    expect(existsSync(path.dirname(file))).toBe(false);
  });

  test('a run assumes each role once, however many steps use it', async () => {
    const assumed = () => aws.requests.filter((r) => r.operation === 'AssumeRole' && r.body.includes('KeyUserRole')).length;
    const before = assumed();
    await runExercise(steps.filter((s) => ['encrypt-limit', 'envelope', 'reencrypt'].includes(s.id)), context());
    expect(assumed() - before).toBe(1);
  });

  test('each client goes to the endpoint configured for its service', async () => {
    // Everything else goes to a closed port: a client that ignores its service's endpoint fails.
    const endpoints = { AWS_ENDPOINT_URL_KMS: aws.endpoint, AWS_ENDPOINT_URL_STS: aws.endpoint, AWS_ENDPOINT_URL_LAMBDA: aws.endpoint, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
    Object.assign(process.env, endpoints);
    try {
      await expect(runExercise(steps.filter((s) => ['key', 'function'].includes(s.id)), context())).resolves.toBeUndefined();
    } finally {
      for (const name of Object.keys(endpoints)) delete process.env[name];
      aws.useFromEnv();
    }
  });

  test('no plaintext data key handed out by KMS appears in any request the exercise or the function sent', () => {
    expect(kms.plaintextDataKeys.length).toBeGreaterThan(3);
    const sent = aws.requests.map((r) => r.body).join('\n');
    for (const key of kms.plaintextDataKeys) expect(sent).not.toContain(key);
  });

  test('the function was invoked and called KMS as its own role', () => {
    const functionCalls = aws.requests.filter((r) => r.service === 'kms' && r.caller.includes('assumed-role/EnvelopeFunction'));
    expect(functionCalls.map((r) => r.operation)).toEqual(expect.arrayContaining(['GenerateDataKey', 'Decrypt']));
  });
});

test('the separation step fails when the key policy lets the administrator encrypt', async () => {
  const loose = deployStackLocally(template, aws, { kms, stackName: 'LooseKeyPolicy' });
  const statements = kms.find(loose.outputs.KeyArn).policy.Statement as { Sid?: string; Principal?: { AWS?: unknown } }[];
  statements.find((s) => s.Sid === 'KeyUsersUseButCannotManage')!.Principal!.AWS = [loose.outputs.KeyAdminRoleArn, loose.outputs.KeyUserRoleArn];
  const failure = await runExercise([steps.find((s) => s.id === 'separation')!], context(loose.outputs)).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ExerciseCheckFailed);
  expect((failure as Error).message).toBe('Encrypt as the key administrator succeeded, but it should have been refused');
});

describe('each check of the steps fails when the one fact it checks is changed', () => {
  /** KMS as the local engine answers, except `name` calls (that `when` picks), whose answer `edit` rewrites. */
  const kmsAnswers = (name: string, edit: (answer: Answer, command: AnyCommand) => Answer | Promise<Answer>, when: (command: AnyCommand) => boolean = () => true) =>
    alter(KMSClient, async (command, send) => (is(command, name) && when(command) ? edit(await send(), command) : send()));
  const lambdaAnswers = (edit: (command: AnyCommand, send: () => Promise<Answer>) => Promise<Answer>) => alter(LambdaClient, edit);
  const payload = (body: unknown, functionError?: string) => ({ StatusCode: 200, Payload: Buffer.from(JSON.stringify(body)), FunctionError: functionError });
  const refusal = (name: string) => Object.assign(new Error(`${name} (made up by the test)`), { name });
  /** KMS as the local engine answers, except the `name` calls that `when` picks (given their count so far), answered by `answer`. */
  const kmsInstead = (name: string, answer: () => Promise<Answer>, when: (command: AnyCommand, nth: number) => boolean = () => true) => {
    let nth = 0;
    alter(KMSClient, (command, send) => (is(command, name) && when(command, (nth += 1)) ? answer() : send()));
  };
  /** What a call that encrypts answers instead of being refused (the steps read no more of it). */
  const sealedAnswer = async () => ({ CiphertextBlob: new Uint8Array(64).fill(1), Plaintext: new Uint8Array(32).fill(2), KeyId: deployed.outputs.KeyArn });
  const recordEndsWith = (suffix: string) => (command: AnyCommand) => String((command.input.EncryptionContext as Record<string, string>)?.record).endsWith(suffix);
  const stepFails = async (id: string, message: string) => {
    const failure = await runExercise(steps.filter((s) => s.id === id), context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toContain(message);
  };
  afterEach(() => jest.restoreAllMocks());

  test.each<[string, string, () => void, string]>([
    ['key', 'an alias on another key', () => kmsAnswers('DescribeKey', (a) => ({ ...a, KeyMetadata: { ...(a.KeyMetadata as object), Arn: 'arn:aws:kms:us-east-1:000000000000:key/other' } })), 'points at arn:aws:kms:us-east-1:000000000000:key/other, not the lab key'],
    ['key', 'no key metadata', () => kmsAnswers('DescribeKey', (a) => ({ ...a, KeyMetadata: undefined })), 'alias/KmsLab/LabKey points at undefined, not the lab key'],
    ['key', 'an AWS managed key', () => kmsAnswers('DescribeKey', (a) => ({ ...a, KeyMetadata: { ...(a.KeyMetadata as object), KeyManager: 'AWS' } })), 'the key is AWS/Enabled'],
    ['key', 'a disabled key', () => kmsAnswers('DescribeKey', (a) => ({ ...a, KeyMetadata: { ...(a.KeyMetadata as object), KeyState: 'Disabled' } })), 'the key is CUSTOMER/Disabled'],
    ['key', 'rotation off', () => kmsAnswers('GetKeyRotationStatus', (a) => ({ ...a, KeyRotationEnabled: false })), 'automatic key rotation is off'],
    ['key', 'the default rotation period', () => kmsAnswers('GetKeyRotationStatus', (a) => ({ ...a, RotationPeriodInDays: 365 })), 'rotation period is 365 days, expected'],
    ['key', 'ListAliases listing only another alias', () => kmsAnswers('ListAliases', (a) => ({ ...a, Aliases: [{ AliasName: 'alias/other' }] })), 'ListAliases does not list alias/'],
    ['key', 'an alias ListAliases does not list', () => kmsAnswers('ListAliases', (a) => ({ ...a, Aliases: [] })), 'ListAliases does not list alias/'],
    ['separation', 'an administrator that cannot read the rotation status', () => kmsAnswers('GetKeyRotationStatus', (a) => ({ ...a, KeyRotationEnabled: false })), 'the admin role could not read the rotation status'],
    ['separation', 'no ciphertext for the key user', () => kmsAnswers('Encrypt', (a) => ({ ...a, CiphertextBlob: undefined })), 'the user role got no ciphertext'],
    ['separation', 'an empty ciphertext for the key user', () => kmsAnswers('Encrypt', (a) => ({ ...a, CiphertextBlob: new Uint8Array(0) })), 'the user role got no ciphertext'],
    ['encrypt-limit', 'Decrypt returning other bytes', () => kmsAnswers('Decrypt', (a) => ({ ...a, Plaintext: Buffer.alloc(4096, 'b') })), 'Decrypt did not return the 4,096 bytes encrypted'],
    ['context', 'KMS refusing the wrong context with another error', () => alter(KMSClient, (command, send) => (is(command, 'Decrypt') && String((command.input.EncryptionContext as Record<string, string>)?.record).endsWith('-bonus') ? Promise.reject(refusal('AccessDeniedException')) : send())), 'expected InvalidCiphertextException from KMS, got AccessDeniedException'],
    ['reencrypt', 'ReEncrypt putting the data key under another key', () => kmsAnswers('ReEncrypt', (a) => ({ ...a, KeyId: 'arn:aws:kms:us-east-1:000000000000:key/other' }), (command) => JSON.stringify(command.input.SourceEncryptionContext) === JSON.stringify(command.input.DestinationEncryptionContext)), 'ReEncrypt put the data key under arn:aws:kms:us-east-1:000000000000:key/other, not the lab key'],
    ['reencrypt', 'ReEncrypt returning the data key it was given', () => kmsAnswers('ReEncrypt', (a, command) => ({ ...a, CiphertextBlob: command.input.CiphertextBlob }), (command) => JSON.stringify(command.input.SourceEncryptionContext) === JSON.stringify(command.input.DestinationEncryptionContext)), 'ReEncrypt returned the same encrypted data key'],
    ['reencrypt', 'ReEncrypt to another context returning nothing', () => kmsAnswers('ReEncrypt', (a) => ({ ...a, CiphertextBlob: new Uint8Array(0) }), (command) => String((command.input.DestinationEncryptionContext as Record<string, string>)?.record).endsWith('-published')), 'ReEncrypt to another context returned no data key'],
    ['reencrypt', 'ReEncrypt to another context returning no blob', () => kmsAnswers('ReEncrypt', (a) => ({ ...a, CiphertextBlob: undefined }), (command) => String((command.input.DestinationEncryptionContext as Record<string, string>)?.record).endsWith('-published')), 'ReEncrypt to another context returned no data key'],
    ['reencrypt', 'a moved data key refused by KMS rather than by AES-GCM', () => alter(KMSClient, (command, send) => (is(command, 'Decrypt') && String((command.input.EncryptionContext as Record<string, string>)?.record).endsWith('-published') ? Promise.reject(refusal('InvalidCiphertextException')) : send())), 'expected a GCM authentication failure, got:'],
    ['separation', 'your own credentials allowed to encrypt', () => kmsInstead('Encrypt', sealedAnswer, (_c, nth) => nth === 1), 'Encrypt with your own credentials succeeded, but it should have been refused'],
    ['separation', 'the key user allowed to read the key policy', () => kmsInstead('GetKeyPolicy', async () => ({ Policy: '{}', PolicyName: 'default' })), 'GetKeyPolicy as the key user succeeded, but it should have been refused'],
    ['encrypt-limit', 'Encrypt accepting 4,097 bytes', () => kmsInstead('Encrypt', sealedAnswer, (c) => (c.input.Plaintext as Uint8Array).length > 4096), 'Encrypt of 4097 bytes succeeded, but it should have been refused'],
    ['context', 'a disabled key refusing the wrong context (DisabledException, which the envelope module passes on)', () => kmsInstead('Decrypt', async () => Promise.reject(refusal('DisabledException')), recordEndsWith('-bonus')), 'decrypting with another record in the context: expected EnvelopeError, got DisabledException: DisabledException (made up by the test)'],
    ['context', 'a data key generated without the required pair', () => kmsInstead('GenerateDataKey', sealedAnswer, (c) => (c.input.EncryptionContext as Record<string, string>).app === undefined), `GenerateDataKey without app=${KMS_LAB.requiredContext.app} in the context succeeded, but it should have been refused`],
    ['reencrypt', 'a disabled key refusing the moved data key (DisabledException, passed on)', () => kmsInstead('Decrypt', async () => Promise.reject(refusal('DisabledException')), recordEndsWith('-published')), 'decrypting with a data key moved to another context: expected EnvelopeError, got DisabledException: DisabledException (made up by the test)'],
    ['function', 'a function that fails to encrypt', () => lambdaAnswers(async () => payload({ errorType: 'Error', errorMessage: 'boom' }, 'Unhandled')), 'the function failed to encrypt: {"errorType":"Error","errorMessage":"boom"}'],
    ['function', 'a function that returns no envelope', () => lambdaAnswers(async () => payload({ envelope: { ciphertext: 'x' } })), 'the function returned {"envelope":{"ciphertext":"x"}}'],
    ['function', 'a function that encrypts another text', () => lambdaAnswers((command, send) => { const event = JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString('utf8')); if (event.action === 'encrypt' && event.text) command.input.Payload = Buffer.from(JSON.stringify({ ...event, text: 'another text' })); return send(); }), 'the envelope made by the function did not decrypt here'],
    ['function', 'a function that decrypts to another text', () => lambdaAnswers(async (command, send) => (JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString('utf8')).action === 'decrypt' ? payload({ text: 'another text' }) : send())), 'invoke decrypt returned {"text":"another text"}'],
    ['function', 'a function that reports the empty text without failing', () => lambdaAnswers(async (command, send) => (JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString('utf8')).text === '' ? payload({ errorType: 'EnvelopeError', errorMessage: 'plaintext is empty' }) : send())), 'an empty text gave {"errorType":"EnvelopeError","errorMessage":"plaintext is empty"}'],
    ['function', 'a function that encrypts an empty text', () => lambdaAnswers(async (command, send) => (JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString('utf8')).text === '' ? payload({ envelope: {} }) : send())), 'an empty text gave {"envelope":{}}'],
  ])('%s fails on %s', async (id, _name, breakIt, message) => {
    breakIt();
    await stepFails(id, message);
  });

  describe('envelope: the file as read back', () => {
    // The module object the exercise calls through (an import here would be a copy whose properties cannot be spied on).
    const fsPromises = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');
    const storedAs = (edit: (stored: Record<string, unknown>) => object) => {
      const readFile = fsPromises.readFile;
      jest.spyOn(fsPromises, 'readFile').mockImplementation((async (...args: Parameters<typeof readFile>) => JSON.stringify(edit(JSON.parse(String(await readFile(...args)))))) as never);
    };
    test('with a field the envelope format does not have', async () => {
      storedAs((stored) => ({ ...stored, plaintextDataKey: 'AAAA' }));
      await stepFails('envelope', 'the stored envelope has fields');
    });
    test('holding the plaintext', async () => {
      storedAs((stored) => ({ ...stored, iv: { invoice: 42 } }));
      await stepFails('envelope', 'the stored envelope contains the plaintext');
    });
  });
});

describe('the checks on what the envelope module returns fail when the module misbehaves in one way', () => {
  // With AES-GCM a decryption returns exactly the sealed bytes or throws, and reEncryptEnvelope refuses a new context
  // before calling KMS: only the module itself can break these checks. Its exports cannot be spied on (esbuild defines
  // them as getters), so the steps are loaded again in a module registry of their own, where the module is the real
  // one except the function a case replaces.
  const modulePath = '../../../lambda/envelope-encryption/envelope';
  type EnvelopeModule = typeof import('../../../lambda/envelope-encryption/envelope');
  const actual = jest.requireActual<EnvelopeModule>(modulePath);
  const replaced: Partial<EnvelopeModule> = {};
  let isolated: { steps: typeof steps; ExerciseCheckFailed: typeof ExerciseCheckFailed; runExercise: typeof runExercise };
  beforeAll(() => {
    jest.isolateModules(() => {
      jest.doMock(modulePath, () => new Proxy(actual, { get: (module, name: keyof EnvelopeModule) => replaced[name] ?? module[name] }));
      /* eslint-disable @typescript-eslint/no-require-imports -- modules of the isolated registry */
      const exercise = require('../../../labs/kms/exercise') as typeof import('../../../labs/kms/exercise');
      const support = require('../../../labs/support/exercise') as typeof import('../../../labs/support/exercise');
      /* eslint-enable @typescript-eslint/no-require-imports */
      isolated = { steps: exercise.steps, ExerciseCheckFailed: support.ExerciseCheckFailed, runExercise: support.runExercise };
    });
    jest.dontMock(modulePath);
  });
  afterEach(() => {
    for (const name of Object.keys(replaced)) delete replaced[name as keyof EnvelopeModule];
  });
  /** A decryptEnvelope that returns other bytes than were sealed: the first one is lost. */
  const lossyDecrypt: EnvelopeModule['decryptEnvelope'] = async (...args) => (await actual.decryptEnvelope(...args)).subarray(1);

  test.each<[string, string, Partial<EnvelopeModule>, string]>([
    ['envelope', 'a decryption that loses a byte', { decryptEnvelope: lossyDecrypt }, 'the envelope did not decrypt to the original document'],
    ['reencrypt', 'a decryption that loses a byte', { decryptEnvelope: lossyDecrypt }, 'the re-encrypted envelope did not decrypt'],
    ['context', 'a refusal without the KMS error as its cause', { decryptEnvelope: async () => Promise.reject(Object.assign(new Error('refused'), { name: 'EnvelopeError' })) }, 'expected InvalidCiphertextException from KMS, got undefined'],
    ['reencrypt', 'a refusal of the moved data key that is not GCM\'s own', { decryptEnvelope: async (kms, stored, context) => (String(context.record).endsWith('-published') ? Promise.reject(Object.assign(new Error('KMS decrypted, then GCM authentication failed'), { name: 'EnvelopeError' })) : actual.decryptEnvelope(kms, stored, context)) }, 'expected a GCM authentication failure, got: KMS decrypted, then GCM authentication failed'],
    ['reencrypt', 'a reEncryptEnvelope that ignores the destination context', { reEncryptEnvelope: (kms, stored, request) => actual.reEncryptEnvelope(kms, stored, { ...request, destinationContext: undefined }) }, 'reEncryptEnvelope to another context succeeded, but it should have been refused'],
  ])('%s fails on %s', async (id, _name, replacement, message) => {
    Object.assign(replaced, replacement);
    const failure = await isolated.runExercise(isolated.steps.filter((s) => s.id === id), context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(isolated.ExerciseCheckFailed);
    expect((failure as Error).message).toBe(message);
  });
});
