import { Stack } from 'aws-cdk-lib';
import { SecureUserPool } from '../../../lib/secure-user-pool';

/** A user pool with self sign-up and an app client for one web app. */
export function build(stack: Stack): void {
  const users = new SecureUserPool(stack, 'Users', {
    selfSignUp: true,
    appClient: { callbackUrls: ['https://app.example.com/callback'] },
  });
  users.addGroup('editors', { precedence: 1 });
}
