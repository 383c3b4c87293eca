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
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  createEncryptedDataKey,
  decryptEnvelope,
  encryptEnvelope,
  encryptWithDataKey,
  Envelope,
  KMS_ENCRYPT_MAX_BYTES,
  reEncryptEnvelope,
} from '../../lambda/envelope-encryption/envelope';
import { assumedCredentials } from '../support/credentials';
import { check, ExerciseContext, ExerciseStep, createClient, defineFixture, expectRejection, requireOutput } from '../support/exercise';
import { KMS_LAB } from './constants';

/** The pair the key policy requires on every cryptographic request of a key user (KMS_LAB.requiredContext). */
const LAB_CONTEXT = KMS_LAB.requiredContext;
const recordContext = (exercise: ExerciseContext, record: string) => ({ ...LAB_CONTEXT, record: `${exercise.runId}-${record}` });

/** KMS as the caller's own credentials (the learner: an administrator of the account, through IAM). */
const learnerKms = (exercise: ExerciseContext) => exercise.client(KMSClient, 'KMS');
const lambdaOf = (exercise: ExerciseContext) => exercise.client(LambdaClient, 'LAMBDA');

/** The run's KMS clients as the lab's roles, by role ARN: each role is assumed once per run. */
const roleClients = defineFixture(
  'KMS clients of the lab roles',
  () => new Map<string, KMSClient>(),
  async (clients) => {
    for (const client of clients.values()) client.destroy();
  },
);

/** KMS as a role of the lab: AssumeRole, then a client with the temporary credentials it returned. */
async function kmsAs(exercise: ExerciseContext, roleArn: string, sessionName: string): Promise<KMSClient> {
  const clients = await exercise.use(roleClients);
  const cached = clients.get(roleArn);
  if (cached) return cached;
  const credentials = await assumedCredentials(exercise, roleArn, sessionName);
  const client = createClient(KMSClient, 'KMS', { credentials });
  clients.set(roleArn, client);
  return client;
}

async function keyConfiguration(exercise: ExerciseContext): Promise<void> {
  const { outputs, log } = exercise;
  const keyArn = requireOutput(outputs, 'KeyArn');
  const alias = requireOutput(outputs, 'KeyAlias');
  const { KeyMetadata } = await learnerKms(exercise).send(new DescribeKeyCommand({ KeyId: alias }));
  check(KeyMetadata?.Arn === keyArn, `alias ${alias} points at ${KeyMetadata?.Arn}, not the lab key ${keyArn}`);
  check(KeyMetadata?.KeyManager === 'CUSTOMER' && KeyMetadata.KeyState === 'Enabled', `the key is ${KeyMetadata?.KeyManager}/${KeyMetadata?.KeyState}`);
  log(`DescribeKey ${alias}: ${KeyMetadata?.KeySpec} ${KeyMetadata?.KeyUsage}, ${KeyMetadata?.KeyManager} managed, ${KeyMetadata?.KeyState}`);
  const rotation = await learnerKms(exercise).send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
  check(rotation.KeyRotationEnabled === true, 'automatic key rotation is off');
  const rotationDays = KMS_LAB.rotationPeriod.toDays();
  check(rotation.RotationPeriodInDays === rotationDays, `rotation period is ${rotation.RotationPeriodInDays} days, expected ${rotationDays}`);
  log(`GetKeyRotationStatus: enabled, every ${rotation.RotationPeriodInDays} days (90–2,560 allowed; 365 by default)`);
  const { Aliases } = await learnerKms(exercise).send(new ListAliasesCommand({ KeyId: keyArn }));
  check((Aliases ?? []).some((a) => a.AliasName === alias), `ListAliases does not list ${alias} for the key`);
  log(`ListAliases: ${(Aliases ?? []).map((a) => a.AliasName).join(', ')}`);
}

async function separation(exercise: ExerciseContext): Promise<void> {
  const { outputs, log } = exercise;
  const keyArn = requireOutput(outputs, 'KeyArn');
  const encrypt = (client: KMSClient) => () =>
    client.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('hello'), EncryptionContext: { ...LAB_CONTEXT } }));

  await expectRejection(encrypt(learnerKms(exercise)), 'AccessDeniedException', 'Encrypt with your own credentials');
  log('you (an account administrator through IAM): Encrypt → AccessDeniedException. The key policy gives the account');
  log('  administrative actions only, so no IAM policy can grant the use of this key.');

  const admin = await kmsAs(exercise, requireOutput(outputs, 'KeyAdminRoleArn'), `${exercise.runId}-admin`);
  const status = await admin.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
  check(status.KeyRotationEnabled === true, 'the admin role could not read the rotation status');
  await expectRejection(encrypt(admin), 'AccessDeniedException', 'Encrypt as the key administrator');
  log('KeyAdminRole: GetKeyRotationStatus → allowed; Encrypt → AccessDeniedException (manages, cannot use)');

  const user = await kmsAs(exercise, requireOutput(outputs, 'KeyUserRoleArn'), `${exercise.runId}-user`);
  const { CiphertextBlob } = await encrypt(user)();
  check(Boolean(CiphertextBlob?.length), 'the user role got no ciphertext');
  await expectRejection(() => user.send(new GetKeyPolicyCommand({ KeyId: keyArn })), 'AccessDeniedException', 'GetKeyPolicy as the key user');
  log(`KeyUserRole: Encrypt → ${CiphertextBlob?.length}-byte ciphertext blob; GetKeyPolicy → AccessDeniedException (uses, cannot manage)`);
}

