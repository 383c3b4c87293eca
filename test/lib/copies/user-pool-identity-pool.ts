import { Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { UserPoolIdentityPool } from '../../../lib/user-pool-identity-pool';

/** An identity pool giving a user pool's signed-in users AWS credentials, and guests none. */
export function build(stack: Stack): void {
  const userPool = new cognito.UserPool(stack, 'Users');
  const userPoolClient = userPool.addClient('Web');
  new UserPoolIdentityPool(stack, 'Identities', { userPool, userPoolClient });
}
