import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
} from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  createEncryptedDataKey,
  decryptEnvelope,
  encryptEnvelope,
  encryptWithDataKey,
  Envelope,
  KMS_ENCRYPT_MAX_BYTES,
  reEncryptEnvelope,
} from '../../lambda/envelope-encryption/envelope';
import { check, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';

/** The pair the key policy requires on every cryptographic request of a key user (see KMS_LAB in stack.ts). */
export const LAB_CONTEXT = { app: 'kms-lab' } as const;

/** Marks this run, so its encryption contexts and files never mix with an earlier run's. */
const runId = `run-${Date.now().toString(36)}`;
const recordContext = (record: string) => ({ ...LAB_CONTEXT, record: `${runId}-${record}` });

const clients = new Map<string, KMSClient>();
let sts: STSClient | undefined;
let lambda: LambdaClient | undefined;

/** KMS as the caller's own credentials (the learner: an administrator of the account, through IAM). */
function learnerKms(): KMSClient {
  if (!clients.has('learner')) clients.set('learner', new KMSClient({}));
  return clients.get('learner') as KMSClient;
}

/** KMS as a role of the lab: AssumeRole, then a client with the temporary credentials it returned. */
async function kmsAs(roleArn: string, sessionName: string): Promise<KMSClient> {
  const cached = clients.get(roleArn);
  if (cached) return cached;
  const { Credentials } = await (sts ??= new STSClient({})).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 900 }),
  );
  check(Credentials?.AccessKeyId !== undefined && Credentials.SecretAccessKey !== undefined, `AssumeRole ${roleArn} returned no credentials`);
  const client = new KMSClient({
    credentials: { accessKeyId: Credentials.AccessKeyId, secretAccessKey: Credentials.SecretAccessKey, sessionToken: Credentials.SessionToken },
  });
  clients.set(roleArn, client);
  return client;
}

/** Runs `call` and returns the error it must fail with; a success is a failed check. */
async function expectFailure(call: () => Promise<unknown>, expected: string | RegExp, what: string): Promise<Error> {
  try {
    await call();
  } catch (error) {
    const name = (error as Error).name;
    const matches = typeof expected === 'string' ? name === expected : expected.test(`${name}: ${(error as Error).message}`);
    check(matches, `${what}: expected ${expected}, got ${name}: ${(error as Error).message}`);
    return error as Error;
  }
  check(false, `${what} succeeded, but the key policy should refuse it`);
}

async function keyConfiguration({ outputs, log }: ExerciseContext): Promise<void> {
  const keyArn = requireOutput(outputs, 'KeyArn');
  const alias = requireOutput(outputs, 'KeyAlias');
  const { KeyMetadata } = await learnerKms().send(new DescribeKeyCommand({ KeyId: alias }));
  check(KeyMetadata?.Arn === keyArn, `alias ${alias} points at ${KeyMetadata?.Arn}, not the lab key ${keyArn}`);
  check(KeyMetadata?.KeyManager === 'CUSTOMER' && KeyMetadata.KeyState === 'Enabled', `the key is ${KeyMetadata?.KeyManager}/${KeyMetadata?.KeyState}`);
  log(`DescribeKey ${alias}: ${KeyMetadata?.KeySpec} ${KeyMetadata?.KeyUsage}, ${KeyMetadata?.KeyManager} managed, ${KeyMetadata?.KeyState}`);
  const rotation = await learnerKms().send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
  check(rotation.KeyRotationEnabled === true, 'automatic key rotation is off');
  check(rotation.RotationPeriodInDays === 180, `rotation period is ${rotation.RotationPeriodInDays} days, expected 180`);
  log(`GetKeyRotationStatus: enabled, every ${rotation.RotationPeriodInDays} days (90–2,560 allowed; 365 by default)`);
  const { Aliases } = await learnerKms().send(new ListAliasesCommand({ KeyId: keyArn }));
  check((Aliases ?? []).some((a) => a.AliasName === alias), `ListAliases does not list ${alias} for the key`);
  log(`ListAliases: ${(Aliases ?? []).map((a) => a.AliasName).join(', ')}`);
}

async function separation({ outputs, log }: ExerciseContext): Promise<void> {
  const keyArn = requireOutput(outputs, 'KeyArn');
  const encrypt = (client: KMSClient) => () =>
    client.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('hello'), EncryptionContext: { ...LAB_CONTEXT } }));

  await expectFailure(encrypt(learnerKms()), 'AccessDeniedException', 'Encrypt with your own credentials');
  log('you (an account administrator through IAM): Encrypt → AccessDeniedException. The key policy gives the account');
  log('  administrative actions only, so no IAM policy can grant the use of this key.');

  const admin = await kmsAs(requireOutput(outputs, 'KeyAdminRoleArn'), `${runId}-admin`);
  const status = await admin.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
  check(status.KeyRotationEnabled === true, 'the admin role could not read the rotation status');
  await expectFailure(encrypt(admin), 'AccessDeniedException', 'Encrypt as the key administrator');
  log('KeyAdminRole: GetKeyRotationStatus → allowed; Encrypt → AccessDeniedException (manages, cannot use)');

  const user = await kmsAs(requireOutput(outputs, 'KeyUserRoleArn'), `${runId}-user`);
  const { CiphertextBlob } = await encrypt(user)();
  check(Boolean(CiphertextBlob?.length), 'the user role got no ciphertext');
  await expectFailure(() => user.send(new GetKeyPolicyCommand({ KeyId: keyArn })), 'AccessDeniedException', 'GetKeyPolicy as the key user');
  log(`KeyUserRole: Encrypt → ${CiphertextBlob?.length}-byte ciphertext blob; GetKeyPolicy → AccessDeniedException (uses, cannot manage)`);
}