async function encryptLimit(exercise: ExerciseContext): Promise<void> {
  const { outputs, log } = exercise;
  const keyArn = requireOutput(outputs, 'KeyArn');
  const user = await kmsAs(exercise, requireOutput(outputs, 'KeyUserRoleArn'), `${exercise.runId}-user`);
  const context = recordContext(exercise, 'direct');
  const fits = Buffer.alloc(KMS_ENCRYPT_MAX_BYTES, 'a');
  const { CiphertextBlob } = await user.send(new EncryptCommand({ KeyId: keyArn, Plaintext: fits, EncryptionContext: context }));
  const { Plaintext } = await user.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context }));
  check(Buffer.from(Plaintext ?? []).equals(fits), 'Decrypt did not return the 4,096 bytes encrypted');
  log(`Encrypt of ${fits.length} bytes → ${CiphertextBlob?.length}-byte blob; Decrypt (no KeyId needed: the blob names the key) → the same bytes`);
  await expectRejection(
    () => user.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.alloc(KMS_ENCRYPT_MAX_BYTES + 1, 'a'), EncryptionContext: context })),
    'ValidationException',
    `Encrypt of ${KMS_ENCRYPT_MAX_BYTES + 1} bytes`,
  );
  log(`Encrypt of ${KMS_ENCRYPT_MAX_BYTES + 1} bytes → ValidationException: KMS encrypts 4 KB at most; larger data needs envelope encryption`);
}

const ENVELOPE_FIELDS = ['algorithm', 'authTag', 'ciphertext', 'encryptedDataKey', 'iv', 'keyId', 'version'];

async function envelope(exercise: ExerciseContext): Promise<void> {
  const { outputs, log } = exercise;
  const keyArn = requireOutput(outputs, 'KeyArn');
  const user = await kmsAs(exercise, requireOutput(outputs, 'KeyUserRoleArn'), `${exercise.runId}-user`);
  const context = recordContext(exercise, 'invoice-42');
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

async function encryptionContext(exercise: ExerciseContext): Promise<void> {
  const { outputs, log } = exercise;
  const keyArn = requireOutput(outputs, 'KeyArn');
  const user = await kmsAs(exercise, requireOutput(outputs, 'KeyUserRoleArn'), `${exercise.runId}-user`);
  const context = recordContext(exercise, 'salary');
  const sealed = await encryptEnvelope(user, { keyId: keyArn, plaintext: 'salary: 1,000,000', context });
  const wrong = { ...context, record: `${exercise.runId}-bonus` };
  const error = await expectRejection(() => decryptEnvelope(user, sealed, wrong), 'EnvelopeError', 'decrypting with another record in the context');
  check(error.cause !== undefined && (error.cause as Error).name === 'InvalidCiphertextException', `expected InvalidCiphertextException from KMS, got ${(error.cause as Error)?.name}`);
  log(`decrypt with record=${wrong.record} instead of ${context.record} → InvalidCiphertextException: the context must match exactly`);
  await expectRejection(
    () => user.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256', EncryptionContext: { record: 'no-app' } })),
    'AccessDeniedException',
    `GenerateDataKey without app=${LAB_CONTEXT.app} in the context`,
  );
  log(`GenerateDataKey without app=${LAB_CONTEXT.app} → AccessDeniedException: the key policy requires that pair (kms:EncryptionContext:app)`);
}

async function reEncrypt(exercise: ExerciseContext): Promise<void> {
  const { outputs, log } = exercise;
  const keyArn = requireOutput(outputs, 'KeyArn');
  const user = await kmsAs(exercise, requireOutput(outputs, 'KeyUserRoleArn'), `${exercise.runId}-user`);
  const context = recordContext(exercise, 'draft');
  const dataKey = await createEncryptedDataKey(user, { keyId: keyArn, context });
  log(`GenerateDataKeyWithoutPlaintext → only an encrypted data key (${Buffer.from(dataKey.encryptedDataKey, 'base64').length} bytes), to use later`);
  const sealed: Envelope = await encryptWithDataKey(user, { dataKey, plaintext: 'quarterly report, draft', context });
  log('later: Decrypt that data key, encrypt the report with it, wipe it');
  const moved = await reEncryptEnvelope(user, sealed, { sourceContext: context });
  // reEncryptEnvelope keeps the ciphertext by construction; what KMS decides is the key the data key now sits under.
  check(moved.keyId === keyArn, `ReEncrypt put the data key under ${moved.keyId}, not the lab key ${keyArn}`);
  check(moved.encryptedDataKey !== sealed.encryptedDataKey, 'ReEncrypt returned the same encrypted data key');
  const text = await decryptEnvelope(user, moved, context);
  check(text.toString('utf8') === 'quarterly report, draft', 'the re-encrypted envelope did not decrypt');
  log('ReEncrypt → a new encrypted data key (under the key\'s current material, or another key), the same ciphertext;');
  log('  the plaintext data key never left KMS, and the envelope still decrypts');

  // KMS alone would move the data key to another context; the envelope's ciphertext is bound to the old one too.
  const published = recordContext(exercise, 'published');
  const { CiphertextBlob } = await user.send(
    new ReEncryptCommand({
      CiphertextBlob: Buffer.from(sealed.encryptedDataKey, 'base64'),
      SourceEncryptionContext: context,
      DestinationKeyId: keyArn,
      DestinationEncryptionContext: published,
    }),
  );
  check(Boolean(CiphertextBlob?.length), 'ReEncrypt to another context returned no data key');
  const swapped = { ...sealed, encryptedDataKey: Buffer.from(CiphertextBlob ?? []).toString('base64') };
  const refused = await expectRejection(() => decryptEnvelope(user, swapped, published), 'EnvelopeError', 'decrypting with a data key moved to another context');
  check(/^GCM authentication failed/.test(refused.message), `expected a GCM authentication failure, got: ${refused.message}`);
  log(`ReEncrypt straight through KMS to record=${published.record} → KMS decrypts the data key under the new context,`);
  log('  but AES-256-GCM refuses the ciphertext: the context is its additional authenticated data too');
  await expectRejection(
    () => reEncryptEnvelope(user, sealed, { sourceContext: context, destinationContext: published }),
    /cannot be changed by ReEncrypt/,
    'reEncryptEnvelope to another context',
  );
  log('so reEncryptEnvelope refuses a new context: changing it means decrypting and encrypting the data again');
}

interface InvokeResult {
  payload: Record<string, unknown>;
  functionError?: string;
}

async function invoke(exercise: ExerciseContext, functionName: string, event: object): Promise<InvokeResult> {
  const result = await lambdaOf(exercise).send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
  );
  return { payload: JSON.parse(Buffer.from(result.Payload ?? []).toString('utf8') || 'null'), functionError: result.FunctionError };
}

