import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EnvelopeEncryption } from '../../../lib/envelope-encryption';

/** The envelope-encryption function on a key of your own, callable by one role. */
export function build(stack: Stack): void {
  const envelope = new EnvelopeEncryption(stack, 'Envelope', { encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) });
  envelope.grantInvoke(new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
}
