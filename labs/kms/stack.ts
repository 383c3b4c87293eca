import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CustomerManagedKey } from '../../lib/customer-managed-key';
import { EnvelopeEncryption } from '../../lib/envelope-encryption';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { kmsLab } from './lab';
import { KMS_LAB as KMS_LAB_SPEC } from './constants';

/** The shared constants (./constants.ts) with CDK durations. */
const KMS_LAB = withCdkDurations(KMS_LAB_SPEC);

/**
 * KMS lab: a customer managed key (rotation every 180 days, 7-day deletion window) whose key policy separates a
 * key administrator role from a key user role, and an envelope-encryption function that is a key user too.
 */
export class KmsLabStack extends LabStack<typeof kmsLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    // Both roles trust this account: anyone here whose IAM policies allow sts:AssumeRole on them can step into them.
    const adminRole = new iam.Role(this, 'KeyAdminRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'KMS lab: manages the lab key (rotation, aliases, deletion) but cannot encrypt or decrypt',
    });
    const userRole = new iam.Role(this, 'KeyUserRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'KMS lab: encrypts and decrypts with the lab key but cannot manage it',
    });

    const key = new CustomerManagedKey(this, 'LabKey', {
      description: 'KMS lab key: envelope encryption; admins and users kept apart',
      admins: [adminRole],
      users: [userRole],
      requiredEncryptionContext: KMS_LAB.requiredContext,
      rotationPeriod: KMS_LAB.rotationPeriod,
      pendingWindow: KMS_LAB.pendingWindow,
    });
    const envelope = new EnvelopeEncryption(this, 'Envelope', { encryptionKey: key });

    const outputs: Record<string, string> = {
      KeyArn: key.keyArn,
      KeyAlias: key.alias.aliasName,
      KeyAdminRoleArn: adminRole.roleArn,
      KeyUserRoleArn: userRole.roleArn,
      EnvelopeFunctionName: envelope.handler.functionName,
    };
    this.addOutputs(outputs);
  }
}