async function viaFunction(exercise: ExerciseContext): Promise<void> {
  const { outputs, log } = exercise;
  const functionName = requireOutput(outputs, 'EnvelopeFunctionName');
  const user = await kmsAs(exercise, requireOutput(outputs, 'KeyUserRoleArn'), `${exercise.runId}-user`);
  const context = recordContext(exercise, 'via-function');
  const text = `a secret for ${exercise.runId}`;
  const encrypted = await invoke(exercise, functionName, { action: 'encrypt', text, context });
  check(!encrypted.functionError, `the function failed to encrypt: ${JSON.stringify(encrypted.payload)}`);
  const sealed = encrypted.payload.envelope as Envelope;
  check(JSON.stringify(Object.keys(sealed ?? {}).sort()) === JSON.stringify(ENVELOPE_FIELDS), `the function returned ${JSON.stringify(encrypted.payload)}`);
  log(`invoke encrypt → an envelope (${Object.keys(sealed).join(', ')}); the function's role is a key user too`);
  const local = await decryptEnvelope(user, sealed, context);
  check(local.toString('utf8') === text, 'the envelope made by the function did not decrypt here');
  const decrypted = await invoke(exercise, functionName, { action: 'decrypt', envelope: sealed, context });
  check(decrypted.payload.text === text, `invoke decrypt returned ${JSON.stringify(decrypted.payload)}`);
  log('decrypted here with KeyUserRole and by the function: the same text (the format is the contract, not the code)');
  const empty = await invoke(exercise, functionName, { action: 'encrypt', text: '', context });
  check(empty.functionError !== undefined && /plaintext is empty/.test(String(empty.payload.errorMessage)), `an empty text gave ${JSON.stringify(empty.payload)}`);
  log(`invoke encrypt with an empty text → ${empty.payload.errorType}: ${empty.payload.errorMessage}`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'key', title: 'the key: alias, rotation period, state', run: keyConfiguration },
  { id: 'separation', title: 'key policy: administrators manage but cannot use, users use but cannot manage', run: separation },
  { id: 'encrypt-limit', title: 'Encrypt and Decrypt directly: 4 KB at most', run: encryptLimit },
  { id: 'envelope', title: 'envelope encryption from the CLI: GenerateDataKey, AES-256-GCM, store only the encrypted key, Decrypt', run: envelope },
  { id: 'context', title: 'the encryption context must match, and the key policy can require one', run: encryptionContext },
  { id: 'reencrypt', title: 'GenerateDataKeyWithoutPlaintext, then ReEncrypt; the context is bound to the ciphertext too', run: reEncrypt },
  { id: 'function', title: 'the envelope-encryption function, interoperating with the CLI', run: viaFunction },
];

