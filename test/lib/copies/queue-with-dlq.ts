import { Duration, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { QueueWithDlq } from '../../../lib/queue-with-dlq';

/** A work queue that moves a message to its dead-letter queue after 5 receives, with its alarms. */
export function build(stack: Stack): void {
  new QueueWithDlq(stack, 'Orders', {
    visibilityTimeout: Duration.seconds(60),
    maxReceiveCount: 5,
    alarms: { alarmTopic: new sns.Topic(stack, 'Ops', { enforceSSL: true }), oldestMessageAge: Duration.minutes(15) },
  });
}
