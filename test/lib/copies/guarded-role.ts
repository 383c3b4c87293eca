import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { GuardedRole } from '../../../lib/guarded-role';

/** A role only a principal signed in with MFA in the last hour may assume. */
export function build(stack: Stack): void {
  const role = new GuardedRole(stack, 'Operator', {
    requireMfa: { maxAge: Duration.hours(1) },
    inlinePolicies: {
      Read: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::reports/*'] })],
      }),
    },
  });
  role.grantAssumeRole(new iam.Role(stack, 'Operators', { assumedBy: new iam.AccountRootPrincipal() }));
}
