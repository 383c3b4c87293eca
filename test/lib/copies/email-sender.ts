import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EmailSender, SenderIdentity } from '../../../lib/email-sender';

/** A sender for one verified address, publishing bounces and complaints to a topic, and an app role allowed to send. */
export function build(stack: Stack): void {
  const sender = new EmailSender(stack, 'Mail', {
    identity: SenderIdentity.emailAddress('orders@example.com'),
    feedback: {},
    metrics: {},
  });
  const app = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  sender.grantSend(app);
}
