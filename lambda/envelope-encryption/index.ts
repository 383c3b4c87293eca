import { Logger } from '@aws-lambda-powertools/logger';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  assertKeyId,
  createEncryptedDataKey,
  decryptEnvelope,
  EncryptedDataKey,
  encryptEnvelope,
  encryptWithDataKey,
  Envelope,
  EnvelopeError,
  EncryptionContext,
  reEncryptEnvelope,
} from './envelope';

const logger = new Logger({ serviceName: 'envelope-encryption' });

/** What the function is asked to do. Text is UTF-8; the envelope is the JSON object that `encrypt` returned. */
export type EnvelopeRequest =
  | { action: 'encrypt'; text: string; context: EncryptionContext }
  | { action: 'decrypt'; envelope: Envelope; context: EncryptionContext }
  | { action: 'prepare-data-key'; context: EncryptionContext }
  | { action: 'encrypt-with-data-key'; dataKey: EncryptedDataKey; text: string; context: EncryptionContext }
  | { action: 're-encrypt'; envelope: Envelope; context: EncryptionContext; newContext?: EncryptionContext };

export type EnvelopeResponse =
  | { envelope: Envelope }
  | { text: string }
  | { dataKey: EncryptedDataKey };

/** Environment of the function: KEY_ID, the KMS key that encrypts the data keys. */
export type EnvelopeEnvironment = Record<string, string | undefined>;

function keyIdOf(environment: EnvelopeEnvironment): string {
  const id = environment.KEY_ID;
  assertKeyId(id);
  return id;
}

/**
 * Envelope encryption as a service: the caller never handles a data key, and no key (plaintext or not) and no
 * plaintext is logged. Errors are thrown as `EnvelopeError` with a message the caller can act on.
 */
export function createHandler(
  kms: KMSClient,
  environment: EnvelopeEnvironment = process.env,
): (event: EnvelopeRequest) => Promise<EnvelopeResponse> {
  return (event) => handle(kms, keyIdOf.bind(undefined, environment), event);
}

export const handler = createHandler(new KMSClient({}));

async function handle(kms: KMSClient, keyId: () => string, event: EnvelopeRequest): Promise<EnvelopeResponse> {
  logger.info('request', { action: event?.action, contextKeys: Object.keys(event?.context ?? {}) });
  switch (event?.action) {
    case 'encrypt':
      return { envelope: await encryptEnvelope(kms, { keyId: keyId(), plaintext: textOf(event), context: event.context }) };
    case 'decrypt':
      return { text: (await decryptEnvelope(kms, event.envelope, event.context)).toString('utf8') };
    case 'prepare-data-key':
      return { dataKey: await createEncryptedDataKey(kms, { keyId: keyId(), context: event.context }) };
    case 'encrypt-with-data-key':
      return { envelope: await encryptWithDataKey(kms, { dataKey: event.dataKey, plaintext: textOf(event), context: event.context }) };
    case 're-encrypt':
      return { envelope: await reEncryptEnvelope(kms, event.envelope, { sourceContext: event.context, destinationContext: event.newContext }) };
    default:
      throw new EnvelopeError(
        `unknown action ${JSON.stringify((event as { action?: unknown })?.action)}: use encrypt, decrypt, prepare-data-key, encrypt-with-data-key or re-encrypt`,
      );
  }
}

function textOf(event: { text?: unknown }): string {
  if (typeof event.text !== 'string') throw new EnvelopeError('text must be a string');
  return event.text;
}
