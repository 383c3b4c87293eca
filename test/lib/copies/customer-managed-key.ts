import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CustomerManagedKey } from '../../../lib/customer-managed-key';

/** A key with separate administrators and users, an encryption context its users must give, and yearly rotation. */
export function build(stack: Stack): void {
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
  const key = new CustomerManagedKey(stack, 'Orders', {
    admins: [role('Ops')],
    users: [role('App')],
    requiredEncryptionContext: { app: 'orders' },
    rotationPeriod: Duration.days(180),
    pendingWindow: Duration.days(30),
  });
  key.addUser(role('Worker'));
}
