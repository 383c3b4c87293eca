import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EncryptedBucket } from '../../../lib/encrypted-bucket';

/** A bucket encrypted with its own key, granted to one role. */
export function build(stack: Stack): void {
  const data = new EncryptedBucket(stack, 'Data');
  data.grantReadWrite(new iam.Role(stack, 'App', { assumedBy: new iam.AccountRootPrincipal() }));
}