async function encryptLimit({ outputs, log }: ExerciseContext): Promise<void> {
  const keyArn = requireOutput(outputs, 'KeyArn');
  const user = await kmsAs(requireOutput(outputs, 'KeyUserRoleArn'), `${runId}-user`);
  const context = recordContext('direct');
  const fits = Buffer.alloc(KMS_ENCRYPT_MAX_BYTES, 'a');
  const { CiphertextBlob } = await user.send(new EncryptCommand({ KeyId: keyArn, Plaintext: fits, EncryptionContext: context }));
  const { Plaintext } = await user.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context }));
  check(Buffer.from(Plaintext ?? []).equals(fits), 'Decrypt did not return the 4,096 bytes encrypted');
  log(`Encrypt of ${fits.length} bytes → ${CiphertextBlob?.length}-byte blob; Decrypt (no KeyId needed: the blob names the key) → the same bytes`);
  await expectFailure(
    () => user.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.alloc(KMS_ENCRYPT_MAX_BYTES + 1, 'a'), EncryptionContext: context })),
    'ValidationException',
    `Encrypt of ${KMS_ENCRYPT_MAX_BYTES + 1} bytes`,
  );
  log(`Encrypt of ${KMS_ENCRYPT_MAX_BYTES + 1} bytes → ValidationException: KMS encrypts 4 KB at most; larger data needs envelope encryption`);
}

const ENVELOPE_FIELDS = ['algorithm', 'authTag', 'ciphertext', 'encryptedDataKey', 'iv', 'keyId', 'version'];

async function envelope({ outputs, log }: ExerciseContext): Promise<void> {
  const keyArn = requireOutput(outputs, 'KeyArn');
  const user = await kmsAs(requireOutput(outputs, 'KeyUserRoleArn'), `${runId}-user`);
  const context = recordContext('invoice-42');
  const document = JSON.stringify({ invoice: 42, lines: Array.from({ length: 800 }, (_, i) => ({ line: i, amount: i * 3 })) });
  const sealed = await encryptEnvelope(user, { keyId: keyArn, plaintext: document, context });
  const directory = await mkdtemp(path.join(tmpdir(), 'kms-lab-'));
  const file = path.join(directory, 'invoice-42.envelope.json');
  try {
    await writeFile(file, JSON.stringify(sealed, null, 2));
    const stored = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    check(JSON.stringify(Object.keys(stored).sort()) === JSON.stringify(ENVELOPE_FIELDS), `the stored envelope has fields ${Object.keys(stored)}`);
    check(!JSON.stringify(stored).includes('"invoice":42'), 'the stored envelope contains the plaintext');
    log(`GenerateDataKey (AES_256) → encrypted ${document.length} bytes locally with AES-256-GCM (over 4 KB: Encrypt could not)`);
    log(`wrote ${file}: ${Object.keys(stored).join(', ')}`);
    log(`  only the encrypted data key (${Buffer.from(sealed.encryptedDataKey, 'base64').length}-byte blob) sits beside the ciphertext; the plaintext data key was wiped`);
    const opened = await decryptEnvelope(user, stored, context);
    check(opened.toString('utf8') === document, 'the envelope did not decrypt to the original document');
    log('read the file back → Decrypt (the data key, by KMS) → AES-256-GCM locally → the original document');
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function encryptionContext({ outputs, log }: ExerciseContext): Promise<void> {
  const keyArn = requireOutput(outputs, 'KeyArn');
  const user = await kmsAs(requireOutput(outputs, 'KeyUserRoleArn'), `${runId}-user`);
  const context = recordContext('salary');
  const sealed = await encryptEnvelope(user, { keyId: keyArn, plaintext: 'salary: 1,000,000', context });
  const wrong = { ...context, record: `${runId}-bonus` };
  const error = await expectFailure(() => decryptEnvelope(user, sealed, wrong), 'EnvelopeError', 'decrypting with another record in the context');
  check(error.cause !== undefined && (error.cause as Error).name === 'InvalidCiphertextException', `expected InvalidCiphertextException from KMS, got ${(error.cause as Error)?.name}`);
  log(`decrypt with record=${wrong.record} instead of ${context.record} → InvalidCiphertextException: the context must match exactly`);
  await expectFailure(
    () => user.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256', EncryptionContext: { record: 'no-app' } })),
    'AccessDeniedException',
    'GenerateDataKey without app=kms-lab in the context',
  );
  log('GenerateDataKey without app=kms-lab → AccessDeniedException: the key policy requires that pair (kms:EncryptionContext:app)');
}

async function reEncrypt({ outputs, log }: ExerciseContext): Promise<void> {
  const keyArn = requireOutput(outputs, 'KeyArn');
  const user = await kmsAs(requireOutput(outputs, 'KeyUserRoleArn'), `${runId}-user`);
  const context = recordContext('draft');
  const dataKey = await createEncryptedDataKey(user, { keyId: keyArn, context });
  log(`GenerateDataKeyWithoutPlaintext → only an encrypted data key (${Buffer.from(dataKey.encryptedDataKey, 'base64').length} bytes), to use later`);
  const sealed: Envelope = await encryptWithDataKey(user, { dataKey, plaintext: 'quarterly report, draft', context });
  log('later: Decrypt that data key, encrypt the report with it, wipe it');
  const published = recordContext('published');
  const moved = await reEncryptEnvelope(user, sealed, { sourceContext: context, destinationContext: published });
  check(moved.ciphertext === sealed.ciphertext, 'ReEncrypt changed the ciphertext: only the data key should change');
  check(moved.encryptedDataKey !== sealed.encryptedDataKey, 'ReEncrypt returned the same encrypted data key');
  const text = await decryptEnvelope(user, moved, published);
  check(text.toString('utf8') === 'quarterly report, draft', 'the re-encrypted envelope did not decrypt under the new context');
  await expectFailure(() => decryptEnvelope(user, moved, context), 'EnvelopeError', 'decrypting the re-encrypted envelope with the old context');
  log('ReEncrypt (record draft → published): a new encrypted data key, the same ciphertext; the plaintext key never left KMS');
  log('the new context decrypts it, the old one no longer does');
}

interface InvokeResult {
  payload: Record<string, unknown>;
  functionError?: string;
}

async function invoke(functionName: string, event: object): Promise<InvokeResult> {
  const result = await (lambda ??= new LambdaClient({})).send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
  );
  return { payload: JSON.parse(Buffer.from(result.Payload ?? []).toString('utf8') || 'null'), functionError: result.FunctionError };
}

async function viaFunction({ outputs, log }: ExerciseContext): Promise<void> {
  const functionName = requireOutput(outputs, 'EnvelopeFunctionName');
  const user = await kmsAs(requireOutput(outputs, 'KeyUserRoleArn'), `${runId}-user`);
  const context = recordContext('via-function');
  const text = `a secret for ${runId}`;
  const encrypted = await invoke(functionName, { action: 'encrypt', text, context });
  check(!encrypted.functionError, `the function failed to encrypt: ${JSON.stringify(encrypted.payload)}`);
  const sealed = encrypted.payload.envelope as Envelope;
  check(JSON.stringify(Object.keys(sealed ?? {}).sort()) === JSON.stringify(ENVELOPE_FIELDS), `the function returned ${JSON.stringify(encrypted.payload)}`);
  log(`invoke encrypt → an envelope (${Object.keys(sealed).join(', ')}); the function's role is a key user too`);
  const local = await decryptEnvelope(user, sealed, context);
  check(local.toString('utf8') === text, 'the envelope made by the function did not decrypt here');
  const decrypted = await invoke(functionName, { action: 'decrypt', envelope: sealed, context });
  check(decrypted.payload.text === text, `invoke decrypt returned ${JSON.stringify(decrypted.payload)}`);
  log('decrypted here with KeyUserRole and by the function: the same text (the format is the contract, not the code)');
  const empty = await invoke(functionName, { action: 'encrypt', text: '', context });
  check(empty.functionError !== undefined && /plaintext is empty/.test(String(empty.payload.errorMessage)), `an empty text gave ${JSON.stringify(empty.payload)}`);
  log(`invoke encrypt with an empty text → ${empty.payload.errorType}: ${empty.payload.errorMessage}`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'key', title: 'the key: alias, rotation period, state', run: keyConfiguration },
  { id: 'separation', title: 'key policy: administrators manage but cannot use, users use but cannot manage', run: separation },
  { id: 'encrypt-limit', title: 'Encrypt and Decrypt directly: 4 KB at most', run: encryptLimit },
  { id: 'envelope', title: 'envelope encryption from the CLI: GenerateDataKey, AES-256-GCM, store only the encrypted key, Decrypt', run: envelope },
  { id: 'context', title: 'the encryption context must match, and the key policy can require one', run: encryptionContext },
  { id: 'reencrypt', title: 'GenerateDataKeyWithoutPlaintext, then ReEncrypt under a new context', run: reEncrypt },
  { id: 'function', title: 'the envelope-encryption function, interoperating with the CLI', run: viaFunction },
];

